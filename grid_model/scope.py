"""What a service works on: an area, a period and filters, and who is asking.

Every service that reads personal data or changes anything takes a :class:`Viewer` and checks
it itself, here, in one place:

- :func:`require` before every change: the viewer's role may do the action
  (:data:`PERMISSIONS`), a signed-in account is still active (read in the caller's session,
  so a disabled account is refused at its next write), and the stored role and area apply.
- :func:`check_viewer` before reads of personal data: the same account check, no action.
- :meth:`Scope.restricted_to` cuts a scope to the viewer's area, :meth:`Scope.visible_needs`
  adds the rows a viewer may not see (people under community correction), :func:`redact`
  drops the personal columns.

There is no default viewer: the command line, demo seeding and scripts act as
:meth:`Viewer.local_admin`, someone who already holds the database.

Areas are read from the stored hierarchy, never from a code's prefix: a grid carries its
district, street and community codes (set at import from the file's columns or the areas
file), and an area holds the grids whose ancestry names it. Any unique code works — the
Chinese 6/9/12-digit administrative codes as well as a US city's "112" or "MN".

Needs outside every grid carry only their district code: they belong to the district level.
Only viewers of the whole database or of a district see them; a street, community or grid
account does not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from sqlalchemy import ColumnElement, String, and_, exists, func, literal, or_, select, true
from sqlalchemy.orm import Session, object_session

from grid_model.db.sqlhints import unindexed
from grid_model.errors import PermissionDeniedError
from grid_model.messages import t
from grid_model.models import Account, Grid, Need

# Roles of DESIGN §3. Which of them may see residents' names/phones and anyone under
# community correction: the people who handle the case, not the map viewers.
ROLES = (
    "admin",
    "street_office",
    "community_leader",
    "planner",
    "grid_assistant",
    "mediator",
    "lawyer",
    "public",
)
PERSONAL_DATA_ROLES = frozenset({"admin", "grid_assistant", "mediator", "lawyer"})
PERSONAL_FIELDS = ("resident_name", "resident_phone")
#: What each role may change (DESIGN §2): administrators import and manage; planners and the
#: street office rebalance; the people who handle cases record and move them.
PERMISSIONS: dict[str, frozenset[str]] = {
    "import": frozenset({"admin"}),
    "manage_accounts": frozenset({"admin"}),
    "relocate": frozenset({"admin"}),
    "rebalance": frozenset({"admin", "planner", "street_office"}),
    "record_need": frozenset({"admin", "grid_assistant", "mediator", "lawyer"}),
    "change_status": frozenset({"admin", "grid_assistant", "mediator", "lawyer"}),
}
#: Actions that touch the whole database (imports replace what any area holds, accounts grant
#: any area): only for viewers without an area limit.
GLOBAL_ACTIONS = frozenset({"import", "manage_accounts", "relocate"})


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a role, the area they are limited to (None: everything) and the name
    written to the audit log.

    ``username`` is the signed-in account (None otherwise): the services read it anew before
    every change. ``local`` marks :meth:`local_admin`. A viewer with neither acts only while
    no account is stored (the dashboard's demo mode).
    """

    role: str
    area_code: str | None = None
    name: str = ""
    username: str | None = None
    local: bool = False

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; expected one of {', '.join(ROLES)}")
        if not self.name:
            object.__setattr__(self, "name", self.username or self.role)

    @classmethod
    def local_admin(cls, name: str = "cli") -> Viewer:
        """The administrator at the machine itself (command line, demo seeding, scripts):
        whoever runs them already holds the database, so no account is asked for."""
        return cls(role="admin", name=name, local=True)

    @property
    def sees_personal_data(self) -> bool:
        return self.role in PERSONAL_DATA_ROLES

    def may(self, action: str) -> bool:
        """Whether this viewer's role (and area) may do ``action`` (a key of
        :data:`PERMISSIONS`)."""
        if action in GLOBAL_ACTIONS and self.area_code:
            return False
        return self.role in PERMISSIONS[action]

    def covers(self, grid_code: str | None, district_code: str | None, session: Session) -> bool:
        """Whether a need of ``grid_code`` (None: outside every grid) in ``district_code`` lies
        in this viewer's area, read in ``session``; the row-by-row twin of
        :meth:`Scope.area_filter`."""
        if not self.area_code:
            return True
        cond = Scope(area_code=self.area_code).area_filter(
            literal(grid_code, String), literal(district_code, String)
        )
        return bool(session.scalar(select(cond)))

    def sees_need(self, need: Need) -> bool:
        """Whether this viewer may see ``need`` (a stored one) at all (area, community
        correction)."""
        if need.under_correction and not self.sees_personal_data:
            return False
        if not self.area_code:
            return True
        return self.covers(need.grid_code, need.district_code, object_session(need))


def grid_in_area(code: str) -> ColumnElement[bool]:
    """Grids in area ``code``: the grid itself, or a grid whose stored community, street or
    district is ``code``."""
    return or_(
        Grid.code == code,
        Grid.community_code == code,
        Grid.street_code == code,
        Grid.district_code == code,
    )


@dataclass(frozen=True)
class Scope:
    """Area, period and filters.

    ``area_code`` is a district, street, community or grid code: the grids whose stored
    ancestry names it (:func:`grid_in_area`). Needs outside every grid lie only in a district
    area (see :meth:`area_filter`). ``within`` is the area of the viewer the scope was cut to
    (:meth:`restricted_to`): the part of ``area_code`` inside it, or all of ``within`` when
    ``area_code`` lies outside. ``start``/``end`` are inclusive report dates. A scope says
    what to read, not who may: services cut it with :meth:`restricted_to` /
    :meth:`visible_needs` for their viewer.
    """

    area_code: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)
    statuses: tuple[str, ...] = field(default_factory=tuple)
    within: str | None = None

    def _cut(self, in_area) -> ColumnElement[bool]:
        """``in_area(area_code)``, cut to ``within``: the overlap, or ``within`` alone when
        no grid of the area lies in it."""
        if not self.area_code:
            return true()
        cond = in_area(self.area_code)
        if not self.within or self.within == self.area_code:
            return cond
        overlap = exists(
            select(Grid.id).where(grid_in_area(self.area_code), grid_in_area(self.within))
        )
        return in_area(self.within) & (cond | ~overlap)

    def grid_filter(self) -> ColumnElement[bool]:
        return self._cut(grid_in_area)

    def area_filter(self, grid_code, district_code) -> ColumnElement[bool]:
        """Rows in the area, given their grid and district code columns (needs, or tables
        that sum them). True without an area.

        Needs outside every grid carry only their district code: a district holds them, a
        street, community or grid does not (they belong to the district level)."""

        def in_area(code: str) -> ColumnElement[bool]:
            grids = select(Grid.code).where(grid_in_area(code))
            return (district_code == code) | grid_code.in_(grids.scalar_subquery())

        return self._cut(in_area)

    def need_filter(self, *, period: bool = True, indexed: bool = True) -> ColumnElement[bool]:
        """Filter on needs: area (through their grids' ancestry), period, category, status.

        ``indexed=False`` keeps SQLite from serving the area and the period from their
        indexes (:class:`~grid_model.db.sqlhints.unindexed`), for a query that adds a more
        selective indexed term of its own.
        """
        hint = (lambda c: c) if indexed else unindexed
        reported = hint(Need.reported_at)
        conds = [self.area_filter(hint(Need.grid_code), hint(Need.district_code))]
        if period and self.start:
            conds.append(reported >= self.start)
        if period and self.end:
            conds.append(reported <= self.end)
        if self.categories:
            conds.append(Need.category.in_(self.categories))
        if self.statuses:
            conds.append(Need.status.in_(self.statuses))
        return and_(true(), *conds)

    def restricted_to(self, viewer: Viewer) -> Scope:
        """This scope cut down to ``viewer``'s area: what of it lies inside that area, else
        the viewer's whole area (never more; see ``within``)."""
        if viewer.area_code is None:
            return self
        mine = viewer.area_code
        if self.area_code in (None, mine):
            return replace(self, area_code=mine, within=None)
        return replace(self, within=mine)

    def visible_needs(
        self, viewer: Viewer, *, period: bool = True, indexed: bool = True
    ) -> ColumnElement[bool]:
        """The needs of this scope ``viewer`` may see row by row: :meth:`need_filter` of the
        scope cut to the viewer's area, without people under community correction for
        viewers who may not see personal data. For lists, points and exports; aggregates
        (counts, rates) use :meth:`need_filter` of :meth:`restricted_to`."""
        cond = self.restricted_to(viewer).need_filter(period=period, indexed=indexed)
        if not viewer.sees_personal_data:
            cond = cond & ~Need.under_correction
        return cond


def _refused(key: str, lang: str, **kw) -> PermissionDeniedError:
    return PermissionDeniedError(t(key, lang, **kw))


def check_viewer(session: Session, viewer: Viewer, *, lang: str = "zh") -> Viewer:
    """``viewer`` as the database now knows them, read in ``session``; raise
    :class:`~grid_model.errors.PermissionDeniedError` when they may no longer act.

    - a signed-in account (``username``) must exist and be active; the stored role, area and
      name apply (a session does not keep rights the account lost);
    - :meth:`Viewer.local_admin` is taken as it is;
    - any other viewer (demo mode) only while no account is stored.
    """
    if not isinstance(viewer, Viewer):
        raise TypeError(f"viewer: expected a Viewer, got {type(viewer).__name__}")
    if viewer.local:
        return viewer
    if viewer.username is None:
        if session.scalar(select(func.count()).select_from(Account)):
            raise _refused("not_signed_in", lang)
        return viewer
    account = session.scalar(select(Account).where(Account.username == viewer.username))
    if account is None or not account.active:
        raise _refused("account_inactive", lang, username=viewer.username)
    return Viewer(
        role=account.role,
        area_code=account.area_code,
        name=account.name,
        username=account.username,
    )


def require(session: Session, viewer: Viewer, action: str, *, lang: str = "zh") -> Viewer:
    """Check that ``viewer`` may do ``action`` (a key of :data:`PERMISSIONS`) now, and return
    the viewer as stored (:func:`check_viewer`); the service goes on with that one.

    Raises
    ------
    PermissionDeniedError
        The role may not do it, the action needs a viewer without area limit
        (:data:`GLOBAL_ACTIONS`), or the account is disabled, gone or not signed in.
    """
    if action not in PERMISSIONS:
        raise ValueError(f"unknown action {action!r}; expected one of {', '.join(PERMISSIONS)}")
    current = check_viewer(session, viewer, lang=lang)
    if not current.may(action):
        what = t(f"action.{action}", lang)
        if current.role in PERMISSIONS[action]:
            raise _refused("not_allowed_in_area", lang, area=current.area_code, action=what)
        raise _refused("not_allowed", lang, role=current.role, action=what)
    return current


def redact(frame, viewer: Viewer):
    """Drop personal columns (and rows of people under community correction) for viewers who
    may not see them. Works on DataFrames and GeoDataFrames; returns a copy."""
    if viewer.sees_personal_data:
        return frame
    out = frame.drop(columns=[c for c in PERSONAL_FIELDS if c in frame.columns])
    if "under_correction" in out.columns:
        out = out[~out["under_correction"].fillna(False).astype(bool)].drop(
            columns="under_correction"
        )
    return out
