"""Reading and writing tables and vector files: CSV, XLSX, GeoJSON, Shapefile, GeoPackage, KML.

Every reader takes a path, ``bytes`` or a binary file-like (e.g. a Streamlit ``UploadedFile``);
for the last two, ``filename=`` (or the object's ``name``) gives the extension that picks the
format. Vector data always comes back in EPSG:4326, converted with :mod:`geodata.crs`.

Formats are picked from extension tables (``_TABLE_READERS``, ``_VECTOR_READERS``,
``_WRITERS``), as in ``geopandas/io/file.py``.

Limits on what is read (a careless or hostile file is refused in seconds, naming where):
:data:`MAX_FILE_BYTES` per file, :data:`MAX_COLUMNS` columns, :data:`MAX_CELL_CHARS` characters
per cell (domain validators add shorter per-field limits). Spreadsheets written here are safe to
open: text that Excel or LibreOffice would run as a formula is neutralised (:func:`frame_to_bytes`).

Modules
-------
- :mod:`~geodata.io.limits`: the limits; readers look them up there on every call, so set
  ``geodata.io.limits.MAX_FILE_BYTES`` (the names here are copies for reading);
- :mod:`~geodata.io.sources`: paths, bytes and file-likes, their names and sizes;
- :mod:`~geodata.io.tables`: :func:`read_table` (CSV, XLSX);
- :mod:`~geodata.io.vectors`: :func:`read_vector` (GeoJSON, Shapefile, GeoPackage, KML);
- :mod:`~geodata.io.write`: :func:`write_frame` and :func:`frame_to_bytes`.
"""

from geodata.errors import FileReadError, FileWriteError, UnsupportedFormatError
from geodata.io.limits import MAX_CELL_CHARS, MAX_COLUMNS, MAX_FILE_BYTES
from geodata.io.sources import Source
from geodata.io.tables import read_table
from geodata.io.vectors import read_vector
from geodata.io.write import frame_to_bytes, write_frame

__all__ = [
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_FILE_BYTES",
    "FileReadError",
    "FileWriteError",
    "UnsupportedFormatError",
    "Source",
    "frame_to_bytes",
    "read_table",
    "read_vector",
    "write_frame",
]
