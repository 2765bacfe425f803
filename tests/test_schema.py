"""The schema and its migrations on both backends."""

from __future__ import annotations

import datetime as dt

import pytest
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import func, inspect, select

from grid_model import db
from grid_model.models import Area, Assignment, Grid, Need, Worker
from tests.conftest import head_revision, scratch_engine

pytestmark = pytest.mark.db


def test_head_revision_and_spatial_indexes(engine):
    """Boundaries and service places are read through their spatial index; a need's point is
    never (its lon/lat columns are read): it has none (migration 0013)."""
    assert db.current_revision(engine) == head_revision()
    insp = inspect(engine)
    for table, column, indexed in [
        ("grids", "boundary", True),
        ("needs", "location", False),
        ("areas", "boundary", True),
        ("service_points", "location", True),
        ("service_events", "location", True),
    ]:
        assert column in {c["name"] for c in insp.get_columns(table)}
        if db.is_sqlite(engine):
            with engine.connect() as conn:
                enabled = conn.exec_driver_sql(
                    "SELECT spatial_index_enabled FROM geometry_columns "
                    "WHERE f_table_name = ? AND f_geometry_column = ?",
                    (table, column),
                ).scalar_one()
                rtree = conn.exec_driver_sql(
                    "SELECT count(*) FROM sqlite_master WHERE name = ?", (f"idx_{table}_{column}",)
                ).scalar_one()
            assert (enabled, rtree) == ((1, 1) if indexed else (0, 0)), table
        else:
            names = {ix["name"] for ix in insp.get_indexes(table)}
            assert (f"idx_{table}_{column}" in names) == indexed, table


def test_models_round_trip_geometry(session):
    session.add_all(
        [
            Area(code="440703", name="蓬江区", level="district"),
            Area(code="440703006", name="环市街道", level="street", parent_code="440703"),
            Area(code="440703006106", name="育德社区", level="community", parent_code="440703006"),
        ]
    )
    poly = MultiPolygon([box(113.08, 22.60, 113.09, 22.61)])
    grid = Grid(
        code="440703006106001",
        name="育德第1网格",
        district_code="440703",
        community_code="440703006106",
        boundary=from_shape(poly, srid=4326),
    )
    worker = Worker(code="W1", name="张三", role="grid_assistant", capacity=1.0, active=True)
    session.add_all([grid, worker])
    session.flush()
    session.add(
        Assignment(
            worker_id=worker.id,
            grid_id=grid.id,
            role="grid_assistant",
            valid_from=dt.date(2025, 1, 1),
        )
    )
    session.add(
        Need(
            external_id="N1",
            reported_at=dt.date(2025, 3, 1),
            location=from_shape(Point(113.085, 22.605), srid=4326),
            lon=113.085,
            lat=22.605,
            grid_code=grid.code,
            quality="inside",
            category="consultation",
            status="recorded",
        )
    )
    session.flush()
    got = session.scalars(select(Grid).where(Grid.code == "440703006106001")).one()
    assert to_shape(got.boundary).equals(poly)
    inside = session.scalar(
        select(func.count())
        .select_from(Need)
        .join(Grid, func.ST_Intersects(Need.location, Grid.boundary))
    )
    assert inside == 1


def test_migrations_down_and_up(backend, tmp_path):
    """Downgrade to base and upgrade again on a database of its own."""
    eng = scratch_engine(backend, tmp_path)
    try:
        db.upgrade(eng)
        assert "needs" in inspect(eng).get_table_names()
        db.downgrade(eng, "0012")  # the needs' spatial index made again
        if db.is_sqlite(eng):
            with eng.connect() as conn:
                rtree = conn.exec_driver_sql("SELECT count(*) FROM idx_needs_location").scalar_one()
            assert rtree == 0
        else:
            assert "idx_needs_location" in {ix["name"] for ix in inspect(eng).get_indexes("needs")}
        db.upgrade(eng)
        db.downgrade(eng)
        assert "needs" not in inspect(eng).get_table_names()
        assert db.current_revision(eng) is None
        db.upgrade(eng)
        assert db.current_revision(eng) == head_revision()
    finally:
        eng.dispose()
