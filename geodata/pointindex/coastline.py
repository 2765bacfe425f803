"""Synthetic grids with real-looking coastlines, for tests and benchmarks of the point index.

:func:`coastline_grids` draws a mainland with a fractal coast (bays, headlands), lakes
(holes), and islands (some with lakes of their own), and cuts it into a few districts along
Voronoi lines, like a city's boroughs: each district is a MultiPolygon of tens of thousands
of vertices, districts share their land borders exactly. :func:`coastline_points` spreads
points over and around it so that a given share falls outside every district.

Example
-------
>>> grids = coastline_grids(np.random.default_rng(0), vertices=4000)
>>> len(grids), sorted(set(grids.geom_type))
(5, ['MultiPolygon'])
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

__all__ = ["coastline_grids", "coastline_points"]


def _blob(
    rng: np.random.Generator, centre: tuple[float, float], radius: float, n: int,
    roughness: float = 0.35,
) -> shapely.Polygon:  # fmt: skip
    """A fractal closed curve: a circle whose radius carries many harmonics (amplitude ~1/k),
    made valid (self-crossings become separate parts; the largest is kept)."""
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    k = np.arange(1, max(n // 8, 2))
    amp = roughness * rng.normal(0, 1, k.size) / k**1.1
    phase = rng.uniform(0, 2 * np.pi, k.size)
    r = 1 + (amp[:, None] * np.sin(k[:, None] * theta + phase[:, None])).sum(axis=0)
    r = radius * np.clip(r, 0.15, None)
    ring = np.column_stack(
        [
            centre[0] + r * np.cos(theta) / np.cos(np.radians(centre[1])),
            centre[1] + r * np.sin(theta),
        ]
    )
    parts = shapely.get_parts(shapely.make_valid(shapely.Polygon(ring)))
    parts = [p for p in parts if isinstance(p, shapely.Polygon)]
    return max(parts, key=lambda p: p.area)


def coastline_grids(
    rng: np.random.Generator, *, vertices: int = 76_000, districts: int = 5,
    centre: tuple[float, float] = (-73.95, 40.70), radius: float = 0.2,
) -> gpd.GeoDataFrame:  # fmt: skip
    """About ``vertices`` vertices in ``districts`` MultiPolygon districts with codes
    ``D1``…, around ``centre`` (lon, lat) with a mainland of ``radius`` degrees of latitude."""
    cx, cy = centre
    kx = 1 / np.cos(np.radians(cy))
    land = _blob(rng, centre, radius, vertices // 2)
    lakes = [
        _blob(rng, (cx + rng.uniform(-0.5, 0.5) * radius * kx, cy + rng.uniform(-0.5, 0.5) * radius),
              rng.uniform(0.01, 0.04) * radius, vertices // 80)
        for _ in range(8)
    ]  # fmt: skip
    islands = []
    for _ in range(24):
        angle, dist = rng.uniform(0, 2 * np.pi), rng.uniform(1.0, 1.6) * radius
        at = (cx + dist * np.cos(angle) * kx, cy + dist * np.sin(angle))
        island = _blob(rng, at, rng.uniform(0.02, 0.12) * radius, vertices // 100)
        if rng.random() < 0.3:  # an island with a lake
            island = island.difference(island.centroid.buffer(island.length / 60))
        islands.append(island)
    shape = shapely.union_all([shapely.difference(land, shapely.union_all(lakes)), *islands])
    seeds = shapely.multipoints(
        np.column_stack([cx + rng.normal(0, 0.4, districts) * radius * kx,
                         cy + rng.normal(0, 0.4, districts) * radius])
    )  # fmt: skip
    extent = shapely.box(*shapely.bounds(shape)).buffer(radius)
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=extent))
    parts = [shapely.intersection(shape, cell) for cell in cells]
    geoms = [
        shapely.MultiPolygon([g for g in shapely.get_parts(p) if isinstance(g, shapely.Polygon)])
        for p in parts
    ]
    order = rng.permutation(len(geoms))
    return gpd.GeoDataFrame(
        {"code": [f"D{i + 1}" for i in order]}, geometry=[geoms[i] for i in order], crs=4326
    )


def coastline_points(
    grids: gpd.GeoDataFrame, n: int, rng: np.random.Generator, *, outside: float = 0.4
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random points over the grids' box widened by a tenth, of which the share
    ``outside`` lies outside every grid (chosen by GEOS, in random order)."""
    x0, y0, x1, y1 = grids.total_bounds
    wx, wy = (x1 - x0) / 10, (y1 - y0) / 10
    union = shapely.union_all(grids.geometry.to_numpy())
    shapely.prepare(union)
    want_in, want_out = n - round(n * outside), round(n * outside)
    got_in, got_out = [], []
    while sum(map(len, got_in)) < want_in or sum(map(len, got_out)) < want_out:
        xy = rng.uniform((x0 - wx, y0 - wy), (x1 + wx, y1 + wy), (max(n, 1000), 2))
        inside = shapely.intersects_xy(union, xy[:, 0], xy[:, 1])
        got_in.append(xy[inside])
        got_out.append(xy[~inside])
    xy = np.vstack([np.vstack(got_in)[:want_in], np.vstack(got_out)[:want_out]])
    xy = xy[rng.permutation(len(xy))]
    return xy[:, 0], xy[:, 1]
