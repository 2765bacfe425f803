"""Cases (法律需求): record a need from the diary form, move it through its statuses, find it.

Status changes (:data:`TRANSITIONS`), the short form of the closed loop of
:mod:`grid_model.cases` — each change is a sequence of its steps (:data:`CHANGE_STEPS`), written
by its one writer, :func:`grid_model.cases.workflow.take_step`::

    recorded → dispatched → in_progress → closed
    recorded → closed          (a consultation answered on the spot)

Closing needs an outcome (:class:`~grid_model.models.Outcome`); ``mediated`` and
``mediation_failed`` only close mediation needs. A closed need is never reopened. Every
change writes an :class:`~grid_model.models.AuditEntry`.

Recording is idempotent: a need with an ``external_id`` already stored is returned as it is,
and a need without one gets a deterministic id from a hash of its grid, category,
description, report date and resident, so a form submitted twice (the same day) stores one
case. To record two genuinely identical needs, give them external ids.

Every function takes the :class:`Viewer` who asks and checks it here
(:func:`grid_model.scope.require` before a change, :func:`grid_model.scope.check_viewer` before
a read): viewers see and change only their area's needs (needs outside every grid belong to the
district level); viewers without the right to personal data
(:attr:`Viewer.sees_personal_data`) never get residents' names and phones, nor needs of people
under community correction. Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geodata.errors import GeodataError
from grid_model import audit, config, db, fields, instants
from grid_model.cases import workflow
from grid_model.errors import ConflictError, InvalidInputError, NotFoundError
from grid_model.measures import need_stats
from grid_model.messages import t
from grid_model.models import AuditEntry, CaseEvent, Grid, Need, Status, Worker
from grid_model.needs import ancestry, geolocate
from grid_model.needs.validate import validate_needs
from grid_model.queries import NEED_COLUMNS, read_frame
from grid_model.scope import Scope, Viewer, check_viewer, redact, require

#: The statuses in their order.
STATUS_FLOW: tuple[str, ...] = tuple(s.value for s in Status)

#: Each status change as the steps of the closed loop it takes (grid_model.cases.steps).
CHANGE_STEPS: dict[tuple[str, str], tuple[str, ...]] = {
    ("recorded", "dispatched"): ("dispatch",),
    ("returned", "dispatched"): ("dispatch",),
    ("recorded", "closed"): ("close",),
    ("dispatched", "in_progress"): ("accept", "start"),
    ("accepted", "in_progress"): ("start",),
    ("on_hold", "in_progress"): ("resume",),
    ("in_progress", "closed"): ("handle", "verify"),
    ("handled", "closed"): ("verify",),
}
#: Allowed status changes: from → the statuses it may go to.
TRANSITIONS: dict[str, frozenset[str]] = {
    s: frozenset(to for (fr, to) in CHANGE_STEPS if fr == s) for s in STATUS_FLOW
}

MEDIATION_OUTCOMES = workflow.MEDIATION_OUTCOMES
SORTABLE = ("reported_at", "due_date", "closed_at", "status", "category", "grid_code", "id")
_M_PER_DEG_LAT = 111_320.0


@dataclass
class NeedInput:
    """One need as a form (the grid legal-needs diary) submits it.

    Values may be typed text: coordinates as strings, dates as ``2025-03-01``,
    ``2025/3/1`` or ``2025年3月1日``, categories and sources as codes or their Chinese names
    (see :data:`grid_model.needs.validate.CATEGORY_ALIASES`).
    """

    lon: float | str | None
    lat: float | str | None
    category: str | None
    reported_at: dt.date | str | None
    source: str | None = None
    description: str | None = None
    external_id: str | None = None
    dispute_type: str | None = None
    due_date: dt.date | str | None = None
    resident_name: str | None = None
    resident_phone: str | None = None
    under_correction: bool | str | None = False
    worker_code: str | None = None


# --- record ---------------------------------------------------------------------------------


def _invalid(errors: list[tuple[str, object, str]], lang: str) -> InvalidInputError:
    lines = [
        t("invalid_field", lang, field=f, value="" if v is None else v, expected=e)
        for f, v, e in errors
    ]
    exc = InvalidInputError("; ".join(lines))
    exc.fields = tuple((f, line) for (f, _, _), line in zip(errors, lines, strict=True))
    return exc


def _validated(data: NeedInput, crs: str, lang: str) -> dict:
    """The need's clean values (WGS84), or InvalidInputError naming every bad field."""
    if not isinstance(data, NeedInput):
        raise InvalidInputError(f"data: expected a NeedInput, got {type(data).__name__}")
    row = {
        "id": data.external_id or "pending",
        "reported_at": data.reported_at,
        "lon": data.lon,
        "lat": data.lat,
        "category": data.category,
        "dispute_type": data.dispute_type,
        "description": data.description,
        "source": data.source,
        "due_date": data.due_date,
        "resident_name": data.resident_name,
        "resident_phone": data.resident_phone,
        # a form's checkbox gives a bool; any other value goes through the vocabulary
        "under_correction": (
            ("1" if data.under_correction else "0")
            if isinstance(data.under_correction, bool)
            else data.under_correction
        ),
        "assistant": data.worker_code,
    }
    frame = pd.DataFrame({k: pd.Series([v], dtype=object) for k, v in row.items()})
    try:
        clean, collected = validate_needs(frame, crs=crs, lang=lang)
    except GeodataError as exc:
        raise _invalid([("crs", crs, t("expected_crs", lang))], lang) from exc
    errors = [(e.field, e.value, e.expected) for e in collected.sorted()]
    values = clean.iloc[0].to_dict()
    if not (data.source or "").strip():
        errors.append(("source", data.source, t("expected_required", lang)))
    if errors:
        raise _invalid(errors, lang)
    values["external_id"] = (data.external_id or "").strip() or None
    values["description"] = _normalise_text(values["description"])
    return values


def _normalise_text(value: str | None) -> str | None:
    if value is None:
        return None
    text_ = " ".join(str(value).split())
    return text_ or None


def content_id(values: dict) -> str:
    """Deterministic external id of a need without one: a hash of grid, category,
    description, report date and resident (name and phone)."""
    parts = [
        values.get("grid_code") or "",
        values["category"],
        _normalise_text(values.get("description")) or "",
        values["reported_at"].isoformat(),
        _normalise_text(values.get("resident_name")) or "",
        "".join(ch for ch in str(values.get("resident_phone") or "") if ch.isdigit()),
    ]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"H{digest[:32]}"


def _nearby_grids(session: Session, lon: float, lat: float, snap_m: float) -> gpd.GeoDataFrame:
    """Grids whose boundary meets a box of ``snap_m`` (and then some) around the point,
    through the spatial index; enough for :func:`geolocate.locate` to apply its rules."""
    dy = 1.5 * snap_m / _M_PER_DEG_LAT + 1e-6
    dx = dy / max(math.cos(math.radians(lat)), 0.01)
    x0, y0, x1, y1 = lon - dx, lat - dy, lon + dx, lat + dy
    envelope = func.ST_GeomFromText(
        f"POLYGON(({x0!r} {y0!r},{x1!r} {y0!r},{x1!r} {y1!r},{x0!r} {y1!r},{x0!r} {y0!r}))", 4326
    )
    stmt = select(Grid.code, func.ST_AsBinary(Grid.boundary).label("wkb"))
    if db.is_sqlite(session.get_bind()):
        # SpatiaLite does not use its R*Tree by itself: ask the index for candidate rowids.
        stmt = stmt.where(
            Grid.id.in_(
                text(
                    "SELECT rowid FROM SpatialIndex WHERE f_table_name = 'grids' "
                    "AND f_geometry_column = 'boundary' "
                    "AND search_frame = BuildMbr(:x0, :y0, :x1, :y1, 4326)"
                ).bindparams(x0=x0, y0=y0, x1=x1, y1=y1)
            )
        )
    stmt = stmt.where(func.ST_Intersects(Grid.boundary, envelope)).order_by(Grid.code)
    rows = session.execute(stmt).all()
    return gpd.GeoDataFrame(
        {"code": [r.code for r in rows]},
        geometry=shapely.from_wkb([bytes(r.wkb) for r in rows]),
        crs="EPSG:4326",
    )


def _existing(need: Need, viewer: Viewer, data: NeedInput, lang: str) -> Need:
    """The stored need a submission repeats, for a viewer who may see it; otherwise the id
    is refused with a message that says nothing of the stored need."""
    if not viewer.sees_need(need):
        raise _invalid([("external_id", data.external_id, t("expected_unused_id", lang))], lang)
    return need


def record_need(
    session: Session,
    data: NeedInput,
    *,
    viewer: Viewer,
    crs: str = "wgs84",
    snap_m: float | None = None,
    lang: str = "zh",
) -> tuple[Need, bool]:
    """Validate, locate and store one need; return it and whether it was created.

    Parameters
    ----------
    data : NeedInput
        The form's values.
    viewer : Viewer
        Who records it: the actor of the audit entry. A viewer limited to an area records
        needs in that area's grids only; outside every grid (flagged ``outside``) only a
        viewer of the district or of everything.
    crs : str
        The system of ``data.lon``/``data.lat``: ``wgs84``, ``gcj02`` (Amap, Tencent),
        ``bd09`` (Baidu) or ``EPSG:<code>``; stored in WGS84.
    snap_m : float, optional
        A point outside every grid but this close to one snaps to it (quality ``snapped``);
        default :func:`grid_model.config.snap_m` (``GRIDLAW_SNAP_M``, 30 m).

    Returns
    -------
    (Need, bool)
        The stored need, and False when it already existed (same ``external_id``, or, without
        one, the same content: see the module docstring).

    Raises
    ------
    InvalidInputError
        Naming each bad field and what was expected, in ``lang`` (``zh`` or ``en``); also an
        ``external_id`` already used by a need the viewer may not see (the message says
        nothing of that need).
    PermissionDeniedError
        The viewer's role may not record needs, or the account is disabled.
    """
    viewer = require(session, viewer, "record_need", lang=lang)
    values = _validated(data, crs, lang)
    if values["external_id"]:
        existing = _stored(session, values["external_id"])
        if existing is not None:
            return _existing(existing, viewer, data, lang), False
    _check_worker(session, values["worker_code"], data, lang)
    lon, lat = float(values["lon"]), float(values["lat"])
    snap_m = config.snap_m() if snap_m is None else snap_m
    grid_code, quality, district = _locate(session, lon, lat, data, viewer, snap_m, lang)
    values["grid_code"] = grid_code
    external_id = values["external_id"] or content_id(values)
    existing = _stored(session, external_id)
    if existing is not None:
        return _existing(existing, viewer, data, lang), False
    need = _new_need(values, external_id, district, lon, lat, quality)
    stored = _insert(session, need)
    if stored is not need:
        return _existing(stored, viewer, data, lang), False
    details = {
        "external_id": external_id,
        "grid_code": grid_code,
        "quality": quality,
        "category": need.category,
        "source": need.source,
        "crs": crs,
    }
    audit.record(session, viewer, "record_need", "need", entity_id=need.id, details=details)
    workflow.record_event(session, need, viewer, _recorded_at(need.reported_at))
    session.flush()
    need_stats.refresh(session)
    return need, True


def _recorded_at(reported: dt.date) -> dt.datetime:
    """When the record step happened: now, or the report day's local midnight when the diary
    entry is of an earlier day."""
    now = instants.now_stored()
    return now if instants.local_day(now) <= reported else instants.to_stored(reported)


def _stored(session: Session, external_id: str) -> Need | None:
    return session.scalars(select(Need).where(Need.external_id == external_id)).first()


def _check_worker(session: Session, worker_code: str | None, data: NeedInput, lang: str) -> None:
    """A worker code given must be a stored worker's."""
    if worker_code and session.scalar(select(Worker.id).where(Worker.code == worker_code)) is None:
        raise _invalid([("worker_code", data.worker_code, t("expected_known_worker", lang))], lang)


def _locate(
    session: Session,
    lon: float,
    lat: float,
    data: NeedInput,
    viewer: Viewer,
    snap_m: float,
    lang: str,
) -> tuple[str | None, str, str]:
    """The need's grid, geolocation quality and district; InvalidInputError when that is
    outside the viewer's area."""
    located = geolocate.locate(
        _nearby_grids(session, lon, lat, snap_m), [lon], [lat], snap_m=snap_m
    )
    grid_code = located["grid_code"].iloc[0]
    quality = str(located["quality"].iloc[0])
    district = ancestry.district_of_point(session, grid_code, lon, lat, viewer.area_code)
    if not viewer.covers(grid_code, district, session):
        raise _invalid(
            [("lon/lat", f"{data.lon}, {data.lat}", t("expected_in_area", lang, area=viewer.area_code))],
            lang,
        )  # fmt: skip
    return grid_code, quality, district


def _new_need(
    values: dict, external_id: str, district: str, lon: float, lat: float, quality: str
) -> Need:
    return Need(
        external_id=external_id,
        district_code=district,
        reported_at=values["reported_at"],
        reported_time=values["reported_time"],
        location=from_shape(Point(lon, lat), srid=4326),
        lon=lon,
        lat=lat,
        grid_code=values["grid_code"],
        quality=quality,
        category=values["category"],
        dispute_type=values["dispute_type"],
        description=values["description"],
        source=values["source"],
        status="recorded",
        due_date=values["due_date"],
        worker_code=values["worker_code"],
        resident_name=values["resident_name"],
        resident_phone=values["resident_phone"],
        under_correction=bool(values["under_correction"]),
    )


def _insert(session: Session, need: Need) -> Need:
    """Store ``need``; when a submission at the same moment stored its external id first,
    return that one instead."""
    try:
        with session.begin_nested():
            session.add(need)
            session.flush()
    except IntegrityError:
        # Submitted twice at the same moment: the other submission stored it first.
        existing = _stored(session, need.external_id)
        if existing is None:
            raise
        return existing
    return need


# --- status ---------------------------------------------------------------------------------


def _get_need(session: Session, need_id: int, viewer: Viewer, lang: str) -> Need:
    need = session.scalars(select(Need).where(Need.id == need_id)).first()
    if need is None or not viewer.sees_need(need):
        raise NotFoundError(t("need_not_found", lang, id=need_id))
    return need


def change_status(
    session: Session,
    need_id: int,
    new_status: str,
    *,
    outcome: str | None = None,
    viewer: Viewer,
    on: dt.date,
    expected: str | None = None,
    lang: str = "zh",
) -> Need:
    """Move need ``need_id`` to ``new_status`` on day ``on`` (see :data:`TRANSITIONS`): the
    short form of the closed loop, each change the steps of :data:`CHANGE_STEPS` written by
    :func:`grid_model.cases.workflow.take_step` (``viewer`` as their actor, at the local
    midnight of ``on`` — or just after the case's previous step when that was on ``on``).

    Closing sets ``outcome`` (required, one of :class:`~grid_model.models.Outcome`; the
    mediation outcomes only for mediation needs) and ``closed_at = on``. ``viewer`` must be
    allowed to change statuses and see the need; their name goes to the audit entry.
    ``expected`` is the status the caller saw (a form shown earlier); when given, the need must
    still be in it. Dispatching names the need's ``worker_code`` (if any) as the assignee.

    The change is written only if the case is still as read here (``UPDATE ... WHERE
    case_version = :read``), on both backends, whatever the transaction's isolation: of two
    changes at the same moment exactly one is stored.

    Raises
    ------
    ConflictError
        The need was changed by someone else meanwhile (or is no longer in ``expected``),
        naming its status now; nothing is written.
    InvalidInputError
        For a transition not allowed (naming from and to), a missing or unfit outcome, an
        outcome when not closing, or ``on`` before the report date.
    NotFoundError
        When the need does not exist (or the viewer may not see it).
    PermissionDeniedError
        The viewer's role may not change statuses, or the account is disabled.
    """
    viewer = require(session, viewer, "change_status", lang=lang)
    need = _get_need(session, need_id, viewer, lang)
    old = need.status
    _check_transition(need, new_status, expected, lang)
    _check_day(need, on, lang)
    values = _status_values(need, new_status, outcome, on, lang)
    actor = workflow.Actor(viewer.name, viewer.role, None)
    at = _change_at(session, need, on)
    for step in CHANGE_STEPS[(old, new_status)]:
        workflow.take_step(session, need, step, actor, at, _step_values(step, need, values),
                           lang=lang)  # fmt: skip
    details = {"from": old, "to": new_status, "outcome": outcome, "on": on.isoformat()}
    audit.record(session, viewer, "change_status", "need", entity_id=need.id, details=details)
    session.flush()
    need_stats.refresh(session)
    return need


def _change_at(session: Session, need: Need, on: dt.date) -> dt.datetime:
    """The moment of a change dated ``on``: its local midnight, or the previous step's moment
    when that was later (the same day)."""
    last = session.scalar(select(func.max(CaseEvent.at)).where(CaseEvent.need_id == need.id))
    midnight = instants.to_stored(on)
    return max(midnight, last) if last is not None else midnight


def _step_values(step: str, need: Need, values: dict) -> dict:
    if step == "dispatch":
        return {"to": need.worker_code}
    if step in ("handle", "close"):
        return {"outcome": values["outcome"]}
    if step == "verify":
        return {"passed": True}
    return {}


def _check_transition(need: Need, new_status: str, expected: str | None, lang: str) -> None:
    """ConflictError when the need is no longer in ``expected``; InvalidInputError for a
    transition :data:`TRANSITIONS` does not allow."""
    old = need.status
    if expected is not None and old != expected:
        raise ConflictError(t("status_changed_meanwhile", lang, id=need.id, status=old))
    allowed = TRANSITIONS.get(old, frozenset())
    if new_status not in allowed:
        choices = ", ".join(s for s in STATUS_FLOW if s in allowed) or t(
            "status_none_allowed", lang
        )
        raise InvalidInputError(
            t("status_transition", lang, id=need.id, from_=old, to=new_status, allowed=choices)
        )


def _check_day(need: Need, on: dt.date, lang: str) -> None:
    """``on`` is a date (not a datetime) not before the report."""
    if not isinstance(on, dt.date) or isinstance(on, dt.datetime):
        raise _invalid([("on", on, t("expected_date", lang))], lang)
    if on < need.reported_at:
        raise _invalid(
            [("on", on, t("expected_closed_after", lang, reported=need.reported_at))], lang
        )


def _status_values(
    need: Need, new_status: str, outcome: str | None, on: dt.date, lang: str
) -> dict:
    """The values the change carries; closing needs an outcome fit for the need's category,
    any other change none."""
    if new_status != "closed":
        if outcome is not None:
            raise _invalid([("outcome", outcome, t("expected_outcome_for_closed", lang))], lang)
        return {}
    return {"outcome": workflow.check_outcome(need, outcome, lang)}


# --- find -----------------------------------------------------------------------------------


def _text_filter(text_: str, viewer: Viewer) -> ColumnElement[bool]:
    needle = text_.strip().lower()
    columns = [Need.external_id, Need.description, Need.grid_code, Need.dispute_type]
    if viewer.sees_personal_data:
        # Only those who may see names may find a need by them.
        columns += [Need.resident_name, Need.resident_phone]
    cond = None
    for col in columns:
        hit = func.lower(func.coalesce(col, "")).contains(needle, autoescape=True)
        cond = hit if cond is None else cond | hit
    return cond


def _search_text(text_: str | None, lang: str) -> str | None:
    """The search text stripped (None when blank), or InvalidInputError: control characters
    (a NUL breaks PostgreSQL's text) or more than :data:`grid_model.fields.SEARCH_MAX`."""
    if text_ is None or not str(text_).strip():
        return None
    needle = str(text_).strip()
    problem = fields.text_problem(needle, max_length=fields.SEARCH_MAX)
    if problem == "control":
        raise InvalidInputError(t("search_bad_text", lang))
    if problem == "too_long":
        raise InvalidInputError(t("search_too_long", lang, n=fields.SEARCH_MAX, length=len(needle)))
    return needle


def search_needs(
    session: Session,
    scope: Scope,
    viewer: Viewer,
    *,
    text: str | None = None,
    sort: str = "reported_at",
    descending: bool = True,
    limit: int = 200,
    offset: int = 0,
    lang: str = "zh",
) -> pd.DataFrame:
    """Needs in ``scope`` (cut to the viewer's area) matching ``text``, redacted for ``viewer``.

    ``text`` is matched, case-insensitively, against the external id, description, grid code
    and dispute type (and the resident's name and phone for viewers who may see them).
    ``sort`` is one of :data:`SORTABLE`; empty values sort last either way; ties by id.
    Columns: those of :func:`grid_model.queries.load_needs`, minus personal data for viewers
    without the right to it (who also never get needs of people under correction).

    Raises
    ------
    InvalidInputError
        For ``text`` with control characters or longer than
        :data:`grid_model.fields.SEARCH_MAX` characters, in ``lang``.
    """
    needle = _search_text(text, lang)
    if sort not in SORTABLE:
        raise InvalidInputError(f"sort={sort!r}: expected one of {', '.join(SORTABLE)}")
    for name, value, low in (("limit", limit, 1), ("offset", offset, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidInputError(f"{name}={value!r}: expected a whole number ≥ {low}")
    viewer = check_viewer(session, viewer, lang=lang)
    cond = scope.visible_needs(viewer)
    if needle:
        cond = cond & _text_filter(needle, viewer)
    key = getattr(Need, sort)
    order = key.desc() if descending else key.asc()
    if Need.__table__.c[sort].nullable:
        # only where needed: PostgreSQL's indexes hold NULLs first in descending order, so
        # NULLS LAST on a column that has none would sort every need instead of reading the
        # index backwards (0.2 s against 1 ms on a million needs)
        order = order.nulls_last()
    tie = Need.id.desc() if descending else Need.id.asc()
    stmt = select(*NEED_COLUMNS).where(cond).order_by(order, tie).limit(limit).offset(offset)
    return redact(read_frame(session, stmt), viewer)


def need_detail(session: Session, need_id: int, viewer: Viewer, *, lang: str = "zh") -> dict:
    """One need as a dict (the columns of :func:`search_needs`, redacted for ``viewer``) with
    ``history``: its audit entries, oldest first (``at, actor, action, details``).

    Raises
    ------
    NotFoundError
        When the need does not exist or the viewer may not see it.
    """
    viewer = check_viewer(session, viewer, lang=lang)
    need = _get_need(session, need_id, viewer, lang)
    # redact() decides which columns a viewer gets; rows it would drop are not visible above
    kept = redact(pd.DataFrame(columns=[c.key for c in NEED_COLUMNS]), viewer).columns
    record = {name: getattr(need, name) for name in kept}
    entries = session.scalars(
        select(AuditEntry)
        .where((AuditEntry.entity == "need") & (AuditEntry.entity_id == str(need.id)))
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    record["history"] = [
        {"at": e.at, "actor": e.actor, "action": e.action, "details": e.details} for e in entries
    ]
    return record


__all__ = [
    "CHANGE_STEPS",
    "MEDIATION_OUTCOMES",
    "STATUS_FLOW",
    "TRANSITIONS",
    "NeedInput",
    "change_status",
    "content_id",
    "need_detail",
    "record_need",
    "search_needs",
]
