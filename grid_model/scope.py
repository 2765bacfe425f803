"""What a service works on: an area, a period and filters, and who is asking.

Every service that reads or changes data takes a :class:`Scope` (and a :class:`Viewer` where
personal data could leave), so access control is enforced in one place, in the services.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, true

from grid_model.errors import PermissionDeniedError
from grid_model.messages import t
from grid_model.models import Grid, Need
from grid_model.sqlhints import unindexed

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
    "rebalance": frozenset({"admin", "planner", "street_office"}),
    "record_need": frozenset({"admin", "grid_assistant", "mediator", "lawyer"}),
    "change_status": frozenset({"admin", "grid_assistant", "mediator", "lawyer"}),
}


@dataclass(frozen=True)
class Viewer:
    """Who is asking. ``area_code`` limits what they may see (None: everything)."""

    role: str = "admin"
    area_code: str | None = None
    name: str = "system"

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; expected one of {', '.join(ROLES)}")

    @property
    def sees_personal_data(self) -> bool:
        return self.role in PERSONAL_DATA_ROLES

    def may(self, action: str) -> bool:
        """Whether this viewer's role may do ``action`` (a key of :data:`PERMISSIONS`)."""
        return self.role in PERMISSIONS[action]


def prefix_filter(column, prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``, written as a range so a B-tree index serves it
    (``LIKE 'p%'`` is not index-assisted under SQLite's and PostgreSQL's default collations)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return (column >= prefix) & (column < upper)


@dataclass(frozen=True)
class Scope:
    """Area, period and filters.

    ``area_code`` is a district (6 digits), street (9), community (12) or grid code: grids whose
    code starts with it (grid codes embed their community code) or whose community is it.
    ``start``/``end`` are inclusive report dates.
    """

    area_code: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)
    statuses: tuple[str, ...] = field(default_factory=tuple)

    def grid_filter(self) -> ColumnElement[bool]:
        if not self.area_code:
            return true()
        code = self.area_code
        return prefix_filter(Grid.code, code) | prefix_filter(Grid.community_code, code)

    def area_filter(self, grid_code, district_code) -> ColumnElement[bool]:
        """Rows in the area, given their grid and district code columns (needs, or tables
        that sum them). True without an area."""
        if not self.area_code:
            return true()
        code = self.area_code
        if len(code) <= 6:
            # A district: every need carries its district code, inside a grid or not. It
            # matches (nearly) every row, so LIKE — which no index serves — is meant: a
            # range would tempt the planner into an index walk slower than the scan.
            return district_code.startswith(code)
        # Needs outside every grid carry only their district: every area scope of that
        # district lists them, so a community still sees the needs it may have to claim.
        return prefix_filter(grid_code, code) | (grid_code.is_(None) & (district_code == code[:6]))

    def need_filter(self, *, period: bool = True, indexed: bool = True) -> ColumnElement[bool]:
        """Filter on needs: area (through the grid code prefix), period, category, status.

        ``indexed=False`` keeps SQLite from serving the area and the period from their
        indexes (:class:`~grid_model.sqlhints.unindexed`), for a query that adds a more
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
        """This scope cut down to what ``viewer`` may see."""
        if viewer.area_code is None:
            return self
        mine = viewer.area_code
        if self.area_code and self.area_code.startswith(mine):
            return self
        from dataclasses import replace

        return replace(self, area_code=mine)


def require(viewer: Viewer, action: str, lang: str = "zh") -> None:
    """Raise :class:`~grid_model.errors.PermissionDeniedError` unless ``viewer`` may do
    ``action``."""
    if not viewer.may(action):
        raise PermissionDeniedError(
            t("not_allowed", lang, role=viewer.role, action=t(f"action.{action}", lang))
        )


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
