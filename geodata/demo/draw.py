"""Small vectorised helpers of the demo: random names and phones, ids, text and date columns,
weighted picks, and the calendar of the period.

Example
-------
>>> import numpy as np
>>> _ids("N", 3, 4).tolist()
['N0001', 'N0002', 'N0003']
>>> _pick(np.random.default_rng(0), np.array([[0.0, 1.0], [1.0, 0.0]])).tolist()
[1, 0]
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from geodata.demo.reference import _DAYS, _SPRING_FESTIVALS, _START64, START
from geodata.demo.vocab import _GIVEN, _PHONE_PREFIXES, _SURNAME_WEIGHTS, _SURNAMES


def _names(rng: np.random.Generator, n: int) -> pd.Series:
    """Chinese personal names: a surname and one or (mostly) two given-name characters."""
    surname = _SURNAMES[rng.choice(len(_SURNAMES), n, p=_SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum())]
    first = _GIVEN[rng.integers(0, len(_GIVEN), n)]
    second = np.where(rng.random(n) < 0.7, _GIVEN[rng.integers(0, len(_GIVEN), n)], "")
    return _str(surname) + _str(first) + _str(second)


def _phones(rng: np.random.Generator, n: int) -> pd.Series:
    """Mobile numbers 1[3-9]xxxxxxxxx with real operator prefixes."""
    prefix = rng.choice(_PHONE_PREFIXES, n).astype(np.int64)
    return pd.Series(prefix * 100_000_000 + rng.integers(0, 100_000_000, n)).astype("str")


def _ids(prefix: str, n: int, width: int) -> pd.Series:
    return prefix + pd.Series(np.arange(1, n + 1)).astype("str").str.zfill(width)


def _str(values: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=object), dtype="str")


def _nullable(values) -> pd.Series:
    """Text that may be missing: object dtype with ``None`` (not NaN) for missing values."""
    values = np.asarray(values, dtype=object)
    return pd.Series(np.where(pd.isna(values), None, values), dtype=object)


def _dates(days: np.ndarray) -> np.ndarray:
    """Day offsets from START (NaN → None) as an object array of ``datetime.date``."""
    days = np.asarray(days, dtype=float)
    out = (_START64 + np.nan_to_num(days).astype("int64")).astype(object)
    out[np.isnan(days)] = None
    return out


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One column index per row of an (n, k) weight matrix (rows need not sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), probs.shape[1] - 1)


def _texts(rng: np.random.Generator, templates: list[str], fills: list[str], n: int) -> np.ndarray:
    table = np.array([t.format(f) for t in templates for f in fills], dtype=object)
    return table[rng.integers(0, len(table), n)]


def _calendar() -> tuple[np.ndarray, np.ndarray]:
    """Per day of the period: weekday (0 = Monday) and a holiday flag."""
    days = _START64 + np.arange(_DAYS)
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday
    holiday = np.zeros(_DAYS, dtype=bool)
    for festival in _SPRING_FESTIVALS:
        i = (festival - START).days
        holiday[i - 1 : i + 7] = True
    for year in (2024, 2025):
        i = (dt.date(year, 10, 1) - START).days
        holiday[i : i + 7] = True  # National Day golden week
    return weekday, holiday
