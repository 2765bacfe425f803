"""Hot spots on H3 hexagons: points binned per cell (:func:`hex_bins`), cell contiguity
(:func:`hex_weights`) and Gi* over every hexagon of a study area (:func:`gi_star_hex`); see
:mod:`grid_model.analysis.hotspots` for the statistic's configuration.

>>> bins = hex_bins([113.08, 113.0801], [22.6, 22.6001], resolution=9)
>>> bins["count"].tolist()
[2]
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from shapely.geometry import Polygon

from grid_model.analysis.gistar import (
    MIN_FEATURES,
    WGS84,
    _check_run_options,
    _result_frame,
    adjacency_matrix,
)
from grid_model.errors import InvalidInputError

# --------------------------------------------------------------------------- H3 hexagons


def _check_resolution(resolution: int) -> int:
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)):
        raise InvalidInputError(f"resolution must be an integer 0..15, got {resolution!r}")
    if not 0 <= resolution <= 15:
        raise InvalidInputError(f"resolution must be 0..15 (H3), got {resolution}")
    return int(resolution)


def _check_lonlat(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    try:
        lon = np.asarray(lon, dtype=float).ravel()
        lat = np.asarray(lat, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"lon/lat must be numbers (WGS84 degrees): {exc}") from exc
    if lon.shape != lat.shape:
        raise InvalidInputError(f"lon has {lon.size} values but lat has {lat.size}")
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    bad |= (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidInputError(
            f"point {i} has lon={lon[i]}, lat={lat[i]}; expected WGS84 longitude in "
            "[-180, 180] and latitude in [-90, 90] (swapped?)"
        )
    return lon, lat


def _cells_of(lon: np.ndarray, lat: np.ndarray, resolution: int) -> np.ndarray:
    return np.array(
        [h3.latlng_to_cell(la, lo, resolution) for lo, la in zip(lon, lat, strict=True)],
        dtype=object,
    )


def _cell_polygons(cells) -> list:
    # h3 speaks (lat, lng); shapely and GeoJSON speak (x=lng, y=lat).
    return [Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(c)]) for c in cells]


def hex_bins(lon, lat, *, resolution: int = 9) -> gpd.GeoDataFrame:
    """Count points per H3 cell.

    Parameters
    ----------
    lon, lat : array-like
        WGS84 coordinates of the points.
    resolution : int
        H3 resolution (9: cells of about 0.1 km², edge about 170 m).

    Returns
    -------
    GeoDataFrame
        ``cell, count, geometry`` (EPSG:4326 hexagons), one row per occupied cell, by cell.
    """
    resolution = _check_resolution(resolution)
    lon, lat = _check_lonlat(lon, lat)
    counts = pd.Series(_cells_of(lon, lat, resolution), dtype=object).value_counts().sort_index()
    cells = counts.index.tolist()
    return gpd.GeoDataFrame(
        {"cell": cells, "count": counts.to_numpy(dtype=int)},
        geometry=_cell_polygons(cells),
        crs=WGS84,
    )


def _study_cells(area, occupied: list[str], resolution: int) -> list[str]:
    if area is None:
        # The convex hull of the occupied hexagons: a polygon even for one or two cells.
        region = shapely.union_all(_cell_polygons(occupied)).convex_hull
    elif isinstance(area, (gpd.GeoSeries, gpd.GeoDataFrame)):
        if area.crs is not None and not area.crs.equals(WGS84):
            area = area.to_crs(WGS84)
        region = area.union_all()
    else:
        region = area
    if region is None or region.is_empty or region.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidInputError(
            f"area must be a polygon or multipolygon in WGS84, got "
            f"{getattr(region, 'geom_type', type(region).__name__)}"
        )
    shape = h3.geo_to_h3shape(region)
    # 'overlap': every cell touching the area, so no point inside it falls outside the cells.
    return sorted(h3.h3shape_to_cells_experimental(shape, resolution, contain="overlap"))


def hex_adjacency(cells: Sequence[str]) -> sp.csr_matrix:
    """Binary contiguity of H3 cells through ``h3.grid_disk(cell, 1)`` within ``cells``, as a
    sparse matrix in ``cells`` order (1.0 for neighbours, no self-weights)."""
    position = {c: i for i, c in enumerate(cells)}
    left, right = [], []
    for i, c in enumerate(cells):
        for d in h3.grid_disk(c, 1):
            j = position.get(d)
            if j is not None and j != i:
                left.append(i)
                right.append(j)
    n = len(cells)
    return adjacency_matrix(sp.csr_matrix((np.ones(len(left)), (left, right)), shape=(n, n)))


def hex_weights(cells: Sequence[str]):
    """Binary contiguity of H3 cells through ``h3.grid_disk(cell, 1)`` within ``cells``
    (libpysal ``W``; the statistics use :func:`hex_adjacency`)."""
    # libpysal.weights takes 0.9 s to import (measured with -X importtime): paid when
    # weights are built, not by every importer of the analysis package.
    from libpysal.weights import W

    present = set(cells)
    neighbours = {c: sorted((set(h3.grid_disk(c, 1)) - {c}) & present) for c in cells}
    return W(neighbours, id_order=list(cells), silence_warnings=True)


def gi_star_hex(
    lon,
    lat,
    *,
    area=None,
    resolution: int = 9,
    permutations: int = 999,
    seed: int | None = 12345,
    fdr: bool = True,
) -> gpd.GeoDataFrame:
    """Gi* on H3 hexagons, zero-count hexagons of the study area included.

    Parameters
    ----------
    lon, lat : array-like
        WGS84 coordinates of the needs.
    area : shapely (Multi)Polygon, GeoSeries or GeoDataFrame, optional
        The study area (e.g. the union of the grids in scope). Every hexagon overlapping it is
        analysed, with 0 where no need fell; points in no such hexagon are left out (their
        number is in ``result.attrs["points_outside"]``). Default: the convex hull of the
        occupied hexagons.
    resolution, permutations, seed, fdr
        As in :func:`hex_bins` and :func:`gi_star`.

    Returns
    -------
    GeoDataFrame
        ``cell, count, neighbours, z, p, p_fdr, gi_bin, class, geometry``; contiguity is H3's
        ``grid_disk(cell, 1)`` restricted to the study hexagons.
    """
    _check_run_options(permutations, seed)
    resolution = _check_resolution(resolution)
    lon, lat = _check_lonlat(lon, lat)
    point_cells = pd.Series(_cells_of(lon, lat, resolution), dtype=object)
    if area is None and point_cells.empty:
        raise InvalidInputError("no points and no area: nothing to bin")
    cells = _study_cells(area, sorted(point_cells.unique()), resolution)
    if len(cells) < MIN_FEATURES:
        raise InvalidInputError(
            f"Gi* needs at least {MIN_FEATURES} hexagons, the study area has {len(cells)}; "
            "use a finer resolution"
        )
    inside = point_cells.isin(cells)
    counts = point_cells[inside].value_counts().reindex(cells, fill_value=0)
    frame = _result_frame(
        "cell",
        cells,
        counts.to_numpy(dtype=float),
        hex_adjacency(cells),
        permutations=permutations,
        seed=seed,
        fdr=fdr,
    )
    out = gpd.GeoDataFrame(frame, geometry=_cell_polygons(cells), crs=WGS84)
    out.attrs["points_outside"] = int((~inside).sum())
    return out
