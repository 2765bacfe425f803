"""Importing the area hierarchy: districts, streets and communities with their parents
(``gridlaw import-areas FILE``), polygons optional.

Columns: ``code`` (any unique string up to 32 characters), ``name``, ``level`` (district,
street, community — or 区, 街道, 社区), ``parent`` (the code of the area above; empty at the
top). A CSV/XLSX table holds no polygons; a vector file (GeoJSON, Shapefile, GeoPackage, KML)
gives each area its boundary, which places needs outside every grid in their district
(:mod:`grid_model.needs.ancestry`). Known codes are updated; grids then follow their
community's new parents.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from geoalchemy2.shape import from_shape
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from grid_model import audit, fields
from grid_model.fields import Collector
from grid_model.imports.grids import _as_multipolygon
from grid_model.imports.mapping import ImportMapping, apply_columns
from grid_model.imports.report import ImportReport, settle_errors
from grid_model.imports.rows import read_table, read_vector, rename_columns, source_name
from grid_model.messages import t
from grid_model.models import CODE_MAX, Area, AreaLevel, Grid
from grid_model.scope import Viewer, require

AREA_COLUMNS = {
    "code": ["code", "编码", "区划代码"],
    "name": ["name", "名称"],
    "level": ["level", "级别", "层级"],
    "parent": ["parent", "parent_code", "上级", "上级编码"],
}
LEVEL_ALIASES = {
    "district": ["区", "区县", "县"],
    "street": ["街道", "镇", "乡镇"],
    "community": ["社区", "村", "居委会"],
}
_TABLES = (".csv", ".xlsx")


def _read(source, filename: str | None, lang: str) -> pd.DataFrame:
    name = filename or str(source)
    if Path(name).suffix.lower() in _TABLES:
        return read_table(source, filename, lang)
    return read_vector(source, filename, None, lang)


def validate_areas(
    frame: pd.DataFrame, session: Session, lang: str
) -> tuple[pd.DataFrame, Collector]:
    """Check an areas table (canonical columns): codes unique and ≤ 32 characters, a level,
    a parent that is in the file or stored, not the area itself."""
    fields.require_columns(frame, ["code", "level"], lang)
    codes = fields.stripped(frame["code"])
    col = Collector(frame, codes, lang)
    fields.check_texts(frame, col, {"name": Area.name})
    col.add((codes.isna() | codes.duplicated(keep="first")).to_numpy(), "code", frame["code"],
            t("expected_id", lang))  # fmt: skip
    col.add(codes.map(lambda c: c is not None and len(c) > CODE_MAX).to_numpy(), "code",
            frame["code"], t("expected_code", lang, max=CODE_MAX))  # fmt: skip
    level = fields.check_vocabulary(frame, col, "level", LEVEL_ALIASES, required=True)
    parent = fields.optional_text(frame, "parent")
    stored = set(session.scalars(select(Area.code)))
    known = stored | set(codes.dropna())
    unknown = parent.notna() & (~parent.isin(known) | (parent == codes))
    col.add(unknown.to_numpy(), "parent", parent, t("expected_parent", lang))
    geoms = frame.geometry.array if hasattr(frame, "geometry") and "geometry" in frame else None
    multi = [None] * len(frame) if geoms is None else [_as_multipolygon(g) for g in geoms]
    names = fields.optional_text(frame, "name")
    clean = pd.DataFrame({"code": codes.to_numpy(), "name": names.fillna(codes).to_numpy(),
                          "level": level.to_numpy(), "parent": parent.to_numpy(),
                          "geometry": multi})  # fmt: skip
    return clean, col


def import_areas(
    session: Session,
    source,
    *,
    filename: str | None = None,
    skip_invalid: bool = False,
    errors_out: str | Path | None = None,
    lang: str = "zh",
    viewer: Viewer,
    mapping: ImportMapping | None = None,
) -> ImportReport:
    """Import areas (see the module docstring); ``viewer`` must be allowed to import."""
    viewer = require(session, viewer, "import", lang=lang)
    original = _read(source, filename, lang)
    columns = mapping.columns if mapping else {}
    frame = rename_columns(apply_columns(original, columns, AREA_COLUMNS, lang), AREA_COLUMNS, lang)
    clean, col = validate_areas(frame, session, lang)
    report = ImportReport(kind="areas", total=len(frame))
    plain = pd.DataFrame(original.drop(columns="geometry", errors="ignore"))
    bad = settle_errors(report, col, plain, skip_invalid=skip_invalid, errors_out=errors_out)
    good = clean.iloc[[i for i in range(len(clean)) if i not in bad]]
    for row in good.itertuples(index=False):  # parents first: every row is added, then linked
        _store_area(session, row, report)
    session.flush()
    for row in good.itertuples(index=False):
        session.get(Area, row.code).parent_code = (
            row.parent if isinstance(row.parent, str) else None
        )
    session.flush()
    _grids_follow(session)
    audit.record(session, viewer, "import_areas", "areas",
                 details={"file": source_name(source, filename), "inserted": report.inserted,
                          "updated": report.updated})  # fmt: skip
    session.flush()
    return report


def _store_area(session: Session, row, report: ImportReport) -> None:
    area = session.get(Area, row.code)
    boundary = None if row.geometry is None else from_shape(row.geometry, srid=4326)
    if area is None:
        session.add(Area(code=row.code, name=row.name, level=row.level, boundary=boundary))
        report.inserted += 1
        return
    area.name, area.level = row.name, row.level
    if boundary is not None:
        area.boundary = boundary
    report.updated += 1


def _grids_follow(session: Session) -> None:
    """Each grid's street and district from its community's stored parents."""
    parent = dict(session.execute(select(Area.code, Area.parent_code)).all())
    level = dict(session.execute(select(Area.code, Area.level)).all())
    for code, community, district, street in session.execute(
        select(Grid.code, Grid.community_code, Grid.district_code, Grid.street_code)
    ).all():
        found: dict[str, str] = {}
        here, seen = parent.get(community), set()
        while here and here not in seen:
            seen.add(here)
            found.setdefault(level.get(here), here)
            here = parent.get(here)
        new_district = found.get(AreaLevel.district) or district
        new_street = found.get(AreaLevel.street)
        if (new_district, new_street) != (district, street):
            session.execute(update(Grid).where(Grid.code == code)
                            .values(district_code=new_district, street_code=new_street))  # fmt: skip
