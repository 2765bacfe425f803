"""geodata.media: photos checked by content, re-encoded without metadata, stored by random
names (no database)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from geodata.media import (
    MAX_PHOTO_BYTES,
    MediaError,
    clean_photo,
    delete_photo,
    photo_path,
    store_photo,
)
from tests.api_fixtures import jpeg_with_gps, png_bytes


def _encoded(fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (1, 2, 3)).save(out, fmt, **kw)
    return out.getvalue()


@pytest.mark.parametrize(("data", "fmt"), [
    (jpeg_with_gps(), "JPEG"), (png_bytes(), "PNG"), (_encoded("WEBP"), "WEBP"),
])  # fmt: skip
def test_allowed_formats_come_back_clean(data, fmt):
    cleaned, got = clean_photo(data)
    assert got == fmt
    image = Image.open(io.BytesIO(cleaned))
    assert image.format == fmt and not image.getexif()
    assert "exif" not in image.info and "icc_profile" not in image.info


def test_exif_orientation_is_applied_before_it_is_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to show
    out = io.BytesIO()
    Image.new("RGB", (40, 10)).save(out, "JPEG", exif=exif.tobytes())
    cleaned, _ = clean_photo(out.getvalue())
    assert Image.open(io.BytesIO(cleaned)).size == (10, 40)


def test_png_text_chunks_are_dropped():
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("GPS", "22.6,113.08")
    out = io.BytesIO()
    Image.new("RGB", (5, 5)).save(out, "PNG", pnginfo=info)
    cleaned, _ = clean_photo(out.getvalue())
    assert "GPS" not in Image.open(io.BytesIO(cleaned)).info
    assert b"22.6" not in cleaned


@pytest.mark.parametrize("data", [
    b"", b"GIF89a" + b"\0" * 20, _encoded("GIF"), _encoded("BMP"), _encoded("TIFF"),
    b'<svg xmlns="http://www.w3.org/2000/svg"/>', b"%PDF-1.4\n", jpeg_with_gps()[:200],
])  # fmt: skip
def test_other_content_is_refused_whatever_its_name(data):
    with pytest.raises(MediaError) as info:
        clean_photo(data)
    assert info.value.key == "media_bad_type"


def test_size_and_pixel_limits():
    with pytest.raises(MediaError) as big:
        clean_photo(b"\xff\xd8" + b"\0" * MAX_PHOTO_BYTES)
    assert big.value.key == "media_too_large"
    bomb = io.BytesIO()
    Image.new("1", (12000, 12000)).save(bomb, "PNG")
    with pytest.raises(MediaError) as pixels:
        clean_photo(bomb.getvalue())
    assert pixels.value.key == "media_too_many_pixels"


def test_stored_by_random_name_and_no_path_leaves_the_folder(tmp_path):
    first = store_photo(jpeg_with_gps(), tmp_path)
    second = store_photo(jpeg_with_gps(), tmp_path)
    assert first.filename != second.filename and first.filename.endswith(".jpg")
    assert photo_path(tmp_path, first.filename).is_file()
    for name in ("../x.jpg", "a" * 32 + ".php", "/etc/passwd", "A" * 32 + ".jpg", ""):
        with pytest.raises(MediaError):
            photo_path(tmp_path, name)
    delete_photo(tmp_path, first.filename)
    assert sorted(p.name for p in tmp_path.iterdir()) == [second.filename]
