"""One grid's card (:func:`grid_card`): what its map popup or side panel shows — name,
community, staff in force, KPIs and the newest needs, as the viewer may see them.

>>> STAFF_ROLES[:1]
('grid_assistant',)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from grid_model.errors import NotFoundError
from grid_model.measures.summary import Kpis, kpis_where
from grid_model.models import Area, Assignment, Grid, Need, Role, ServiceEvent, Worker
from grid_model.queries import NEED_COLUMNS, read_frame
from grid_model.scope import Scope, Viewer, check_viewer, redact

STAFF_ROLES = tuple(r.value for r in Role)


@dataclass
class GridCard:
    """What a grid's popup or side panel shows.

    ``staff`` maps every role to the names of workers currently assigned to the grid (empty
    list when none). ``phones`` maps a worker's name to their phone, only for viewers who may
    see personal data (else empty). ``latest`` holds the newest needs, redacted for the viewer.
    """

    code: str
    name: str
    community: str
    population: int | None
    staff: dict[str, list[str]]
    phones: dict[str, str]
    kpis: Kpis
    latest: pd.DataFrame = field(repr=False)


def _in_viewer_area(session: Session, grid_code: str, viewer: Viewer) -> bool:
    return viewer.covers(grid_code, None, session)


def _grid_row(session: Session, grid_code: str, viewer: Viewer) -> Row:
    """The grid and its community's name; NotFoundError outside the viewer's area."""
    row = session.execute(
        select(Grid.id, Grid.code, Grid.name, Grid.community_code, Grid.population, Area.name)
        .join(Area, Area.code == Grid.community_code)
        .where(Grid.code == grid_code)
    ).first()
    if row is None or not _in_viewer_area(session, row.code, viewer):
        raise NotFoundError(f"grid {grid_code!r} not found")
    return row


def _staff(
    session: Session, grid_id: int, viewer: Viewer, today: dt.date
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Names per role of the workers assigned on ``today``, and their phones if the viewer
    may see them."""
    rows = session.execute(
        select(Assignment.role, Worker.name, Worker.phone)
        .join(Worker, Worker.id == Assignment.worker_id)
        .where((Assignment.grid_id == grid_id) & Assignment.in_force(today))
        .order_by(Assignment.role, Worker.name)
    ).all()
    staff: dict[str, list[str]] = {r: [] for r in STAFF_ROLES}
    phones: dict[str, str] = {}
    for role, name, phone in rows:
        staff.setdefault(role, []).append(name)
        if viewer.sees_personal_data and phone:
            phones[name] = phone
    return staff, phones


def _grid_kpis(session: Session, grid_code: str, today: dt.date) -> Kpis:
    return kpis_where(
        session,
        Need.grid_code == grid_code,
        (ServiceEvent.grid_code == grid_code) & (ServiceEvent.held_on <= today),
        Scope(area_code=grid_code),
        today,
    )


def _latest_needs(
    session: Session, grid_code: str, viewer: Viewer, today: dt.date, latest: int
) -> pd.DataFrame:
    cond = (Need.grid_code == grid_code) & (Need.reported_at <= today)
    if not viewer.sees_personal_data:
        # filter before LIMIT so the viewer still gets ``latest`` rows
        cond = cond & ~Need.under_correction
    cases = read_frame(
        session,
        select(*NEED_COLUMNS)
        .where(cond)
        .order_by(Need.reported_at.desc(), Need.id.desc())
        .limit(latest),
    )
    return redact(cases, viewer)


def grid_card(
    session: Session,
    grid_code: str,
    viewer: Viewer,
    *,
    today: dt.date,
    latest: int = 5,
    lang: str = "zh",
) -> GridCard:
    """The card of grid ``grid_code`` for ``viewer`` as of ``today``.

    Raises
    ------
    NotFoundError
        The grid does not exist, or lies outside the viewer's area.
    PermissionDeniedError
        The viewer's account is disabled.
    """
    viewer = check_viewer(session, viewer, lang=lang)
    row = _grid_row(session, grid_code, viewer)
    staff, phones = _staff(session, row.id, viewer, today)
    return GridCard(
        code=row.code,
        name=row.name,
        community=row[5],
        population=row.population,
        staff=staff,
        phones=phones,
        kpis=_grid_kpis(session, grid_code, today),
        latest=_latest_needs(session, grid_code, viewer, today, latest),
    )
