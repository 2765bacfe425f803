"""Load the demo data set of :mod:`geodata.demo` into the database (``gridlaw seed-demo``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from geoalchemy2.shape import from_shape
from sqlalchemy import func, insert, literal, select, text
from sqlalchemy.orm import Session

from geodata import demo
from grid_model import audit, config, db
from grid_model.db.bulk import insert_frame
from grid_model.errors import InvalidInputError
from grid_model.imports.needs import store_needs
from grid_model.messages import t
from grid_model.models import (
    Area,
    Assignment,
    Base,
    Grid,
    Need,
    NeedMonthStat,
    NeedStatsDirty,
    ServicePoint,
    Worker,
)
from grid_model.queries import load_grids
from grid_model.scope import Viewer, require

#: The district of the demo (江门市蓬江区).
DEMO_DISTRICT = "440703"


@dataclass
class SeedReport:
    grids: int
    workers: int
    needs: int
    services: int
    service_points: int

    def summary(self, lang: str = "zh") -> str:
        return t(
            "seeded",
            lang,
            grids=self.grids,
            workers=self.workers,
            needs=self.needs,
            services=self.services,
        )


def is_empty(session: Session) -> bool:
    return session.scalar(select(func.count()).select_from(Grid)) == 0


def clear_all(session: Session) -> None:
    """Delete every row of every GridLaw table (``seed-demo --replace``)."""
    tables = [tbl.name for tbl in reversed(Base.metadata.sorted_tables)]
    if db.is_sqlite(session.get_bind()):
        # The summary tables last: deleting needs fires the triggers that mark its buckets.
        summary = {NeedMonthStat.__tablename__, NeedStatsDirty.__tablename__}
        for name in sorted(tables, key=lambda n: n in summary):
            session.execute(text(f'DELETE FROM "{name}"'))
    else:
        session.execute(
            text("TRUNCATE " + ", ".join(f'"{n}"' for n in tables) + " RESTART IDENTITY CASCADE")
        )


def _multi(geom):
    return geom if geom.geom_type == "MultiPolygon" else shapely.MultiPolygon([geom])


def seed_demo(
    session: Session,
    *,
    viewer: Viewer,
    scale: str = "community",
    needs: int | None = None,
    seed: int = 0,
    replace: bool = False,
    progress=None,
) -> SeedReport:
    """Generate the demo (Yude community, or all of Huanshi street) and store it.

    Refuses a database that already holds grids unless ``replace``. ``viewer`` must be allowed
    to import (the command line seeds as :meth:`Viewer.local_admin`). Nothing is committed."""
    viewer = require(session, viewer, "import", lang="en")
    if not is_empty(session):
        if not replace:
            raise InvalidInputError(t("db_not_empty", "en"))
        clear_all(session)
    data = demo.build_demo(scale=scale, needs=needs, seed=seed)
    _store_areas(session, data.areas)
    grid_rows = _grids(data.grids, data.areas)
    session.add_all(grid_rows)
    workers = _workers(data.workers)
    session.add_all(workers)
    session.flush()
    session.add_all(_assignments(data.assignments, grid_rows, workers))
    session.add_all(_service_points(data.service_points))
    session.flush()
    stored = store_needs(
        session,
        _loop_columns(_clean_needs(data.needs), data),
        grids=load_grids(session),
        progress=progress,
    )
    _demo_loop_events(session)
    _demo_case_files(session)
    services = _store_service_events(session, data.service_events)
    audit.record(
        session, viewer, "seed_demo", "all", details={"scale": scale, "needs": stored, "seed": seed}
    )
    session.flush()
    return SeedReport(
        grids=len(grid_rows),
        workers=len(workers),
        needs=session.scalar(select(func.count()).select_from(Need)),
        services=services,
        service_points=len(data.service_points),
    )


def _store_areas(session: Session, areas: pd.DataFrame) -> None:
    """Districts, then streets, then communities: each parent stored before its children."""
    ordered = areas.sort_values(
        "level", key=lambda s: s.map({"district": 0, "street": 1, "community": 2})
    )
    for row in ordered.itertuples(index=False):
        geom = row.geometry
        session.add(
            Area(
                code=row.code,
                name=row.name,
                level=row.level,
                parent_code=row.parent_code if isinstance(row.parent_code, str) else None,
                boundary=None
                if geom is None or geom.is_empty
                else from_shape(_multi(geom), srid=4326),
            )
        )
        session.flush()


def _grids(grids: pd.DataFrame, areas: pd.DataFrame) -> list[Grid]:
    """The demo's grids with their ancestry (community → street → district) from its areas."""
    parent = dict(zip(areas["code"], areas["parent_code"], strict=True))
    return [
        Grid(
            code=r.code,
            name=r.name,
            district_code=DEMO_DISTRICT,
            street_code=parent.get(r.community_code),
            community_code=r.community_code,
            boundary=from_shape(_multi(r.geometry), srid=4326),
            population=None if pd.isna(r.population) else int(r.population),
            households=None if pd.isna(r.households) else int(r.households),
        )
        for r in grids.itertuples(index=False)
    ]


def _workers(workers: pd.DataFrame) -> list[Worker]:
    return [
        Worker(
            code=r.code,
            name=r.name,
            role=r.role,
            phone=r.phone,
            capacity=float(r.capacity),
            active=bool(r.active),
            district_code=DEMO_DISTRICT,
        )
        for r in workers.itertuples(index=False)
    ]


def _assignments(
    assignments: pd.DataFrame, grids: list[Grid], workers: list[Worker]
) -> list[Assignment]:
    """The demo's assignments between the stored (flushed) grids and workers."""
    grid_ids = {g.code: g.id for g in grids}
    worker_ids = {w.code: w.id for w in workers}
    return [
        Assignment(
            worker_id=worker_ids[r.worker_code],
            grid_id=grid_ids[r.grid_code],
            role=r.role,
            valid_from=r.valid_from,
            valid_to=None if pd.isna(r.valid_to) else r.valid_to,
        )
        for r in assignments.itertuples(index=False)
    ]


def _service_points(points: pd.DataFrame) -> list[ServicePoint]:
    return [
        ServicePoint(
            code=r.code,
            name=r.name,
            kind=r.kind,
            community_code=r.community_code,
            location=from_shape(shapely.Point(r.lon, r.lat), srid=4326),
            opening_hours=r.opening_hours,
        )
        for r in points.itertuples(index=False)
    ]


def _clean_needs(n: pd.DataFrame) -> pd.DataFrame:
    """The demo's needs as :func:`~grid_model.imports.needs.store_needs` takes them (the
    demo's values are valid by construction)."""
    return pd.DataFrame(
        {
            "external_id": n["id"].astype(str),
            "reported_at": n["reported_at"],
            "lon": n["lon"].astype(float),
            "lat": n["lat"].astype(float),
            "category": n["category"],
            "dispute_type": n["dispute_type"],
            "description": n["description"],
            "source": n["source"],
            "status": n["status"],
            "outcome": n["outcome"],
            "due_date": n["due_date"],
            "closed_at": n["closed_at"],
            "worker_code": n["assistant"],
            "resident_name": n["resident_name"],
            "resident_phone": n["resident_phone"],
            "under_correction": n["under_correction"].astype(bool),
        }
    )


# --- s10-cases: the demo runs the closed loop ------------------------------------------------
_INSTANTS = ("dispatched_at", "accepted_at", "handled_at", "verified_at", "visited_at")


def _colleague(data, role: str) -> dict[str, str]:
    """Each assistant's colleague of ``role`` on one of their grids."""
    a = data.assignments
    held = a[a["role"] == "grid_assistant"][["worker_code", "grid_code"]]
    other = a[a["role"] == role][["worker_code", "grid_code"]].drop_duplicates("grid_code")
    pairs = held.merge(other, on="grid_code", suffixes=("", "_other"))
    return dict(zip(pairs["worker_code"], pairs["worker_code_other"], strict=True))


def _loop_columns(clean: pd.DataFrame, data) -> pd.DataFrame:
    """The demo's loop as the needs store it: assignee (the assistant; the grid's mediator for
    mediation, its lawyer for legal aid), instants in UTC, rework, supervision of a few
    overdue cases."""
    n = data.needs
    zone = config.timezone()
    out = clean.copy()
    for column in _INSTANTS:
        local = pd.to_datetime(n[column]).dt.tz_localize(zone, ambiguous="NaT",
                                                          nonexistent="shift_forward")  # fmt: skip
        out[column] = local.dt.tz_convert("UTC").dt.tz_localize(None).astype(object).to_numpy()
    assignee = n["assistant"].copy()
    for category, role in (("mediation", "mediator"), ("legal_aid", "lawyer")):
        mine = n["category"] == category
        assignee[mine] = n.loc[mine, "assistant"].map(_colleague(data, role))
    dispatched = n["dispatched_at"].notna() & (n["status"] != "returned")
    out["assignee_code"] = assignee.where(dispatched, None).astype(object).to_numpy()
    out["priority"] = n["priority"].to_numpy()
    out["satisfaction"] = n["satisfaction"].where(n["satisfaction"].notna(), None).to_numpy()
    out["rework_count"] = n["rework"].astype(int).to_numpy()
    open_ = ~n["status"].isin(["closed", "recorded"])
    late = open_ & (pd.to_datetime(n["due_date"]) < pd.Timestamp(n["reported_at"].max()))
    out["supervised_due"] = [
        (d + dt.timedelta(days=10)) if s else None
        for d, s in zip(n["due_date"], late & (n.index % 2 == 0), strict=True)
    ]
    return out


def _demo_loop_events(session: Session) -> None:
    """Beside the steps the columns imply (store_needs): the failed verification of each
    reworked case, the hold of each case on hold."""
    from grid_model.models import CaseEvent

    for step, to_status, at, cond in (
        # the failed verification placed at the acceptance: before the handling that passed
        ("verify", "in_progress", Need.accepted_at, Need.rework_count > 0),
        ("hold", "on_hold", func.coalesce(Need.accepted_at, Need.dispatched_at),
         Need.status == "on_hold"),
    ):  # fmt: skip
        rows = select(Need.id, Need.district_code, literal(step), literal(to_status),
                      literal("seed-demo"), Need.assignee_code, at, literal(True)).where(cond)  # fmt: skip
        session.execute(insert(CaseEvent).from_select(
            ["need_id", "district_code", "step", "to_status", "actor", "worker_code", "at",
             "synthesised"], rows))  # fmt: skip


def _demo_case_files(session: Session) -> None:
    """A mediation case file for each accepted mediation case: accepted on its acceptance day,
    due a month later; the mediated ones with a written agreement, and for those visited the
    performance seen (about 85 % performed)."""
    from grid_model import instants
    from grid_model.cases.mediation import one_month_after

    rows = session.execute(
        select(Need.id, Need.district_code, Need.dispute_type, Need.accepted_at, Need.closed_at,
               Need.outcome, Need.visited_at)
        .where((Need.category == "mediation") & Need.accepted_at.is_not(None))
    ).all()  # fmt: skip
    if not rows:
        return
    frame = pd.DataFrame(rows, columns=["need_id", "district_code", "dispute_type",
                                        "accepted_at", "closed_at", "outcome", "visited_at"])  # fmt: skip
    accepted = [instants.local_day(a) for a in frame["accepted_at"]]
    mediated = (frame["outcome"] == "mediated").to_numpy()
    performed = np.arange(len(frame)) % 7 != 3  # about 85 %
    seen = mediated & frame["visited_at"].notna().to_numpy()
    files = pd.DataFrame({
        "need_id": frame["need_id"], "district_code": frame["district_code"],
        "dispute_type": frame["dispute_type"], "accepted_on": accepted,
        "due_on": [one_month_after(d) for d in accepted],
        "agreement_kind": pd.Series(["written" if m else None for m in mediated], dtype=object),
        "agreement_on": [c if m else None for c, m in zip(frame["closed_at"], mediated, strict=True)],
        "performance_result": [("performed" if p else "not_performed") if s else None
                               for p, s in zip(performed, seen, strict=True)],
    })  # fmt: skip
    insert_frame(session, "mediation_cases", files, list(files.columns))


def _store_service_events(session: Session, events: pd.DataFrame) -> int:
    """Bulk-insert the demo's service events; returns how many."""
    ev = events.assign(district_code=DEMO_DISTRICT, external_id=events["id"].astype(str))
    insert_frame(
        session,
        "service_events",
        ev,
        [
            "external_id",
            "district_code",
            "kind",
            "held_on",
            "grid_code",
            "attendees",
            "description",
        ],
        point=("location", "lon", "lat"),
    )
    return len(ev)
