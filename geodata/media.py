"""Photos sent with a need: checked by content, stripped of their metadata, stored by a random
name.

:func:`store_photo` takes the bytes as received and

1. refuses more than :data:`MAX_PHOTO_BYTES` (10 MB) before decoding anything;
2. asks Pillow what the bytes are: only JPEG, PNG and WebP (:data:`FORMATS`), whatever the
   file's name or the declared type says;
3. refuses images of more than :data:`MAX_PIXELS` pixels before decoding them (a small file
   that decodes into gigabytes: a decompression bomb);
4. decodes and re-encodes the pixels alone, turned upright by their EXIF orientation: no EXIF
   (GPS position, camera, time), XMP, ICC or text chunk of the file survives;
5. writes the result under ``folder`` as ``<32 random hex digits>.<ext>`` (a new file, never
   an existing one), and returns what it stored.

Errors are :class:`MediaError` with a ``key`` (``media_too_large``, ``media_bad_type``,
``media_too_many_pixels``) that a caller's message catalogue says in the user's language.
"""

from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from geodata.errors import GeodataError

MAX_PHOTO_BYTES = 10 * 1024 * 1024
#: about a 48-megapixel phone photo and some; more is refused before decoding
MAX_PIXELS = 50_000_000
#: Pillow's format name → (stored extension, content type)
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
}
_NAME_CHARS = frozenset("0123456789abcdef")


class MediaError(GeodataError, ValueError):
    """A photo refused: too large, not an image of the allowed types, or too many pixels."""


@dataclass(frozen=True)
class StoredPhoto:
    """A photo as stored: its file name under the folder, type and size."""

    filename: str
    content_type: str
    size: int
    width: int
    height: int


def _identify(data: bytes) -> Image.Image:
    """The image the bytes hold, not yet decoded; MediaError when it is none of FORMATS."""
    if len(data) > MAX_PHOTO_BYTES:
        raise MediaError(
            f"photo of {len(data)} bytes: at most {MAX_PHOTO_BYTES} bytes",
            key="media_too_large",
            size=len(data),
            limit=MAX_PHOTO_BYTES // (1024 * 1024),
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _bad_type() from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels() from exc
    if image.format not in FORMATS:
        raise _bad_type()
    width, height = image.size
    if width * height > MAX_PIXELS or width < 1 or height < 1:
        raise _too_many_pixels()
    return image


def _bad_type() -> MediaError:
    return MediaError(
        "not a JPEG, PNG or WebP image", key="media_bad_type", allowed="JPEG, PNG, WebP"
    )


def _too_many_pixels() -> MediaError:
    return MediaError(
        f"image of more than {MAX_PIXELS} pixels",
        key="media_too_many_pixels",
        limit=MAX_PIXELS,
    )


def _clean_pixels(image: Image.Image) -> Image.Image:
    """The decoded pixels upright, in a mode the format can write, with no metadata."""
    try:
        image.load()
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or damaged data
        raise _bad_type() from exc
    mode = "RGBA" if upright.mode in ("RGBA", "LA", "P", "PA") and image.format != "JPEG" else "RGB"
    pixels = upright.convert(mode)
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels)
    return clean


def _encode(clean: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        clean.save(out, "JPEG", quality=88, optimize=True)
    elif fmt == "PNG":
        clean.save(out, "PNG", optimize=True)
    else:
        clean.save(out, "WEBP", quality=85)
    return out.getvalue()


def clean_photo(data: bytes) -> tuple[bytes, str]:
    """The photo's pixels re-encoded in its own format without any metadata, and that format
    (a key of :data:`FORMATS`); MediaError when it is refused."""
    image = _identify(data)
    fmt = image.format
    return _encode(_clean_pixels(image), fmt), fmt


def store_photo(data: bytes, folder: str | Path) -> StoredPhoto:
    """Check, clean and write one photo under ``folder`` (created when missing)."""
    encoded, fmt = clean_photo(data)
    ext, content_type = FORMATS[fmt]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{ext}"
    with open(folder / name, "xb") as fh:  # never overwrite
        fh.write(encoded)
    with Image.open(io.BytesIO(encoded)) as check:
        width, height = check.size
    return StoredPhoto(name, content_type, len(encoded), width, height)


def photo_path(folder: str | Path, filename: str) -> Path:
    """The stored file of ``filename`` (as :func:`store_photo` named it) under ``folder``;
    MediaError for any other name (no path can leave the folder)."""
    stem, _, ext = filename.partition(".")
    if (
        len(stem) != 32
        or not set(stem) <= _NAME_CHARS
        or ext not in {e for e, _ in FORMATS.values()}
    ):
        raise MediaError(f"not a stored photo name: {filename!r}", key="media_bad_name")
    return Path(folder) / filename


def delete_photo(folder: str | Path, filename: str) -> None:
    """Remove a stored photo (after the transaction that referred to it failed)."""
    photo_path(folder, filename).unlink(missing_ok=True)


__all__ = [
    "FORMATS",
    "MAX_PHOTO_BYTES",
    "MAX_PIXELS",
    "MediaError",
    "StoredPhoto",
    "clean_photo",
    "delete_photo",
    "photo_path",
    "store_photo",
]
