"""Importers for grids, needs and workers: one implementation for the CLI and the dashboard.

Every import is all-or-nothing: a file with any bad row stores nothing and raises
:class:`~grid_model.errors.ImportValidationError` naming every bad row (row number as the
user sees it in a spreadsheet — header is row 1 — id, field, value, what was expected).
With ``skip_invalid=True`` the good rows are stored and the bad ones returned (and written to
``errors_out`` as CSV: the original columns plus ``error``). Importing the same needs file
again adds nothing: the external id is the key. Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata import crs as gcrs
from geodata import io as gio
from geodata.errors import GeodataError
from grid_model import db, fields
from grid_model.db.bulk import insert_frame
from grid_model.errors import ImportValidationError, InvalidInputError, RowError
from grid_model.measures import need_stats
from grid_model.measures.definitions import DUE_DAYS
from grid_model.messages import geodata_message, t
from grid_model.models import (
    Area,
    Assignment,
    AuditEntry,
    Grid,
    Need,
    Role,
    Worker,
    community_of,
    district_of,
)
from grid_model.needs import geolocate
from grid_model.queries import load_grids
from grid_model.scope import Viewer, require

# --- vocabularies: canonical value ← accepted spellings (codes, Chinese names) -------------

CATEGORY_ALIASES = {
    "publicity": ["法制宣传", "法治宣传", "普法", "宣传", "法律宣传"],
    "consultation": ["法律咨询", "咨询"],
    "legal_aid": ["法律援助", "援助", "legal aid"],
    "mediation": ["人民调解", "调解", "矛盾纠纷", "纠纷调解"],
    "correction": ["矫正帮教", "社区矫正", "帮教", "矫正"],
    "other": ["其他", "其它"],
}
STATUS_ALIASES = {
    "recorded": ["已登记", "登记", "待处理", "新建"],
    "dispatched": ["已分派", "分派", "已派单", "派单"],
    "in_progress": ["办理中", "处理中", "进行中", "in progress"],
    "closed": ["已办结", "办结", "已结案", "结案", "已完成"],
}
OUTCOME_ALIASES = {
    "resolved": ["已解决", "解决"],
    "mediated": ["调解成功", "调解"],
    "mediation_failed": ["调解不成", "调解失败"],
    "referred": ["已转介", "转介", "移交"],
    "rejected": ["不予受理", "驳回", "不受理"],
}
SOURCE_ALIASES = {
    "diary": ["日记", "网格日记", "走访", "入户走访"],
    "phone": ["电话", "热线"],
    "online": ["网络", "微信", "qq", "QQ", "网上"],
    "walk_in": ["来访", "上门", "现场", "walk in"],
}
ROLE_ALIASES = {
    "grid_assistant": ["网格助理员", "网格员", "助理员"],
    "mediator": ["人民调解员", "调解员"],
    "lawyer": ["律师", "法律顾问"],
    "info_officer": ["信息员"],
    "volunteer": ["志愿者", "法制宣传志愿者", "法治宣传志愿者"],
}

NEED_COLUMNS = {
    "id": ["id", "编号", "需求编号", "案件编号"],
    "reported_at": ["reported_at", "登记日期", "日期", "登记时间"],
    "lon": ["lon", "lng", "longitude", "经度"],
    "lat": ["lat", "latitude", "纬度"],
    "category": ["category", "类别", "需求类别"],
    "dispute_type": ["dispute_type", "纠纷类型"],
    "description": ["description", "描述", "内容"],
    "status": ["status", "状态"],
    "outcome": ["outcome", "结果", "办理结果"],
    "closed_at": ["closed_at", "办结日期", "结案日期"],
    "due_date": ["due_date", "期限", "办理期限"],
    "assistant": ["assistant", "网格助理员", "助理员"],
    "resident_name": ["resident_name", "居民姓名", "姓名"],
    "resident_phone": ["resident_phone", "联系电话", "电话"],
    "source": ["source", "来源"],
    "under_correction": ["under_correction", "社区矫正对象"],
}
GRID_COLUMNS = {
    "code": ["code", "网格编码", "编码"],
    "name": ["name", "网格名称", "名称"],
    "community": ["community", "社区", "社区编码", "社区名称"],
    "street": ["street", "街道", "街道编码"],
    "district": ["district", "区", "区县", "区编码"],
    "population": ["population", "人口"],
    "households": ["households", "户数"],
}
WORKER_COLUMNS = {
    "code": ["code", "编号", "工号"],
    "name": ["name", "姓名"],
    "role": ["role", "角色", "岗位"],
    "phone": ["phone", "电话", "联系电话"],
    "capacity": ["capacity", "工作量系数", "编制"],
    "active": ["active", "在岗"],
    "grids": ["grids", "grid", "网格", "网格编码"],
    "valid_from": ["valid_from", "起始日期", "生效日期"],
}


@dataclass
class ImportReport:
    """What an import did. ``invalid`` is non-empty only with ``skip_invalid``."""

    kind: str
    total: int
    inserted: int = 0
    updated: int = 0
    existing: int = 0
    invalid: list[RowError] = field(default_factory=list)
    errors_out: Path | None = None
    created_areas: list[str] = field(default_factory=list)

    def summary(self, lang: str = "zh") -> str:
        return t(
            "import_done",
            lang,
            kind=t(f"kind_{self.kind}", lang),
            inserted=self.inserted + self.updated,
            existing=self.existing,
            invalid=self.invalid_rows,
        )

    @property
    def invalid_rows(self) -> int:
        """Rows skipped (``invalid`` lists every problem, several per row at times)."""
        return len({e.row for e in self.invalid})


def format_errors(errors: Iterable[RowError], lang: str = "zh") -> list[str]:
    """One line per bad row/field, in the user's language."""
    return [
        t(
            "import_row_error",
            lang,
            row=e.row,
            id=e.record_id if e.record_id not in (None, "") else "-",
            field=e.field,
            value="" if e.value is None else e.value,
            expected=e.expected,
        )
        for e in errors
    ]


# --- shared helpers ------------------------------------------------------------------------


def _rename_columns(
    frame: pd.DataFrame, table: dict[str, list[str]], lang: str = "zh"
) -> pd.DataFrame:
    """Map English/Chinese headers (case-insensitive) onto canonical names.

    Raises
    ------
    InvalidInputError
        When two columns mean one field (``description`` and ``描述``): keeping either would
        drop the other's data without a word.
    """
    lookup: dict[str, str] = {}
    for canonical, aliases in table.items():
        for alias in aliases:
            lookup.setdefault(alias.strip().lower(), canonical)
    renamed: dict[str, str] = {}
    for col in frame.columns:
        canonical = lookup.get(str(col).strip().lower())
        if canonical is None:
            continue
        first = next((c for c, name in renamed.items() if name == canonical), None)
        if first is not None:
            raise InvalidInputError(
                t("columns_conflict", lang, first=first, second=col, field=canonical)
            )
        renamed[col] = canonical
    return frame.rename(columns=renamed)


def _clean_cell(v) -> str | None:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    text = str(v).strip()
    return text or None


def _text(series: pd.Series) -> pd.Series:
    """Stripped text with blanks as None (object dtype, whatever pandas inferred)."""
    return pd.Series([_clean_cell(v) for v in series.tolist()], index=series.index, dtype=object)


def _optional_text(frame: pd.DataFrame, column: str) -> pd.Series:
    """:func:`_text` of an optional column; all None when the file does not have it."""
    if column in frame:
        return _text(frame[column])
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def _vocabulary(aliases: dict[str, list[str]]) -> dict[str, str]:
    vocab = {code: code for code in aliases}
    for code, names in aliases.items():
        for name in names:
            vocab[name.lower()] = code
    return vocab


def _map_vocab(series: pd.Series, aliases: dict[str, list[str]]) -> pd.Series:
    vocab = _vocabulary(aliases)
    values = [None if v is None else vocab.get(v.lower(), vocab.get(v)) for v in series.tolist()]
    return pd.Series(values, index=series.index, dtype=object)


def _choices(aliases: dict[str, list[str]]) -> str:
    return ", ".join(f"{code} ({names[0]})" for code, names in aliases.items())


_DATE_RE = re.compile(
    r"^\s*(\d{4})\s*(?:[-/.年])\s*(\d{1,2})\s*(?:[-/.月])\s*(\d{1,2})\s*日?(?:[ T].*)?$"
)


def parse_dates(series: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse 2025-03-01, 2025/3/1, 2025.3.1 or 2025年3月1日 (time of day ignored).

    Returns the dates (``datetime.date`` or None) and a mask of values that were given but
    are not real dates (wrong form, or impossible such as 2025-02-30)."""
    text = _text(series)
    parts = text.str.extract(_DATE_RE) if len(text) else pd.DataFrame(columns=[0, 1, 2])
    parsed = (
        pd.to_datetime(
            {
                "year": pd.to_numeric(parts[0], errors="coerce"),
                "month": pd.to_numeric(parts[1], errors="coerce"),
                "day": pd.to_numeric(parts[2], errors="coerce"),
            },
            errors="coerce",
        )
        if len(text)
        else pd.Series([], dtype="datetime64[ns]")
    )
    given = text.notna().to_numpy()
    bad = given & parsed.isna().to_numpy()
    dates = pd.Series(
        [None if pd.isna(v) else v.date() for v in parsed], index=series.index, dtype=object
    )
    return dates, bad


#: Fields whose values an error message never shows (DESIGN §3: personal data).
PERSONAL_FIELDS = frozenset({"resident_name", "resident_phone", "phone"})


class _Collector:
    """Gathers RowErrors for one file. Values are kept as a message may show them: control
    characters escaped, long text cut, personal data hidden (:data:`PERSONAL_FIELDS`)."""

    def __init__(self, frame: pd.DataFrame, ids: pd.Series | None, lang: str):
        self.frame = frame
        self.ids = ids
        self.lang = lang
        self.errors: list[RowError] = []

    def add(self, mask: np.ndarray | pd.Series, fld: str, values: pd.Series, expected: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        for pos in np.flatnonzero(mask):
            self.errors.append(
                RowError(
                    row=int(pos) + 2,
                    record_id=None if self.ids is None else self._id(self.ids.iloc[pos]),
                    field=fld,
                    value=self._shown(fld, values.iloc[pos] if values is not None else None),
                    expected=expected,
                )
            )

    @staticmethod
    def _id(value: object) -> str | None:
        return None if value is None else fields.shown(value)

    def _shown(self, fld: str, value: object) -> str | None:
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return None
        if fld in PERSONAL_FIELDS:
            return t("value_hidden", self.lang, n=len(str(value)))
        return fields.shown(value)

    def bad_positions(self) -> set[int]:
        return {e.row - 2 for e in self.errors}

    def sorted(self) -> list[RowError]:
        return sorted(self.errors, key=lambda e: (e.row, e.field))


def _optional_dates(
    frame: pd.DataFrame, column: str, col: _Collector, latest: dt.date
) -> tuple[pd.Series, np.ndarray]:
    """:func:`parse_dates` of an optional column, recording values that are not dates or
    fall outside :data:`~grid_model.fields.EARLIEST`..``latest`` (those become None)."""
    if column not in frame:
        return _optional_text(frame, column), np.zeros(len(frame), dtype=bool)
    return _dates_in_range(frame[column], column, col, latest)


def _dates_in_range(
    raw: pd.Series, column: str, col: _Collector, latest: dt.date
) -> tuple[pd.Series, np.ndarray]:
    dates, bad = parse_dates(raw)
    col.add(bad, column, raw, t("expected_date", col.lang))
    # An absurd year (0001, 9999) is a real date but breaks date arithmetic and analyses.
    far = fields.outside(dates, fields.EARLIEST, latest)
    key = "expected_date_recent" if latest <= fields.latest_reported() else "expected_date_planned"
    expected = t(key, col.lang, earliest=fields.EARLIEST, latest=latest, today=fields.today())
    col.add(far, column, raw, expected)
    return dates.where(~far, None), bad | far


def _check_text(frame: pd.DataFrame, col: _Collector, column: str, attribute) -> None:
    """Record cells of ``column`` with control characters or longer than the model's
    ``attribute`` holds (:func:`grid_model.fields.max_length`)."""
    if column not in frame:
        return
    limit = fields.max_length(attribute)
    multiline = column in fields.MULTILINE
    raw = frame[column]
    problems = fields.text_problems(raw, max_length=limit, multiline=multiline).to_numpy()
    control = "expected_no_control_multiline" if multiline else "expected_no_control"
    col.add(problems == "control", column, raw, t(control, col.lang))
    for pos in np.flatnonzero(problems == "too_long"):
        length = len(_clean_cell(raw.iloc[pos]))
        col.add(
            np.arange(len(frame)) == pos,
            column,
            raw,
            t("expected_max_length", col.lang, n=limit, length=length),
        )


def _check_texts(frame: pd.DataFrame, col: _Collector, columns: dict[str, object]) -> None:
    for column, attribute in columns.items():
        _check_text(frame, col, column, attribute)


def _booleans(frame: pd.DataFrame, col: _Collector, column: str, **extra: bool) -> pd.Series:
    """:func:`grid_model.fields.parse_booleans` of an optional column (None where empty),
    recording values outside the vocabulary (plus ``extra`` spellings of this field)."""
    raw = _optional_text(frame, column)
    words = raw.map(
        lambda v: v if v is None or v.lower() not in extra else ("1" if extra[v.lower()] else "0")
    )
    values, bad = fields.parse_booleans(words)
    choices = ", ".join([fields.BOOLEAN_CHOICES, *extra])
    col.add(bad, column, raw, t("expected_boolean", col.lang, choices=choices))
    return values


def _read_table(source, filename, lang) -> pd.DataFrame:
    try:
        return gio.read_table(source, filename=filename)
    except GeodataError as exc:
        raise InvalidInputError(geodata_message(exc, lang)) from exc


def _require_columns(frame: pd.DataFrame, required: Iterable[str], lang: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InvalidInputError(t("expected_columns", lang, columns=", ".join(missing)))


def _finish(
    report: ImportReport, col: _Collector, original: pd.DataFrame, *, skip_invalid: bool, errors_out
) -> set[int]:
    """Raise on bad rows unless skipping; write the bad rows out when asked."""
    errors = col.sorted()
    if errors and not skip_invalid:
        raise ImportValidationError(errors=errors, total_rows=len(original))
    report.invalid = errors
    bad = col.bad_positions()
    if errors and errors_out:
        by_row: dict[int, list[str]] = {}
        for e, line in zip(errors, format_errors(errors, col.lang), strict=True):
            by_row.setdefault(e.row - 2, []).append(line)
        out = original.iloc[sorted(bad)].copy()
        out["error"] = ["; ".join(by_row[p]) for p in sorted(bad)]
        path = Path(errors_out)
        gio.write_frame(out, path)
        report.errors_out = path
    return bad


def _source_name(source, filename: str | None) -> str | None:
    if filename:
        return filename
    return str(source) if isinstance(source, (str, Path)) else getattr(source, "name", None)


def _audit(session: Session, actor: str, action: str, entity: str, details: dict) -> None:
    session.add(AuditEntry(actor=actor, action=action, entity=entity, details=details))


# --- needs ----------------------------------------------------------------------------------


#: Beyond this, a coordinate is not metres of any projected system either.
_PROJECTED_MAX = 1e8


def _validate_coordinates(
    frame: pd.DataFrame, col: _Collector, crs: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return WGS84 lon/lat (NaN where bad) after recording coordinate errors."""
    lang = col.lang
    raw_lon, raw_lat = frame["lon"], frame["lat"]
    name = gcrs.normalize_crs(crs)
    geographic = name in ("wgs84", "gcj02", "bd09", "EPSG:4326", "EPSG:4490")
    x = gcrs.coerce_coordinate(raw_lon.to_numpy(dtype=object))
    y = gcrs.coerce_coordinate(raw_lat.to_numpy(dtype=object))
    if geographic:
        problems = gcrs.validate_lonlat(
            raw_lon.to_numpy(dtype=object), raw_lat.to_numpy(dtype=object)
        )
    else:
        problems = np.where(np.isnan(x) | np.isnan(y), "not_a_number", None).astype(object)
        missing = _text(raw_lon).isna().to_numpy() | _text(raw_lat).isna().to_numpy()
        problems[missing] = "missing"
    lon_missing = _text(raw_lon).isna().to_numpy()
    lat_missing = _text(raw_lat).isna().to_numpy()
    col.add(
        (problems == "missing") & lon_missing,
        "lon",
        raw_lon,
        t("expected_required", lang) + ": " + t("expected_lon", lang),
    )
    col.add(
        (problems == "missing") & lat_missing,
        "lat",
        raw_lat,
        t("expected_required", lang) + ": " + t("expected_lat", lang),
    )
    nan_x = np.isnan(x) & ~lon_missing
    nan_y = np.isnan(y) & ~lat_missing
    col.add((problems == "not_a_number") & nan_x, "lon", raw_lon, t("expected_lon", lang))
    col.add((problems == "not_a_number") & nan_y, "lat", raw_lat, t("expected_lat", lang))
    col.add(
        problems == "swapped",
        "lon/lat",
        raw_lon.astype(str) + ", " + raw_lat.astype(str),
        t("expected_not_swapped", lang),
    )
    if geographic:
        far = problems == "out_of_range"
        # Metres of a projected system (UTM, Gauss-Krüger with its zone prefix) in degree
        # columns: say which option fixes it rather than "not a longitude".
        projected = far & (np.abs(x) > 180) & (np.abs(y) > 90)
        projected &= (np.abs(x) < _PROJECTED_MAX) & (np.abs(y) < _PROJECTED_MAX)
        col.add(
            projected,
            "lon/lat",
            raw_lon.astype(str) + ", " + raw_lat.astype(str),
            t("expected_projected", lang),
        )
        col.add(far & ~projected & (np.abs(x) > 180), "lon", raw_lon, t("expected_lon", lang))
        col.add(far & ~projected & (np.abs(y) > 90), "lat", raw_lat, t("expected_lat", lang))
    ok = pd.isna(problems)
    lon = np.full(len(frame), np.nan)
    lat = np.full(len(frame), np.nan)
    if ok.any():
        lon_ok, lat_ok = gcrs.to_wgs84(x[ok], y[ok], name)
        lon[ok], lat[ok] = np.atleast_1d(lon_ok), np.atleast_1d(lat_ok)
        if not geographic:
            out = np.zeros(len(frame), dtype=bool)
            out[ok] = (np.abs(lon[ok]) > 180) | (np.abs(lat[ok]) > 90) | ~np.isfinite(lon[ok])
            col.add(
                out,
                "lon/lat",
                raw_lon.astype(str) + ", " + raw_lat.astype(str),
                t("expected_lon", lang),
            )
            lon[out] = lat[out] = np.nan
    return lon, lat


def _validate_vocab(frame, col, column, aliases, *, required: bool) -> pd.Series:
    if column not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    raw = _text(frame[column])
    mapped = _map_vocab(raw, aliases)
    expected = t("expected_one_of", col.lang, choices=_choices(aliases))
    col.add(raw.notna().to_numpy() & mapped.isna().to_numpy(), column, frame[column], expected)
    if required:
        col.add(
            raw.isna().to_numpy(),
            column,
            frame[column],
            t("expected_required", col.lang) + "; " + expected,
        )
    return mapped


def _dispute_types() -> list[str]:
    path = Path(gcrs.__file__).parent / "data" / "mediation_dispute_categories_cn.csv"
    return pd.read_csv(path)["name_zh"].tolist()


#: Free-text columns of a needs table and the model column that bounds each.
NEED_TEXT_COLUMNS = {
    "id": Need.external_id,
    "description": Need.description,
    "assistant": Need.worker_code,
    "resident_name": Need.resident_name,
    "resident_phone": Need.resident_phone,
}


def validate_needs(
    frame: pd.DataFrame, *, crs: str = "wgs84", lang: str = "zh"
) -> tuple[pd.DataFrame, _Collector]:
    """Check every row of a needs table (canonical column names) and return the clean values
    (WGS84) with the errors collected. Vectorised; used by the importer and the diary form."""
    _require_columns(frame, ["id", "reported_at", "lon", "lat", "category"], lang)
    ids = _text(frame["id"])
    col = _Collector(frame, ids, lang)
    col.add(ids.isna().to_numpy(), "id", frame["id"], t("expected_id", lang))
    dup = ids.notna() & ids.duplicated(keep="first")
    if dup.any():
        first = ids[ids.notna()].reset_index(drop=True)
        first_row = {v: i + 2 for i, v in reversed(list(enumerate(ids.tolist()))) if v is not None}
        for pos in np.flatnonzero(dup.to_numpy()):
            col.add(
                np.arange(len(frame)) == pos,
                "id",
                frame["id"],
                t("expected_id_unique", lang, first=first_row[ids.iloc[pos]]),
            )
        del first
    _check_texts(frame, col, NEED_TEXT_COLUMNS)
    lon, lat = _validate_coordinates(frame, col, crs)

    latest = fields.latest_reported()
    reported, _ = _dates_in_range(frame["reported_at"], "reported_at", col, latest)
    col.add(
        _text(frame["reported_at"]).isna().to_numpy(),
        "reported_at",
        frame["reported_at"],
        t("expected_required", lang) + "; " + t("expected_date", lang),
    )
    empty = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    closed, bad_closed = _optional_dates(frame, "closed_at", col, latest)
    due, _ = _optional_dates(frame, "due_date", col, fields.latest_planned())
    for column, dates in (("closed_at", closed), ("due_date", due)):
        before = [
            d is not None and r is not None and d < r for d, r in zip(dates, reported, strict=True)
        ]
        for pos in np.flatnonzero(before):
            col.add(
                np.arange(len(frame)) == pos,
                column,
                frame[column],
                t("expected_closed_after", lang, reported=reported.iloc[pos].isoformat()),
            )

    category = _validate_vocab(frame, col, "category", CATEGORY_ALIASES, required=True)
    status = _validate_vocab(frame, col, "status", STATUS_ALIASES, required=False)
    outcome = _validate_vocab(frame, col, "outcome", OUTCOME_ALIASES, required=False)
    source = _validate_vocab(frame, col, "source", SOURCE_ALIASES, required=False)
    status_given = status.notna()
    # A closing date without a status means closed; no status at all means recorded.
    status = status.where(status_given, np.where(closed.notna(), "closed", "recorded"))
    if "status" in frame:
        raw_status = _text(frame["status"])
        status_ok = raw_status.isna() | status_given
    else:
        status_ok = pd.Series(True, index=frame.index)
    is_closed = (status == "closed").to_numpy()
    col.add(
        status_ok.to_numpy() & is_closed & closed.isna().to_numpy() & ~bad_closed,
        "closed_at",
        frame.get("closed_at", empty),
        t("expected_closed_at_for_closed", lang),
    )
    col.add(
        outcome.notna().to_numpy() & ~is_closed & status_ok.to_numpy(),
        "outcome",
        frame.get("outcome", empty),
        t("expected_outcome_for_closed", lang),
    )
    dispute = _optional_text(frame, "dispute_type")
    known = set(_dispute_types())
    col.add(
        dispute.notna().to_numpy() & ~dispute.isin(known).to_numpy(),
        "dispute_type",
        dispute,
        t("expected_one_of", lang, choices="、".join(sorted(known))),
    )
    # Empty means not under correction; a correction need always is.
    under = _booleans(frame, col, "under_correction").map(lambda v: v is True)
    under = under | (category == "correction")

    due = pd.Series(
        [
            d
            if d is not None
            else (r + dt.timedelta(days=DUE_DAYS.get(c, 15)) if r is not None and c else None)
            for d, r, c in zip(due, reported, category, strict=True)
        ],
        index=frame.index,
        dtype=object,
    )
    clean = pd.DataFrame(
        {
            "external_id": ids,
            "reported_at": reported,
            "lon": lon,
            "lat": lat,
            "category": category,
            "dispute_type": dispute,
            "description": _optional_text(frame, "description"),
            "source": source,
            "status": status,
            "outcome": outcome,
            "due_date": due,
            "closed_at": closed,
            "worker_code": _optional_text(frame, "assistant"),
            "resident_name": _optional_text(frame, "resident_name"),
            "resident_phone": _optional_text(frame, "resident_phone"),
            "under_correction": under.astype(bool),
        },
        index=frame.index,
    )
    return clean, col


NEED_INSERT_COLUMNS = [
    "external_id",
    "district_code",
    "reported_at",
    "lon",
    "lat",
    "grid_code",
    "quality",
    "category",
    "dispute_type",
    "description",
    "source",
    "status",
    "outcome",
    "due_date",
    "closed_at",
    "worker_code",
    "resident_name",
    "resident_phone",
    "under_correction",
]


#: Imports of at least this many needs refresh the planner's statistics of ``needs`` (about a
#: second on a million needs; see :func:`grid_model.db.analyze`).
ANALYZE_AFTER_ROWS = 10_000


def store_needs(
    session: Session,
    clean: pd.DataFrame,
    *,
    grids: gpd.GeoDataFrame | None = None,
    snap_m: float = 30.0,
    district_code: str | None = None,
    progress=None,
) -> int:
    """Locate validated needs (WGS84) into grids and bulk-insert them. Returns the count."""
    if clean.empty:
        return 0
    grids = load_grids(session) if grids is None else grids
    located = geolocate.locate(
        grids, clean["lon"].to_numpy(float), clean["lat"].to_numpy(float), snap_m=snap_m
    )
    frame = clean.assign(
        grid_code=located["grid_code"].to_numpy(),
        quality=located["quality"].to_numpy(),
    )
    if district_code is None:
        district_code = district_of(grids["code"].iloc[0]) if len(grids) else None
    frame["district_code"] = frame["grid_code"].map(
        lambda c: district_of(c) if isinstance(c, str) else district_code
    )
    stored = insert_frame(
        session,
        Need.__tablename__,
        frame,
        NEED_INSERT_COLUMNS,
        point=("location", "lon", "lat"),
        progress=progress,
    )
    need_stats.refresh(session)
    if stored >= ANALYZE_AFTER_ROWS:
        db.analyze(session, Need.__tablename__)
    return stored


def _existing_ids(session: Session, model, column, values: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), 5000):
        chunk = values[start : start + 5000]
        found.update(session.scalars(select(column).where(column.in_(chunk))).all())
    return found


def import_needs(
    session: Session,
    source,
    *,
    filename: str | None = None,
    crs: str = "wgs84",
    skip_invalid: bool = False,
    errors_out: str | Path | None = None,
    lang: str = "zh",
    viewer: Viewer,
    snap_m: float = 30.0,
    progress=None,
) -> ImportReport:
    """Import a needs table (CSV in UTF-8/BOM/GBK/GB18030, or XLSX).

    Raises
    ------
    ImportValidationError
        when any row is bad and ``skip_invalid`` is False; nothing is stored.
    PermissionDeniedError
        ``viewer`` may not import (:func:`grid_model.scope.require`); nothing is read.
    """
    viewer = require(session, viewer, "import", lang=lang)
    original = _read_table(source, filename, lang)
    frame = _rename_columns(original, NEED_COLUMNS, lang)
    try:
        clean, col = validate_needs(frame, crs=crs, lang=lang)
    except GeodataError as exc:
        raise InvalidInputError(str(exc)) from exc
    report = ImportReport(kind="needs", total=len(frame))
    bad = _finish(report, col, original, skip_invalid=skip_invalid, errors_out=errors_out)
    good = clean.iloc[[i for i in range(len(clean)) if i not in bad]]
    existing = _existing_ids(session, Need, Need.external_id, good["external_id"].tolist())
    report.existing = len(existing)
    new = good[~good["external_id"].isin(existing)]
    report.inserted = store_needs(session, new, snap_m=snap_m, progress=progress)
    _audit(
        session,
        viewer.name,
        "import_needs",
        "needs",
        {
            "file": _source_name(source, filename),
            "inserted": report.inserted,
            "existing": report.existing,
            "invalid": report.invalid_rows,
        },
    )
    session.flush()
    return report


# --- grids ----------------------------------------------------------------------------------


#: Fields the KML drivers give every placemark, typed into or not.
_KML_BUILT_IN = ("Name", "description")


def _read_vector(source, filename, crs, lang: str = "zh") -> gpd.GeoDataFrame:
    try:
        gdf = gio.read_vector(source, filename=filename, crs=crs)
    except GeodataError as exc:
        raise InvalidInputError(geodata_message(exc, lang)) from exc
    if "kml_layer" in gdf.columns:
        # Empty built-in fields are no input: they must not clash with a 网格名称 column.
        empty = [c for c in _KML_BUILT_IN if c in gdf.columns and _text(gdf[c]).isna().all()]
        gdf = gdf.drop(columns=empty)
    return gdf


def _as_multipolygon(geom):
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    return None


def _ensure_area(
    session: Session,
    code: str,
    name: str | None,
    level: str,
    parent: str | None,
    created: list[str],
) -> None:
    if session.get(Area, code) is None:
        session.add(Area(code=code, name=name or code, level=level, parent_code=parent))
        session.flush()
        created.append(code)


def _community_lookup(session: Session) -> dict[str, str]:
    """Community name (with and without 居委会) → code."""
    out: dict[str, str] = {}
    for code, name in session.execute(
        select(Area.code, Area.name).where(Area.level == "community")
    ):
        out[name] = code
        out[name.removesuffix("居委会")] = code
    return out


#: Text columns of a grids layer and the model column that bounds each (community, street
#: and district names become area names).
GRID_TEXT_COLUMNS = {
    "code": Grid.code,
    "name": Grid.name,
    "community": Area.name,
    "street": Area.name,
    "district": Area.name,
}


def validate_grids(
    frame: gpd.GeoDataFrame, session: Session, *, lang: str = "zh"
) -> tuple[pd.DataFrame, _Collector]:
    """Check a grids layer (canonical column names); resolve communities."""
    _require_columns(frame, ["code"], lang)
    codes = _text(frame["code"])
    col = _Collector(frame, codes, lang)
    _check_texts(frame, col, GRID_TEXT_COLUMNS)
    col.add(codes.isna().to_numpy(), "code", frame["code"], t("expected_id", lang))
    dup = codes.notna() & codes.duplicated(keep="first")
    col.add(dup.to_numpy(), "code", frame["code"], t("expected_id", lang))
    geoms = frame.geometry.array
    multi = [_as_multipolygon(g) for g in geoms]
    not_poly = np.array([m is None for m in multi])
    col.add(
        not_poly,
        "geometry",
        pd.Series([None if g is None else g.geom_type for g in geoms]),
        t("expected_geometry", lang),
    )
    valid = np.array([m is None or m.is_valid for m in multi])
    reasons = pd.Series(
        [None if m is None or m.is_valid else shapely.is_valid_reason(m) for m in multi]
    )
    for pos in np.flatnonzero(~valid):
        col.add(
            np.arange(len(frame)) == pos,
            "geometry",
            reasons,
            t("expected_valid_geometry", lang, reason=reasons.iloc[pos]),
        )
    names = _text(frame["name"]) if "name" in frame else codes
    community_raw = _optional_text(frame, "community")
    known = _community_lookup(session)
    community_code = []
    community_name = []
    for raw, code in zip(community_raw, codes, strict=True):
        if raw and raw.isdigit() and len(raw) == 12:
            community_code.append(raw)
            community_name.append(None)
        elif raw and raw in known:
            community_code.append(known[raw])
            community_name.append(raw)
        elif code and code.isdigit() and len(code) >= 12:
            # 15-digit grid codes embed their community's 12-digit code.
            community_code.append(community_of(code))
            community_name.append(raw)
        else:
            community_code.append(None)
            community_name.append(raw)
    community_code = pd.Series(community_code, dtype=object)
    col.add(
        community_code.isna().to_numpy() & codes.notna().to_numpy(),
        "community",
        community_raw,
        t("expected_community", lang),
    )
    ints = {}
    for column in ("population", "households"):
        raw = _optional_text(frame, column)
        counts, bad = fields.parse_counts(raw)
        col.add(bad, column, raw, t("expected_count", lang, max=fields.COUNT_MAX))
        ints[column] = counts.tolist()
    clean = pd.DataFrame(
        {
            "code": codes.to_numpy(),
            "name": names.fillna(codes).to_numpy(),
            "community_code": community_code.to_numpy(),
            "community_name": community_name,
            "street": _optional_text(frame, "street").to_numpy(),
            "district": _optional_text(frame, "district").to_numpy(),
            "population": ints["population"],
            "households": ints["households"],
            "geometry": multi,
        }
    )
    return clean, col


def _resolve_parent(
    value: str | None, community_code: str, digits: int, known_names: dict[str, str]
) -> tuple[str, str | None]:
    """Street/district code for a community: the given code, a known name, or the prefix."""
    if value and value.isdigit() and len(value) == digits:
        return value, None
    if value and value in known_names:
        return known_names[value], value
    return community_code[:digits], value


def import_grids(
    session: Session,
    source,
    *,
    filename: str | None = None,
    crs: str | None = None,
    skip_invalid: bool = False,
    errors_out: str | Path | None = None,
    lang: str = "zh",
    viewer: Viewer,
    snap_m: float = 30.0,
) -> ImportReport:
    """Import grid boundaries (GeoJSON, Shapefile or zipped Shapefile, GeoPackage, KML).

    New codes are inserted; known codes get the new boundary and attributes (the old
    boundary is kept in the audit log), and needs are re-geolocated when boundaries change.
    Streets and communities the database does not know yet are created. ``viewer`` must be
    allowed to import (:func:`grid_model.scope.require`)."""
    viewer = require(session, viewer, "import", lang=lang)
    gdf = _read_vector(source, filename, crs, lang)
    frame = _rename_columns(gdf, GRID_COLUMNS, lang)
    clean, col = validate_grids(frame, session, lang=lang)
    report = ImportReport(kind="grids", total=len(frame))
    original = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).assign(
        geometry=gdf.geometry.to_wkt()
    )
    bad = _finish(report, col, original, skip_invalid=skip_invalid, errors_out=errors_out)
    good = clean.iloc[[i for i in range(len(clean)) if i not in bad]]

    names = {n: c for c, n in session.execute(select(Area.code, Area.name))}
    names.update({n.removesuffix("办事处"): c for n, c in list(names.items())})
    changed: list[str] = []
    for row in good.itertuples(index=False):
        district, district_name = _resolve_parent(row.district, row.community_code, 6, names)
        street, street_name = _resolve_parent(row.street, row.community_code, 9, names)
        _ensure_area(session, district, district_name, "district", None, report.created_areas)
        _ensure_area(session, street, street_name, "street", district, report.created_areas)
        _ensure_area(
            session,
            row.community_code,
            row.community_name,
            "community",
            street,
            report.created_areas,
        )
        grid = session.scalars(select(Grid).where(Grid.code == row.code)).one_or_none()
        boundary = from_shape(row.geometry, srid=4326)
        if grid is None:
            session.add(
                Grid(
                    code=row.code,
                    name=row.name,
                    district_code=district,
                    community_code=row.community_code,
                    boundary=boundary,
                    population=row.population,
                    households=row.households,
                )
            )
            report.inserted += 1
            changed.append(row.code)
            continue
        from geoalchemy2.shape import to_shape

        old = to_shape(grid.boundary)
        same = old.equals(row.geometry)
        attrs_same = (grid.name, grid.community_code, grid.population, grid.households) == (
            row.name,
            row.community_code,
            row.population,
            row.households,
        )
        if same and attrs_same:
            report.existing += 1
            continue
        if not same:
            changed.append(row.code)
            _audit(
                session,
                viewer.name,
                "grid_boundary_changed",
                "grids",
                {"code": row.code, "old_wkt": old.wkt},
            )
        grid.name, grid.community_code = row.name, row.community_code
        grid.population, grid.households = row.population, row.households
        grid.boundary = boundary
        report.updated += 1
    session.flush()
    _audit(
        session,
        viewer.name,
        "import_grids",
        "grids",
        {
            "file": _source_name(source, filename),
            "inserted": report.inserted,
            "updated": report.updated,
            "created_areas": report.created_areas,
        },
    )
    if changed:
        from grid_model.needs.boundaries import relocate_needs

        relocate_needs(session, snap_m=snap_m, reason="import_grids", viewer=viewer, lang=lang)
    session.flush()
    return report


# --- workers and assignments --------------------------------------------------------------


#: Text columns of a workers table and the model column that bounds each.
WORKER_TEXT_COLUMNS = {"code": Worker.code, "name": Worker.name, "phone": Worker.phone}


def validate_workers(
    frame: pd.DataFrame, session: Session, *, lang: str = "zh"
) -> tuple[pd.DataFrame, _Collector]:
    """Check a workers table (canonical column names) against the vocabulary and the grids
    stored; return the clean values (``grids`` as lists of codes) with the errors collected."""
    _require_columns(frame, ["code", "name", "role"], lang)
    codes = _text(frame["code"])
    col = _Collector(frame, codes, lang)
    col.add(codes.isna().to_numpy(), "code", frame["code"], t("expected_id", lang))
    col.add(
        (codes.notna() & codes.duplicated()).to_numpy(),
        "code",
        frame["code"],
        t("expected_id", lang),
    )
    _check_texts(frame, col, WORKER_TEXT_COLUMNS)
    names = _text(frame["name"])
    col.add(names.isna().to_numpy(), "name", frame["name"], t("expected_required", lang))
    role = _validate_vocab(frame, col, "role", ROLE_ALIASES, required=True)
    cap_raw = _optional_text(frame, "capacity")
    cap, bad_cap = fields.parse_numbers(cap_raw, low=0, high=fields.CAPACITY_MAX, low_open=True)
    col.add(
        bad_cap, "capacity", cap_raw, t("expected_capacity", lang, max=f"{fields.CAPACITY_MAX:g}")
    )
    # Empty means active; 在岗/离岗 are this column's own words for yes and no.
    active = _booleans(frame, col, "active", 在岗=True, 离岗=False).map(lambda v: v is not False)
    start, _ = _optional_dates(frame, "valid_from", col, fields.latest_planned())
    grids_raw = _optional_text(frame, "grids")
    grid_lists = grids_raw.map(
        lambda v: [] if v is None else [g for g in re.split(r"[;,;,、\s]+", v) if g]
    )
    known = set(session.scalars(select(Grid.code)).all())
    unknown = grid_lists.map(lambda gs: [g for g in gs if g not in known])
    col.add(
        unknown.map(bool).to_numpy(),
        "grids",
        unknown.map(lambda gs: ";".join(gs)),
        t("expected_known_grid", lang),
    )
    clean = pd.DataFrame(
        {
            "code": codes,
            "name": names,
            "role": role,
            "phone": _optional_text(frame, "phone"),
            "capacity": cap,
            "active": active,
            "valid_from": start,
            "grids": grid_lists,
        },
        index=frame.index,
    )
    return clean, col


def import_workers(
    session: Session,
    source,
    *,
    filename: str | None = None,
    skip_invalid: bool = False,
    errors_out: str | Path | None = None,
    lang: str = "zh",
    viewer: Viewer,
    today: dt.date | None = None,
) -> ImportReport:
    """Import workers and their grid assignments (CSV/XLSX).

    Columns: code, name, role, phone, capacity, active, grids (grid codes separated by ``;``,
    ``,`` or spaces), valid_from. A new assignment closes the grid's previous assignment of the
    same role for single-holder roles (assistant, lawyer, mediator): history is kept.
    ``viewer`` must be allowed to import (:func:`grid_model.scope.require`)."""
    viewer = require(session, viewer, "import", lang=lang)
    today = today or fields.today()
    original = _read_table(source, filename, lang)
    frame = _rename_columns(original, WORKER_COLUMNS, lang)
    clean, col = validate_workers(frame, session, lang=lang)
    codes, names, role, phone = clean["code"], clean["name"], clean["role"], clean["phone"]
    cap, active, start, grid_lists = (
        clean["capacity"],
        clean["active"],
        clean["valid_from"],
        clean["grids"],
    )
    report = ImportReport(kind="workers", total=len(frame))
    bad = _finish(report, col, original, skip_invalid=skip_invalid, errors_out=errors_out)

    grid_ids = dict(session.execute(select(Grid.code, Grid.id)).all())
    single = {Role.grid_assistant, Role.lawyer, Role.mediator}
    for pos in range(len(frame)):
        if pos in bad:
            continue
        code = codes.iloc[pos]
        worker = session.scalars(select(Worker).where(Worker.code == code)).one_or_none()
        values = dict(
            name=names.iloc[pos],
            role=role.iloc[pos],
            phone=phone.iloc[pos],
            capacity=float(cap.iloc[pos]) if pd.notna(cap.iloc[pos]) else 1.0,
            active=bool(active.iloc[pos]),
        )
        if worker is None:
            worker = Worker(code=code, district_code=None, **values)
            session.add(worker)
            session.flush()
            report.inserted += 1
        elif any(getattr(worker, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(worker, k, v)
            report.updated += 1
        else:
            report.existing += 1
        since = start.iloc[pos] or today
        for g in grid_lists.iloc[pos]:
            gid = grid_ids[g]
            current = session.scalars(
                select(Assignment).where(
                    Assignment.grid_id == gid,
                    Assignment.role == worker.role,
                    Assignment.is_open(),
                )
            ).all()
            if any(a.worker_id == worker.id for a in current):
                continue
            if worker.role in single:
                for a in current:
                    a.valid_to = since
            session.add(
                Assignment(worker_id=worker.id, grid_id=gid, role=worker.role, valid_from=since)
            )
    _audit(
        session,
        viewer.name,
        "import_workers",
        "workers",
        {
            "file": _source_name(source, filename),
            "inserted": report.inserted,
            "updated": report.updated,
        },
    )
    session.flush()
    return report
