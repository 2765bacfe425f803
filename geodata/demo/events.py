"""Service events of the demo: film screenings twice a month, lectures, legal-school classes,
leaflet drives, lawyers' consultation sessions and mediation sessions.

Example
-------
>>> len(_film_days())  # two years, twice a month
48
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.demo.draw import _calendar, _dates, _ids, _texts
from geodata.demo.places import _Community, _GridIndex, _uniform_points
from geodata.demo.reference import _DAYS, _START64, YUDE_CODE
from geodata.demo.vocab import _EVENT_COUNTS, _EVENT_KINDS, _EVENT_SPECS


def _film_days() -> np.ndarray:
    """Twice a month (24 a year): the first and third Friday evening."""
    weekday, _ = _calendar()
    month = (_START64 + np.arange(_DAYS)).astype("datetime64[M]")
    fridays = np.flatnonzero(weekday == 4)
    nth = pd.Series(fridays).groupby(month[fridays]).cumcount().to_numpy()
    return fridays[(nth == 0) | (nth == 2)]


def _build_service_events(
    communities: list[_Community], grids: gpd.GeoDataFrame, points: pd.DataFrame
) -> pd.DataFrame:
    """Per community: film screenings twice a month, and lectures, legal-school classes,
    leaflet drives, lawyers' consultation sessions and mediation sessions (~200 in two years)."""
    index = _GridIndex.of(grids, communities)
    weekday, holiday = _calendar()
    pools = {
        "workday": np.flatnonzero((weekday < 5) & ~holiday),
        "weekend": np.flatnonzero(weekday >= 5),
    }
    frames = []
    for ci, c in enumerate(communities):
        venues = points[points["community_code"] == c.code].set_index("kind")
        frames += [_events_of_kind(kind, ci, c, index, venues, pools) for kind in _EVENT_KINDS]
    events = pd.concat(frames, ignore_index=True)
    events = events.sort_values(["day", "community", "kind"], kind="stable", ignore_index=True)
    return pd.DataFrame(
        {
            "id": _ids("E", len(events), 6),
            "kind": events["kind"],
            "held_on": _dates(events["day"].to_numpy()),
            "grid_code": grids["code"].to_numpy()[events["grid"].to_numpy()],
            "lon": events["lon"],
            "lat": events["lat"],
            "attendees": events["attendees"],
            "description": events["description"],
        }
    )


def _events_of_kind(
    kind: str,
    ci: int,
    c: _Community,
    index: _GridIndex,
    venues: pd.DataFrame,
    pools: dict[str, np.ndarray],
) -> pd.DataFrame:
    """One community's events of one kind: days, then place (the venue or a grid), attendees
    and description, all drawn from the community's own generator."""
    pool, venue, (lo, hi), template, topics = _EVENT_SPECS[kind]
    if kind == "film_screening":
        days = _film_days()
    else:
        count = _EVENT_COUNTS[kind]
        count = count if c.code == YUDE_CODE else int(c.rng.poisson(count))
        days = np.sort(c.rng.choice(pools[pool], count))
    m = len(days)
    if venue is not None:  # held at the community's venue
        where = venues.loc[venue if venue in venues.index else "legal_service_room"]
        xy = np.tile([where["lon"], where["lat"]], (m, 1))
        grid = np.repeat(index.locate(xy[:1, 0], xy[:1, 1]), m)
    else:  # out in one of the grids
        grid = c.rng.choice(index.rows[ci], m)
        xy = np.empty((m, 2))
        for r in np.unique(grid):
            xy[grid == r] = _uniform_points(index.geoms[r], int((grid == r).sum()), c.rng)
    return pd.DataFrame(
        {
            "day": days,
            "community": c.code,
            "kind": kind,
            "grid": grid,
            "lon": xy[:, 0],
            "lat": xy[:, 1],
            "attendees": c.rng.integers(lo, hi + 1, m),
            "description": _texts(c.rng, [template], topics, m),
        }
    )
