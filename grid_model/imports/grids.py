"""Importing grid boundaries (GeoJSON, Shapefile or zipped Shapefile, GeoPackage, KML).

Each grid's ancestry (district → street → community) comes from the file's ``district``,
``street`` and ``community`` columns — a code or the name of a stored area, any unique string
up to 32 characters (names in ``*_name``) — or, for an area the database knows, from its
stored parents (``gridlaw import-areas``). Chinese defaults: a grid code beginning with 12
digits names its community, a 12-digit community its street (9) and district (6), as GB/T
2260 codes do. A grid with no community given forms a community of its own (same code and
name); a level without a code is skipped, and a grid without a district belongs to the
topmost area above it.

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
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grid_model import audit, fields
from grid_model.fields import Collector
from grid_model.imports.mapping import ImportMapping, apply_columns
from grid_model.imports.report import ImportReport, settle_errors
from grid_model.imports.rows import GRID_COLUMNS, read_vector, rename_columns, source_name
from grid_model.messages import t
from grid_model.models import CODE_DIGITS, CODE_MAX, Area, AreaLevel, Grid, Need
from grid_model.needs.boundaries import relocate_needs
from grid_model.scope import Viewer, require

#: Text columns of a grids layer and the model column that bounds each (community, street
#: and district names become area names).
GRID_TEXT_COLUMNS = {
    "code": Grid.code,
    "name": Grid.name,
    "community": Area.name,
    "community_name": Area.name,
    "street": Area.name,
    "street_name": Area.name,
    "district": Area.name,
    "district_name": Area.name,
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
    mapping: ImportMapping | None = None,
) -> ImportReport:
    """Import grid boundaries (GeoJSON, Shapefile or zipped Shapefile, GeoPackage, KML).

    New codes are inserted; known codes get the new boundary and attributes (the old
    boundary is kept in the audit log), and needs are re-geolocated when boundaries change.
    Streets and communities the database does not know yet are created. ``viewer`` must be
    allowed to import (:func:`grid_model.scope.require`)."""
    viewer = require(session, viewer, "import", lang=lang)
    gdf = read_vector(source, filename, crs, lang)
    columns = mapping.columns if mapping else {}
    frame = rename_columns(apply_columns(gdf, columns, GRID_COLUMNS, lang), GRID_COLUMNS, lang)
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
        district, street = _ensure_areas(session, row, names, report.created_areas)
        if _store_grid(session, row, (district, street), viewer, report):
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
    if changed or report.updated:
        _follow_districts(session)
    session.flush()
    return report


def _follow_districts(session: Session) -> None:
    """Needs in a grid take its district (the grid's may have changed, or the need moved to
    a grid of another district)."""
    district = select(Grid.district_code).where(Grid.code == Need.grid_code).scalar_subquery()
    session.execute(
        update(Need)
        .where(Need.grid_code.is_not(None), Need.district_code.is_distinct_from(district))
        .values(district_code=district)
        .execution_options(synchronize_session=False)
    )


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
            "street_name": fields.optional_text(frame, "street_name").to_numpy(),
            "district": fields.optional_text(frame, "district").to_numpy(),
            "district_name": fields.optional_text(frame, "district_name").to_numpy(),
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
    """Community code → code, name (with and without 居委会) → code."""
    out: dict[str, str] = {}
    for code, name in session.execute(
        select(Area.code, Area.name).where(Area.level == "community")
    ):
        out[name] = code
        out[name.removesuffix("居委会")] = code
    out.update({code: code for code in out.values()})
    return out


def _chinese_community(code: str | None) -> str | None:
    """The 12-digit community code a Chinese grid code begins with, else None.

    >>> _chinese_community("440703006106001"), _chinese_community("112")
    ('440703006106', None)
    """
    digits = CODE_DIGITS[AreaLevel.community]
    if code and len(code) >= digits and code[:digits].isdigit():
        return code[:digits]
    return None


def community_column(frame: pd.DataFrame) -> pd.Series:
    """The community of each grid of a layer as read for checks: the ``community`` column,
    else the Chinese prefix of the grid code, else the grid itself."""
    if "community" in frame:
        return fields.stripped(frame["community"]).fillna(frame["code"].astype(str))
    return frame["code"].astype(str).map(lambda c: _chinese_community(c) or c)


def _community_of_row(
    raw: str | None, name: str | None, code: str | None, known: dict[str, str]
) -> tuple[str | None, str | None]:
    """(community code, community name) of one grid: a known code or name given, a new code
    given, the Chinese prefix of the grid code (a name given then names it), or, with
    nothing given, the grid itself as its community."""
    if raw and raw in known:
        return known[raw], name
    chinese = _chinese_community(code)
    if raw and chinese and not (raw.isdigit() and len(raw) == len(chinese)):
        return chinese, name or raw  # 15-digit codes with the community's name beside them
    if raw:
        return raw, name
    if chinese:
        return chinese, name
    return code, name


def _resolve_communities(
    frame: gpd.GeoDataFrame, col: Collector, codes: pd.Series, session: Session
) -> tuple[pd.Series, list]:
    """Each grid's community code and name, recording codes too long for one."""
    community_raw = fields.optional_text(frame, "community")
    community_names = fields.optional_text(frame, "community_name")
    known = _community_lookup(session)
    pairs = [
        _community_of_row(raw, name, code, known)
        for raw, name, code in zip(community_raw, community_names, codes, strict=True)
    ]
    community_code = pd.Series([c for c, _ in pairs], dtype=object)
    too_long = community_code.map(lambda c: isinstance(c, str) and len(c) > CODE_MAX)
    col.add(
        too_long.to_numpy(),
        "community",
        community_code,
        t("expected_code", col.lang, max=CODE_MAX),
    )
    for column in ("street", "district"):
        raw = fields.optional_text(frame, column)
        col.add(
            raw.map(lambda c: c is not None and len(c) > CODE_MAX).to_numpy(),
            column,
            raw,
            t("expected_code", col.lang, max=CODE_MAX),
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
    value: str | None, known_names: dict[str, str]
) -> tuple[str | None, str | None]:
    """(code, name) of a street or district given in a grids file: a known code or name, or
    a new code (None when not given).

    >>> _resolve_parent("环市街道", {"环市街道": "440703002"})
    ('440703002', '环市街道')
    >>> _resolve_parent("1", {}), _resolve_parent(None, {})
    (('1', None), (None, None))
    """
    if not value:
        return None, None
    if value in known_names:
        code = known_names[value]
        return code, None if code == value else value
    return value, None


def _stored_parents(session: Session, community: str) -> tuple[str | None, str | None]:
    """(district, street) above a stored community, following ``areas.parent_code``."""
    found: dict[str, str] = {}
    here = session.get(Area, community)
    seen: set[str] = set()
    while here is not None and here.parent_code and here.parent_code not in seen:
        seen.add(here.parent_code)
        here = session.get(Area, here.parent_code)
        if here is not None:
            found.setdefault(here.level, here.code)
    return found.get(AreaLevel.district), found.get(AreaLevel.street)


def _parents(session: Session, row, names: dict[str, str]):
    """((district, name), (street, name)) of a grid row: the file's columns, else the stored
    parents of its community, else the Chinese prefixes of a 12-digit community code."""
    district = _resolve_parent(row.district, names)
    street = _resolve_parent(row.street, names)
    stored_district, stored_street = _stored_parents(session, row.community_code)
    community = row.community_code
    chinese = community.isdigit() and len(community) == CODE_DIGITS[AreaLevel.community]
    if district[0] is None:
        prefix = community[: CODE_DIGITS[AreaLevel.district]] if chinese else None
        district = (stored_district or prefix, None)
    if street[0] is None:
        prefix = community[: CODE_DIGITS[AreaLevel.street]] if chinese else None
        street = (stored_street or prefix, None)
    return (district[0], row.district_name or district[1]), (
        street[0],
        row.street_name or street[1],
    )


def _ensure_area(
    session: Session,
    code: str,
    name: str | None,
    level: str,
    parent: str | None,
    created: list[str],
) -> None:
    area = session.get(Area, code)
    if area is None:
        session.add(Area(code=code, name=name or code, level=level, parent_code=parent))
        session.flush()
        created.append(code)
    elif area.parent_code is None and parent and parent != code:
        area.parent_code = parent


def _ensure_areas(
    session: Session, row, names: dict[str, str], created: list[str]
) -> tuple[str, str | None]:
    """Create the grid's district, street and community when missing; return the grid's
    (district, street). Without a district the topmost area above the grid stands for it."""
    (district, district_name), (street, street_name) = _parents(session, row, names)
    if district:
        _ensure_area(session, district, district_name, "district", None, created)
    if street:
        _ensure_area(session, street, street_name, "street", district, created)
    community_name = row.community_name or (row.name if row.community_code == row.code else None)
    parent = street or district
    _ensure_area(session, row.community_code, community_name, "community", parent, created)
    return district or street or row.community_code, street


def _store_grid(
    session: Session, row, parents: tuple[str, str | None], viewer: Viewer, report: ImportReport
) -> bool:
    """Insert or update one grid, counting it in ``report``; True when its boundary is new or
    changed (an old boundary goes to the audit log)."""
    district, street = parents
    grid = session.scalars(select(Grid).where(Grid.code == row.code)).one_or_none()
    boundary = from_shape(row.geometry, srid=4326)
    if grid is None:
        session.add(
            Grid(
                code=row.code,
                name=row.name,
                district_code=district,
                street_code=street,
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
    attrs = (row.name, row.community_code, district, street, row.population, row.households)
    stored = (grid.name, grid.community_code, grid.district_code, grid.street_code)
    if same and (*stored, grid.population, grid.households) == attrs:
        report.existing += 1
        return False
    if not same:
        details = {"code": row.code, "old_wkt": old.wkt}
        audit.record(session, viewer, "grid_boundary_changed", "grids", details=details)
    grid.name, grid.community_code = row.name, row.community_code
    grid.district_code, grid.street_code = district, street
    grid.population, grid.households = row.population, row.households
    grid.boundary = boundary
    report.updated += 1
    return not same
