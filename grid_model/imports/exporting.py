"""Exports: grids, needs, workers, workload and coverage gaps as (Geo)DataFrames, cut to the
viewer's area and redacted for the viewer (each export checks the viewer itself). Files are written by :func:`geodata.io.write_frame` (format from the extension).

Coordinates are WGS84 (EPSG:4326) on the way out; the needs export says so in a ``crs`` column.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from geodata import io as gio
from grid_model import config, instants
from grid_model.errors import InvalidInputError
from grid_model.gaps.coverage import find_coverage_gaps
from grid_model.measures.workload import assistant_workload
from grid_model.models import Assignment, Grid, Need, Worker
from grid_model.queries import holders, load_grids, load_needs
from grid_model.scope import Scope, Viewer, check_viewer, redact

KINDS = ("grids", "needs", "workers", "workload", "gaps")
NEED_EXPORT_COLUMNS = [
    "id",
    "grid_code",
    "quality",
    "lon",
    "lat",
    "category",
    "dispute_type",
    "status",
    "outcome",
    "reported_at",
    "reported_time",
    "due_date",
    "closed_at",
    "closed_time",
    "source",
    "assistant",
    "description",
    "resident_name",
    "resident_phone",
]


def export_grids(
    session: Session, scope: Scope, viewer: Viewer, *, today: dt.date
) -> gpd.GeoDataFrame:
    """Grids with the grid assistant who holds each on ``today``."""
    viewer = check_viewer(session, viewer)
    scope = scope.restricted_to(viewer)
    grids = load_grids(session, scope)
    staff = holders(session, scope, today)[["grid_code", "worker_code", "name"]]
    staff.columns = ["code", "grid_assistant_code", "grid_assistant"]
    out = grids.merge(staff, on="code", how="left")
    cols = [
        "code",
        "name",
        "community",
        "community_code",
        "population",
        "households",
        "grid_assistant_code",
        "grid_assistant",
        "geometry",
    ]
    return gpd.GeoDataFrame(out[cols], geometry="geometry", crs=grids.crs)


def export_needs(session: Session, scope: Scope, viewer: Viewer) -> gpd.GeoDataFrame:
    """Needs with WGS84 ``lon``/``lat``; personal columns and people under community correction
    only for viewers allowed to see them."""
    needs = load_needs(session, scope, viewer)
    needs = _with_instants(session, needs).drop(columns="id")
    needs = needs.rename(columns={"external_id": "id", "worker_code": "assistant"})
    cols = [c for c in NEED_EXPORT_COLUMNS if c in needs.columns]
    out = needs[cols].assign(crs="EPSG:4326")
    points = shapely.points(out["lon"].to_numpy(float), out["lat"].to_numpy(float))
    return gpd.GeoDataFrame(out, geometry=points, crs="EPSG:4326")


def _iso(instant, day) -> str | None:
    """ISO 8601 with the zone's offset: the instant, else the local midnight of its day."""
    if isinstance(instant, dt.datetime):
        return instants.iso(instant)
    if isinstance(day, dt.date):
        return instants.iso(instants.to_stored(day))
    return None


def _with_instants(session: Session, needs: pd.DataFrame) -> pd.DataFrame:
    """``needs`` (with their ``id``) plus ``reported_time``/``closed_time`` as ISO 8601 with
    offset (:func:`grid_model.instants.iso`)."""
    if needs.empty:
        return needs.assign(reported_time=None, closed_time=None)
    stamps: dict[int, tuple] = {}
    ids = [int(i) for i in needs["id"]]
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        rows = session.execute(
            select(Need.id, Need.reported_time, Need.closed_time).where(Need.id.in_(chunk))
        )
        stamps.update({r.id: (r.reported_time, r.closed_time) for r in rows})
    pairs = [stamps.get(int(i), (None, None)) for i in needs["id"]]
    return needs.assign(
        reported_time=[_iso(p[0], d) for p, d in zip(pairs, needs["reported_at"], strict=True)],
        closed_time=[_iso(p[1], d) for p, d in zip(pairs, needs["closed_at"], strict=True)],
    )


def export_workers(
    session: Session, scope: Scope, viewer: Viewer, *, today: dt.date
) -> pd.DataFrame:
    """Workers with the grids they hold on ``today``; phones only for viewers who may see them."""
    viewer = check_viewer(session, viewer)
    grid_ids = select(Grid.id).where(scope.restricted_to(viewer).grid_filter())
    # Workers without a grid belong, like needs outside every grid, to the district level.
    unassigned = Assignment.id.is_(None)
    if viewer.area_code:
        # only a district's viewers: workers' district codes are districts
        unassigned = unassigned & (Worker.district_code == viewer.area_code)
    rows = session.execute(
        select(
            Worker.code,
            Worker.name,
            Worker.role,
            Worker.phone,
            Worker.capacity,
            Worker.active,
            Grid.code,
        )
        .outerjoin(Assignment, (Assignment.worker_id == Worker.id) & Assignment.in_force(today))
        .outerjoin(Grid, Grid.id == Assignment.grid_id)
        .where(Assignment.grid_id.in_(grid_ids) | unassigned)
        .order_by(Worker.code, Grid.code)
    ).all()
    frame = pd.DataFrame(
        rows, columns=["code", "name", "role", "phone", "capacity", "active", "grid"]
    )
    out = (
        frame.groupby(
            ["code", "name", "role", "phone", "capacity", "active"], dropna=False, sort=True
        )["grid"]
        .agg(lambda g: ";".join(x for x in g if isinstance(x, str)))
        .reset_index()
        .rename(columns={"grid": "grids"})
    )
    if not viewer.sees_personal_data:
        out = out.drop(columns="phone")
    return out


def export_workload(
    session: Session, scope: Scope, viewer: Viewer, *, today: dt.date
) -> pd.DataFrame:
    viewer = check_viewer(session, viewer)
    start = today - dt.timedelta(days=90)
    return assistant_workload(
        session, scope.restricted_to(viewer), start=start, end=today, today=today
    )


def export_gaps(
    session: Session, scope: Scope, viewer: Viewer, *, today: dt.date
) -> gpd.GeoDataFrame:
    """Every coverage gap as one layer with a ``kind`` column (the map layers, stacked)."""
    viewer = check_viewer(session, viewer)
    gaps = find_coverage_gaps(session, scope, today=today, viewer=viewer)
    layers = []
    for gap in gaps.gaps.values():
        layer = gap.layer.copy()
        layer.insert(0, "kind", gap.kind)
        layers.append(redact(pd.DataFrame(layer), viewer))
    if not layers:
        return gpd.GeoDataFrame({"kind": []}, geometry=[], crs="EPSG:4326")
    stacked = pd.concat(layers, ignore_index=True)
    for col in stacked.columns:
        if col != "geometry" and stacked[col].map(lambda v: isinstance(v, (list, dict))).any():
            stacked[col] = stacked[col].astype(str)
    return gpd.GeoDataFrame(stacked, geometry="geometry", crs="EPSG:4326")


def export_frame(
    session: Session, kind: str, scope: Scope, viewer: Viewer, *, today: dt.date | None = None
):
    """The export ``kind`` (one of :data:`KINDS`) as a (Geo)DataFrame."""
    today = today or config.today()
    if kind == "grids":
        return export_grids(session, scope, viewer, today=today)
    if kind == "needs":
        return export_needs(session, scope, viewer)
    if kind == "workers":
        return export_workers(session, scope, viewer, today=today)
    if kind == "workload":
        return export_workload(session, scope, viewer, today=today)
    if kind == "gaps":
        return export_gaps(session, scope, viewer, today=today)
    raise InvalidInputError(f"unknown export {kind!r}; expected one of {', '.join(KINDS)}")


def export_to_file(
    session: Session,
    kind: str,
    path: str | Path,
    scope: Scope,
    viewer: Viewer,
    *,
    today: dt.date | None = None,
) -> int:
    """Write the export ``kind`` to ``path`` (.geojson .gpkg .csv .xlsx); returns the row count.

    Tables without geometry can only go to .csv/.xlsx."""
    frame = export_frame(session, kind, scope, viewer, today=today)
    suffix = Path(path).suffix.lower()
    if suffix in (".geojson", ".gpkg") and not isinstance(frame, gpd.GeoDataFrame):
        raise InvalidInputError(
            f"the {kind} export has no geometry: write it to .csv or .xlsx, not {suffix}"
        )
    gio.write_frame(frame, Path(path))
    return len(frame)
