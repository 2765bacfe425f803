"""Importing grid boundaries (GeoJSON, Shapefile or zipped Shapefile, GeoPackage, KML).

:func:`validate_grids` checks a layer and resolves each grid's community;
:func:`import_grids` stores it: new codes inserted, known codes updated (the old boundary kept
in the audit log), missing streets and communities created, and needs re-geolocated
(:func:`grid_model.needs.boundaries.relocate_needs`) when boundaries change.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model import audit, fields
from grid_model.fields import Collector
from grid_model.imports.report import ImportReport, settle_errors
from grid_model.imports.rows import GRID_COLUMNS, read_vector, rename_columns, source_name
from grid_model.messages import t
from grid_model.models import Area, Grid, community_of
from grid_model.needs.boundaries import relocate_needs
from grid_model.scope import Viewer, require

#: Text columns of a grids layer and the model column that bounds each (community, street
#: and district names become area names).
GRID_TEXT_COLUMNS = {
    "code": Grid.code,
    "name": Grid.name,
    "community": Area.name,
    "street": Area.name,
    "district": Area.name,
}


def import_grids(
    session: Session,
    source,
    *,
    filename: str | None = None,
    crs: str | None = None,
    skip_invalid: bool = False,
    errors_out: str | Path | None = None,
    lang: str = "zh",
    viewer: Viewer,
    snap_m: float | None = None,
) -> ImportReport:
    """Import grid boundaries (GeoJSON, Shapefile or zipped Shapefile, GeoPackage, KML).

    New codes are inserted; known codes get the new boundary and attributes (the old
    boundary is kept in the audit log), and needs are re-geolocated when boundaries change.
    Streets and communities the database does not know yet are created. ``viewer`` must be
    allowed to import (:func:`grid_model.scope.require`)."""
    viewer = require(session, viewer, "import", lang=lang)
    gdf = read_vector(source, filename, crs, lang)
    frame = rename_columns(gdf, GRID_COLUMNS, lang)
    clean, col = validate_grids(frame, session, lang=lang)
    report = ImportReport(kind="grids", total=len(frame))
    original = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).assign(
        geometry=gdf.geometry.to_wkt()
    )
    bad = settle_errors(report, col, original, skip_invalid=skip_invalid, errors_out=errors_out)
    good = clean.iloc[[i for i in range(len(clean)) if i not in bad]]

    names = _area_codes_by_name(session)
    changed: list[str] = []
    for row in good.itertuples(index=False):
        district = _ensure_areas(session, row, names, report.created_areas)
        if _store_grid(session, row, district, viewer, report):
            changed.append(row.code)
    session.flush()
    audit.record(
        session,
        viewer,
        "import_grids",
        "grids",
        details={
            "file": source_name(source, filename),
            "inserted": report.inserted,
            "updated": report.updated,
            "created_areas": report.created_areas,
        },
    )
    if changed:
        relocate_needs(session, snap_m=snap_m, reason="import_grids", viewer=viewer, lang=lang)
    session.flush()
    return report


# --- validate -------------------------------------------------------------------------------


def validate_grids(
    frame: gpd.GeoDataFrame, session: Session, *, lang: str = "zh"
) -> tuple[pd.DataFrame, Collector]:
    """Check a grids layer (canonical column names); resolve communities."""
    fields.require_columns(frame, ["code"], lang)
    codes = fields.stripped(frame["code"])
    col = Collector(frame, codes, lang)
    fields.check_texts(frame, col, GRID_TEXT_COLUMNS)
    _check_codes(frame, col, codes)
    multi = _check_geometries(frame, col)
    community_code, community_name = _resolve_communities(frame, col, codes, session)
    counts = {column: _check_count(frame, col, column) for column in ("population", "households")}
    names = fields.stripped(frame["name"]) if "name" in frame else codes
    clean = pd.DataFrame(
        {
            "code": codes.to_numpy(),
            "name": names.fillna(codes).to_numpy(),
            "community_code": community_code.to_numpy(),
            "community_name": community_name,
            "street": fields.optional_text(frame, "street").to_numpy(),
            "district": fields.optional_text(frame, "district").to_numpy(),
            "population": counts["population"],
            "households": counts["households"],
            "geometry": multi,
        }
    )
    return clean, col


def _check_codes(frame: gpd.GeoDataFrame, col: Collector, codes: pd.Series) -> None:
    """Every grid has a code, and no code repeats."""
    expected = t("expected_id", col.lang)
    col.add(codes.isna().to_numpy(), "code", frame["code"], expected)
    dup = codes.notna() & codes.duplicated(keep="first")
    col.add(dup.to_numpy(), "code", frame["code"], expected)


def _as_multipolygon(geom):
    """A polygon as a one-part multipolygon; None for anything else (or nothing).

    >>> _as_multipolygon(shapely.box(0, 0, 1, 1)).geom_type, _as_multipolygon(shapely.Point(0, 0))
    ('MultiPolygon', None)
    """
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type == "Polygon":
        return shapely.MultiPolygon([geom])
    if geom.geom_type == "MultiPolygon":
        return geom
    return None


def _check_geometries(frame: gpd.GeoDataFrame, col: Collector) -> list:
    """The boundaries as multipolygons (None where not a polygon), recording the ones that
    are not polygons or not valid (naming why)."""
    lang = col.lang
    geoms = frame.geometry.array
    multi = [_as_multipolygon(g) for g in geoms]
    not_poly = np.array([m is None for m in multi])
    kinds = pd.Series([None if g is None else g.geom_type for g in geoms])
    col.add(not_poly, "geometry", kinds, t("expected_geometry", lang))
    valid = np.array([m is None or m.is_valid for m in multi])
    reasons = pd.Series(
        [None if ok else shapely.is_valid_reason(m) for m, ok in zip(multi, valid, strict=True)]
    )
    for pos in np.flatnonzero(~valid):
        expected = t("expected_valid_geometry", lang, reason=reasons.iloc[pos])
        col.add_at(pos, "geometry", reasons, expected)
    return multi


def _community_lookup(session: Session) -> dict[str, str]:
    """Community name (with and without 居委会) → code."""
    out: dict[str, str] = {}
    for code, name in session.execute(
        select(Area.code, Area.name).where(Area.level == "community")
    ):
        out[name] = code
        out[name.removesuffix("居委会")] = code
    return out


def _community_of_row(
    raw: str | None, code: str | None, known: dict[str, str]
) -> tuple[str | None, str | None]:
    """(community code, community name) of one grid: a 12-digit code given, a known name, or
    the prefix of a 15-digit grid code; (None, name) when none of these."""
    if raw and raw.isdigit() and len(raw) == 12:
        return raw, None
    if raw and raw in known:
        return known[raw], raw
    if code and code.isdigit() and len(code) >= 12:
        # 15-digit grid codes embed their community's 12-digit code.
        return community_of(code), raw
    return None, raw


def _resolve_communities(
    frame: gpd.GeoDataFrame, col: Collector, codes: pd.Series, session: Session
) -> tuple[pd.Series, list]:
    """Each grid's community code and name, recording grids without one."""
    community_raw = fields.optional_text(frame, "community")
    known = _community_lookup(session)
    pairs = [
        _community_of_row(raw, code, known) for raw, code in zip(community_raw, codes, strict=True)
    ]
    community_code = pd.Series([c for c, _ in pairs], dtype=object)
    col.add(
        community_code.isna().to_numpy() & codes.notna().to_numpy(),
        "community",
        community_raw,
        t("expected_community", col.lang),
    )
    return community_code, [n for _, n in pairs]


def _check_count(frame: gpd.GeoDataFrame, col: Collector, column: str) -> list:
    raw = fields.optional_text(frame, column)
    counts, bad = fields.parse_counts(raw)
    col.add(bad, column, raw, t("expected_count", col.lang, max=fields.COUNT_MAX))
    return counts.tolist()


# --- store ----------------------------------------------------------------------------------


def _area_codes_by_name(session: Session) -> dict[str, str]:
    """Area name (and a street's name without 办事处) → code."""
    names = {n: c for c, n in session.execute(select(Area.code, Area.name))}
    names.update({n.removesuffix("办事处"): c for n, c in list(names.items())})
    return names


def _resolve_parent(
    value: str | None, community_code: str, digits: int, known_names: dict[str, str]
) -> tuple[str, str | None]:
    """Street/district code for a community: the given code, a known name, or the prefix.

    >>> _resolve_parent(None, "440703001001", 9, {})
    ('440703001', None)
    >>> _resolve_parent("环市街道", "440703001001", 9, {"环市街道": "440703002"})
    ('440703002', '环市街道')
    """
    if value and value.isdigit() and len(value) == digits:
        return value, None
    if value and value in known_names:
        return known_names[value], value
    return community_code[:digits], value


def _ensure_area(
    session: Session,
    code: str,
    name: str | None,
    level: str,
    parent: str | None,
    created: list[str],
) -> None:
    if session.get(Area, code) is None:
        session.add(Area(code=code, name=name or code, level=level, parent_code=parent))
        session.flush()
        created.append(code)


def _ensure_areas(session: Session, row, names: dict[str, str], created: list[str]) -> str:
    """Create the grid's district, street and community when missing; return the district."""
    district, district_name = _resolve_parent(row.district, row.community_code, 6, names)
    street, street_name = _resolve_parent(row.street, row.community_code, 9, names)
    _ensure_area(session, district, district_name, "district", None, created)
    _ensure_area(session, street, street_name, "street", district, created)
    _ensure_area(session, row.community_code, row.community_name, "community", street, created)
    return district


def _store_grid(session: Session, row, district: str, viewer: Viewer, report: ImportReport) -> bool:
    """Insert or update one grid, counting it in ``report``; True when its boundary is new or
    changed (an old boundary goes to the audit log)."""
    grid = session.scalars(select(Grid).where(Grid.code == row.code)).one_or_none()
    boundary = from_shape(row.geometry, srid=4326)
    if grid is None:
        session.add(
            Grid(
                code=row.code,
                name=row.name,
                district_code=district,
                community_code=row.community_code,
                boundary=boundary,
                population=row.population,
                households=row.households,
            )
        )
        report.inserted += 1
        return True
    old = to_shape(grid.boundary)
    same = old.equals(row.geometry)
    attrs = (row.name, row.community_code, row.population, row.households)
    if same and (grid.name, grid.community_code, grid.population, grid.households) == attrs:
        report.existing += 1
        return False
    if not same:
        details = {"code": row.code, "old_wkt": old.wkt}
        audit.record(session, viewer, "grid_boundary_changed", "grids", details=details)
    grid.name, grid.community_code = row.name, row.community_code
    grid.population, grid.households = row.population, row.households
    grid.boundary = boundary
    report.updated += 1
    return not same
