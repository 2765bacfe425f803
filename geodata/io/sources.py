"""Where :mod:`geodata.io` reads from: a path, ``bytes`` or a binary file-like, and its name.

The name (``filename=``, the path, or the object's ``name``) gives the extension that picks
the format; sizes are checked against :data:`geodata.io.limits.MAX_FILE_BYTES` before reading.

Example
-------
>>> _source_name(b"a,b", "needs.CSV"), _lookup(".csv", {".csv": None, ".xlsx": None}, "table")
('needs.CSV', '.csv')
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pyogrio
import pyogrio.errors

from geodata.errors import FileReadError, UnsupportedFormatError
from geodata.io import limits

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO


_PYOGRIO_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.FeatureError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
)


def _source_name(source: Source, filename: str | os.PathLike[str] | None) -> str:
    if filename is not None:
        return os.fspath(filename)
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    name = getattr(source, "name", None)  # open files and Streamlit's UploadedFile
    if isinstance(name, str) and name:
        return name
    raise UnsupportedFormatError(
        "cannot tell the format of data without a file name: pass filename= with an extension"
    )


def _extension(name: str, supported: dict[str, object], what: str) -> str:
    return _lookup(Path(name).suffix.lower(), supported, what, f" of {Path(name).name!r}")


def _lookup(ext: str, supported: dict[str, object], what: str, where: str = "") -> str:
    if ext not in supported:
        raise UnsupportedFormatError(
            f"{what} format {ext or '(no extension)'!r}{where} is not supported; "
            f"supported: {', '.join(supported)}"
        )
    return ext


def _read_bytes(source: Source, name: str) -> bytes:
    if isinstance(source, str | os.PathLike):
        try:
            _check_size(Path(source).stat().st_size, name)
            return Path(source).read_bytes()
        except OSError as exc:
            raise FileReadError(f"cannot read {name!r}: {exc.strerror or exc}") from exc
    if isinstance(source, bytes | bytearray | memoryview):
        data = source
    elif hasattr(source, "getvalue"):  # already in memory (BytesIO, Streamlit's UploadedFile)
        data = source.getvalue()
    else:
        data = source.read(limits.MAX_FILE_BYTES + 1)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise FileReadError(f"{name!r} was opened in text mode; open it in binary mode ('rb')")
    _check_size(len(data), name)
    return bytes(data)


def _check_size(size: int, name: str) -> None:
    if size > limits.MAX_FILE_BYTES:
        mb, limit = f"{size / 2**20:.0f}", f"{limits.MAX_FILE_BYTES / 2**20:.0f}"
        raise FileReadError(
            f"cannot read {name!r}: it holds {mb} MB, more than the {limit} MB allowed",
            key="file_too_big",
            name=Path(name).name,
            size=mb,
            limit=limit,
        )


@contextlib.contextmanager
def _local_path(source: Source, name: str) -> Iterator[Path]:
    """A path GDAL can open: the source itself, or a temporary copy of uploaded bytes."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise FileReadError(f"cannot read {name!r}: no such file")
        _check_size(path.stat().st_size, name)
        yield path
        return
    data = _read_bytes(source, name)
    with tempfile.TemporaryDirectory(prefix="gridlaw-") as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(data)
        yield path
