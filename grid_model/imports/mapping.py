"""Which column is which, what a file's values mean, how its dates read: an import mapping.

Any export can come in as it is: ``--column FIELD=HEADER`` (repeatable) names the header of a
field, ``--value-map FIELD=MAP.csv`` (two columns ``value,code``) translates a file's own
values of category, status, outcome, source or dispute type, ``--date-format``,
``--dayfirst`` and ``--timezone`` say how its dates read (:mod:`grid_model.moments`). A
mapping is saved as TOML (``--mapping FILE.toml``)::

    timezone = "America/New_York"
    date_format = "%m/%d/%Y %I:%M:%S %p"
    [columns]
    id = "Unique Key"
    reported_at = "Created Date"
    [value_maps]
    category = "complaint_types.csv"   # a CSV beside the TOML file …
    [values.status]                    # … or the map itself
    Open = "recorded"

Options on the command line win over the file's.

>>> m = ImportMapping(columns={"id": "Unique Key"})
>>> apply_columns(pd.DataFrame(columns=["Unique Key", "x"]), m.columns, NEED_COLUMNS).columns.tolist()
['id', 'x']
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from grid_model.errors import InvalidInputError
from grid_model.imports.rows import GRID_COLUMNS, NEED_COLUMNS, WORKER_COLUMNS, read_table
from grid_model.messages import t
from grid_model.moments import DateReading, timezone_named

#: The fields of each kind of file.
TABLES = {"needs": NEED_COLUMNS, "grids": GRID_COLUMNS, "workers": WORKER_COLUMNS}


def _tables() -> dict:
    from grid_model.imports.areas import AREA_COLUMNS

    return {**TABLES, "areas": AREA_COLUMNS}


@dataclass(frozen=True)
class ImportMapping:
    """Columns (field → header), value maps (field → value → code) and date reading."""

    columns: dict[str, str] = field(default_factory=dict)
    value_maps: dict[str, dict[str, str]] = field(default_factory=dict)
    date_format: str | None = None
    dayfirst: bool = False
    timezone: str | None = None

    def reading(self, lang: str = "zh") -> DateReading:
        try:
            zone = timezone_named(self.timezone)
        except ValueError as exc:
            raise InvalidInputError(t("bad_timezone", lang, name=self.timezone)) from exc
        return DateReading(fmt=self.date_format, dayfirst=self.dayfirst, tz=zone)

    def merged(self, other: ImportMapping) -> ImportMapping:
        """This mapping with ``other``'s settings on top (the command line over a file)."""
        return replace(
            self,
            columns={**self.columns, **other.columns},
            value_maps={**self.value_maps, **other.value_maps},
            date_format=other.date_format or self.date_format,
            dayfirst=other.dayfirst or self.dayfirst,
            timezone=other.timezone or self.timezone,
        )


def _pairs(items: list[str] | None, option: str, lang: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InvalidInputError(t("bad_pair", lang, option=option, value=item))
        out[name.strip()] = value.strip()
    return out


def check_fields(mapping: ImportMapping, kind: str, lang: str = "zh") -> ImportMapping:
    """``mapping`` when its fields are fields of ``kind``'s files; InvalidInputError naming
    the first one that is not."""
    from grid_model.needs.validate import VALUE_MAP_FIELDS

    known = _tables()[kind]
    for name in mapping.columns:
        if name not in known:
            raise InvalidInputError(t("unknown_field", lang, field=name, fields=", ".join(known)))
    for name in mapping.value_maps:
        if kind != "needs" or name not in VALUE_MAP_FIELDS:
            fields = ", ".join(VALUE_MAP_FIELDS)
            raise InvalidInputError(t("unknown_field", lang, field=name, fields=fields))
    return mapping


def _codes_of(name: str) -> set[str]:
    from grid_model.needs import validate

    vocabularies = {
        "category": validate.CATEGORY_ALIASES,
        "status": validate.STATUS_ALIASES,
        "outcome": validate.OUTCOME_ALIASES,
        "source": validate.SOURCE_ALIASES,
    }
    if name == "dispute_type":
        return set(validate.dispute_types())
    return set(vocabularies.get(name, {}))


def _checked_map(name: str, pairs: dict[str, str], where: str, lang: str) -> dict[str, str]:
    known = _codes_of(name)
    for value, code in pairs.items():
        if code not in known:
            raise InvalidInputError(
                t("bad_map_code", lang, where=where, value=value, code=code,
                  choices=", ".join(sorted(known)))
            )  # fmt: skip
    return pairs


def read_value_map(name: str, path: str | Path, lang: str = "zh") -> dict[str, str]:
    """A value map file (CSV or XLSX: ``value,code``; the first row is the header) for field
    ``name``; every code must be one of the field's."""
    table = read_table(Path(path), None, lang)
    if table.shape[1] < 2:
        raise InvalidInputError(t("bad_map_file", lang, path=path))
    pairs: dict[str, str] = {}
    for value, code in zip(table.iloc[:, 0], table.iloc[:, 1], strict=True):
        if isinstance(value, str) and value.strip() and isinstance(code, str):
            pairs[value.strip()] = code.strip()
    return _checked_map(name, pairs, str(path), lang)


def from_options(
    *,
    columns: list[str] | None = None,
    value_maps: list[str] | None = None,
    mapping_file: str | Path | None = None,
    date_format: str | None = None,
    dayfirst: bool = False,
    timezone: str | None = None,
    kind: str = "needs",
    lang: str = "zh",
) -> ImportMapping:
    """The mapping of an import's options (a ``--mapping`` file first, the other options on
    top), checked against ``kind``'s fields."""
    base = load_mapping(mapping_file, lang) if mapping_file else ImportMapping()
    maps = {
        name: read_value_map(name, path, lang)
        for name, path in _pairs(value_maps, "--value-map", lang).items()
    }
    given = ImportMapping(
        columns=_pairs(columns, "--column", lang),
        value_maps=maps,
        date_format=date_format,
        dayfirst=dayfirst,
        timezone=timezone,
    )
    mapping = base.merged(given)
    mapping.reading(lang)  # a bad zone is refused before the file is read
    return check_fields(mapping, kind, lang)


def load_mapping(path: str | Path, lang: str = "zh") -> ImportMapping:
    """A saved mapping (TOML, see the module docstring)."""
    path = Path(path)
    try:
        return parse_mapping(path.read_bytes(), lang, where=str(path), base=path.parent)
    except OSError as exc:
        raise InvalidInputError(t("bad_mapping_file", lang, path=path, reason=exc)) from exc


def parse_mapping(
    data: bytes, lang: str = "zh", *, where: str = "mapping", base: Path | None = None
) -> ImportMapping:
    """A mapping from the bytes of a TOML file; ``[value_maps]`` files are read relative to
    ``base`` (an upload has none: its maps must be inline, ``[values.FIELD]``)."""
    try:
        data = tomllib.loads(data.decode("utf-8"))
        columns = {str(k): str(v) for k, v in data.get("columns", {}).items()}
        files = {str(k): str(v) for k, v in data.get("value_maps", {}).items()}
        inline = {str(k): dict(v) for k, v in data.get("values", {}).items()}
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError, TypeError) as exc:
        raise InvalidInputError(t("bad_mapping_file", lang, path=where, reason=exc)) from exc
    if files and base is None:
        reason = "[value_maps] files need a saved mapping file; put the maps in [values.FIELD]"
        raise InvalidInputError(t("bad_mapping_file", lang, path=where, reason=reason))
    path = Path(where)
    maps = {name: read_value_map(name, base / file, lang) for name, file in files.items()}
    for name, pairs in inline.items():
        pairs = {str(k): str(v) for k, v in pairs.items()}
        maps[name] = {**maps.get(name, {}), **_checked_map(name, pairs, str(path), lang)}
    text = {k: data.get(k) for k in ("date_format", "timezone")}
    if any(v is not None and not isinstance(v, str) for v in text.values()):
        raise InvalidInputError(t("bad_mapping_file", lang, path=where, reason="not text"))
    return ImportMapping(
        columns=columns,
        value_maps=maps,
        date_format=text["date_format"],
        dayfirst=bool(data.get("dayfirst", False)),
        timezone=text["timezone"],
    )


def preview(source, filename: str | None, kind: str, lang: str = "zh") -> pd.DataFrame:
    """The cells of a file to import, as text, without geometries: what the Data page shows
    to pick which column is which (grids are a vector file, the others a table)."""
    from grid_model.imports.rows import read_vector

    if kind == "grids":
        frame = read_vector(source, filename, None, lang)
        return pd.DataFrame(frame.drop(columns=frame.geometry.name)).astype(object)
    return read_table(source, filename, lang)


def codes_of(name: str) -> list[str]:
    """The codes a value map of field ``name`` may map to."""
    return sorted(_codes_of(name))


def mapping_toml(mapping: ImportMapping) -> str:
    """``mapping`` as the TOML :func:`load_mapping` reads (value maps written inline)."""

    def s(value: str) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = []
    for key in ("date_format", "timezone"):
        if getattr(mapping, key):
            lines.append(f"{key} = {s(getattr(mapping, key))}")
    if mapping.dayfirst:
        lines.append("dayfirst = true")
    lines.append("[columns]")
    lines += [f"{s(k)} = {s(v)}" for k, v in mapping.columns.items()]
    for name, pairs in mapping.value_maps.items():
        lines.append(f"[values.{s(name)}]")
        lines += [f"{s(k)} = {s(v)}" for k, v in pairs.items()]
    return "\n".join(lines) + "\n"


def apply_columns(
    frame: pd.DataFrame, columns: dict[str, str], table: dict, lang: str = "zh"
) -> pd.DataFrame:
    """``frame`` with each mapped header renamed to its field; a header the file lacks is an
    error naming it and the headers it has."""
    if not columns:
        return frame
    headers = {str(c).strip().lower(): c for c in frame.columns}
    renamed: dict = {}
    copies: dict[str, object] = {}  # a second field read from a header already mapped
    for name, header in columns.items():
        found = headers.get(header.strip().lower())
        if found is None:
            have = ", ".join(str(c) for c in frame.columns)
            raise InvalidInputError(t("mapped_header_missing", lang, header=header, have=have))
        if found in renamed:
            copies[name] = found
        else:
            renamed[found] = name
    # A header that already means a mapped field is not that field any more.
    taken = set(columns)
    others = {
        c: f"{c} (unmapped)"
        for c in frame.columns
        if c not in renamed and any(str(c).strip().lower() in
                                    [a.lower() for a in table.get(f, [])] for f in taken)
    }  # fmt: skip
    out = frame.rename(columns={**others, **renamed})
    for name, found in copies.items():
        out[name] = frame[found].to_numpy()
    return out


__all__ = [
    "ImportMapping",
    "TABLES",
    "apply_columns",
    "check_fields",
    "from_options",
    "codes_of",
    "load_mapping",
    "mapping_toml",
    "parse_mapping",
    "preview",
    "read_value_map",
]
