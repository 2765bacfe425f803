"""Which grid is a need in? The grid_model side of :mod:`geodata.pointindex` (DESIGN §6).

The index itself (the raster, the shared-edge rule, snapping in metres, the cache) is the pure
:mod:`geodata.pointindex`; its docstring states the rules. Here it speaks grid_model: bad
grids or points raise :class:`~grid_model.errors.InvalidInputError` (a ``ValueError``) with
the index's own message, and ``quality`` is the vocabulary of ``Need.quality``
(:data:`QUALITIES`: ``inside`` | ``snapped`` | ``outside``).

Example (bad input is a grid_model error here; :mod:`geodata.pointindex` shows a lookup)
-------
>>> import geopandas as gpd
>>> from shapely import box
>>> grids = gpd.GeoDataFrame({"code": ["A"]}, geometry=[box(113.0, 22.5, 113.01, 22.51)], crs=4326)
>>> locate(grids, [113.0], [22.5, 22.6])
Traceback (most recent call last):
...
grid_model.errors.InvalidInputError: lon and lat differ in length: 1 lon vs 2 lat
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import geopandas as gpd
import pandas as pd

from geodata import pointindex
from geodata.errors import PointIndexError
from geodata.pointindex import index as _index
from grid_model import config
from grid_model.errors import InvalidInputError

__all__ = ["GridIndex", "locate", "QUALITIES"]

QUALITIES = pointindex.QUALITIES

# geodata's cache of recent indexes, named here too so that tests and bench can clear it.
_cache = _index._cache


@contextmanager
def _domain_errors() -> Iterator[None]:
    """Re-raise the index's errors as grid_model's, with the same message."""
    try:
        yield
    except PointIndexError as exc:
        raise InvalidInputError(str(exc)) from exc


class GridIndex(pointindex.GridIndex):
    """A reusable point-in-grid index; see :class:`geodata.pointindex.GridIndex`.

    Raises :class:`~grid_model.errors.InvalidInputError` for bad grids, points or options.
    """

    def __init__(
        self, grids: gpd.GeoDataFrame, *, cells_per_grid: float = _index._CELLS_PER_GRID
    ) -> None:
        with _domain_errors():
            super().__init__(grids, cells_per_grid=cells_per_grid)

    def locate(
        self, lon: Sequence[float], lat: Sequence[float], *, snap_m: float | None = None,
        far_distances: bool = False,
    ) -> pd.DataFrame:  # fmt: skip
        """Grid of each point; see :func:`locate` for the rules and the result."""
        with _domain_errors():
            return super().locate(lon, lat, snap_m=_snap(snap_m), far_distances=far_distances)


def locate(
    grids: gpd.GeoDataFrame,
    lon: Sequence[float],
    lat: Sequence[float],
    *,
    snap_m: float | None = None,
    far_distances: bool = False,
) -> pd.DataFrame:
    """Find the grid of each point: :func:`geodata.pointindex.locate` in grid_model's errors,
    snapping within ``snap_m`` metres (default :func:`grid_model.config.snap_m`,
    ``GRIDLAW_SNAP_M``, 30 m), distances geodesic; ``far_distances`` also measures how far
    the points outside every grid are (slow far from long coastlines; else NaN).

    Returns
    -------
    pandas.DataFrame
        One row per point in input order with ``grid_code`` (None when outside), ``quality``
        (categorical over :data:`QUALITIES`) and ``distance_m`` (0 inside, metres when
        snapped, NaN outside unless ``far_distances``); shared edges go to the
        smallest ``str(code)``. Repeated calls with the same grids reuse a cached index.

    Raises
    ------
    ValueError
        (:class:`~grid_model.errors.InvalidInputError`) for grids without a ``code`` column,
        with empty codes, non-polygon geometries or a CRS other than EPSG:4326, for lon/lat of
        different lengths or not numeric, and for a negative ``snap_m``.
    """
    with _domain_errors():
        return pointindex.locate(grids, lon, lat, snap_m=_snap(snap_m), far_distances=far_distances)


def _snap(snap_m: float | None) -> float:
    """The snap tolerance: the caller's, else the setting (every service passes None on)."""
    return config.snap_m() if snap_m is None else snap_m
