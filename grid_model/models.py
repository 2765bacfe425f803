"""ORM models of DESIGN §3. Geometries are stored in EPSG:4326.

Every large table keeps ``district_code`` so that PostGIS deployments can partition or
distribute (Citus) by district.
"""

from __future__ import annotations

import datetime as dt
import enum

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class AreaLevel(enum.StrEnum):
    district = "district"
    street = "street"
    community = "community"


class Role(enum.StrEnum):
    grid_assistant = "grid_assistant"
    mediator = "mediator"
    lawyer = "lawyer"
    info_officer = "info_officer"
    volunteer = "volunteer"


class Category(enum.StrEnum):
    publicity = "publicity"
    consultation = "consultation"
    legal_aid = "legal_aid"
    mediation = "mediation"
    correction = "correction"
    other = "other"


class Status(enum.StrEnum):
    """A need's place in the closed loop (:mod:`grid_model.cases.steps`)."""

    recorded = "recorded"
    dispatched = "dispatched"
    accepted = "accepted"
    returned = "returned"
    in_progress = "in_progress"
    on_hold = "on_hold"
    handled = "handled"
    closed = "closed"


class Outcome(enum.StrEnum):
    resolved = "resolved"
    mediated = "mediated"
    mediation_failed = "mediation_failed"
    referred = "referred"
    rejected = "rejected"


class Source(enum.StrEnum):
    diary = "diary"
    phone = "phone"
    online = "online"
    walk_in = "walk_in"


class Quality(enum.StrEnum):
    inside = "inside"
    snapped = "snapped"
    outside = "outside"


class PointKind(enum.StrEnum):
    legal_service_room = "legal_service_room"
    legal_aid_station = "legal_aid_station"
    legal_school = "legal_school"
    library = "library"


#: Digits of a Chinese administrative code at each level (GB/T 2260 and the statistical
#: codes): a 15-digit grid code begins with its community's 12, a community's with its
#: street's 9, and so on. Only the grids import reads them, as its default for a file that
#: names no parent areas (:mod:`grid_model.imports.grids`); everything else follows the
#: stored hierarchy (``areas.parent_code``, ``grids.*_code``), never a code's prefix.
CODE_DIGITS = {AreaLevel.district: 6, AreaLevel.street: 9, AreaLevel.community: 12}
#: Longest area, grid or district code.
CODE_MAX = 32


class Area(Base):
    """A district, street or community: any unique code (≤ :data:`CODE_MAX` characters), its
    level and its parent (a community's street, a street's district; levels may be skipped).
    Chinese deployments use the 6/9/12-digit administrative codes."""

    __tablename__ = "areas"

    code: Mapped[str] = mapped_column(String(CODE_MAX), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(12))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    boundary: Mapped[WKBElement | None] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=True
    )


class Grid(Base):
    __tablename__ = "grids"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # The grid's ancestry, stored at import: scopes select grids by these, never by prefix.
    district_code: Mapped[str] = mapped_column(String(CODE_MAX), index=True)
    community_code: Mapped[str] = mapped_column(ForeignKey("areas.code"), index=True)
    street_code: Mapped[str | None] = mapped_column(String(CODE_MAX), index=True)
    boundary: Mapped[WKBElement] = mapped_column(
        Geometry("MULTIPOLYGON", srid=4326, spatial_index=True, nullable=False)
    )
    population: Mapped[int | None] = mapped_column(Integer)
    households: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)

    community: Mapped[Area] = relationship()

    @classmethod
    def in_force(cls, day: dt.date) -> ColumnElement[bool]:
        """Grids in force on ``day``: ``valid_from`` empty or ≤ ``day``, ``valid_to`` empty or
        after ``day`` (half-open, as :meth:`Assignment.in_force`)."""
        return _in_force(cls, day, open_start=True)


class Worker(Base):
    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(20), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254))  # s10-cases: reminders
    capacity: Mapped[float] = mapped_column(Float, default=1.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    district_code: Mapped[str | None] = mapped_column(String(CODE_MAX), index=True)


class Assignment(Base):
    """Worker ↔ grid for a period. History is kept: a change closes a row and opens a new one."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)

    worker: Mapped[Worker] = relationship()
    grid: Mapped[Grid] = relationship()

    @classmethod
    def in_force(cls, day: dt.date) -> ColumnElement[bool]:
        """Who holds a grid on ``day``: assignments with ``valid_from ≤ day`` and ``valid_to``
        empty or after ``day``. Periods are half-open — an assignment ending on ``d`` no longer
        holds on ``d`` (its successor, if any, starts that day), so one that ends without a
        successor leaves the grid unheld from its end on."""
        return _in_force(cls, day, open_start=False)

    @classmethod
    def is_open(cls) -> ColumnElement[bool]:
        """The open row of a worker–grid pair (``valid_to`` empty): the one a reassignment
        closes. Not "in force today": an open row may start in the future."""
        return cls.valid_to.is_(None)


def _in_force(model, day: dt.date, *, open_start: bool) -> ColumnElement[bool]:
    started = model.valid_from <= day
    if open_start:
        started = model.valid_from.is_(None) | started
    return started & (model.valid_to.is_(None) | (model.valid_to > day))


class Need(Base):
    """A legal need / case (法律需求)."""

    __tablename__ = "needs"
    __table_args__ = (
        Index("ix_needs_grid_reported", "grid_code", "reported_at"),
        Index("ix_needs_district_reported", "district_code", "reported_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    district_code: Mapped[str | None] = mapped_column(String(CODE_MAX))
    # The local calendar day every measure reads; ``reported_time`` the instant (naive UTC,
    # :mod:`grid_model.instants`) it was computed from in the import's zone.
    reported_at: Mapped[dt.date] = mapped_column(Date, index=True)
    reported_time: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # No spatial index (migration 0013): every read of a need's place uses lon/lat below.
    location: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False, nullable=False)
    )
    # WGS84 coordinates repeated as plain columns: binning and exports read them without
    # parsing geometries.
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("grids.code"))
    quality: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(20), index=True)
    dispute_type: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    outcome: Mapped[str | None] = mapped_column(String(20))
    due_date: Mapped[dt.date | None] = mapped_column(Date)
    closed_at: Mapped[dt.date | None] = mapped_column(Date)
    closed_time: Mapped[dt.datetime | None] = mapped_column(DateTime)
    worker_code: Mapped[str | None] = mapped_column(String(32), index=True)
    resident_name: Mapped[str | None] = mapped_column(String(50))
    resident_phone: Mapped[str | None] = mapped_column(String(32))
    under_correction: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    # --- s10-cases: the closed loop (grid_model.cases); instants are naive UTC ---
    priority: Mapped[str] = mapped_column(String(10), default="normal", server_default="normal")
    assignee_code: Mapped[str | None] = mapped_column(String(32), index=True)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    handled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    visited_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    satisfaction: Mapped[str | None] = mapped_column(String(20))
    rework_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    supervised_due: Mapped[dt.date | None] = mapped_column(Date)
    # bumped by every step: of two steps read at the same version exactly one is stored
    case_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class NeedMonthStat(Base):
    """Closed needs summed per grid, report month, category and district: a summary the
    per-grid measures read instead of every closed need (:mod:`grid_model.measures.need_stats`).

    Derived data. Database triggers (migration 0003) mark the (grid, month) of every closed
    need inserted, changed or deleted in :class:`NeedStatsDirty`; readers ignore marked
    buckets (they count those needs from ``needs``) and :func:`grid_model.measures.need_stats.refresh`
    recomputes them. ``district_code`` is the needs' own (``''`` when they have none).
    """

    __tablename__ = "need_month_stats"

    grid_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    month_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(CODE_MAX), primary_key=True)
    needs: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[int] = mapped_column(Integer)
    mediated: Mapped[int] = mapped_column(Integer)  # outcome "mediated"
    days_sum: Mapped[int] = mapped_column(Integer)  # days from report to closing, summed
    days_n: Mapped[int] = mapped_column(Integer)  # … over the needs with a closing date
    first_reported: Mapped[dt.date] = mapped_column(Date)
    last_diary: Mapped[dt.date | None] = mapped_column(Date)
    # indexed: readers look for the first month holding a need closed after their day
    max_closed_at: Mapped[dt.date | None] = mapped_column(Date, index=True)


class NeedStatsDirty(Base):
    """(grid, month) buckets of :class:`NeedMonthStat` out of date, written by triggers."""

    __tablename__ = "need_stats_dirty"

    grid_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    month_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    month_end: Mapped[dt.date] = mapped_column(Date)


class GeolocationChange(Base):
    """History of a need's grid: written whenever relocation changes it."""

    __tablename__ = "geolocation_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"), index=True)
    old_grid_code: Mapped[str | None] = mapped_column(String(32))
    new_grid_code: Mapped[str | None] = mapped_column(String(32))
    old_quality: Mapped[str | None] = mapped_column(String(10))
    new_quality: Mapped[str] = mapped_column(String(10))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    reason: Mapped[str | None] = mapped_column(String(100))


class ServiceEvent(Base):
    """A service given: publicity event, lecture, consultation session, mediation session…"""

    __tablename__ = "service_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    district_code: Mapped[str | None] = mapped_column(String(CODE_MAX), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    held_on: Mapped[dt.date] = mapped_column(Date, index=True)
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("grids.code"), index=True)
    location: Mapped[WKBElement | None] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=True), nullable=True
    )
    attendees: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)


class ServicePoint(Base):
    __tablename__ = "service_points"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    community_code: Mapped[str | None] = mapped_column(ForeignKey("areas.code"), index=True)
    location: Mapped[WKBElement] = mapped_column(
        Geometry("POINT", srid=4326, spatial_index=True, nullable=False)
    )
    opening_hours: Mapped[str | None] = mapped_column(String(100))


class Account(Base):
    """Who may sign in to the dashboard, as which role, limited to which area
    (:mod:`grid_model.accounts`)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    area_code: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class SignInThrottle(Base):
    """Consecutive failed sign-ins of one attempted username (:func:`grid_model.accounts.sign_in`).

    Keyed by the SHA-256 of the name as typed, so a name that is no account takes one bounded
    row and creates nothing else; deleted on a successful sign-in and once forgotten."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict | None] = mapped_column(JSON)


# --- s10-cases ---


class CaseEvent(Base):
    """One step of a case's closed loop (:mod:`grid_model.cases`): who took it, when (naive
    UTC, :mod:`grid_model.instants`), from which status to which, and the step's values
    (worker dispatched to, reason, outcome, satisfaction…). ``synthesised`` marks events
    migration 0007 made for needs stored before the loop existed."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_need_at", "need_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"))
    district_code: Mapped[str | None] = mapped_column(String(CODE_MAX))
    step: Mapped[str] = mapped_column(String(20), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str | None] = mapped_column(String(20))
    worker_code: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    entered_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSON)
    synthesised: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class MediationCase(Base):
    """The people's-mediation case file (人民调解案卷) of one mediation need."""

    __tablename__ = "mediation_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"), unique=True)
    district_code: Mapped[str | None] = mapped_column(String(CODE_MAX))
    dispute_type: Mapped[str | None] = mapped_column(String(40))
    accepted_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    agreement_kind: Mapped[str | None] = mapped_column(String(10))  # written / oral
    agreement_text: Mapped[str | None] = mapped_column(Text)
    agreement_on: Mapped[dt.date | None] = mapped_column(Date)
    performance_due: Mapped[dt.date | None] = mapped_column(Date)
    performance_result: Mapped[str | None] = mapped_column(String(20))
    judicial_asked_on: Mapped[dt.date | None] = mapped_column(Date)
    judicial_granted_on: Mapped[dt.date | None] = mapped_column(Date)


class MediationParty(Base):
    """A party of a mediation case (申请人 / 被申请人): personal data."""

    __tablename__ = "mediation_parties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_cases.id"), index=True)
    side: Mapped[str] = mapped_column(String(12))  # applicant / respondent
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(32))
    id_number: Mapped[str | None] = mapped_column(String(18))


class MediationMediator(Base):
    """A mediator of a mediation case."""

    __tablename__ = "mediation_mediators"

    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_cases.id"), primary_key=True)
    worker_code: Mapped[str] = mapped_column(String(32), primary_key=True)


class MediationSession(Base):
    """A mediation session: when, where, what was said."""

    __tablename__ = "mediation_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("mediation_cases.id"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[str | None] = mapped_column(Text)


class ReminderOutbox(Base):
    """A worker's reminder digest of one day (:mod:`grid_model.cases.reminders`): built once,
    sent by e-mail when SMTP is configured (``sent_at``), the failure kept otherwise."""

    __tablename__ = "reminder_outbox"
    __table_args__ = (UniqueConstraint("worker_code", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_code: Mapped[str] = mapped_column(String(32))
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    recipient: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    error: Mapped[str | None] = mapped_column(String(200))


# --- s11-api ---


class ApiKey(Base):
    """A key of the Open311 API (:mod:`grid_model.apikeys`): it acts as its account, with the
    account's role and area as stored now. Only the SHA-256 of the key is kept; ``prefix``
    (its first characters) names it in lists and logs."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(ForeignKey("accounts.username"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class IdempotencyRecord(Base):
    """The answer given to a write sent with an ``Idempotency-Key`` (:mod:`grid_model.idempotency`):
    a retry with the same key and body gets it again instead of writing twice."""

    __tablename__ = "idempotency_records"
    __table_args__ = (Index("uq_idempotency_records_owner_key", "owner", "key", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict | list | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now(), index=True)


class NeedMedia(Base):
    """A photo of a need, stored as a file under the media folder with a random name
    (:mod:`geodata.media`); served only to those who may see the need."""

    __tablename__ = "need_media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


# --- issue 14: the access summary (grid_model.gaps.access_stats) -------------------------------


class NeedAccessStat(Base):
    """Closed needs in a grid per (grid, report month, category, district, under community
    correction), with each one's straight-line distance to the nearest legal service room or
    legal-aid station: the ids (int64) and distances (float64, metres) as packed arrays, by
    id, and the bounds of their coordinates (:mod:`grid_model.gaps.access_stats`).

    Derived data, kept exact like :class:`NeedMonthStat`, through the same marks of
    :class:`NeedStatsDirty` and :func:`grid_model.measures.need_stats.refresh`; valid for the
    service points and the metric CRS in :class:`NeedAccessState`.
    """

    __tablename__ = "need_access_stats"

    grid_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    month_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(CODE_MAX), primary_key=True)
    under_correction: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    needs: Mapped[int] = mapped_column(Integer)
    ids: Mapped[bytes] = mapped_column(LargeBinary)
    distances: Mapped[bytes] = mapped_column(LargeBinary)
    min_lon: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)


class NeedAccessState(Base):
    """What :class:`NeedAccessStat` was computed for: a fingerprint of the service points
    that count and the metric CRS (one row, ``id`` 1; none: not built)."""

    __tablename__ = "need_access_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    points: Mapped[str] = mapped_column(String(64))
    crs: Mapped[str] = mapped_column(String(20))


# --- s14-pages-b ---


class NeedCloseDays(Base):
    """Closed needs with a closing date counted per grid, report month, category, district and
    days from report to closing: the histogram medians of days to close are read from
    (:mod:`grid_model.measures.need_stats`), beside :class:`NeedMonthStat`.

    Derived data, kept exact with :class:`NeedMonthStat` by the same marks: readers ignore the
    marked (grid, month) buckets of :class:`NeedStatsDirty` and
    :func:`grid_model.measures.need_stats.refresh` recomputes both tables.
    """

    __tablename__ = "need_close_days"

    grid_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    month_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(CODE_MAX), primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    needs: Mapped[int] = mapped_column(Integer)


class NeedDiaryMonth(Base):
    """The days of the month with a diary entry among the closed needs of a grid, report
    month, category and district, as a bit mask (bit ``d - 1`` for day ``d``): what diary
    compliance per assistant reads instead of every diary entry
    (:mod:`grid_model.measures.need_stats`), kept exact by the marks of
    :class:`NeedStatsDirty` like :class:`NeedMonthStat`."""

    __tablename__ = "need_diary_months"

    grid_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    month_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    district_code: Mapped[str] = mapped_column(String(CODE_MAX), primary_key=True)
    days: Mapped[int] = mapped_column(Integer)
