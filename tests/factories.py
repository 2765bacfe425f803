"""Small hand-made fixtures built through the ORM, shared by the service tests.

``make_community`` lays out square grids in a block near 113.08 E, 22.60 N (the Yude area),
numbered west→east, north→south with 15-digit codes, and staffs each grid with an assistant, a
mediator and a lawyer on current assignments. ``add_need`` and ``add_service_event`` add one
record with sensible defaults that any keyword overrides.

Example::

    c = make_community(session, n_grids=4)
    add_need(session, grid_code=c.grid_codes[0], category="mediation")
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from dataclasses import dataclass, field

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, Point, box
from shapely.ops import unary_union
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model.models import Area, Assignment, Grid, Need, ServiceEvent, Worker

DISTRICT = ("440703", "蓬江区")
STREET = ("440703006", "环市街道")
COMMUNITY = ("440703006106", "育德社区")
ORIGIN = (113.08, 22.60)  # south-west corner of the block (WGS84)
CELL_DEG = 0.004  # ≈ 410 m × 445 m at this latitude
STAFF_FROM = dt.date(2024, 1, 1)
STAFF_ROLES = ("grid_assistant", "mediator", "lawyer")
_ROLE_PREFIX = {"grid_assistant": "A", "mediator": "M", "lawyer": "L"}

_counter = itertools.count(1)


@dataclass
class Community:
    """What :func:`make_community` built."""

    code: str
    name: str
    grids: list[Grid]
    workers: dict[str, list[Worker]] = field(default_factory=dict)  # role → one per grid
    assignments: list[Assignment] = field(default_factory=list)

    @property
    def grid_codes(self) -> list[str]:
        return [g.code for g in self.grids]

    def centre(self, grid_code: str) -> tuple[float, float]:
        grid = next(g for g in self.grids if g.code == grid_code)
        c = to_shape(grid.boundary).centroid
        return c.x, c.y


def _ensure_area(session: Session, code: str, name: str, level: str, parent: str | None) -> Area:
    area = session.get(Area, code)
    if area is None:
        area = Area(code=code, name=name, level=level, parent_code=parent)
        session.add(area)
        session.flush()
    return area


def make_community(
    session: Session,
    n_grids: int = 4,
    *,
    code: str = COMMUNITY[0],
    name: str = COMMUNITY[1],
    origin: tuple[float, float] = ORIGIN,
    cell_deg: float = CELL_DEG,
    population: int | list[int | None] | None = 1000,
    staff: bool = True,
    staff_from: dt.date = STAFF_FROM,
) -> Community:
    """District, street and community areas plus ``n_grids`` square grids and their staff.

    Grids form a block ``ceil(sqrt(n))`` columns wide; grid ``i`` (1-based) gets code
    ``code + f"{i:03d}"`` and, with ``staff``, workers ``A{code[-3:]}{i:02d}`` (assistant),
    ``M…`` (mediator), ``L…`` (lawyer), named ``A1``, ``M1``, ``L1``… with phones
    ``138…``, ``137…``, ``136…`` ending in the grid number, assigned from ``staff_from`` on.
    ``population`` is one figure for every grid or a list, one per grid.
    """
    if len(code) != 12 or not code.isdigit():
        raise ValueError(f"community code {code!r}: expected 12 digits")
    district, street = code[:6], code[:9]
    _ensure_area(
        session, district, dict([DISTRICT]).get(district, f"区{district}"), "district", None
    )
    _ensure_area(session, street, dict([STREET]).get(street, f"街道{street}"), "street", district)
    area = _ensure_area(session, code, name, "community", street)

    cols = math.ceil(math.sqrt(n_grids))
    rows = math.ceil(n_grids / cols)
    x0, y0 = origin
    pops = population if isinstance(population, list) else [population] * n_grids
    grids: list[Grid] = []
    for i in range(n_grids):
        r, c = divmod(i, cols)  # row 0 is the northernmost
        south = y0 + (rows - 1 - r) * cell_deg
        west = x0 + c * cell_deg
        square = box(west, south, west + cell_deg, south + cell_deg)
        grids.append(
            Grid(
                code=f"{code}{i + 1:03d}",
                name=f"{name}第{i + 1}网格",
                district_code=code[:6],
                street_code=code[:9],
                community_code=code,
                boundary=from_shape(MultiPolygon([square]), srid=4326),
                population=pops[i],
                households=None if pops[i] is None else pops[i] // 3,
            )
        )
    area.boundary = from_shape(
        MultiPolygon([unary_union([to_shape(g.boundary) for g in grids]).envelope]), srid=4326
    )
    session.add_all(grids)
    session.flush()

    community = Community(code=code, name=name, grids=grids)
    if staff:
        for role in STAFF_ROLES:
            community.workers[role] = []
            for i, grid in enumerate(grids, start=1):
                worker = add_worker(
                    session,
                    code=f"{_ROLE_PREFIX[role]}{code[-3:]}{i:02d}",
                    name=f"{_ROLE_PREFIX[role]}{i}",
                    role=role,
                    phone=f"13{8 - STAFF_ROLES.index(role)}0000{i:04d}",
                    district_code=code[:6],
                )
                community.workers[role].append(worker)
                community.assignments.append(assign(session, worker, grid, valid_from=staff_from))
    return community


def add_worker(session: Session, **overrides) -> Worker:
    n = next(_counter)
    values = {
        "code": f"W{n:05d}",
        "name": f"工作人员{n}",
        "role": "grid_assistant",
        "phone": None,
        "capacity": 1.0,
        "active": True,
        "district_code": DISTRICT[0],
    }
    values.update(overrides)
    worker = Worker(**values)
    session.add(worker)
    session.flush()
    return worker


def assign(
    session: Session,
    worker: Worker,
    grid: Grid,
    *,
    role: str | None = None,
    valid_from: dt.date = STAFF_FROM,
    valid_to: dt.date | None = None,
) -> Assignment:
    a = Assignment(
        worker_id=worker.id,
        grid_id=grid.id,
        role=role or worker.role,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    session.add(a)
    session.flush()
    return a


def _grid_point(session: Session, grid_code: str) -> tuple[float, float]:
    boundary = session.scalar(select(Grid.boundary).where(Grid.code == grid_code))
    if boundary is None:
        raise ValueError(f"grid {grid_code!r} does not exist: make_community first")
    p = to_shape(boundary).representative_point()
    return p.x, p.y


def add_need(session: Session, **overrides) -> Need:
    """One need; defaults: a consultation recorded 2025-03-03 at a point inside grid
    ``…106001`` (or inside ``grid_code`` when given), status recorded, no due date.
    ``lon``/``lat`` overrides move the point (``location`` follows)."""
    n = next(_counter)
    grid_code = overrides.get("grid_code", f"{COMMUNITY[0]}001")
    if "lon" in overrides and "lat" in overrides:
        lon, lat = overrides["lon"], overrides["lat"]
    elif grid_code is not None:
        lon, lat = _grid_point(session, grid_code)
    else:
        raise ValueError("add_need: a need without grid_code needs lon and lat")
    values = {
        "external_id": f"T{n:06d}",
        "district_code": (grid_code or DISTRICT[0])[:6],
        "reported_at": dt.date(2025, 3, 3),
        "lon": lon,
        "lat": lat,
        "grid_code": grid_code,
        "quality": "inside" if grid_code else "outside",
        "category": "consultation",
        "source": "walk_in",
        "status": "recorded",
        "description": f"需求{n}",
        "under_correction": False,
    }
    values.update(overrides)
    values["location"] = from_shape(Point(values["lon"], values["lat"]), srid=4326)
    need = Need(**values)
    session.add(need)
    session.flush()
    return need


def add_service_event(session: Session, **overrides) -> ServiceEvent:
    """One service event (default: a publicity event in grid ``…106001`` on 2025-03-10)."""
    n = next(_counter)
    values = {
        "external_id": f"S{n:06d}",
        "district_code": DISTRICT[0],
        "kind": "publicity",
        "held_on": dt.date(2025, 3, 10),
        "grid_code": f"{COMMUNITY[0]}001",
        "attendees": 20,
    }
    values.update(overrides)
    event = ServiceEvent(**values)
    session.add(event)
    session.flush()
    return event
