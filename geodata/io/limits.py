"""Limits on what :mod:`geodata.io` reads: a careless or hostile file is refused in seconds.

Settings, documented where they are defined; the readers look them up here on every call (as
``limits.MAX_FILE_BYTES``), so changing one here takes effect. Domain validators add shorter
per-field limits.

Example
-------
>>> MAX_FILE_BYTES // 2**20, MAX_COLUMNS, MAX_CELL_CHARS
(200, 200, 32767)
"""

from __future__ import annotations

# Excel refuses longer text in a cell.
_XLSX_CELL_LIMIT = 32767

#: Largest file read, in bytes: Streamlit's default upload limit (200 MB).
MAX_FILE_BYTES = 200 * 1024 * 1024
#: Largest needs file ``gridlaw import-needs`` reads (1 GiB: a city's 1M needs with the closed
#: loop's columns are ~310 MB; the import peaks at about 7× the file). One import per process:
#: the command raises :data:`MAX_FILE_BYTES` to it; the dashboard's uploads keep 200 MB.
CLI_MAX_FILE_BYTES = 1 << 30
#: Most columns a table or a vector layer may have (ours have fewer than 30).
MAX_COLUMNS = 200
#: Most characters in one cell or attribute: what Excel itself allows in a cell.
MAX_CELL_CHARS = _XLSX_CELL_LIMIT
