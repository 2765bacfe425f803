"""Grid outlines for the intake page's map (drawn without any base map: no internet)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from grid_model import config
from grid_model.queries import load_grids
from grid_model.scope import Scope, Viewer, check_viewer

#: simplification tolerance in degrees (≈ 5 m): enough for a phone screen
TOLERANCE = 0.00005


def grid_outlines(session: Session, *, viewer: Viewer, lang: str = "zh") -> list[dict]:
    """The grids in force today in the viewer's area: code, name and exterior rings
    (lists of [lon, lat]), by code."""
    viewer = check_viewer(session, viewer, lang=lang)
    grids = load_grids(session, Scope().restricted_to(viewer), on=config.today())
    out = []
    for code, name, geom in zip(grids["code"], grids["name"], grids.geometry, strict=True):
        shape = geom.simplify(TOLERANCE, preserve_topology=True)
        polygons = getattr(shape, "geoms", [shape])
        rings = [[[round(x, 6), round(y, 6)] for x, y in p.exterior.coords] for p in polygons]
        out.append({"code": code, "name": name, "rings": rings})
    return out


__all__ = ["grid_outlines"]
