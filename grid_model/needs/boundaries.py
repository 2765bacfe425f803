"""Grid boundary checks and re-geolocation of needs after boundaries change."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from geodata.crs import metric_crs
from grid_model import audit
from grid_model.measures import need_stats
from grid_model.models import GeolocationChange, Need
from grid_model.needs import ancestry, geolocate
from grid_model.queries import load_areas, load_grids, read_frame
from grid_model.scope import Viewer, require

MIN_AREA_M2 = 1.0


@dataclass
class GridProblem:
    kind: str  # invalid_geometry | overlap | gap | duplicate_code
    codes: list[str]
    detail: str
    area_m2: float | None = None

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "codes": self.codes,
            "detail": self.detail,
            "area_m2": self.area_m2,
        }


@dataclass
class GridCheck:
    grids: int
    problems: list[GridProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {
            "grids": self.grids,
            "ok": self.ok,
            "problems": [p.as_dict() for p in self.problems],
        }


def check_grids(grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None = None) -> GridCheck:
    """Invalid geometries, overlaps between grids, gaps inside a community, duplicate codes.

    ``grids`` has ``code``, ``community_code`` (optional) and polygons in EPSG:4326.
    A gap is a part of a community not covered by its grids: the community boundary minus the
    grids where the boundary is known, else the holes in the union of the community's grids.
    Areas are measured in the data's UTM zone; pieces under 1 m² are ignored."""
    result = GridCheck(grids=len(grids))
    if grids.empty:
        return result
    result.problems += _duplicate_codes(grids)
    result.problems += _invalid_geometries(grids)
    bounds = grids.geometry.bounds
    utm = metric_crs(
        ((bounds.minx + bounds.maxx) / 2).to_numpy(), ((bounds.miny + bounds.maxy) / 2).to_numpy()
    )
    metric = grids.to_crs(utm)
    mgeoms = shapely.make_valid(metric.geometry.array)
    result.problems += _overlaps(grids["code"].to_numpy(), mgeoms)
    if "community_code" in grids:
        result.problems += _gaps(metric.assign(geometry=mgeoms), communities, utm)
    return result


def _duplicate_codes(grids: gpd.GeoDataFrame) -> list[GridProblem]:
    dups = grids["code"][grids["code"].duplicated(keep=False)]
    return [
        GridProblem(
            "duplicate_code", [code], f"code {code} appears {int((dups == code).sum())} times"
        )
        for code in sorted(set(dups))
    ]


def _invalid_geometries(grids: gpd.GeoDataFrame) -> list[GridProblem]:
    geoms = grids.geometry.array
    invalid = ~shapely.is_valid(geoms)
    return [
        GridProblem("invalid_geometry", [code], shapely.is_valid_reason(geom))
        for code, geom in zip(grids["code"][invalid], geoms[invalid], strict=True)
    ]


def _overlaps(codes: np.ndarray, mgeoms: np.ndarray) -> list[GridProblem]:
    """Pairs of grids (metric, made valid) sharing more than :data:`MIN_AREA_M2`."""
    tree = shapely.STRtree(mgeoms)
    left, right = tree.query(mgeoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    if not len(left):
        return []
    area = shapely.area(shapely.intersection(mgeoms[left], mgeoms[right]))
    return [
        GridProblem("overlap", [codes[i], codes[j]], f"{codes[i]} ∩ {codes[j]}", round(float(a), 1))
        for i, j, a in zip(left, right, area, strict=True)
        if a > MIN_AREA_M2
    ]


def _gaps(
    metric: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None, utm: str
) -> list[GridProblem]:
    """Parts of each community (grids in metres, ``utm``) its grids leave uncovered."""
    boundaries = {}
    if communities is not None and len(communities):
        known = communities[communities.geometry.notna()]
        boundaries = dict(zip(known["code"], known.to_crs(utm).geometry, strict=True))
    problems = []
    for community, part in metric.groupby("community_code"):
        union = shapely.union_all(part.geometry.array)
        gaps = _uncovered(union, boundaries.get(community))
        for piece in getattr(gaps, "geoms", [gaps]):
            if not piece.is_empty and piece.area > MIN_AREA_M2:
                c = shapely.centroid(gpd.GeoSeries([piece], crs=utm).to_crs(4326).iloc[0])
                problems.append(
                    GridProblem(
                        "gap",
                        [community],
                        f"uncovered near {c.x:.5f},{c.y:.5f}",
                        round(float(piece.area), 1),
                    )
                )
    return problems


def _uncovered(union: shapely.Geometry, outline: shapely.Geometry | None) -> shapely.Geometry:
    """The community ``outline`` minus its grids' ``union``; without an outline, the holes of
    the union.

    >>> ring = shapely.box(0, 0, 3, 3).difference(shapely.box(1, 1, 2, 2))
    >>> _uncovered(ring, None).area, _uncovered(ring, shapely.box(0, 0, 4, 3)).area
    (1.0, 4.0)
    """
    if outline is not None:
        return shapely.difference(outline, union)
    holes = [
        shapely.Polygon(r) for poly in getattr(union, "geoms", [union]) for r in poly.interiors
    ]
    return shapely.union_all(holes) if holes else shapely.Polygon()


def check_stored_grids(session: Session) -> GridCheck:
    return check_grids(load_grids(session), load_areas(session, level="community"))


@dataclass
class RelocateReport:
    checked: int
    changed: int


def relocate_needs(
    session: Session,
    *,
    snap_m: float | None = None,
    reason: str = "relocate",
    viewer: Viewer,
    lang: str = "zh",
    progress=None,
) -> RelocateReport:
    """Re-geolocate every need against the stored grids; record each change of grid or quality
    in ``geolocation_changes`` (history is kept) and write one audit entry. ``viewer`` must be
    allowed to relocate (an administrator without area limit: every need may move)."""
    viewer = require(session, viewer, "relocate", lang=lang)
    grids = load_grids(session)
    needs = read_frame(
        session,
        select(Need.id, Need.lon, Need.lat, Need.grid_code, Need.quality, Need.district_code),
    )
    if needs.empty:
        return RelocateReport(0, 0)
    located = geolocate.locate(
        grids, needs["lon"].to_numpy(float), needs["lat"].to_numpy(float), snap_m=snap_m
    )
    new_code = located["grid_code"].to_numpy(dtype=object)
    new_quality = located["quality"].to_numpy(dtype=object)
    old_code = needs["grid_code"].to_numpy(dtype=object)
    same_code = np.array([a == b for a, b in zip(old_code, new_code, strict=True)])
    changed = ~same_code | (needs["quality"].to_numpy(dtype=object) != new_quality)
    idx = np.flatnonzero(changed)
    if len(idx):
        _store_moves(session, needs, idx, old_code, new_code, new_quality, reason)
        if progress is not None:
            progress.update(len(idx))
        need_stats.refresh(session)
    details = {"checked": len(needs), "changed": len(idx), "reason": reason}
    audit.record(session, viewer, "relocate", "needs", details=details)
    session.flush()
    return RelocateReport(checked=len(needs), changed=len(idx))


def _store_moves(
    session: Session,
    needs: pd.DataFrame,
    idx: np.ndarray,
    old_code: np.ndarray,
    new_code: np.ndarray,
    new_quality: np.ndarray,
    reason: str,
) -> None:
    """Write the new grid and quality of the needs at positions ``idx`` (one executemany) and
    their :class:`GeolocationChange` rows."""
    district = _new_districts(session, needs, idx, old_code, new_code)
    params = [
        {"nid": int(needs["id"].iat[i]), "g": new_code[i], "q": new_quality[i], "d": d}
        for i, d in zip(idx, district, strict=True)
    ]
    session.connection().execute(
        update(Need.__table__)
        .where(Need.__table__.c.id == bindparam("nid"))
        .values(grid_code=bindparam("g"), quality=bindparam("q"), district_code=bindparam("d")),
        params,
    )
    session.add_all(
        [
            GeolocationChange(
                need_id=int(needs["id"].iat[i]),
                old_grid_code=old_code[i],
                new_grid_code=new_code[i],
                old_quality=needs["quality"].iat[i],
                new_quality=new_quality[i],
                reason=reason,
            )
            for i in idx
        ]
    )


def _new_districts(
    session: Session,
    needs: pd.DataFrame,
    idx: np.ndarray,
    old_code: np.ndarray,
    new_code: np.ndarray,
) -> list[str | None]:
    """The district of each need at ``idx`` after the move: its new grid's (from the stored
    ancestry, :mod:`grid_model.needs.ancestry`), or outside every grid its area polygon's; a
    need whose grid did not change, or whose new district cannot be told, keeps its own."""
    found = ancestry.districts_of(
        session,
        pd.Series(new_code[idx], dtype=object),
        needs["lon"].to_numpy(float)[idx],
        needs["lat"].to_numpy(float)[idx],
        guess=False,
    )
    kept = needs["district_code"].to_numpy(dtype=object)[idx]
    return [
        d if (old_code[i] != new_code[i] and isinstance(d, str)) else k
        for i, d, k in zip(idx, found, kept, strict=True)
    ]
