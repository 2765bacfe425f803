"""A slow, independent reference for geodesic distances from points to grids.

For each point: the grids near it (their lon/lat boxes widened by ``window_deg``, taken
round the antimeridian too) are densified in lon/lat (edges drawn straight in lon/lat, as
the index and PostGIS geometry draw them), projected to the azimuthal equidistant projection
centred on the point (PROJ measures distances from the centre geodesically on WGS 84), and the
distance is GEOS's from the origin. With edges cut to ``step_deg`` the chords stray from the
curves by micrometres.
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
    """Geodesic distance in metres from each point to the nearest grid (0 inside) and the
    smallest code among the grids within ``tie_m`` of that distance (None if none is near)."""
    geoms = grids.geometry.to_numpy()
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
        if idx.size == 0:
            continue
        aeqd = Transformer.from_crs(
            4326,
            f"+proj=aeqd +lat_0={float(y)!r} +lon_0={float(x)!r} +ellps=WGS84 +units=m",
            always_xy=True,
        )
        dense = shapely.segmentize(geoms[idx], step_deg)
        local = shapely.transform(dense, lambda xy, t=aeqd: np.column_stack(t.transform(*xy.T)))
        d = shapely.distance(shapely.Point(0.0, 0.0), local)
        dist[i] = d.min()
        code[i] = min((codes[j] for j in idx[d <= d.min() + tie_m]), key=str)
    return dist, code
