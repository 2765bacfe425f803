"""Checks of what :mod:`geodata.pointindex.index` is given: grids and lon/lat points.

:func:`checked_grids` also takes the grids apart for the index (codes, ragged coordinates) and
fingerprints their content, so that a cache never answers a changed frame from a stale index.
Bad input raises :class:`~geodata.errors.PointIndexError` naming the value and what was
expected.

Example
-------
>>> checked_points([113.0, 113.1], [22.5, 22.6])[0].tolist()
[113.0, 113.1]
>>> checked_points([113.0], [22.5, 22.6])
Traceback (most recent call last):
...
geodata.errors.PointIndexError: lon and lat differ in length: 1 lon vs 2 lat
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.errors import PointIndexError

__all__ = ["Checked", "checked_grids", "checked_points"]


class Checked(NamedTuple):
    """Grids that passed :func:`checked_grids`."""

    codes: np.ndarray  # object, in row order
    ragged: tuple | None  # shapely.to_ragged_array of the geometries (2-D), None if no rows
    fingerprint: str


def checked_grids(grids: object) -> Checked:
    if not isinstance(grids, gpd.GeoDataFrame):
        raise PointIndexError(f"grids must be a GeoDataFrame, got {type(grids).__name__}")
    if "code" not in grids.columns:
        raise PointIndexError(
            f"grids has no 'code' column (columns: {', '.join(map(str, grids.columns))})"
        )
    if grids.crs is None or grids.crs.to_epsg() != 4326:
        raise PointIndexError(
            f"grids must be in EPSG:4326 (WGS 84 lon/lat), got CRS {grids.crs!r}; "
            "convert with grids.to_crs(4326)"
        )
    geoms = np.asarray(grids.geometry.values, dtype=object)
    types = shapely.get_type_id(geoms)
    bad = np.flatnonzero(
        (types != shapely.GeometryType.POLYGON) & (types != shapely.GeometryType.MULTIPOLYGON)
    )
    if bad.size:
        i = bad[0]
        kind = "missing geometry" if types[i] < 0 else geoms[i].geom_type
        raise PointIndexError(
            f"grids geometry must be Polygon or MultiPolygon; {bad.size} row(s) are not, "
            f"first at position {i} (code {grids['code'].iloc[i]!r}): {kind}"
        )
    codes = grids["code"].to_numpy(dtype=object)
    missing = np.flatnonzero(pd.isna(codes))
    if missing.size:
        raise PointIndexError(
            f"grids 'code' is empty in {missing.size} row(s), first at position {missing[0]}"
        )
    digest = hashlib.blake2b(repr(codes.tolist()).encode(), digest_size=16)
    ragged = None
    if len(geoms):
        ragged = shapely.to_ragged_array(geoms, include_z=False)
        digest.update(repr((int(ragged[0]), [len(o) for o in ragged[2]])).encode())
        for part in (ragged[1], *ragged[2]):
            digest.update(np.ascontiguousarray(part).tobytes())
    return Checked(codes, ragged, digest.hexdigest())


def checked_points(lon: Sequence[float], lat: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    arrays = []
    for name, values in (("lon", lon), ("lat", lat)):
        try:
            a = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise PointIndexError(f"{name} must be numbers (degrees WGS 84)") from exc
        if a.ndim != 1:
            raise PointIndexError(f"{name} must be one-dimensional, got shape {a.shape}")
        arrays.append(a)
    x, y = arrays
    if x.size != y.size:
        raise PointIndexError(f"lon and lat differ in length: {x.size} lon vs {y.size} lat")
    return x, y
