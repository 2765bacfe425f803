"""Needs on real-looking coastlines, stored through the import path on both backends: the
grid each need gets is the one GEOS and the database itself (ST_Intersects) give it."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
from geoalchemy2.shape import from_shape
from sqlalchemy import func, select

from geodata.pointindex.coastline import coastline_grids, coastline_points
from grid_model.imports.needs import store_needs
from grid_model.models import Area, Grid, Need
from grid_model.queries import load_grids
from tests.geodesic_reference import nearest_grid

COMMUNITY = "440703006106"


def _store_districts(session, grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The districts as grids of one community, codes ``COMMUNITY + 001…`` in random order."""
    session.add_all(
        [
            Area(code=COMMUNITY[:6], name="区", level="district", parent_code=None),
            Area(code=COMMUNITY[:9], name="街道", level="street", parent_code=COMMUNITY[:6]),
            Area(code=COMMUNITY, name="社区", level="community", parent_code=COMMUNITY[:9]),
        ]
    )
    session.flush()
    codes = [f"{COMMUNITY}{int(c[1:]):03d}" for c in grids["code"]]
    session.add_all(
        Grid(
            code=code,
            name=f"网格{code[-3:]}",
            district_code=COMMUNITY[:6],
            community_code=COMMUNITY,
            boundary=from_shape(geom, srid=4326),
        )
        for code, geom in zip(codes, grids.geometry, strict=True)
    )
    session.flush()
    return grids.assign(code=codes)


def _needs(lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    n = lon.size
    return pd.DataFrame(
        {
            "external_id": [f"C{i:05d}" for i in range(n)],
            "reported_at": [dt.date(2025, 3, 1)] * n,
            "lon": lon,
            "lat": lat,
            "category": ["consultation"] * n,
            "dispute_type": [None] * n,
            "description": [None] * n,
            "source": [None] * n,
            "status": ["recorded"] * n,
            "outcome": [None] * n,
            "due_date": [None] * n,
            "closed_at": [None] * n,
            "worker_code": [None] * n,
            "resident_name": [None] * n,
            "resident_phone": [None] * n,
            "under_correction": [False] * n,
        }
    )


def test_coastline_needs_get_the_grid_geos_and_the_database_give(session):
    rng = np.random.default_rng(3)
    grids = _store_districts(session, coastline_grids(rng, vertices=6000))
    lon, lat = coastline_points(grids, 2000, rng)
    # Plus points just off the coasts, some within the snap distance.
    xy = np.vstack([np.asarray(g.exterior.coords) for m in grids.geometry for g in m.geoms])
    pick = xy[rng.choice(len(xy), 300, replace=False)]
    lon, lat = np.r_[lon, pick[:, 0] + rng.normal(0, 3e-4, 300)], np.r_[lat, pick[:, 1]]
    assert store_needs(session, _needs(lon, lat), snap_m=30) == lon.size

    stored = pd.DataFrame(
        session.execute(select(Need.external_id, Need.grid_code, Need.quality)).all()
    ).set_index("external_id")
    in_db = pd.DataFrame(
        session.execute(
            select(Need.external_id, func.min(Grid.code))
            .join(Grid, func.ST_Intersects(Need.location, Grid.boundary))
            .group_by(Need.external_id)
        ).all(),
        columns=["external_id", "code"],
    ).set_index("external_id")["code"]
    assert 1000 < len(in_db) < lon.size
    inside = stored.loc[in_db.index]
    assert (inside["grid_code"] == in_db).all() and (inside["quality"] == "inside").all()

    # GEOS on the grids as the database gives them back, and the geodesic reference outside.
    back = load_grids(session)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    covered = gpd.sjoin(points, back, predicate="covered_by").groupby(level=0)["code"].min()
    ids = np.array([f"C{i:05d}" for i in range(lon.size)])
    assert (stored.loc[ids[covered.index], "grid_code"].to_numpy() == covered.to_numpy()).all()
    assert set(ids[covered.index]) == set(in_db.index)
    out = np.setdiff1d(np.arange(lon.size), covered.index)
    near = out[
        pd.Series(ids[out]).map(stored["quality"]).to_numpy() == "snapped"
    ]  # checked against the reference, with the ones the reference puts within 30 m
    ref_d, ref_code = nearest_grid(back, lon[out], lat[out], window_deg=0.002)
    within = out[np.nan_to_num(ref_d, nan=np.inf) <= 30 - 0.01]
    assert set(within) <= set(near) and len(within) > 20
    got = stored.loc[ids[within], "grid_code"].to_numpy()
    assert (got == ref_code[np.isin(out, within)]).all()
    beyond = out[np.nan_to_num(ref_d, nan=np.inf) > 30 + 0.01]
    assert (pd.Series(ids[beyond]).map(stored["quality"]) == "outside").all()
