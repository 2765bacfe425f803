"""Benchmark: grid_model.needs.geolocate.locate against geopandas.sjoin(predicate="within").

Two cases, each measured in the same run on the same points:

- ``voronoi``: ``--grids`` Voronoi grids (random seeds, clipped to 113.0–113.2E, 22.5–22.7N
  around Jiangmen) and ``--points`` uniform random points over that box widened by
  ``--margin`` degrees on each side (about 4 % outside every grid with the default 0.002
  degrees, ~200 m; one in seven of those within the 30 m snap tolerance).
- ``coastline``: five districts of a synthetic city with real-looking coasts
  (:func:`geodata.pointindex.coastline.coastline_grids`: a fractal mainland cut along Voronoi
  lines, lakes, islands, ``--vertices`` vertices in all) and ``--points`` points of which
  40 % lie outside every district, most of them far out at sea.

What each timing includes:

- ``locate, cold``: ``locate(grids, lon, lat)`` on raw numpy arrays with an empty index
  cache: input checks, content fingerprint, building the index, locating, snapping with
  geodesic distances, building the result DataFrame.
- ``index build``: ``GridIndex(grids)`` alone.
- ``locate, warm``: ``index.locate(lon, lat)`` with that index (what repeated calls on the
  same grids cost; ``locate()`` reaches it after a fingerprint and cache lookup).
- ``sjoin``: ``geopandas.sjoin(points_gdf, grids, predicate="within")`` on a prebuilt points
  GeoDataFrame (building it is timed separately and *not* charged to sjoin); sjoin builds the
  grids' spatial index itself, as it would in the application. It computes no snapping and
  no distances. ``locate`` here measures no distance for points beyond the snap tolerance
  either (``far_distances=False``, the default); ``--far-distances`` times that too.

Both sides are warmed up first on a tiny case (imports, PROJ database, first allocations).
Each timing is the median of ``--repeat`` runs (the fastest is shown too). Wall-clock and CPU
time are both shown: on a shared machine CPU time is the steadier figure. The ratios are
sjoin / locate. The answers must agree: every point sjoin puts within exactly one grid gets
that grid, every point in none is not ``inside``; the script exits 1 if not.

    python bench/geolocate.py --points 1000000 --grids 10000 --seed 0 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely

from geodata.pointindex.coastline import coastline_grids, coastline_points
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
    """Median and fastest (wall, CPU) seconds of ``repeat`` runs, and the last result."""
    runs, result = [], None
    for _ in range(repeat):
        before()
        cpu, wall = time.process_time(), time.perf_counter()
        result = run()
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    walls, cpus = zip(*runs, strict=True)
    return (statistics.median(walls), statistics.median(cpus)), min(runs), result


def voronoi_case(args, rng: np.random.Generator):
    grids = voronoi_grids(args.grids, rng)
    x0, y0, x1, y1 = BOX
    m = args.margin
    lon = rng.uniform(x0 - m, x1 + m, args.points)
    lat = rng.uniform(y0 - m, y1 + m, args.points)
    return f"{len(grids):,} Voronoi grids (margin {m} deg)", grids, lon, lat


def coastline_case(args, rng: np.random.Generator):
    grids = coastline_grids(rng, vertices=args.vertices)
    lon, lat = coastline_points(grids, args.points, rng)
    n_vertices = int(shapely.get_num_coordinates(grids.geometry.to_numpy()).sum())
    parts = sum(len(g.geoms) for g in grids.geometry)
    holes = sum(len(p.interiors) for g in grids.geometry for p in g.geoms)
    label = (
        f"{len(grids)} coastline districts ({n_vertices:,} vertices, {parts} parts,"
        f" {holes} holes; 40 % of points outside)"
    )
    return label, grids, lon, lat


def check(result, joined, n: int) -> str | None:
    """Why locate and sjoin disagree, or None."""
    counts = joined.index.value_counts()
    single = np.sort(counts.index[counts.to_numpy() == 1].to_numpy())
    expected = joined.loc[single, "code"].to_numpy()
    got = result["grid_code"].to_numpy()
    disagree = int((got[single] != expected).sum())
    if disagree:
        return f"{disagree:,} of {single.size:,} points get a different grid than sjoin"
    none = np.setdiff1d(np.arange(n), counts.index.to_numpy())
    inside = int((result["quality"].to_numpy()[none] == "inside").sum())
    if inside:
        return f"{inside:,} points sjoin puts in no grid are inside one"
    return None


def run_case(name: str, args, make) -> tuple[int, dict]:
    rng = np.random.default_rng(args.seed)
    label, grids, lon, lat = make(args, rng)
    n = lon.size
    print(f"\n== {name}: {label}, {n:,} points (seed {args.seed}, median of {args.repeat})")
    cold, cold_min, result = timed(
        lambda: geolocate.locate(grids, lon, lat), args.repeat, geolocate._cache.clear
    )
    build, build_min, index = timed(lambda: geolocate.GridIndex(grids), args.repeat)
    warm, warm_min, again = timed(lambda: index.locate(lon, lat), args.repeat)
    t_points, p_min, points = timed(
        lambda: gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326), args.repeat
    )
    sjoin, sjoin_min, joined = timed(
        lambda: gpd.sjoin(points, grids, predicate="within"), args.repeat
    )
    far = None
    if args.far_distances:
        far, far_min, _ = timed(lambda: index.locate(lon, lat, far_distances=True), 1)
    if not again.equals(result):
        print("FAIL: prebuilt index and locate() differ")
        return 1, {}
    q = result["quality"].value_counts()
    print(
        f"locate: inside {q['inside']:,}  snapped {q['snapped']:,}  outside {q['outside']:,}"
        f" (raster {index.shape[1]}x{index.shape[0]} cells)"
    )
    counts = joined.index.value_counts()
    print(
        f"sjoin within: {len(joined):,} matches, {int((counts == 1).sum()):,} points in exactly"
        f" one grid, {int((counts > 1).sum()):,} in several"
    )

    def line(label: str, med: tuple, fastest: tuple, rate: bool = True) -> None:
        text = f"  {label:<36}{med[0]:7.3f} s wall {med[1]:7.3f} s CPU (fastest {fastest[0]:.3f})"
        print(text + (f"  {n / med[0] / 1e6:5.2f} M points/s" if rate else ""))

    line("locate, cold (build + locate)", cold, cold_min)
    line("  index build alone", build, build_min, rate=False)
    line("locate, warm (prebuilt index)", warm, warm_min)
    if far is not None:
        line("locate, warm, far_distances=True", far, far_min)
    line("points GeoDataFrame (not charged)", t_points, p_min, rate=False)
    line("geopandas.sjoin within", sjoin, sjoin_min)
    for i, kind in enumerate(("wall", "CPU")):
        print(
            f"ratio sjoin / locate ({kind}): cold {sjoin[i] / cold[i]:.1f}x,"
            f" warm {sjoin[i] / warm[i]:.1f}x;"
            f" (points + sjoin) / cold {(t_points[i] + sjoin[i]) / cold[i]:.1f}x"
        )
    problem = check(result, joined, n)
    if problem:
        print(f"FAIL: {problem}")
        return 1, {}
    print("agree: same grid for every point sjoin puts in exactly one grid, none inside elsewhere")
    figures = {"cold_s": cold[0], "warm_s": warm[0], "sjoin_s": sjoin[0]}
    return 0, figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=["voronoi", "coastline", "both"], default="both")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--grids", type=int, default=10_000, help="Voronoi grids")
    parser.add_argument("--vertices", type=int, default=96_000, help="coastline vertices asked")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--margin", type=float, default=0.002, help="degrees points may fall outside the box"
    )
    parser.add_argument("--repeat", type=int, default=3, help="median of this many runs")
    parser.add_argument(
        "--far-distances", action="store_true", help="also time locate(far_distances=True)"
    )
    args = parser.parse_args(argv)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    warm = voronoi_grids(20, np.random.default_rng(1))
    xy = np.random.default_rng(2).uniform(BOX[:2], BOX[2:], (1000, 2))
    geolocate.locate(warm, xy[:, 0], xy[:, 1])
    points_warm = gpd.GeoDataFrame(geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=4326)
    gpd.sjoin(points_warm, warm, predicate="within")

    cases = {"voronoi": voronoi_case, "coastline": coastline_case}
    names = list(cases) if args.case == "both" else [args.case]
    summary = []
    for name in names:
        status, fig = run_case(name, args, cases[name])
        if status:
            return status
        summary.append(
            f"{name}: locate_cold_s={fig['cold_s']:.3f} locate_warm_s={fig['warm_s']:.3f}"
            f" sjoin_s={fig['sjoin_s']:.3f} ratio_cold={fig['sjoin_s'] / fig['cold_s']:.1f}"
            f" ratio_warm={fig['sjoin_s'] / fig['warm_s']:.1f}"
        )
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
