"""Staff of the demo: grid assistants, mediators, lawyers, information officers and
volunteers, with their assignments (half-open periods) and each grid's assistant history."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.demo.draw import _names, _phones, _str
from geodata.demo.places import _Community
from geodata.demo.reference import START, YUDE_CODE


@dataclass(frozen=True)
class _Staff:
    workers: pd.DataFrame
    assignments: pd.DataFrame
    # Per grid (row order of grids): current assistant, and the former one with the first day
    # of the current assistant's assignment (None / 0 where the assistant never changed).
    assistant: np.ndarray
    former: np.ndarray
    changed_on: np.ndarray


def _build_staff(
    communities: list[_Community], grids: gpd.GeoDataFrame, rng: np.random.Generator
) -> _Staff:
    workers: list[tuple] = []
    rows: list[tuple] = []
    assistant = np.empty(len(grids), dtype=object)
    former = np.full(len(grids), None, dtype=object)
    changed_on = np.zeros(len(grids), dtype=int)

    def hire(community: str, letter: str, i: int, role: str, capacity: float) -> str:
        code = f"W{community}{letter}{i:02d}"
        workers.append((code, role, capacity, True))
        return code

    for c in communities:
        where = np.flatnonzero(grids["community_code"].to_numpy() == c.code)
        codes = grids["code"].to_numpy()[where]
        n = len(codes)
        # One assistant left during 2024: the old row is closed, the successor's opens.
        changed, day = int(c.rng.integers(0, n)), int(c.rng.integers(60, 300))
        for i, grid in enumerate(codes):
            code = hire(c.code, "A", i + 1, "grid_assistant", 1.0)
            since = START + dt.timedelta(day) if i == changed else START
            rows.append((code, grid, "grid_assistant", since, None))
            rows.append((hire(c.code, "M", i + 1, "mediator", 0.5), grid, "mediator", START, None))
            rows.append((hire(c.code, "L", i + 1, "lawyer", 0.2), grid, "lawyer", START, None))
            assistant[where[i]] = code
        old = hire(c.code, "A", n + 1, "grid_assistant", 1.0)
        workers[-1] = (old, "grid_assistant", 1.0, False)
        rows.append((old, codes[changed], "grid_assistant", START, START + dt.timedelta(day)))
        former[where[changed]], changed_on[where[changed]] = old, day

        for i, block in enumerate(np.array_split(codes, math.ceil(n / 3)), 1):
            officer = hire(c.code, "I", i, "info_officer", 0.5)
            rows.extend((officer, grid, "info_officer", START, None) for grid in block)
        for i in range(1, int(c.rng.integers(5, 11)) + 1):
            grid = codes[int(c.rng.integers(0, n))]
            rows.append((hire(c.code, "V", i, "volunteer", 0.2), grid, "volunteer", START, None))

    workers_df = pd.DataFrame(workers, columns=["code", "role", "capacity", "active"])
    assignments = pd.DataFrame(
        rows, columns=["worker_code", "grid_code", "role", "valid_from", "valid_to"]
    )
    if len(communities) > 1:
        _lawyer_vacancy(workers_df, assignments, rng)
    workers_df.insert(1, "name", _str(_unique(_names, rng, len(workers_df))))
    workers_df.insert(3, "phone", _str(_unique(_phones, rng, len(workers_df))))
    assignments = assignments.sort_values(["grid_code", "role", "valid_from"], kind="stable")
    return _Staff(workers_df, assignments.reset_index(drop=True), assistant, former, changed_on)


def _lawyer_vacancy(
    workers: pd.DataFrame, assignments: pd.DataFrame, rng: np.random.Generator
) -> None:
    """Street scale: one lawyer outside Yude left on 2025-06-30 and was not replaced yet, so the
    staffing-gap analysis has a grid without 一格一律师 to find."""
    lawyers = assignments.index[
        (assignments["role"] == "lawyer") & ~assignments["grid_code"].str.startswith(YUDE_CODE)
    ]
    k = lawyers[int(rng.integers(0, len(lawyers)))]
    assignments.at[k, "valid_to"] = dt.date(2025, 6, 30)
    workers.loc[workers["code"] == assignments.at[k, "worker_code"], "active"] = False


def _unique(draw, rng: np.random.Generator, n: int) -> np.ndarray:
    """``draw(rng, n)`` redrawn where it repeats, so every value is different."""
    values = draw(rng, n).to_numpy(dtype=object)
    while (dup := pd.Series(values).duplicated().to_numpy()).any():
        values[dup] = draw(rng, int(dup.sum())).to_numpy(dtype=object)
    return values
