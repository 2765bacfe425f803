"""Synthetic but realistic demo data for Huanshi street (环市街道), Pengjiang district, Jiangmen.

:func:`build_demo` returns areas, grids, staff, assignments, legal needs, service events and
service points as (Geo)DataFrames in WGS84 (EPSG:4326). It knows nothing of the ORM: the
seeding service loads the frames into the database.

What is real and what is not
----------------------------
The district outline (Amap fence of 蓬江区) and the locations and codes of the 18 Huanshi
communities come from the bundled reference data in ``geodata/data`` (GCJ-02, converted here
with :mod:`geodata.crs`). **No public polygon exists for the street, the communities or the
grids: all of them are illustrative.** Community polygons are a Voronoi split of the community
points, clipped to the district and to a compact street extent; grids are a k-means/Voronoi
split of each community. Staff, residents, phone numbers and cases are invented. The volumes
follow the seed article on Yude community (育德社区): 11 grids, over a thousand needs, about 200
services and about 30 disputes mediated, film screenings twice a month.

Conventions
-----------
- Dates are ``datetime.date`` objects (``None`` where missing) over 2024-01-01..2025-12-31.
  Text columns use pandas' string dtype, except text that may be missing (``parent_code``,
  ``dispute_type``, ``outcome``, ``assistant``): object dtype with ``None``, like the dates.
- Assignment periods are half-open, as everywhere in GridLaw: an assignment holds on ``d``
  when ``valid_from <= d`` and (``valid_to is None`` or ``d < valid_to``); a successor starts
  on its predecessor's ``valid_to``.
- Grid codes are the community's 12-digit code plus a 3-digit sequence in reading order: grids
  are ranked by centroid latitude into ``round(sqrt(n))`` rows of near-equal size (north
  first), then west to east within a row.
- About 0.5 % of the needs lie just outside every grid (1–18 m, GPS noise to be snapped) and,
  from 400 needs on, two lie far outside (over 1.5 km, inside the district). ``assistant`` of a
  need is the grid assistant of the grid holding the point on the report date; for a point just
  outside it is the nearest grid's assistant, for a point far outside ``None``.
- Staff: one grid assistant (capacity 1.0 FTE), mediator (0.5) and lawyer (0.2, 一格一律师) per
  grid, an information officer (0.5) per three grids and 5–10 volunteers (0.2) per community.
  In every community one assistant was replaced during 2024 (the old worker is inactive); at
  street scale one lawyer outside Yude left on 2025-06-30 without a successor.
- Same arguments give identical frames: every random draw comes from
  ``numpy.random.default_rng`` seeded with ``seed`` (per community ``[seed, code]``, so Yude's
  grids are the same at both scales).

Examples
--------
>>> demo = build_demo(seed=0)
>>> len(demo.grids), demo.grids.code.iloc[0]
(11, '440703006106001')

Modules
-------
- :mod:`~geodata.demo.reference`: the bundled reference data (district, community points,
  dispute categories), the period and the codes;
- :mod:`~geodata.demo.vocab`: names, categories, mixes and word lists;
- :mod:`~geodata.demo.draw`: small vectorised random draws and column builders;
- :mod:`~geodata.demo.places`: communities, areas, grids, service points, and where a point
  is (the production :mod:`geodata.pointindex`);
- :mod:`~geodata.demo.staff`: workers and assignments;
- :mod:`~geodata.demo.needs`: legal needs;
- :mod:`~geodata.demo.events`: service events.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.demo.events import _build_service_events
from geodata.demo.needs import _build_needs
from geodata.demo.places import (
    _build_areas,
    _build_grids,
    _build_service_points,
    _communities,
    _layout,
)
from geodata.demo.reference import END, MAX_NEEDS, NEEDS_PER_COMMUNITY, SCALES, START
from geodata.demo.staff import _build_staff

__all__ = ["DemoData", "build_demo", "SCALES", "START", "END", "MAX_NEEDS"]


@dataclass(frozen=True, eq=False)  # frames do not compare with ==; compare fields instead
class DemoData:
    """Everything :func:`build_demo` makes; all coordinates WGS84 (EPSG:4326).

    Attributes
    ----------
    areas : GeoDataFrame
        ``code, name, level, parent_code, geometry`` — district, street, communities.
    grids : GeoDataFrame
        ``code, name, community_code, population, households, geometry`` (MultiPolygon).
    workers : DataFrame
        ``code, name, role, phone, capacity, active``.
    assignments : DataFrame
        ``worker_code, grid_code, role, valid_from, valid_to`` (half-open periods).
    needs : DataFrame
        ``id, reported_at, lon, lat, category, dispute_type, description, source, status,
        outcome, due_date, closed_at, assistant, resident_name, resident_phone,
        under_correction``.
    service_events : DataFrame
        ``id, kind, held_on, grid_code, lon, lat, attendees, description``.
    service_points : DataFrame
        ``code, name, kind, community_code, lon, lat, opening_hours``.
    """

    areas: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    workers: pd.DataFrame
    assignments: pd.DataFrame
    needs: pd.DataFrame
    service_events: pd.DataFrame
    service_points: pd.DataFrame


def _check_args(scale: object, needs: object, seed: object) -> None:
    if scale not in SCALES:
        raise ValueError(f"scale={scale!r}: expected one of {', '.join(SCALES)}")
    if needs is not None and (
        isinstance(needs, bool)
        or not isinstance(needs, int | np.integer)
        or not 0 <= needs <= MAX_NEEDS
    ):
        raise ValueError(f"needs={needs!r}: expected None or an integer from 0 to {MAX_NEEDS:,}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed={seed!r}: expected a non-negative integer")


def build_demo(*, scale: str = "community", needs: int | None = None, seed: int = 0) -> DemoData:
    """Build the demo data set for Yude community or all of Huanshi street.

    Parameters
    ----------
    scale : {"community", "street"}
        ``"community"``: Yude's 11 grids and its staff, needs and services (areas still hold
        the district and the street). ``"street"``: all 18 communities with 8–12 grids each
        (Yude keeps 11).
    needs : int, optional
        Number of legal needs, 0 to 1,000,000. Default 1,200 per community built.
    seed : int
        Seed of every random draw; the same arguments give identical frames.

    Returns
    -------
    DemoData
        Frames in WGS84; see the module docstring for conventions.

    Raises
    ------
    ValueError
        If ``scale``, ``needs`` or ``seed`` is not one of the accepted values.
    """
    _check_args(scale, needs, seed)
    rng = np.random.default_rng(seed)
    communities = _communities(scale, int(seed))
    layout = _layout()
    areas = _build_areas(layout, communities)
    grids = _build_grids(layout, communities)
    staff = _build_staff(communities, grids, rng)
    n = NEEDS_PER_COMMUNITY * len(communities) if needs is None else int(needs)
    points = _build_service_points(communities, areas)
    return DemoData(
        areas=areas,
        grids=grids,
        workers=staff.workers,
        assignments=staff.assignments,
        needs=_build_needs(rng, n, communities, grids, areas, staff),
        service_events=_build_service_events(communities, grids, points),
        service_points=points,
    )
