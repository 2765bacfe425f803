"""Legal needs of the demo: when, where (hotspots, a few points off the grids), what
(category, dispute type, description), progress and the assistant who recorded each."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.crs import geometry_from_wgs84, to_wgs84
from geodata.demo.draw import _calendar, _dates, _ids, _names, _nullable, _phones, _pick, _str
from geodata.demo.loop import LOOP_COLUMNS, build_loop
from geodata.demo.places import _Community, _GridIndex, _uniform_points
from geodata.demo.reference import (
    _DAYS,
    _M_PER_DEG_LAT,
    _M_PER_DEG_LON,
    _SPRING_FESTIVALS,
    _START64,
    METRIC_CRS,
    START,
    YUDE_CODE,
    _reference,
)
from geodata.demo.staff import _Staff
from geodata.demo.vocab import (
    _CATEGORIES,
    _CATEGORY_MIX,
    _CORRECTION,
    _DISPUTES,
    _MEDIATION,
    _OUTCOME_MIX,
    _OUTCOMES,
    _SOURCE_MIX,
    _SOURCES,
    _TEMPLATES,
    _TIME_LIMITS,
    _WEEKEND_FACTOR,
)


@dataclass(frozen=True)
class _Hotspots:
    centre: np.ndarray  # (k, 2) lon/lat
    sigma_m: np.ndarray  # (k,)
    weight: np.ndarray  # (k,) shares of the static centres
    emerging: bool  # an extra last centre that appears in 2025 and grows


def _hotspots(c: _Community, outline: shapely.Geometry) -> _Hotspots:
    k = int(c.rng.integers(2, 4))
    emerging = c.code == YUDE_CODE or bool(c.rng.random() < 0.4)
    return _Hotspots(
        centre=_uniform_points(outline, k + emerging, c.rng),
        sigma_m=c.rng.uniform(60, 140, k + emerging),
        weight=c.rng.dirichlet(np.full(k, 2.0)),
        emerging=emerging,
    )


def _sample_days(rng: np.random.Generator, source: np.ndarray) -> np.ndarray:
    """Report days: slowly growing use, quieter at weekends (diaries most) and on holidays."""
    weekday, holiday = _calendar()
    base = 1.0 + 0.1 * np.arange(_DAYS) / _DAYS
    days = np.empty(len(source), dtype=int)
    for s in range(len(_SOURCES)):
        w = base * np.where(weekday >= 5, _WEEKEND_FACTOR[s], 1.0)
        w = w * np.where(holiday, 0.2 if _SOURCES[s] == "diary" else 0.5, 1.0)
        mask = source == s
        days[mask] = rng.choice(_DAYS, int(mask.sum()), p=w / w.sum())
    return days


def _mediation_season(days: np.ndarray) -> np.ndarray:
    """Factor on mediation: family and neighbour disputes peak around Spring Festival and in
    the summer holidays."""
    month = (_START64 + days).astype("datetime64[M]").astype(int) % 12 + 1
    factor = np.where((month == 7) | (month == 8), 1.5, 1.0)
    for festival in _SPRING_FESTIVALS:
        d = days - (festival - START).days
        factor = np.where((d >= -20) & (d <= 15), 2.0, factor)
    return factor


def _locate(
    rng: np.random.Generator,
    days: np.ndarray,
    community: np.ndarray,
    outlines: list[shapely.Geometry],
    hotspots: list[_Hotspots],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points inside each need's community: half uniform, half around the hotspot centres.

    Returns lon, lat and whether the point came from the community's first centre, where
    disputes concentrate.
    """
    n = len(days)
    lon, lat = np.empty(n), np.empty(n)
    dispute_hot = np.zeros(n, dtype=bool)
    ramp = np.clip((days - 366) / 365.0, 0.0, 1.0)  # 0 through 2024, 1 at the end of 2025
    for ci, (outline, hot) in enumerate(zip(outlines, hotspots, strict=True)):
        idx = np.flatnonzero(community == ci)
        weights = [np.full(len(idx), 0.5), 0.5 * np.tile(hot.weight, (len(idx), 1))]
        if hot.emerging:
            weights.append(0.45 * ramp[idx])
        comp = _pick(rng, np.column_stack(weights)) - 1  # -1: uniform background
        dispute_hot[idx] = comp == 0
        c = np.maximum(comp, 0)
        sigma = np.where(comp >= 0, hot.sigma_m[c], np.nan)
        lon[idx], lat[idx] = _rejection(rng, outline, hot.centre[c, 0], hot.centre[c, 1], sigma)
    return lon, lat, dispute_hot


def _rejection(
    rng: np.random.Generator,
    outline: shapely.Geometry,
    cx: np.ndarray,
    cy: np.ndarray,
    sigma_m: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian draws around (cx, cy) with spread ``sigma_m`` (uniform in the bounding box
    where NaN), redrawn until inside ``outline``; after 30 rounds the rest go uniform."""
    x0, y0, x1, y1 = outline.bounds
    shapely.prepare(outline)
    x, y = np.empty(len(cx)), np.empty(len(cx))
    pending = np.arange(len(cx))
    rounds = 0
    while len(pending):
        m = len(pending)
        s = sigma_m[pending]
        gauss = ~np.isnan(s) & (rounds < 30)
        s = np.nan_to_num(s)
        px = np.where(
            gauss, cx[pending] + rng.normal(0, 1, m) * s / _M_PER_DEG_LON, rng.uniform(x0, x1, m)
        )
        py = np.where(
            gauss, cy[pending] + rng.normal(0, 1, m) * s / _M_PER_DEG_LAT, rng.uniform(y0, y1, m)
        )
        inside = shapely.contains_xy(outline, px, py)
        x[pending[inside]], y[pending[inside]] = px[inside], py[inside]
        pending = pending[~inside]
        rounds += 1
    return x, y


def _near_outside(
    rng: np.random.Generator, union: shapely.Geometry, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Points 1–18 m outside ``union`` (WGS84): GPS noise around its outer boundary."""
    rings = shapely.get_exterior_ring(shapely.get_parts(union))
    start = np.concatenate([shapely.get_coordinates(r)[:-1] for r in rings])
    end = np.concatenate([shapely.get_coordinates(r)[1:] for r in rings])
    length = np.hypot(*((end - start) * [_M_PER_DEG_LON, _M_PER_DEG_LAT]).T)
    # Candidates must clear the outline by a metre (1 m in degrees of longitude is the most).
    clear = shapely.buffer(union, 1.0 / _M_PER_DEG_LON)
    shapely.prepare(clear)
    lon, lat = np.empty(0), np.empty(0)
    while len(lon) < n:
        k = 2 * (n - len(lon)) + 8
        seg, t = rng.choice(len(length), k, p=length / length.sum()), rng.random(k)[:, None]
        base = start[seg] + t * (end[seg] - start[seg])
        r, a = rng.uniform(2, 18, k), rng.uniform(0, 2 * np.pi, k)
        px = base[:, 0] + r * np.cos(a) / _M_PER_DEG_LON
        py = base[:, 1] + r * np.sin(a) / _M_PER_DEG_LAT
        keep = ~shapely.intersects_xy(clear, px, py)
        lon, lat = np.concatenate([lon, px[keep]]), np.concatenate([lat, py[keep]])
    return lon[:n], lat[:n]


def _far_outside(
    rng: np.random.Generator, union: shapely.Geometry, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Points inside the district but over 1.5 km from every grid."""
    district = geometry_from_wgs84([_reference().district], METRIC_CRS)[0]
    near = geometry_from_wgs84([union], METRIC_CRS)[0].buffer(1500)
    xy = _uniform_points(shapely.difference(district, near), n, rng)
    return to_wgs84(xy[:, 0], xy[:, 1], METRIC_CRS)


def _classify(
    rng: np.random.Generator, days: np.ndarray, dispute_hot: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Category index per need and dispute-type index (CSV order; -1 unless mediation)."""
    n = len(days)
    probs = np.tile(_CATEGORY_MIX, (n, 1))
    probs[:, _MEDIATION] *= _mediation_season(days) * np.where(dispute_hot, 2.5, 1.0)
    category = _pick(rng, probs)
    mediation = category == _MEDIATION
    w = np.array([_DISPUTES[t][0] for t in _reference().dispute_types], dtype=float)
    dispute = np.full(n, -1)
    dispute[mediation] = rng.choice(len(w), int(mediation.sum()), p=w / w.sum())
    return category, dispute


@lru_cache(maxsize=1)
def _description_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every need description in one array, with start and size per key: the categories,
    then the dispute types in CSV order (mediation needs are described by their type)."""
    groups = [
        []
        if c == "mediation"
        else [t.format(f) for t in _TEMPLATES[c][0] for f in _TEMPLATES[c][1]]
        for c in _CATEGORIES
    ]
    groups += [
        [f"{d}:{x},申请人民调解" for x in _DISPUTES[d][1]] for d in _reference().dispute_types
    ]
    sizes = np.array([len(g) for g in groups])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return np.array([t for g in groups for t in g], dtype=object), starts, sizes


def _describe(rng: np.random.Generator, category: np.ndarray, dispute: np.ndarray) -> np.ndarray:
    table, starts, sizes = _description_table()
    key = np.where(dispute >= 0, len(_CATEGORIES) + dispute, category)
    return table[starts[key] + (rng.random(len(key)) * sizes[key]).astype(int)]


@dataclass(frozen=True)
class _Progress:
    due: np.ndarray  # day offsets
    closed: np.ndarray  # bool
    closed_on: np.ndarray  # day offsets, NaN while open
    status: np.ndarray
    outcome: np.ndarray  # object, None while open


def _progress(rng: np.random.Generator, days: np.ndarray, category: np.ndarray) -> _Progress:
    """Due dates, closure (~90 % on time), status of open needs and outcomes of closed ones."""
    n = len(days)
    due = days + _TIME_LIMITS[category]
    duration = np.floor(_TIME_LIMITS[category] * rng.lognormal(np.log(0.4), 0.7, n))
    stuck = rng.random(n) < 0.02  # never progressed: the overdue backlog
    closed = ~stuck & (days + duration <= _DAYS - 1)
    u = rng.random(n)
    recorded = ((days >= _DAYS - 3) & (u < 0.5)) | (stuck & (u < 0.2))
    status = np.where(
        closed,
        "closed",
        np.where(recorded, "recorded", np.where(u < 0.5, "dispatched", "in_progress")),
    ).astype(object)
    outcome = np.full(n, None, dtype=object)
    outcome[closed] = np.array(_OUTCOMES, dtype=object)[_pick(rng, _OUTCOME_MIX[category[closed]])]
    closed_on = np.where(closed, days + duration, np.nan)
    return _Progress(due, closed, closed_on, status, outcome)


def _build_needs(
    rng: np.random.Generator,
    n: int,
    communities: list[_Community],
    grids: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    staff: _Staff,
) -> pd.DataFrame:
    """``n`` legal needs: when, where, what, how far along, and who recorded each."""
    source = rng.choice(len(_SOURCES), n, p=_SOURCE_MIX)
    days = _sample_days(rng, source)
    where = _where(rng, days, communities, grids, areas)
    category, dispute = _classify(rng, days, where.dispute_hot)
    description = _describe(rng, category, dispute)
    progress = _progress(rng, days, category)
    under_correction = (category == _CORRECTION) & (rng.random(n) < 0.85)
    assistant = _assistants(days, where.grid, staff)

    loop = build_loop(days, progress.status, progress.closed_on)
    o = np.argsort(days, kind="stable")
    dispute_names = np.array([*_reference().dispute_types, None], dtype=object)  # -1 → None
    return pd.DataFrame(
        {
            "id": _ids("N", n, 7),
            "reported_at": _dates(days[o]),
            "lon": where.lon[o],
            "lat": where.lat[o],
            "category": _str(np.array(_CATEGORIES, dtype=object)[category[o]]),
            "dispute_type": _nullable(dispute_names[dispute[o]]),
            "description": _str(description[o]),
            "source": _str(np.array(_SOURCES, dtype=object)[source[o]]),
            "status": _str(loop["status"].to_numpy()[o]),
            "outcome": _nullable(progress.outcome[o]),
            "due_date": _dates(progress.due[o]),
            "closed_at": _dates(progress.closed_on[o]),
            "assistant": _nullable(assistant[o]),
            "resident_name": _names(rng, n),
            "resident_phone": _phones(rng, n),
            "under_correction": under_correction[o],
            **{c: loop[c].to_numpy()[o] for c in LOOP_COLUMNS},
        }
    )


@dataclass(frozen=True)
class _Where:
    lon: np.ndarray
    lat: np.ndarray
    grid: np.ndarray  # row in grids; -1 far outside every grid
    dispute_hot: np.ndarray  # drawn around the community's first hotspot centre


def _where(
    rng: np.random.Generator,
    days: np.ndarray,
    communities: list[_Community],
    grids: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
) -> _Where:
    """A community per need by population and activity, a point in it and its grid; then a
    few points off the grids: GPS noise just outside (nearest grid), and a couple far away."""
    n = len(days)
    index = _GridIndex.of(grids, communities)
    outlines = [areas.geometry[areas["code"] == c.code].item() for c in communities]
    hotspots = [_hotspots(c, outline) for c, outline in zip(communities, outlines, strict=True)]
    activity = [1.0 if c.code == YUDE_CODE else c.rng.lognormal(0, 0.25) for c in communities]
    population = np.array([grids["population"].to_numpy()[rows].sum() for rows in index.rows])
    weight = population * np.array(activity)
    community = rng.choice(len(communities), n, p=weight / weight.sum())
    lon, lat, dispute_hot = _locate(rng, days, community, outlines, hotspots)
    grid = index.locate(lon, lat)

    n_near, n_far = int(round(0.005 * n)), (2 if n >= 400 else 0)
    off = rng.choice(n, n_near + n_far, replace=False)
    near, far = off[:n_near], off[n_near:]
    union = shapely.union_all(np.asarray(outlines, dtype=object))
    lon[near], lat[near] = _near_outside(rng, union, n_near)
    lon[far], lat[far] = _far_outside(rng, union, n_far)
    grid[near], grid[far] = index.nearest(lon[near], lat[near]), -1
    dispute_hot[off] = False
    return _Where(lon, lat, grid, dispute_hot)


def _assistants(days: np.ndarray, grid: np.ndarray, staff: _Staff) -> np.ndarray:
    """The grid assistant of each need's grid on its report day (None far outside)."""
    assistant = np.full(len(days), None, dtype=object)
    g = grid[grid >= 0]
    before = days[grid >= 0] < staff.changed_on[g]
    assistant[grid >= 0] = np.where(before, staff.former[g], staff.assistant[g])
    return assistant
