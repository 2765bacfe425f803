"""The closed loop of the demo's needs: priority, the moments of dispatch, acceptance,
handling, verification and the return visit (local wall-clock times, naive), satisfaction,
rework and the open cases' place in the loop (accepted, returned, on hold, handled).

Drawn with a generator of its own (seeded from the needs' days), so the demo's other columns
stay what they were. Roughly: 10 % urgent; acceptance a lognormal number of hours after the
dispatch (median 3 h; a few after more than a day); 6 % of the verified cases fail a first
verification (rework); 60 % of the closed cases visited, 70 % 满意, 22 % 基本满意, 8 % 不满意.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geodata.demo.reference import _START64

_OPEN_MIX = {"dispatched": 0.2, "accepted": 0.15, "in_progress": 0.4, "on_hold": 0.1,
             "handled": 0.1, "returned": 0.05}  # fmt: skip
_SATISFACTION = np.array(["satisfied", "basically_satisfied", "dissatisfied"], dtype=object)
_SATISFACTION_MIX = [0.7, 0.22, 0.08]
#: The columns :func:`build_loop` adds to the needs (beside their status).
LOOP_COLUMNS = ("priority", "dispatched_at", "accepted_at", "handled_at", "verified_at",
                "visited_at", "satisfaction", "rework")  # fmt: skip


def _moment(day: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Day offsets plus hours as naive local datetime64[s] (NaT where the day is NaN)."""
    day = np.asarray(day, dtype=float)
    base = (_START64 + np.nan_to_num(day).astype("int64")).astype("datetime64[s]")
    out = base + (np.nan_to_num(hours) * 3600).astype("int64").astype("timedelta64[s]")
    out[np.isnan(day) | np.isnan(hours)] = np.datetime64("NaT")
    return out


def _open_status(rng: np.random.Generator, status: np.ndarray) -> np.ndarray:
    """Open needs past ``recorded`` spread over the loop's open statuses."""
    out = status.copy()
    moving = (status == "dispatched") | (status == "in_progress")
    names = np.array(list(_OPEN_MIX), dtype=object)
    out[moving] = names[rng.choice(len(names), moving.sum(), p=list(_OPEN_MIX.values()))]
    return out


def build_loop(days: np.ndarray, status: np.ndarray, closed_on: np.ndarray) -> pd.DataFrame:
    """The loop's columns for needs reported on day offsets ``days`` with ``status`` (the
    four-status flow) and closing day offsets ``closed_on`` (NaN while open)."""
    rng = np.random.default_rng(int(np.sum(days)) % 2**32)
    n = len(days)
    status = _open_status(rng, np.asarray(status, dtype=object))
    closed = status == "closed"
    dispatched = status != "recorded"
    same_day = closed & (np.nan_to_num(closed_on) <= days)
    d_hours = np.where(same_day, 8 + rng.uniform(0, 0.5, n), 8.5 + rng.uniform(0, 6, n))
    d_hours = np.where(dispatched, d_hours, np.nan)
    dispatched_at = _moment(days, d_hours)
    accepted = dispatched & ~np.isin(status, ["dispatched", "returned"])
    a_hours = d_hours + rng.lognormal(np.log(3), 1.0, n)
    # a closed case was accepted before the morning it was handled (09:00 on its closing day)
    latest = (np.nan_to_num(closed_on) - days) * 24 + 8.95
    a_hours = np.where(closed, np.minimum(a_hours, latest), a_hours)
    accepted_at = _moment(np.where(accepted, days, np.nan), a_hours)
    handled = closed | (status == "handled")
    done_day = np.where(closed, closed_on, days + np.ceil(a_hours / 24))
    handled_at = _moment(np.where(handled, done_day, np.nan), 9 + rng.uniform(0, 5, n))
    verified_at = _moment(np.where(closed, done_day, np.nan), 16 + rng.uniform(0, 3, n))
    visited = closed & (rng.random(n) < 0.6)
    visited_at = _moment(np.where(visited, done_day + 1 + rng.integers(0, 5, n), np.nan),
                         9 + rng.uniform(0, 8, n))  # fmt: skip
    satisfaction = np.where(visited, _SATISFACTION[rng.choice(3, n, p=_SATISFACTION_MIX)], None)
    return pd.DataFrame({
        "status": status,
        "priority": np.where(rng.random(n) < 0.1, "urgent", "normal").astype(object),
        "dispatched_at": dispatched_at, "accepted_at": accepted_at, "handled_at": handled_at,
        "verified_at": verified_at, "visited_at": visited_at,
        "satisfaction": pd.Series(satisfaction, dtype=object),
        "rework": closed & (rng.random(n) < 0.06),
    })  # fmt: skip
