"""Where things are in the demo: community polygons, areas, grids and service points, and
which grid holds a point.

Which grid holds a point is the production :class:`geodata.pointindex.GridIndex` with its
shared-edge rule (smallest code); a point just outside snaps to the nearest grid in metres.

Example
-------
>>> _reading_order(np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])).tolist()
[2, 3, 0, 1]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist

from geodata.crs import from_wgs84, geometry_from_wgs84, geometry_to_wgs84
from geodata.demo.draw import _nullable
from geodata.demo.reference import (
    _M_PER_DEG_LAT,
    _M_PER_DEG_LON,
    DISTRICT_CODE,
    METRIC_CRS,
    STREET_CODE,
    WGS84,
    YUDE_CODE,
    YUDE_GRIDS,
    _reference,
)
from geodata.demo.vocab import _POINT_HOURS, _POINT_NAMES, _STREET_AID_STATIONS
from geodata.pointindex import GridIndex

# Street extent: discs around the community points joined along their minimum spanning tree,
# closed morphologically — keeps communities town-sized (~0.3–2 km²) and the street connected.
_EXTENT_RADIUS_M = 700.0
_EXTENT_CORRIDOR_M = 300.0
_EXTENT_CLOSING_M = 250.0


@dataclass(frozen=True)
class _Layout:
    street: shapely.Geometry  # WGS84
    communities: np.ndarray  # WGS84 polygons in reference order


def _layout() -> _Layout:
    """Community polygons: Voronoi cells of the points, clipped to the street extent.

    Cells and extent are built in metres (UTM 49N) but clipped in WGS84, so that neighbours
    share their edges exactly in the output system (a straight edge reprojected vertex by
    vertex is no longer straight at the 1e-6 level).
    """
    ref = _reference()
    xy = np.column_stack(from_wgs84(ref.lon, ref.lat, METRIC_CRS))
    extent_m = _street_extent(xy)
    cells_m = shapely.voronoi_polygons(
        shapely.multipoints(xy), extend_to=extent_m.buffer(1_000), ordered=True
    )
    street = shapely.intersection(geometry_to_wgs84([extent_m], METRIC_CRS)[0], ref.district)
    cells = geometry_to_wgs84(np.asarray(shapely.get_parts(cells_m)), METRIC_CRS)
    communities = np.array([_polygonal(p) for p in shapely.intersection(cells, street)])
    return _Layout(street=_polygonal(street), communities=communities)


def _street_extent(xy: np.ndarray) -> shapely.Geometry:
    tree = minimum_spanning_tree(cdist(xy, xy)).tocoo()
    edges = shapely.linestrings(np.stack([xy[tree.row], xy[tree.col]], axis=1))
    pieces = np.concatenate(
        [
            shapely.buffer(shapely.points(xy), _EXTENT_RADIUS_M),
            shapely.buffer(edges, _EXTENT_CORRIDOR_M),
        ]
    )
    closing = _EXTENT_CLOSING_M
    return shapely.union_all(pieces).buffer(closing).buffer(-closing)


def _uniform_points(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniformly inside ``poly`` (rejection sampling in its bounding box)."""
    x0, y0, x1, y1 = poly.bounds
    shapely.prepare(poly)
    out = np.empty((0, 2))
    while len(out) < n:
        k = 2 * (n - len(out)) + 16
        cand = np.column_stack([rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)])
        out = np.concatenate([out, cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]])
    return out[:n]


def _split_community(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """Split ``poly`` (WGS84) into ``n`` compact grids, returned in reading order.

    Lloyd (k-means) iterations on points sampled in metres give grids of similar area; their
    Voronoi cells are clipped to ``poly`` in WGS84 so that the grids tile it exactly.
    """
    poly_m = geometry_from_wgs84([poly], METRIC_CRS)[0]
    sample = _uniform_points(poly_m, 60 * n, rng)
    centres = sample[rng.choice(len(sample), n, replace=False)]
    for _ in range(25):
        label = np.argmin(cdist(sample, centres, "sqeuclidean"), axis=1)
        counts = np.bincount(label, minlength=n)
        sums = np.stack([np.bincount(label, sample[:, i], minlength=n) for i in (0, 1)], 1)
        centres = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centres)
    cells_m = shapely.voronoi_polygons(
        shapely.multipoints(centres), extend_to=poly_m.buffer(500), ordered=True
    )
    cells = geometry_to_wgs84(np.asarray(shapely.get_parts(cells_m)), METRIC_CRS)
    grids = np.array([_polygonal(g) for g in shapely.intersection(cells, poly)], dtype=object)
    return grids[_reading_order(shapely.get_coordinates(shapely.centroid(grids)))]


def _polygonal(geom: shapely.Geometry) -> shapely.MultiPolygon:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.MultiPolygon(list(shapely.get_parts(parts)))


def _reading_order(xy: np.ndarray) -> np.ndarray:
    """Indices of points in rows north→south (``round(sqrt(n))`` rows), west→east in a row."""
    by_y = np.argsort(-xy[:, 1], kind="stable")
    rows = np.array_split(by_y, max(1, round(math.sqrt(len(xy)))))
    return np.concatenate([row[np.argsort(xy[row, 0], kind="stable")] for row in rows])


@dataclass(frozen=True)
class _Community:
    code: str
    name: str
    index: int  # in the reference order
    rng: np.random.Generator


def _communities(scale: str, seed: int) -> list[_Community]:
    ref = _reference()
    return [
        _Community(code, name, i, np.random.default_rng([seed, int(code)]))
        for i, (code, name) in enumerate(zip(ref.codes, ref.names, strict=True))
        if scale == "street" or code == YUDE_CODE
    ]


def _build_grids(layout: _Layout, communities: list[_Community]) -> gpd.GeoDataFrame:
    frames = []
    for c in communities:
        n = YUDE_GRIDS if c.code == YUDE_CODE else int(c.rng.integers(8, 13))
        shapes = _split_community(layout.communities[c.index], n, c.rng)
        households = c.rng.integers(300, 601, n)
        persons = np.clip(c.rng.normal(2.6, 0.12, n), 2.2, 3.0)
        frames.append(
            pd.DataFrame(
                {
                    "code": [f"{c.code}{i:03d}" for i in range(1, n + 1)],
                    "name": [f"{c.name}第{i}网格" for i in range(1, n + 1)],
                    "community_code": c.code,
                    "population": np.round(households * persons).astype(int),
                    "households": households.astype(int),
                    "geometry": shapes,
                }
            )
        )
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WGS84)


def _build_areas(layout: _Layout, communities: list[_Community]) -> gpd.GeoDataFrame:
    """District (real outline), street (all 18 communities, whichever scale) and the
    communities built."""
    ref = _reference()
    rows = [
        (DISTRICT_CODE, ref.district_name, "district", None, _polygonal(ref.district)),
        (STREET_CODE, ref.street_name, "street", DISTRICT_CODE, layout.street),
    ]
    rows += [
        (c.code, c.name, "community", STREET_CODE, layout.communities[c.index]) for c in communities
    ]
    frame = pd.DataFrame(rows, columns=["code", "name", "level", "parent_code", "geometry"])
    frame["parent_code"] = _nullable(frame["parent_code"])
    return gpd.GeoDataFrame(frame, crs=WGS84)


# Points "just outside" are drawn 1-18 m off the grids (needs._near_outside); far ones are over
# 1.5 km off and never snapped. Any tolerance in between snaps every near point.
_SNAP_M = 100.0


@dataclass(frozen=True)
class _GridIndex:
    """Which grid holds a point: the production point index over the grids built, and the
    grid rows of each community built."""

    geoms: np.ndarray
    rows: list[np.ndarray]
    index: GridIndex
    row_of: pd.Index  # grid code -> row

    @classmethod
    def of(cls, grids: gpd.GeoDataFrame, communities: list[_Community]) -> _GridIndex:
        geoms = np.asarray(grids.geometry.array, dtype=object)
        codes = grids["community_code"].to_numpy()
        return cls(
            geoms,
            [np.flatnonzero(codes == c.code) for c in communities],
            GridIndex(grids[["code", "geometry"]]),
            pd.Index(grids["code"]),
        )

    def locate(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Row of the grid holding each point, the smallest code for a point on a shared
        edge; -1 for none."""
        return self._rows(self.index.locate(lon, lat, snap_m=0))

    def nearest(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Row of the nearest grid (in metres) to each point just outside the grids."""
        return self._rows(self.index.locate(lon, lat, snap_m=_SNAP_M))

    def _rows(self, located: pd.DataFrame) -> np.ndarray:
        return self.row_of.get_indexer(located["grid_code"].to_numpy())


def _point_near(
    rng: np.random.Generator, lon: float, lat: float, outline: shapely.Geometry, radius_m: float
) -> tuple[float, float]:
    """A point within ``radius_m`` of (lon, lat) and inside ``outline``."""
    shapely.prepare(outline)
    for _ in range(1000):
        r, a = radius_m * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        x = lon + r * math.cos(a) / _M_PER_DEG_LON
        y = lat + r * math.sin(a) / _M_PER_DEG_LAT
        if shapely.contains_xy(outline, x, y):
            return float(x), float(y)
    raise ValueError(f"no point inside the outline within {radius_m} m of ({lon}, {lat})")


def _build_service_points(communities: list[_Community], areas: gpd.GeoDataFrame) -> pd.DataFrame:
    ref = _reference()
    rows = []
    for c in communities:
        outline = areas.geometry[areas["code"] == c.code].item()
        kinds = ["legal_service_room"]
        if c.code == YUDE_CODE:
            kinds += ["legal_aid_station", "legal_school", "library"]
        elif c.code in _STREET_AID_STATIONS:
            kinds += ["legal_aid_station"]
        for i, kind in enumerate(kinds, 1):
            lon, lat = _point_near(c.rng, ref.lon[c.index], ref.lat[c.index], outline, 80)
            name = f"{c.name}{_POINT_NAMES[kind]}"
            if kind == "legal_aid_station" and c.code != YUDE_CODE:
                name = f"{ref.street_name}法律援助工作站({c.name})"
            rows.append((f"P{c.code}{i:02d}", name, kind, c.code, lon, lat, _POINT_HOURS[kind]))
    return pd.DataFrame(
        rows, columns=["code", "name", "kind", "community_code", "lon", "lat", "opening_hours"]
    )
