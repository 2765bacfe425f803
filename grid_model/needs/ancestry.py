"""A need's district, from the stored hierarchy (never from a code's prefix).

A need in a grid takes its grid's district (``grids.district_code``, set at import from the
file's columns or the areas file). A need outside every grid takes the district of the area
polygon that contains it (a community's, a street's or a district's, followed up through
``areas.parent_code``); without one, for a file's rows, the single district every grid lies in, if there is just one (the
diary form: the viewer's district); else none.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grid_model.models import Area, AreaLevel, Grid

__all__ = ["district_of_point", "districts_of"]


def _district_of_area(areas: pd.DataFrame) -> dict[str, str]:
    """Each area's district: itself for a district, else the district up its parents (the
    topmost ancestor when no district lies above it)."""
    parent = dict(zip(areas["code"], areas["parent_code"], strict=True))
    level = dict(zip(areas["code"], areas["level"], strict=True))
    out: dict[str, str] = {}
    for code in parent:
        seen, here = set(), code
        while level.get(here) != AreaLevel.district and isinstance(parent.get(here), str):
            if here in seen:  # a cycle in the file: stop where it closes
                break
            seen.add(here)
            here = parent[here]
        out[code] = here
    return out


def _area_districts(session: Session, lon: np.ndarray, lat: np.ndarray) -> list[str | None]:
    """The district of the area polygon containing each point (None outside them all)."""
    rows = session.execute(
        select(
            Area.code, Area.level, Area.parent_code, func.ST_AsBinary(Area.boundary).label("wkb")
        )
    ).all()
    areas = pd.DataFrame(rows, columns=["code", "level", "parent_code", "wkb"])
    shaped = areas[areas["wkb"].notna()]
    if shaped.empty or len(lon) == 0:
        return [None] * len(lon)
    district = _district_of_area(areas)
    # Most specific first: a community's polygon wins over its district's.
    rank = {AreaLevel.community: 0, AreaLevel.street: 1, AreaLevel.district: 2}
    shaped = shaped.assign(rank=shaped["level"].map(rank).fillna(3)).sort_values("rank")
    polygons = gpd.GeoDataFrame(
        {"code": shaped["code"].to_numpy()},
        geometry=[shapely.from_wkb(bytes(w)) for w in shaped["wkb"]],
        crs=4326,
    ).reset_index(drop=True)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    hits = gpd.sjoin(points, polygons, predicate="within", how="left")
    first = hits.reset_index().sort_values(["index", "index_right"]).drop_duplicates("index")
    codes = first.set_index("index")["code"].reindex(range(len(lon)))
    return [district.get(c) if isinstance(c, str) else None for c in codes]


def _only_district(session: Session) -> str | None:
    found = session.scalars(select(Grid.district_code).distinct().limit(2)).all()
    return found[0] if len(found) == 1 else None


def districts_of(
    session: Session,
    grid_codes: pd.Series,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    fallback: str | None = None,
    guess: bool = True,
) -> pd.Series:
    """The district of each need: its grid's, else its area polygon's, else ``fallback``,
    else (with ``guess``) the single district of every grid; None when none of these."""
    grid_district = dict(session.execute(select(Grid.code, Grid.district_code)).all())
    out = pd.Series(
        [grid_district.get(c) if isinstance(c, str) else None for c in grid_codes],
        index=grid_codes.index,
        dtype=object,
    )
    outside = np.flatnonzero(grid_codes.isna().to_numpy())
    if len(outside):
        found = _area_districts(session, np.asarray(lon)[outside], np.asarray(lat)[outside])
        if fallback is None and guess:
            fallback = _only_district(session)
        out.iloc[outside] = [d if d is not None else fallback for d in found]
    return out


def district_of_point(
    session: Session, grid_code: str | None, lon: float, lat: float, viewer_area: str | None
) -> str | None:
    """One need's district (:func:`districts_of`); outside every grid and area polygon, the
    viewer's area when it is a district."""
    level = None
    if grid_code is None and viewer_area:
        level = session.scalar(select(Area.level).where(Area.code == viewer_area))
    fallback = viewer_area if level == AreaLevel.district else None
    codes = pd.Series([grid_code], dtype=object)
    return districts_of(session, codes, [lon], [lat], fallback=fallback, guess=False).iloc[0]
