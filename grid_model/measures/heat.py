"""Needs counted on a lon/lat lattice in the database (:func:`heat_bins`): the map's heatmap
layer, a density picture, not a hotspot statistic (that is :mod:`grid_model.analysis`).

>>> HEAT_BASE_CELL_DEG
0.002
"""

from __future__ import annotations

import math

import pandas as pd
from sqlalchemy import ColumnElement, func, literal_column, select
from sqlalchemy.orm import Session

from grid_model.errors import InvalidInputError
from grid_model.models import Need
from grid_model.queries import read_frame
from grid_model.scope import Scope

#: The lattice needs are first counted on; coarser cells that are whole multiples of it are
#: counted from these counts. On SpatiaLite the index ``ix_needs_heat`` (migration 0002) holds
#: needs in this lattice's order, so the count streams instead of sorting every need.
HEAT_BASE_CELL_DEG = 0.002


def _cells(x: ColumnElement, size: str) -> ColumnElement:
    # ``op("/")`` keeps the SQL exactly ``floor(x / size)``: SQLAlchemy's own true division
    # adds ``+ 0.0`` on SQLite, and the index is only used when the expressions match.
    return func.floor(x.op("/")(literal_column(size)))


def _heat_bins_stmt(scope: Scope, cell_deg: float):
    """``ix, iy, weight``: needs per cell, ``ix = floor(lon / cell_deg)`` (same for ``iy``).

    Cells written into the SQL as literals: ``GROUP BY`` must repeat the ``SELECT``
    expressions exactly, which two bind parameters would not on PostgreSQL."""
    ratio = cell_deg / HEAT_BASE_CELL_DEG
    k = round(ratio)
    nested = k >= 1 and abs(k * HEAT_BASE_CELL_DEG - cell_deg) <= 1e-12 * cell_deg
    size = repr(HEAT_BASE_CELL_DEG) if nested else repr(float(cell_deg))
    ix, iy = _cells(Need.lon, size).label("ix"), _cells(Need.lat, size).label("iy")
    base = select(ix, iy, func.count().label("weight")).where(scope.need_filter()).group_by(ix, iy)
    if not nested or k == 1:
        return base
    inner = base.subquery("base_cells")
    # float division (``.0``): SQLite would truncate integer division towards zero
    ox = _cells(inner.c.ix, f"{k}.0").label("ix")
    oy = _cells(inner.c.iy, f"{k}.0").label("iy")
    return select(ox, oy, func.sum(inner.c.weight).label("weight")).group_by(ox, oy)


def _check_cell(cell_deg) -> None:
    """
    >>> _check_cell(0)
    Traceback (most recent call last):
    ...
    grid_model.errors.InvalidInputError: cell_deg=0: expected a positive number of degrees
    """
    if (
        isinstance(cell_deg, bool)
        or not isinstance(cell_deg, int | float)
        or not math.isfinite(cell_deg)
        or cell_deg <= 0
    ):
        raise InvalidInputError(f"cell_deg={cell_deg!r}: expected a positive number of degrees")


def heat_bins(session: Session, scope: Scope, *, cell_deg: float = 0.002) -> pd.DataFrame:
    """Needs counted on a ``cell_deg`` lon/lat lattice, in the database.

    Returns ``lon, lat`` (bin centres, WGS84) and ``weight`` (needs in the bin), one row per
    non-empty bin, so a heatmap gets a few thousand weighted points instead of one per need.
    0.002° is about 200 m at Jiangmen. This is a density picture, not a hotspot statistic.

    A ``cell_deg`` that is a whole multiple of :data:`HEAT_BASE_CELL_DEG` is counted from the
    base lattice, so its cells nest in the base cells; any other size is counted directly.
    """
    _check_cell(cell_deg)
    df = read_frame(session, _heat_bins_stmt(scope, cell_deg))
    return pd.DataFrame(
        {
            "lon": (df["ix"].astype("float64") + 0.5) * cell_deg,
            "lat": (df["iy"].astype("float64") + 0.5) * cell_deg,
            "weight": df["weight"].astype("int64"),
        }
    )
