"""Any place, any export (issue 13): a US city's 311 export and community-district polygons
with plain codes, through column and value maps, US dates and two time zones."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from grid_model import cli, db
from grid_model.errors import ConfigError, ImportValidationError, InvalidInputError
from grid_model.imports import format_errors, import_grids, import_needs
from grid_model.imports.areas import import_areas
from grid_model.imports.exporting import export_frame
from grid_model.imports.mapping import (
    apply_columns,
    from_options,
    load_mapping,
    mapping_toml,
    parse_mapping,
)
from grid_model.measures.summary import compute_kpis
from grid_model.models import Area, Grid, Need
from grid_model.needs.cases import search_needs
from grid_model.scope import Scope, Viewer
from tests.conftest import scratch_engine

pytestmark = pytest.mark.db

ADMIN = Viewer.local_admin("test")
TODAY = dt.date(2022, 6, 30)
LATER = dt.date(2025, 4, 1)
# Community districts: BoroCD (plain codes) in boroughs (BoroCode) 1 and 3.
DISTRICTS = {"101": "1", "112": "1", "301": "3", "302": "3"}
BOXES = {
    "101": box(-74.02, 40.70, -74.00, 40.72),
    "112": box(-74.00, 40.70, -73.98, 40.72),
    "301": box(-74.02, 40.66, -74.00, 40.68),
    "302": box(-74.00, 40.66, -73.98, 40.68),
}
COMPLAINTS = {
    "Noise - Residential": "mediation",
    "Illegal Parking": "other",
    "HEAT/HOT WATER": "legal_aid",
}
STATUSES = {"Open": "recorded", "Assigned": "dispatched", "Pending": "in_progress",
            "Closed": "closed"}  # fmt: skip
HEADERS = ["Unique Key", "Created Date", "Closed Date", "Complaint Type", "Status", "Latitude",
           "Longitude"]  # fmt: skip
COLUMNS = ["id=Unique Key", "reported_at=Created Date", "closed_at=Closed Date",
           "category=Complaint Type"]  # fmt: skip


def _grids_file(tmp_path) -> str:
    gdf = gpd.GeoDataFrame(
        {"BoroCD": list(BOXES), "BoroCode": [DISTRICTS[c] for c in BOXES],
         "cd_name": [f"Community District {c}" for c in BOXES]},
        geometry=list(BOXES.values()), crs=4326,
    )  # fmt: skip
    path = tmp_path / "community_districts.geojson"
    gdf.to_file(path, driver="GeoJSON")
    return str(path)


def _rows() -> tuple[list[list[str]], dict[str, str]]:
    """311 rows (and the grid each valid one lies in): every grid, every status."""
    rows, where = [], {}
    statuses = list(STATUSES)
    n = 0
    for code, square in BOXES.items():
        c = square.centroid
        for i in range(5):
            n += 1
            status = statuses[(n + i) % 4]
            created = f"05/{i + 1:02d}/2022 0{i + 1}:15:00 PM"
            closed = f"05/{i + 3:02d}/2022 10:00:00 AM" if status == "Closed" else ""
            complaint = list(COMPLAINTS)[n % 3]
            lat, lon = c.y + 0.001 * (i - 2), c.x + 0.001 * (i - 2)
            rows.append([str(50000 + n), created, closed, complaint, status, f"{lat}", f"{lon}"])
            where[str(50000 + n)] = code
    # ISO 8601 with an offset, and midnight in the US form
    c = BOXES["112"].centroid
    rows.append(
        ["60001", "2022-05-02T02:30:00Z", "", "Illegal Parking", "Open", f"{c.y}", f"{c.x}"]
    )
    rows.append(["60002", "05/01/2022 12:00:03 AM", "", "Illegal Parking", "Open", f"{c.y}",
                 f"{c.x}"])  # fmt: skip
    where.update({"60001": "112", "60002": "112"})
    return rows, where


def _needs_file(tmp_path, extra: list[list[str]] = ()) -> str:
    rows, _ = _rows()
    path = tmp_path / "311.csv"
    pd.DataFrame([*rows, *extra], columns=HEADERS).to_csv(path, index=False)
    return str(path)


def _maps(tmp_path) -> list[str]:
    out = []
    for name, pairs in (("category", COMPLAINTS), ("status", STATUSES)):
        path = tmp_path / f"{name}.csv"
        pd.DataFrame({"value": list(pairs), "code": list(pairs.values())}).to_csv(path, index=False)
        out.append(f"{name}={path}")
    return out


def _load(session, tmp_path, tz: str, extra=(), skip=False):
    grid_mapping = from_options(
        columns=["code=BoroCD", "district=BoroCode", "name=cd_name"], kind="grids"
    )
    import_grids(session, _grids_file(tmp_path), viewer=ADMIN, mapping=grid_mapping)
    mapping = from_options(columns=COLUMNS, value_maps=_maps(tmp_path), timezone=tz)
    return import_needs(session, _needs_file(tmp_path, extra), viewer=ADMIN, mapping=mapping,
                        skip_invalid=skip)  # fmt: skip


def test_a_311_export_lands_in_the_right_grids_areas_and_scopes(session, tmp_path):
    bad = [["70001", "05/03/2022 01:00:00 PM", "", "Rodent", "Open", "40.71", "-74.01"],
           ["70002", "13/45/2022 01:00:00 PM", "", "Illegal Parking", "Open", "40.71", "-74.01"],
           ["70003", "05/03/2022 01:00:00 PM", "", "Illegal Parking", "Open", "north", "-74.01"]]  # fmt: skip
    report = _load(session, tmp_path, "America/New_York", extra=bad, skip=True)
    rows, where = _rows()
    assert report.invalid_rows == 3 and report.inserted == len(rows)
    assert session.scalar(select(func.count()).select_from(Need)) == len(rows)
    stored = dict(session.execute(select(Need.external_id, Need.grid_code)).all())
    assert stored == where
    grids = {g.code: (g.district_code, g.community_code) for g in session.scalars(select(Grid))}
    assert grids == {c: (d, c) for c, d in DISTRICTS.items()}
    districts = dict(session.execute(select(Need.external_id, Need.district_code)).all())
    assert districts == {k: DISTRICTS[g] for k, g in where.items()}
    assert session.get(Area, "1").level == "district"
    assert session.get(Area, "112").parent_code == "1"
    # every scope counts its own needs: districts, communities (= grids here), viewers
    for area in ("1", "3", *BOXES):
        expected = sum(1 for g in where.values() if area in (g, DISTRICTS[g]))
        assert compute_kpis(session, Scope(area_code=area), today=TODAY).needs == expected, area
        viewer = Viewer(role="mediator", area_code=area)
        seen = set(search_needs(session, Scope(), viewer)["external_id"])
        assert seen == {k for k, g in where.items() if area in (g, DISTRICTS[g])}, area
    assert compute_kpis(session, Scope(), today=TODAY).needs == len(rows)
    statuses = dict(session.execute(select(Need.external_id, Need.status)).all())
    assert set(statuses.values()) == set(STATUSES.values())


@pytest.mark.parametrize(
    ("tz", "iso_day", "midnight_utc", "shown"),
    [
        ("America/New_York", dt.date(2022, 5, 1), dt.datetime(2022, 5, 1, 4, 0, 3),
         "2022-05-01T22:30:00-04:00"),
        ("Asia/Shanghai", dt.date(2022, 5, 2), dt.datetime(2022, 4, 30, 16, 0, 3),
         "2022-05-02T10:30:00+08:00"),
    ],
)  # fmt: skip
def test_times_and_zones_are_kept(session, tmp_path, monkeypatch, tz, iso_day, midnight_utc, shown):
    monkeypatch.setenv("GRIDLAW_TIMEZONE", tz)
    _load(session, tmp_path, tz)
    iso = session.scalar(select(Need).where(Need.external_id == "60001"))
    assert iso.reported_time == dt.datetime(2022, 5, 2, 2, 30)  # the instant, whatever the zone
    assert iso.reported_at == iso_day  # 22:30 the evening before in New York
    us = session.scalar(select(Need).where(Need.external_id == "60002"))
    assert (us.reported_time, us.reported_at) == (midnight_utc, dt.date(2022, 5, 1))
    closed = session.scalar(select(Need).where(Need.closed_time.is_not(None)))
    assert closed.closed_at is not None and closed.status == "closed"
    exported = export_frame(session, "needs", Scope(), ADMIN, today=TODAY).set_index("id")
    assert exported.loc["60001", "reported_time"] == shown  # ISO 8601 with the zone's offset
    assert exported.loc["60002", "reported_time"].startswith("2022-05-01T00:00:03")


def test_unmapped_values_are_errors_naming_the_row_and_the_values(session, tmp_path):
    bad = [["70001", "05/03/2022 01:00:00 PM", "", "Rodent", "Open", "40.71", "-74.01"]]
    with pytest.raises(ImportValidationError) as caught:
        _load(session, tmp_path, "America/New_York", extra=bad)
    (line,) = format_errors(caught.value.errors, "en")
    assert "row 24 (id 70001)" in line and "'category'" in line and "Rodent" in line
    assert session.scalar(select(func.count()).select_from(Need)) == 0


def test_a_bad_timezone_is_refused(monkeypatch):
    monkeypatch.setenv("GRIDLAW_TIMEZONE", "Mars/Olympus")
    with pytest.raises(ConfigError):
        from_options(columns=COLUMNS)
    monkeypatch.delenv("GRIDLAW_TIMEZONE")
    with pytest.raises(InvalidInputError, match="Mars/Olympus"):
        from_options(timezone="Mars/Olympus")


def test_a_saved_mapping_reads_back(tmp_path):
    mapping = from_options(columns=COLUMNS, value_maps=_maps(tmp_path), timezone="America/New_York",
                           date_format="%m/%d/%Y %I:%M:%S %p")  # fmt: skip
    path = tmp_path / "311.toml"
    path.write_text(mapping_toml(mapping), encoding="utf-8")
    assert load_mapping(path) == mapping


def test_areas_file_gives_the_hierarchy(session, tmp_path):
    areas = tmp_path / "areas.csv"
    pd.DataFrame(
        {"code": ["NYC", "1", "112"], "name": ["New York", "Manhattan", "Washington Heights"],
         "level": ["district", "street", "community"], "parent": ["", "NYC", "1"]}
    ).to_csv(areas, index=False)  # fmt: skip
    import_areas(session, str(areas), viewer=ADMIN)
    mapping = from_options(columns=["code=BoroCD", "community=BoroCD"], kind="grids")
    import_grids(session, _grids_file(tmp_path), viewer=ADMIN, mapping=mapping)
    g = session.scalar(select(Grid).where(Grid.code == "112"))
    assert (g.district_code, g.street_code, g.community_code) == ("NYC", "1", "112")


def test_skip_invalid_alone_on_the_command_line(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    base = ["--db", url, "--lang", "en", "-q"]
    grids = ["import-grids", _grids_file(tmp_path), "--column", "code=BoroCD",
             "--column", "district=BoroCode"]  # fmt: skip
    assert cli.main([*base, *grids]) == 0
    bad = [["70001", "05/03/2022 01:00:00 PM", "", "Rodent", "Open", "40.71", "-74.01"]]
    args = ["import-needs", _needs_file(tmp_path, bad), "--timezone", "America/New_York",
            "--skip-invalid"]  # fmt: skip
    for c in COLUMNS:
        args += ["--column", c]
    for m in _maps(tmp_path):
        args += ["--value-map", m]
    assert cli.main([*base, *args]) == 0
    err = capsys.readouterr().err
    assert "row 24 (id 70001)" in err and "Rodent" in err


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfe not utf-8", b"[columns\nid = ", b"columns = 3", b"timezone = 5",
     b'[value_maps]\ncategory = "x.csv"', b'[values.category]\nNoise = "no_such_code"'],
)  # fmt: skip
def test_a_hostile_mapping_file_is_an_error_not_a_traceback(data):
    with pytest.raises(InvalidInputError):
        parse_mapping(data, "en", where="upload.toml")


def test_mapping_options_are_checked_before_the_file_is_read(tmp_path):
    with pytest.raises(InvalidInputError, match="no field 'colour'"):
        from_options(columns=["colour=Color"], lang="en")
    with pytest.raises(InvalidInputError, match="FIELD=VALUE"):
        from_options(columns=["id"], lang="en")
    with pytest.raises(InvalidInputError, match="has no column 'Unique Key'"):
        apply_columns(pd.DataFrame(columns=["a"]), {"id": "Unique Key"}, {}, "en")


def test_migration_0009_keeps_a_chinese_database_working(backend, tmp_path, monkeypatch):
    """Grids stored before 0009 get their street from their community's parent; needs get
    the local midnight of their days as instants; scopes by the 6/9/12-digit codes count as
    before."""
    monkeypatch.setenv("GRIDLAW_TIMEZONE", "Asia/Shanghai")
    eng = scratch_engine(backend, tmp_path)
    try:
        db.upgrade(eng, "0005")
        square = "MULTIPOLYGON(((113.08 22.6, 113.084 22.6, 113.084 22.604, 113.08 22.604, 113.08 22.6)))"
        with eng.begin() as conn:
            for code, level, parent in [("440703", "district", None),
                                        ("440703006", "street", "440703"),
                                        ("440703006106", "community", "440703006")]:  # fmt: skip
                conn.execute(
                    text(
                        "INSERT INTO areas (code, name, level, parent_code) VALUES (:c, :c, :l, :p)"
                    ),
                    {"c": code, "l": level, "p": parent},
                )
            conn.execute(text(
                "INSERT INTO grids (code, name, district_code, community_code, boundary) VALUES "
                "('440703006106001', 'g', '440703', '440703006106', ST_GeomFromText(:w, 4326))"
            ), {"w": square})  # fmt: skip
            conn.execute(text(
                "INSERT INTO needs (external_id, district_code, reported_at, location, lon, lat, "
                "grid_code, quality, category, status, under_correction) VALUES ('N1', '440703', "
                ":d, ST_GeomFromText('POINT(113.082 22.602)', 4326), 113.082, 22.602, "
                "'440703006106001', 'inside', 'consultation', 'recorded', false)"
            ), {"d": dt.date(2025, 3, 1)})  # fmt: skip
        db.upgrade(eng)
        with Session(eng) as s:
            grid = s.scalar(select(Grid))
            assert (grid.district_code, grid.street_code) == ("440703", "440703006")
            need = s.scalar(select(Need))
            assert need.reported_time == dt.datetime(2025, 2, 28, 16, 0)
            for area in ("440703", "440703006", "440703006106", "440703006106001"):
                assert compute_kpis(s, Scope(area_code=area), today=LATER).needs == 1, area
            assert compute_kpis(s, Scope(area_code="440703999"), today=LATER).needs == 0
    finally:
        db.downgrade(eng)
        eng.dispose()


def test_a_need_outside_every_grid_takes_the_district_of_its_area_polygon(session, tmp_path):
    """Borough polygons (import-areas with geometries) place a 311 point that lies between
    community districts in its borough; only that borough's scope and viewers count it."""
    boroughs = gpd.GeoDataFrame(
        {"code": ["1", "3"], "name": ["Manhattan", "Brooklyn"], "level": ["district"] * 2},
        geometry=[box(-74.03, 40.69, -73.97, 40.73), box(-74.03, 40.65, -73.97, 40.69)],
        crs=4326,
    )
    path = tmp_path / "boroughs.geojson"
    boroughs.to_file(path, driver="GeoJSON")
    import_areas(session, str(path), viewer=ADMIN)
    gap = [["80001", "05/03/2022 01:00:00 PM", "", "Illegal Parking", "Open", "40.655", "-73.975"]]
    _load(session, tmp_path, "America/New_York", extra=gap)
    need = session.scalar(select(Need).where(Need.external_id == "80001"))
    assert (need.grid_code, need.quality, need.district_code) == (None, "outside", "3")
    seen = set(
        search_needs(session, Scope(), Viewer(role="mediator", area_code="3"))["external_id"]
    )
    assert "80001" in seen
    for area in ("1", "301"):
        viewer = Viewer(role="mediator", area_code=area)
        assert "80001" not in set(search_needs(session, Scope(), viewer)["external_id"]), area


def test_relocate_gives_a_moved_need_the_district_of_its_new_grid(session, tmp_path):
    from grid_model.needs.boundaries import relocate_needs

    _load(session, tmp_path, "America/New_York")
    need = session.scalars(select(Need).where(Need.grid_code == "101")).first()
    assert need.district_code == "1"
    # the need was misplaced: it lies in community district 301 (borough 3)
    session.execute(
        text("UPDATE needs SET lon = -74.01, lat = 40.67 WHERE id = :i"), {"i": need.id}
    )
    report = relocate_needs(session, viewer=ADMIN, snap_m=0)
    assert report.changed == 1
    session.expire_all()
    moved = session.get(Need, need.id)
    assert (moved.grid_code, moved.district_code) == ("301", "3")
    kpis = {area: compute_kpis(session, Scope(area_code=area), today=TODAY).needs for area in "13"}
    assert kpis == {
        "1": sum(1 for g in _rows()[1].values() if DISTRICTS[g] == "1") - 1,
        "3": sum(1 for g in _rows()[1].values() if DISTRICTS[g] == "3") + 1,
    }
