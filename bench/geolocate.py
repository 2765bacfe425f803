"""Benchmark: grid_model.needs.geolocate.locate against geopandas.sjoin(predicate="within").

Builds ``--grids`` Voronoi grids (random seeds, clipped to 113.0–113.2E, 22.5–22.7N around
Jiangmen) and ``--points`` uniform random points over that box widened by ``--margin``
degrees on each side, so some points fall outside every grid (about 4 % with the default
0.002 degrees, ~200 m; one in seven of those within the 30 m snap tolerance). What each
timing includes:

- ``locate (cold)``: ``locate(grids, lon, lat)`` on raw numpy arrays with an empty index
  cache: input checks, content fingerprint, building the index, locating, snapping and
  distances, building the result DataFrame.
- ``index build``: ``GridIndex(grids)`` alone.
- ``locate (prebuilt index)``: ``index.locate(lon, lat)`` with that index (what repeated calls
  on the same grids cost; ``locate()`` reaches it after a fingerprint and cache lookup).
- ``sjoin``: ``geopandas.sjoin(points_gdf, grids, predicate="within")`` on a prebuilt points
  GeoDataFrame (building it is timed separately and *not* charged to sjoin); sjoin builds the
  grids' spatial index itself, as it would in the application. It computes no snapping and
  no distances.

Both sides are warmed up first on a tiny case (imports, PROJ database, first allocations).
With ``--repeat N`` each timing is the best of N runs. Wall-clock and CPU time are both shown:
on a shared machine CPU time is the steadier figure. The ratio is sjoin / locate (cold).
Both must give the same grid for every point sjoin finds within exactly one grid; the script
exits 1 if they do not. The machine may be shared: run it more than once.

    python bench/geolocate.py --points 1000000 --grids 10000 --seed 0
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely

from grid_model.needs import geolocate

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


def timed(run: Callable[[], object], repeat: int, before: Callable[[], object] = lambda: None):
    """(wall, CPU) seconds of the fastest of ``repeat`` runs, and the last result."""
    best, result = (float("inf"), float("inf")), None
    for _ in range(repeat):
        before()
        cpu, wall = time.process_time(), time.perf_counter()
        result = run()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--grids", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--margin", type=float, default=0.002, help="degrees points may fall outside the box"
    )
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)

    grids = voronoi_grids(args.grids, rng)
    x0, y0, x1, y1 = BOX
    m = args.margin
    lon = rng.uniform(x0 - m, x1 + m, args.points)
    lat = rng.uniform(y0 - m, y1 + m, args.points)
    print(
        f"{len(grids):,} Voronoi grids, {args.points:,} points"
        f" (seed {args.seed}, margin {m} deg, best of {args.repeat})"
    )

    warm = voronoi_grids(20, np.random.default_rng(1))
    geolocate.locate(warm, lon[:1000], lat[:1000])
    points_warm = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon[:1000], lat[:1000]), crs=4326)
    gpd.sjoin(points_warm, warm, predicate="within")

    t_cold, result = timed(
        lambda: geolocate.locate(grids, lon, lat), args.repeat, geolocate._cache.clear
    )
    t_build, index = timed(lambda: geolocate.GridIndex(grids), args.repeat)
    t_warm, again = timed(lambda: index.locate(lon, lat), args.repeat)
    t_points, points = timed(
        lambda: gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326), args.repeat
    )
    t_sjoin, joined = timed(lambda: gpd.sjoin(points, grids, predicate="within"), args.repeat)

    counts = joined.index.value_counts()
    single = np.sort(counts.index[counts.to_numpy() == 1].to_numpy())
    expected = joined.loc[single, "code"].to_numpy()
    got = result["grid_code"].to_numpy()[single]
    disagree = int((got != expected).sum())
    if not again.equals(result):
        print("FAIL: prebuilt index and locate() differ")
        return 1

    q = result["quality"].value_counts()
    print(
        f"locate: inside {q['inside']:,}  snapped {q['snapped']:,}  outside {q['outside']:,}"
        f" (raster {index.shape[1]}x{index.shape[0]} cells)"
    )
    print(
        f"sjoin within: {len(joined):,} matches, {single.size:,} points in exactly one grid,"
        f" {int((counts > 1).sum()):,} in several"
    )
    n = args.points

    def line(label: str, seconds: tuple[float, float], rate: bool = True) -> str:
        wall, cpu = seconds
        text = f"  {label:<36}{wall:7.3f} s wall {cpu:7.3f} s CPU"
        return text + (f"  {n / wall / 1e6:5.2f} M points/s" if rate else "")

    print(line("locate, cold (build + locate)", t_cold))
    print(line("  index build alone", t_build, rate=False))
    print(line("locate, prebuilt index", t_warm))
    print(line("points GeoDataFrame (not charged)", t_points, rate=False))
    print(line("geopandas.sjoin within", t_sjoin))
    for i, kind in enumerate(("wall", "CPU")):
        print(
            f"ratio sjoin / locate ({kind}): cold {t_sjoin[i] / t_cold[i]:.1f}x,"
            f" prebuilt index {t_sjoin[i] / t_warm[i]:.1f}x"
        )
    if disagree:
        print(f"FAIL: {disagree:,} of {single.size:,} points get a different grid than sjoin")
        return 1
    print(f"agree: all {single.size:,} points sjoin puts in exactly one grid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
