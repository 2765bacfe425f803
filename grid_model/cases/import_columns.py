"""The closed loop's columns of a needs table (import and demo), in one place: their headers
(English and Chinese, :data:`LOOP_COLUMNS`), their checks (:func:`check_loop_columns`) and the
steps they imply (:func:`synthesise_events`).

Instants are read like every instant (:mod:`grid_model.instants`): ``2025-03-04 09:30``,
``2025/3/4 9:30`` or ``2025年3月4日 9:30`` in GRIDLAW_TIMEZONE, or ISO 8601 with an offset;
a date alone is that day's local midnight. Each must follow the one before it in the loop
(dispatched ≤ accepted ≤ handled ≤ verified ≤ visited), none may lie in the future; a
satisfaction goes with a return-visit time, on a closed need only; the assignee is a stored
worker.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
from sqlalchemy import and_, insert, literal, select, true
from sqlalchemy.orm import Session

from grid_model import config, fields, instants
from grid_model.cases.steps import PRIORITY_ALIASES, SATISFACTION_ALIASES
from grid_model.fields import Collector
from grid_model.messages import t
from grid_model.models import CaseEvent, Need

#: canonical column ← accepted headers
LOOP_COLUMNS: dict[str, list[str]] = {
    "assignee": ["assignee", "承办人", "办理人", "被派遣人", "派遣对象"],
    "priority": ["priority", "优先级", "紧急程度"],
    "dispatched_at": ["dispatched_at", "派遣时间", "派单时间"],
    "accepted_at": ["accepted_at", "签收时间"],
    "handled_at": ["handled_at", "处置时间", "办理完成时间"],
    "verified_at": ["verified_at", "核查时间"],
    "visited_at": ["visited_at", "回访时间"],
    "satisfaction": ["satisfaction", "满意度", "回访满意度"],
}
INSTANTS = ("dispatched_at", "accepted_at", "handled_at", "verified_at", "visited_at")
#: The need columns the loop's columns are stored in.
STORED = {"assignee": "assignee_code", "priority": "priority", **{c: c for c in INSTANTS},
          "satisfaction": "satisfaction"}  # fmt: skip
#: Every loop column a bulk insert of needs writes (the last two only the demo fills).
INSERTED = [*STORED.values(), "rework_count", "supervised_due"]
_ISO_NAIVE = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?"
_CN_DATE = re.compile(r"^\s*(\d{4})\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*日?\s*(.*)$")


def parse_instant_text(value: object) -> dt.datetime | None:
    """A cell as a stored instant (naive UTC); None when it is no instant."""
    text = str(value).strip()
    try:
        return instants.to_stored(dt.datetime.fromisoformat(text))
    except ValueError:
        pass
    match = _CN_DATE.match(text)
    if match:
        y, m, d, rest = match.groups()
        rest = rest.strip()
        if rest and re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", rest):
            rest = ("0" + rest) if len(rest.split(":")[0]) == 1 else rest
        text = f"{int(y):04d}-{int(m):02d}-{int(d):02d}" + (f" {rest}" if rest else "")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return instants.to_stored(parsed)


def _instants(frame: pd.DataFrame, col: Collector, name: str, now: dt.datetime) -> pd.Series:
    raw = (
        fields.stripped(frame[name])
        if name in frame
        else pd.Series(None, index=frame.index, dtype=object)
    )
    values = parse_instant_texts(raw)
    bad = raw.notna() & (values.isna() | (values > now))
    col.add(bad.to_numpy(), name, frame.get(name, raw), t("expected_instant", col.lang))
    return values.where(~bad)


def parse_instant_texts(raw: pd.Series) -> pd.Series:
    """:func:`parse_instant_text` of each cell of ``raw`` (stripped text or None), as
    ``datetime64`` (NaT: empty or no instant).

    Plain ISO cells (``2025-03-04 09:30[:05[.123]]``, no offset) are read and moved to UTC in
    one go; the zone's ambiguous and missing wall times, and every other form, cell by cell.
    """
    fast = pd.Series(_plain_iso(raw.to_numpy(dtype=object)), index=raw.index)
    stamps = pd.to_datetime(raw.where(fast), format="ISO8601", errors="coerce")
    values = (
        stamps.dt.tz_localize(config.timezone(), ambiguous="NaT", nonexistent="NaT")
        .dt.tz_convert("UTC")
        .dt.tz_localize(None)
        .astype("datetime64[us]")
    )
    rest = raw.notna().to_numpy() & values.isna().to_numpy()
    if rest.any():
        slow = [parse_instant_text(v) for v in raw[rest]]
        values[rest] = pd.Series(slow, index=values.index[rest], dtype="datetime64[us]")
    return values


def _plain_iso(values: np.ndarray) -> np.ndarray:
    """Mask of the cells of ``values`` (text or missing) of :data:`_ISO_NAIVE`'s form (a loop
    over the given cells: a third quicker than pandas' ``str.fullmatch``)."""
    mask = np.zeros(len(values), dtype=bool)
    given = np.flatnonzero(~pd.isna(values))
    match = re.compile(_ISO_NAIVE).fullmatch
    mask[given] = [match(v) is not None for v in values[given]]
    return mask


def _in_order(frame: pd.DataFrame, col: Collector, loop: dict[str, pd.Series]) -> None:
    """Each instant given follows every earlier one given."""
    for i, later in enumerate(INSTANTS):
        for earlier in INSTANTS[:i]:
            a, b = loop[earlier], loop[later]
            before = (b < a).to_numpy()  # NaT compares False: only instants both given
            col.add(before, later, frame.get(later, b),
                    t("expected_after", col.lang, field=earlier))  # fmt: skip


def check_loop_columns(frame: pd.DataFrame, col: Collector, clean: pd.DataFrame, *,
                       workers: set[str] | None = None) -> pd.DataFrame:  # fmt: skip
    """``clean`` with the loop's columns (:data:`STORED` names) checked from ``frame``
    (canonical headers); problems go to ``col`` naming row and field. ``workers``: the stored
    worker codes an assignee must be one of (None: not checked)."""
    now = instants.now_stored() + dt.timedelta(minutes=5)
    out = clean.copy(deep=False)  # columns replaced, never written into
    loop = {name: _instants(frame, col, name, now) for name in INSTANTS}
    _in_order(frame, col, loop)
    assignee = fields.optional_text(frame, "assignee")
    if workers is not None:
        unknown = assignee.notna() & ~assignee.isin(workers)
        col.add(unknown.to_numpy(), "assignee", assignee, t("expected_known_worker", col.lang))
    priority = fields.check_vocabulary(frame, col, "priority", PRIORITY_ALIASES, required=False)
    satisfaction = fields.check_vocabulary(frame, col, "satisfaction", SATISFACTION_ALIASES,
                                           required=False)  # fmt: skip
    unpaired = satisfaction.notna() != loop["visited_at"].notna()
    col.add(unpaired.to_numpy(), "satisfaction", frame.get("satisfaction", satisfaction),
            t("expected_visit_pair", col.lang))  # fmt: skip
    not_closed = (satisfaction.notna() | loop["visited_at"].notna()) & (clean["status"] != "closed")
    col.add(not_closed.to_numpy(), "visited_at", frame.get("visited_at", satisfaction),
            t("expected_visit_closed", col.lang))  # fmt: skip
    out["assignee_code"] = assignee
    out["priority"] = priority.fillna("normal")
    out["satisfaction"] = satisfaction
    for name in INSTANTS:
        out[name] = loop[name]
    return out


def _as_text(value) -> str | None:
    """A stored instant as the text both backends read (SQLAlchemy's SQLite format)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M:%S.%f")


def with_loop_defaults(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` ready for the bulk insert: every loop column (those it lacks empty; priority
    ``normal``), instants as text."""
    out = frame.copy(deep=False)  # columns replaced, never written into
    for column in INSERTED:
        if column not in out:
            out[column] = {"priority": "normal", "rework_count": 0}.get(column)
    out["priority"] = out["priority"].fillna("normal")
    for column in INSTANTS:
        out[column] = _instant_texts(out[column])
    return out


def _instant_texts(values: pd.Series) -> pd.Series:
    """:func:`_as_text` of each value; a naive ``datetime64`` column in one go."""
    if not (pd.api.types.is_datetime64_dtype(values.dtype) and values.dt.tz is None):
        return pd.Series([_as_text(v) for v in values], index=values.index, dtype=object)
    stamps = values.to_numpy().astype("datetime64[us]")
    chars = np.datetime_as_string(stamps, unit="us")
    missing = np.isnat(stamps)
    if (np.char.str_len(chars[~missing]) == 26).all():  # years 0000–9999
        # "2025-03-04T09:30:00.000000": its T made a space in place, not by a replace per cell
        fixed = chars.astype("U26")
        fixed.view(np.uint32).reshape(-1, 26)[~missing, 10] = ord(" ")
        text = fixed.astype(object)
    else:
        text = np.char.replace(chars, "T", " ").astype(object)
    text[missing] = None
    return pd.Series(text, index=values.index, dtype=object)


_STEPS = [  # (step, to_status, instant column, condition)
    ("dispatch", "dispatched", Need.dispatched_at, None),
    ("accept", "accepted", Need.accepted_at, None),
    ("handle", "handled", Need.handled_at, None),
    ("verify", "closed", Need.verified_at, Need.status == "closed"),
    ("visit", "closed", Need.visited_at, None),
]


def synthesise_events(session: Session, where=None) -> int:
    """The steps the loop columns of the needs matching ``where`` imply, as events marked
    ``synthesised`` (actor ``import``): one statement per step, so a million needs stay a few
    statements. Returns how many were written."""
    where = true() if where is None else where
    total = 0
    for step, to_status, column, cond in _STEPS:
        conds = [where, column.is_not(None)] + ([cond] if cond is not None else [])
        rows = select(
            Need.id, Need.district_code, literal(step), literal(to_status), literal("import"),
            Need.assignee_code, column, literal(True),
        ).where(and_(*conds))  # fmt: skip
        stmt = insert(CaseEvent).from_select(
            ["need_id", "district_code", "step", "to_status", "actor", "worker_code", "at",
             "synthesised"], rows)  # fmt: skip
        total += session.execute(stmt).rowcount or 0
    return total


__all__ = [
    "INSERTED",
    "INSTANTS",
    "LOOP_COLUMNS",
    "STORED",
    "check_loop_columns",
    "parse_instant_text",
    "parse_instant_texts",
    "synthesise_events",
    "with_loop_defaults",
]
