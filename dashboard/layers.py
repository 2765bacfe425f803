"""What the Map page draws, read from the database in one go: grids, their measures, heat bins,
service points and needs outside every grid.

No Streamlit and no SQL here: :mod:`dashboard.reads` caches :func:`load_map_layers` per database, scope,
viewer and day, and ``bench/map_page.py`` times the same function. The five reads are
independent, so they run side by side, each in its own session: the page then waits for the
slowest read instead of their sum (the database drivers release the GIL while a query runs).
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from sqlalchemy import Engine

from dashboard.maps import MAX_MARKERS
from grid_model import db, queries
from grid_model.measures import indicators
from grid_model.scope import Scope, Viewer

HEAT_CELL_DEG = 0.002
#: Needs outside every grid drawn at most (one more is read to know there are more).
OUTSIDE_LIMIT = MAX_MARKERS


@dataclass
class MapLayers:
    grids: gpd.GeoDataFrame
    measures: pd.DataFrame
    heat: pd.DataFrame
    points: gpd.GeoDataFrame
    outside: pd.DataFrame


def load_map_layers(
    engine: Engine,
    scope: Scope,
    viewer: Viewer,
    *,
    today: dt.date,
    heat_cell_deg: float = HEAT_CELL_DEG,
    outside_limit: int = OUTSIDE_LIMIT,
    parallel: bool = True,
    lang: str = "zh",
) -> MapLayers:
    """The Map page's data for ``scope`` as ``viewer`` sees it, as of ``today``.

    Grids and service points are those of the scope's area (the period does not cut them);
    measures, heat bins and outside needs follow the whole scope. Outside needs are the newest
    ``outside_limit + 1``, redacted for the viewer. Each read is a
    :func:`grid_model.db.reading` transaction: database errors arrive in ``lang``.
    """
    area = Scope(area_code=scope.area_code)

    def read(fn):
        def run():
            with db.reading(engine, lang=lang) as s:
                return fn(s)

        return run

    jobs = {
        "grids": read(lambda s: queries.load_grids(s, area)),
        "measures": read(lambda s: indicators.grid_measures(s, scope, today=today)),
        "heat": read(lambda s: indicators.heat_bins(s, scope, cell_deg=heat_cell_deg)),
        "points": read(lambda s: queries.load_service_points(s, area)),
        "outside": read(
            lambda s: queries.load_needs(
                s, scope, viewer, limit=outside_limit + 1, quality="outside"
            )
        ),
    }
    if parallel:
        with ThreadPoolExecutor(max_workers=len(jobs), thread_name_prefix="map-layers") as pool:
            futures = {name: pool.submit(job) for name, job in jobs.items()}
            results = {name: f.result() for name, f in futures.items()}
    else:
        results = {name: job() for name, job in jobs.items()}
    return MapLayers(**results)
