"""A slow, independent reference for geodesic distances from points outside grids to them.

For each point: the grids' boundaries within ``window_deg`` of it (clipped to that box, taken
round the antimeridian too) are densified in lon/lat (edges drawn straight in lon/lat, as the
index and PostGIS geometry draw them), projected to the azimuthal equidistant projection
centred on the point (PROJ measures distances from the centre geodesically on WGS 84), and the
distance is GEOS's from the origin. With edges cut to ``step_deg`` the chords stray from the
curves by micrometres. Boundaries farther than the window are not seen: NaN if none is near.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

__all__ = ["nearest_grid"]


def nearest_grid(
    grids: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray, *, window_deg: float = 0.02,
    step_deg: float = 5e-5, tie_m: float = 1e-6,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Geodesic distance in metres from each point to the nearest grid boundary and the
    smallest code among the grids within ``tie_m`` of that distance (NaN and None if no
    boundary is within the window)."""
    geoms = grids.geometry.to_numpy().copy()  # not a view of the caller's frame
    polygonal = np.isin(shapely.get_type_id(geoms), [3, 6])  # lines are their own boundary
    geoms[polygonal] = shapely.boundary(geoms[polygonal])
    codes = grids["code"].to_numpy(dtype=object)
    bounds = shapely.bounds(geoms)
    dist = np.full(len(lon), np.nan)
    code = np.full(len(lon), None, dtype=object)
    for i, (x, y) in enumerate(zip(lon, lat, strict=True)):
        near = np.zeros(len(geoms), dtype=bool)
        for shift in (-360.0, 0.0, 360.0):
            near |= (
                (bounds[:, 0] - window_deg <= x + shift)
                & (x + shift <= bounds[:, 2] + window_deg)
                & (bounds[:, 1] - window_deg <= y)
                & (y <= bounds[:, 3] + window_deg)
            )
        idx = np.flatnonzero(near)
        parts = []
        wraps = abs(x) > 180 - 2 * window_deg
        for shift in (-360.0, 0.0, 360.0) if wraps else (0.0,):
            moved = shapely.transform(geoms[idx], lambda xy, s=shift: xy - [s, 0.0])
            parts.append(shapely.clip_by_rect(moved, x - window_deg, y - window_deg,
                                              x + window_deg, y + window_deg))  # fmt: skip
        clipped = shapely.union_all(np.stack(parts), axis=0) if wraps else parts[0]
        idx, clipped = idx[~shapely.is_empty(clipped)], clipped[~shapely.is_empty(clipped)]
        if idx.size == 0:
            continue
        aeqd = Transformer.from_pipeline(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad"
            f" +step +proj=aeqd +lat_0={float(y)!r} +lon_0={float(x)!r} +ellps=WGS84"
        )
        dense = shapely.segmentize(clipped, step_deg)
        local = shapely.transform(dense, lambda xy, t=aeqd: np.column_stack(t.transform(*xy.T)))
        d = shapely.distance(shapely.Point(0.0, 0.0), local)
        dist[i] = d.min()
        code[i] = min((codes[j] for j in idx[d <= d.min() + tie_m]), key=str)
    return dist, code
