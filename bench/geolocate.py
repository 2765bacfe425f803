"""Benchmark: grid_model.geolocate.locate against geopandas.sjoin(predicate="within").

Builds ``--grids`` Voronoi grids (random seeds, clipped to 113.0–113.2E, 22.5–22.7N around
Jiangmen) and ``--points`` random points over that box widened by ``--margin`` degrees on each
side, so some points fall outside every grid. What each timing includes:

- ``locate (cold)``: ``locate(grids, lon, lat)`` on raw numpy arrays with an empty index cache:
  input checks, content fingerprint, building the index, locating, snapping, building the
  result DataFrame.
- ``index build``: ``GridIndex(grids)`` alone.
- ``locate (prebuilt)``: ``index.locate(lon, lat)`` with that index (what repeated calls on the
  same grids cost; ``locate()`` itself reaches this after a cache lookup).
- ``sjoin``: ``geopandas.sjoin(points_gdf, grids, predicate="within")`` given a prebuilt points
  GeoDataFrame (building it is timed separately and *not* charged to sjoin); sjoin builds the
  grids' spatial index itself, as it would in the application.

The ratio is sjoin / locate (cold). Both must give the same grid for every point sjoin finds
within exactly one grid; the script exits 1 if they do not. Times are wall-clock from one run;
the machine is shared, so run it more than once.

    python bench/geolocate.py --points 1000000 --grids 10000 --seed 0
"""

from __future__ import annotations

import argparse
import sys
import time

import geopandas as gpd
import numpy as np
import shapely

from grid_model import geolocate

BOX = (113.0, 22.5, 113.2, 22.7)


def voronoi_grids(n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """``n`` Voronoi polygons of random seeds clipped to BOX, codes in random order."""
    x0, y0, x1, y1 = BOX
    seeds = shapely.multipoints(np.column_stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)]))
    frame = shapely.box(*BOX)
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame))
    cells = shapely.intersection(cells, frame)
    codes = [f"440703006{i:06d}" for i in rng.permutation(len(cells))]
    return gpd.GeoDataFrame({"code": codes}, geometry=cells, crs=4326)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--margin", type=float, default=0.002, help="degrees points may fall outside the box"
    )
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    grids = voronoi_grids(args.grids, rng)
    x0, y0, x1, y1 = BOX
    m = args.margin
    lon = rng.uniform(x0 - m, x1 + m, args.points)
    lat = rng.uniform(y0 - m, y1 + m, args.points)
    print(
        f"{len(grids):,} Voronoi grids, {args.points:,} points (seed {args.seed}, margin {m} deg)"
    )

    geolocate._cache.clear()
    t = time.perf_counter()
    result = geolocate.locate(grids, lon, lat)
    t_cold = time.perf_counter() - t

    t = time.perf_counter()
    index = geolocate.GridIndex(grids)
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    again = index.locate(lon, lat)
    t_warm = time.perf_counter() - t

    t = time.perf_counter()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    t_points = time.perf_counter() - t
    t = time.perf_counter()
    joined = gpd.sjoin(points, grids, predicate="within")
    t_sjoin = time.perf_counter() - t

    counts = joined.index.value_counts()
    single = counts.index[counts.to_numpy() == 1].to_numpy()
    expected = joined.loc[single, "code"].reindex(single).to_numpy()
    got = result["grid_code"].to_numpy()[single]
    disagree = int((got != expected).sum())
    if not again.equals(result):
        print("FAIL: prebuilt index and locate() differ")
        return 1

    q = result["quality"].value_counts()
    print(
        f"locate: inside {q['inside']:,}  snapped {q['snapped']:,}  outside {q['outside']:,}"
        f" (index {index.shape[1]}x{index.shape[0]} cells)"
    )
    print(
        f"sjoin within: {len(joined):,} matches, {single.size:,} points in exactly one grid,"
        f" {int((counts > 1).sum()):,} in several"
    )
    n = args.points

    def line(label: str, seconds: float) -> str:
        return f"  {label:<34}{seconds:8.3f} s  {n / seconds / 1e6:6.2f} M points/s"

    print(line("locate (cold: build + locate)", t_cold))
    print(f"  {'  of which index build':<34}{t_build:8.3f} s")
    print(line("locate (prebuilt index)", t_warm))
    print(f"  {'points GeoDataFrame (not charged)':<34}{t_points:8.3f} s")
    print(line("geopandas.sjoin within", t_sjoin))
    print(f"ratio sjoin / locate cold: {t_sjoin / t_cold:.1f}x   prebuilt: {t_sjoin / t_warm:.1f}x")
    if disagree:
        print(f"FAIL: {disagree:,} of {single.size:,} points get a different grid than sjoin")
        return 1
    print(f"agree: all {single.size:,} points sjoin puts in exactly one grid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
