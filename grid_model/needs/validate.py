"""The rules of a need: one validator for the needs importer and the diary form.

:func:`validate_needs` checks a table of needs (canonical column names, typed values) row by
row, vectorised, and returns the clean values (coordinates in WGS84, codes for the
vocabularies below) with every bad cell recorded in a :class:`~grid_model.fields.Collector`.
:func:`grid_model.imports.import_needs` stores the good rows of a file,
:func:`grid_model.needs.cases.record_need` the one row of a form. Nothing here reads or writes
the database.
"""

from __future__ import annotations

import datetime as dt
import functools
from importlib import resources

import numpy as np
import pandas as pd

from geodata import crs as gcrs
from grid_model import fields
from grid_model.fields import Collector
from grid_model.measures.definitions import DUE_DAYS
from grid_model.messages import t
from grid_model.models import Need
from grid_model.moments import DateReading, parse_moments

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
    "dispatched": ["已分派", "分派", "已派单", "派单", "已派遣", "派遣"],
    "accepted": ["已签收", "签收"],
    "returned": ["已退回", "退回"],
    "in_progress": ["办理中", "处理中", "进行中", "in progress"],
    "on_hold": ["缓办", "暂缓", "中止", "on hold"],
    "handled": ["已处置", "待核查"],
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

#: Free-text columns of a needs table and the model column that bounds each.
NEED_TEXT_COLUMNS = {
    "id": Need.external_id,
    "description": Need.description,
    "assistant": Need.worker_code,
    "resident_name": Need.resident_name,
    "resident_phone": Need.resident_phone,
}

#: The columns a needs table must have.
REQUIRED_COLUMNS = ("id", "reported_at", "lon", "lat", "category")

#: Beyond this, a coordinate is not metres of any projected system either.
_PROJECTED_MAX = 1e8
#: Coordinate systems in degrees (the others are metres of a projection).
_GEOGRAPHIC = ("wgs84", "gcj02", "bd09", "EPSG:4326", "EPSG:4490")


#: Fields a value map (``--value-map FIELD=MAP.csv``) may translate.
VALUE_MAP_FIELDS = ("category", "status", "outcome", "source", "dispute_type")


def validate_needs(
    frame: pd.DataFrame,
    *,
    crs: str = "wgs84",
    lang: str = "zh",
    dates: DateReading | None = None,
    value_maps: dict[str, dict[str, str]] | None = None,
) -> tuple[pd.DataFrame, Collector]:
    """Check every row of a needs table (canonical column names) and return the clean values
    (WGS84) with the errors collected. Vectorised; used by the importer and the diary form.

    ``dates`` says how to read dates and times (:class:`~grid_model.moments.DateReading`:
    format, day first, zone); ``value_maps`` translates a file's own values of
    :data:`VALUE_MAP_FIELDS` into codes first (a value the map lacks is an error naming the
    values seen). ``reported_time``/``closed_time`` are the instants (naive UTC),
    ``reported_at``/``closed_at`` their days in the zone.

    Raises
    ------
    InvalidInputError
        A required column (:data:`REQUIRED_COLUMNS`) is missing.
    GeodataError
        ``crs`` is not a coordinate system :mod:`geodata.crs` knows.
    """
    fields.require_columns(frame, REQUIRED_COLUMNS, lang)
    ids = fields.stripped(frame["id"])
    col = Collector(frame, ids, lang)
    frame = _apply_value_maps(frame, col, value_maps or {})
    unmapped = {(e.row, e.field) for e in col.errors}
    _check_ids(frame, col, ids)
    fields.check_texts(frame, col, NEED_TEXT_COLUMNS)
    lon, lat = validate_coordinates(frame, col, crs)
    times, (reported, closed, due), bad_closed = _check_dates(frame, col, dates or DateReading())
    category = fields.check_vocabulary(frame, col, "category", CATEGORY_ALIASES, required=True)
    status, outcome = _check_status(frame, col, closed, bad_closed)
    source = fields.check_vocabulary(frame, col, "source", SOURCE_ALIASES, required=False)
    dispute = _check_dispute_type(frame, col)
    # Empty means not under correction; a correction need always is.
    under = fields.check_booleans(frame, col, "under_correction").map(lambda v: v is True)
    under = under | (category == "correction")
    # an unmapped cell is one error (its own), not also "required" or "one of"
    first = len(unmapped)
    col.errors[first:] = [e for e in col.errors[first:] if (e.row, e.field) not in unmapped]
    clean = pd.DataFrame(
        {
            "external_id": ids,
            "reported_at": reported,
            "reported_time": times[0],
            "lon": lon,
            "lat": lat,
            "category": category,
            "dispute_type": dispute,
            "description": fields.optional_text(frame, "description"),
            "source": source,
            "status": status,
            "outcome": outcome,
            "due_date": _due_dates(due, reported, category),
            "closed_at": closed,
            "closed_time": times[1],
            "worker_code": fields.optional_text(frame, "assistant"),
            "resident_name": fields.optional_text(frame, "resident_name"),
            "resident_phone": fields.optional_text(frame, "resident_phone"),
            "under_correction": under.astype(bool),
        },
        index=frame.index,
    )
    return clean, col


def _check_ids(frame: pd.DataFrame, col: Collector, ids: pd.Series) -> None:
    """Every row has an id, and no id repeats an earlier row's (naming that row)."""
    col.add(ids.isna().to_numpy(), "id", frame["id"], t("expected_id", col.lang))
    dup = ids.notna() & ids.duplicated(keep="first")
    if not dup.any():
        return
    first_row = {v: i + 2 for i, v in reversed(list(enumerate(ids.tolist()))) if v is not None}
    for pos in np.flatnonzero(dup.to_numpy()):
        expected = t("expected_id_unique", col.lang, first=first_row[ids.iloc[pos]])
        col.add_at(pos, "id", frame["id"], expected)


def _apply_value_maps(
    frame: pd.DataFrame, col: Collector, maps: dict[str, dict[str, str]]
) -> pd.DataFrame:
    """``frame`` with the mapped fields' values replaced by their codes; values a map lacks
    are recorded (naming every such value seen) and left empty."""
    if not maps:
        return frame
    frame = frame.copy()
    for name, mapping in maps.items():
        if name not in frame:
            continue
        raw = fields.stripped(frame[name])
        mapped = raw.map(lambda v, m=mapping: None if v is None else m.get(v))
        unmapped = raw.notna() & mapped.isna()
        if unmapped.any():
            seen = ", ".join(sorted(set(raw[unmapped]))[:20])
            col.add(
                unmapped.to_numpy(), name, frame[name], t("expected_mapped", col.lang, seen=seen)
            )
        frame[name] = mapped
    return frame


def _check_moments(
    frame: pd.DataFrame, column: str, col: Collector, latest: dt.date, reading: DateReading
) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """Instants and days of a date column (all None when the file has none), recording values
    that are no moment or whose day falls outside :data:`fields.EARLIEST`..``latest``."""
    if column not in frame:
        empty = fields.optional_text(frame, column)
        return empty, empty, np.zeros(len(frame), dtype=bool)
    raw = frame[column]
    stamps, days, bad = _parse_moments_once(raw, reading)
    col.add(bad, column, raw, t("expected_date", col.lang))
    far = fields.outside(days, fields.EARLIEST, latest)
    key = "expected_date_recent" if latest <= fields.latest_reported() else "expected_date_planned"
    expected = t(key, col.lang, earliest=fields.EARLIEST, latest=latest, today=fields.today())
    col.add(far, column, raw, expected)
    return stamps.where(~far, None), days.where(~far, None), bad | far


def _parse_moments_once(
    raw: pd.Series, reading: DateReading
) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """:func:`~grid_model.moments.parse_moments` of ``raw``, run on its distinct values only
    (a million needs have a few thousand days) and spread back. Cells other than text (a
    form's values) are parsed as they are: 1 and 1.0 would be one value to a hash."""
    values = raw.to_numpy(dtype=object)
    if not set(map(type, values)) <= {str, type(None)}:
        return parse_moments(raw, reading)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    stamps, days, bad = parse_moments(pd.Series(uniques, dtype=object), reading)
    given = codes >= 0
    spread = []
    for values in (stamps.to_numpy(dtype=object), days.to_numpy(dtype=object), bad):
        out = np.full(len(codes), None if values.dtype == object else False, dtype=values.dtype)
        out[given] = values[codes[given]]
        spread.append(out)
    stamps, days, bad = spread
    return (
        pd.Series(stamps, index=raw.index, dtype=object),
        pd.Series(days, index=raw.index, dtype=object),
        bad,
    )


def _check_dates(frame: pd.DataFrame, col: Collector, reading: DateReading):
    """Report moment (required), closing moment and due date (optional, not before the
    report); returns the (report, closing) instants, the three days and the mask of closing
    dates given but bad."""
    lang = col.lang
    latest = fields.latest_reported()
    reported_time, reported, _ = _check_moments(frame, "reported_at", col, latest, reading)
    col.add(
        fields.stripped(frame["reported_at"]).isna().to_numpy(),
        "reported_at",
        frame["reported_at"],
        t("expected_required", lang) + "; " + t("expected_date", lang),
    )
    closed_time, closed, bad_closed = _check_moments(frame, "closed_at", col, latest, reading)
    _, due, _ = _check_moments(frame, "due_date", col, fields.latest_planned(), reading)
    for column, dates in (("closed_at", closed), ("due_date", due)):
        before = [
            d is not None and r is not None and d < r for d, r in zip(dates, reported, strict=True)
        ]
        for pos in np.flatnonzero(before):
            expected = t("expected_closed_after", lang, reported=reported.iloc[pos].isoformat())
            col.add_at(pos, column, frame[column], expected)
    return (reported_time, closed_time), (reported, closed, due), bad_closed


def _check_status(
    frame: pd.DataFrame, col: Collector, closed: pd.Series, bad_closed: np.ndarray
) -> tuple[pd.Series, pd.Series]:
    """Status and outcome: a closed need has a closing date, only a closed one an outcome."""
    lang = col.lang
    status = fields.check_vocabulary(frame, col, "status", STATUS_ALIASES, required=False)
    outcome = fields.check_vocabulary(frame, col, "outcome", OUTCOME_ALIASES, required=False)
    status_given = status.notna()
    # A closing date without a status means closed; no status at all means recorded.
    status = status.where(status_given, np.where(closed.notna(), "closed", "recorded"))
    if "status" in frame:
        status_ok = (fields.stripped(frame["status"]).isna() | status_given).to_numpy()
    else:
        status_ok = np.ones(len(frame), dtype=bool)
    empty = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    is_closed = (status == "closed").to_numpy()
    col.add(
        status_ok & is_closed & closed.isna().to_numpy() & ~bad_closed,
        "closed_at",
        frame.get("closed_at", empty),
        t("expected_closed_at_for_closed", lang),
    )
    col.add(
        outcome.notna().to_numpy() & ~is_closed & status_ok,
        "outcome",
        frame.get("outcome", empty),
        t("expected_outcome_for_closed", lang),
    )
    return status, outcome


@functools.cache
def dispute_types() -> tuple[str, ...]:
    """The 15 national people's-mediation dispute categories (人民调解纠纷分类) a need's
    ``dispute_type`` is one of, in the order of the list bundled with geodata (read once)."""
    return tuple(_dispute_list()["name_zh"])


def dispute_type_names() -> dict[str, str]:
    """Each dispute type (its Chinese name is the stored code) → its English name."""
    table = _dispute_list()
    return dict(zip(table["name_zh"], table["name_en"], strict=True))


@functools.cache
def _dispute_list() -> pd.DataFrame:
    path = resources.files("geodata").joinpath("data", "mediation_dispute_categories_cn.csv")
    return pd.read_csv(path)


def _check_dispute_type(frame: pd.DataFrame, col: Collector) -> pd.Series:
    """The dispute type, one of the national mediation categories when given."""
    dispute = fields.optional_text(frame, "dispute_type")
    known = set(dispute_types())
    col.add(
        dispute.notna().to_numpy() & ~dispute.isin(known).to_numpy(),
        "dispute_type",
        dispute,
        t("expected_one_of", col.lang, choices="、".join(sorted(known))),
    )
    return dispute


def _due_dates(due: pd.Series, reported: pd.Series, category: pd.Series) -> pd.Series:
    """The due date given, else the category's term (:data:`DUE_DAYS`) after the report.

    >>> day = pd.Series([dt.date(2025, 3, 1)] * 2)
    >>> _due_dates(pd.Series([None, dt.date(2025, 4, 1)]), day, pd.Series(["mediation"] * 2))[0]
    datetime.date(2025, 3, 31)
    """
    return pd.Series(
        [
            d
            if d is not None
            else (r + dt.timedelta(days=DUE_DAYS.get(c, 15)) if r is not None and c else None)
            for d, r, c in zip(due, reported, category, strict=True)
        ],
        index=due.index,
        dtype=object,
    )


# --- coordinates ----------------------------------------------------------------------------


def validate_coordinates(
    frame: pd.DataFrame, col: Collector, crs: str
) -> tuple[np.ndarray, np.ndarray]:
    """Return WGS84 lon/lat (NaN where bad) after recording coordinate errors."""
    raw_lon, raw_lat = frame["lon"], frame["lat"]
    name = gcrs.normalize_crs(crs)
    geographic = name in _GEOGRAPHIC
    x = gcrs.coerce_coordinate(raw_lon.to_numpy(dtype=object))
    y = gcrs.coerce_coordinate(raw_lat.to_numpy(dtype=object))
    lon_missing = fields.stripped(raw_lon).isna().to_numpy()
    lat_missing = fields.stripped(raw_lat).isna().to_numpy()
    if geographic:
        problems = gcrs.validate_lonlat(
            raw_lon.to_numpy(dtype=object), raw_lat.to_numpy(dtype=object)
        )
    else:
        problems = np.where(np.isnan(x) | np.isnan(y), "not_a_number", None).astype(object)
        problems[lon_missing | lat_missing] = "missing"
    _record_missing_or_bad(col, raw_lon, raw_lat, problems, x, y, lon_missing, lat_missing)
    if geographic:
        _record_out_of_range(col, raw_lon, raw_lat, problems, x, y)
    return _to_wgs84(col, raw_lon, raw_lat, problems, x, y, name, geographic=geographic)


def _pair(raw_lon: pd.Series, raw_lat: pd.Series) -> pd.Series:
    return raw_lon.astype(str) + ", " + raw_lat.astype(str)


def _record_missing_or_bad(
    col: Collector,
    raw_lon: pd.Series,
    raw_lat: pd.Series,
    problems: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    lon_missing: np.ndarray,
    lat_missing: np.ndarray,
) -> None:
    """Empty coordinates, coordinates that are no number, lon and lat swapped."""
    lang = col.lang
    missing = problems == "missing"
    required = t("expected_required", lang) + ": "
    col.add(missing & lon_missing, "lon", raw_lon, required + t("expected_lon", lang))
    col.add(missing & lat_missing, "lat", raw_lat, required + t("expected_lat", lang))
    not_a_number = problems == "not_a_number"
    col.add(not_a_number & np.isnan(x) & ~lon_missing, "lon", raw_lon, t("expected_lon", lang))
    col.add(not_a_number & np.isnan(y) & ~lat_missing, "lat", raw_lat, t("expected_lat", lang))
    col.add(
        problems == "swapped", "lon/lat", _pair(raw_lon, raw_lat), t("expected_not_swapped", lang)
    )


def _record_out_of_range(
    col: Collector,
    raw_lon: pd.Series,
    raw_lat: pd.Series,
    problems: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
) -> None:
    """Degrees out of range; metres of a projection in degree columns said as such."""
    lang = col.lang
    far = problems == "out_of_range"
    # Metres of a projected system (UTM, Gauss-Krüger with its zone prefix) in degree
    # columns: say which option fixes it rather than "not a longitude".
    projected = far & (np.abs(x) > 180) & (np.abs(y) > 90)
    projected &= (np.abs(x) < _PROJECTED_MAX) & (np.abs(y) < _PROJECTED_MAX)
    col.add(projected, "lon/lat", _pair(raw_lon, raw_lat), t("expected_projected", lang))
    col.add(far & ~projected & (np.abs(x) > 180), "lon", raw_lon, t("expected_lon", lang))
    col.add(far & ~projected & (np.abs(y) > 90), "lat", raw_lat, t("expected_lat", lang))


def _to_wgs84(
    col: Collector,
    raw_lon: pd.Series,
    raw_lat: pd.Series,
    problems: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    name: str,
    *,
    geographic: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The good coordinates in WGS84 (NaN elsewhere); a projection's result off the globe is
    recorded."""
    ok = pd.isna(problems)
    lon = np.full(len(problems), np.nan)
    lat = np.full(len(problems), np.nan)
    if not ok.any():
        return lon, lat
    lon_ok, lat_ok = gcrs.to_wgs84(x[ok], y[ok], name)
    lon[ok], lat[ok] = np.atleast_1d(lon_ok), np.atleast_1d(lat_ok)
    if not geographic:
        out = np.zeros(len(problems), dtype=bool)
        out[ok] = (np.abs(lon[ok]) > 180) | (np.abs(lat[ok]) > 90) | ~np.isfinite(lon[ok])
        col.add(out, "lon/lat", _pair(raw_lon, raw_lat), t("expected_lon", col.lang))
        lon[out] = lat[out] = np.nan
    return lon, lat


__all__ = [
    "CATEGORY_ALIASES",
    "NEED_TEXT_COLUMNS",
    "OUTCOME_ALIASES",
    "REQUIRED_COLUMNS",
    "SOURCE_ALIASES",
    "STATUS_ALIASES",
    "validate_coordinates",
    "validate_needs",
]
