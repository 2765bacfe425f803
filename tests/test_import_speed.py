"""The import's fast paths of issue 14's second round against the plain ones, value by value:
COPY's text built column by column against psycopg's ``write_row``."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from grid_model import db
from grid_model.db import bulk

TRICKY_TEXT = ["plain", None, "tab\there", "new\nline", "cr\r\nlf", "back\\slash", r"\N", "",
               "引号\"和,逗号", "\\\\t", " lead and trail ", "emoji 🚧"]  # fmt: skip


def _tricky_frame() -> pd.DataFrame:
    n = len(TRICKY_TEXT)
    return pd.DataFrame(
        {
            "t": pd.Series(TRICKY_TEXT, dtype=object),
            "i": pd.array([1, None, 3, -4, 0, 2**31 - 1, 5, 6, 7, 8, 9, 10], dtype="Int64"),
            "f": [
                0.1,
                np.nan,
                1e-300,
                -2.5,
                1e16,
                113.04620124950573,
                22.6,
                3.0,
                0.0,
                -0.0,
                7.25,
                1 / 3,
            ],  # fmt: skip
            "b": [True, False] * (n // 2),
            "d": [dt.date(2025, 1, 2), None, pd.NaT, dt.date(1990, 1, 1)] * (n // 4),
            "ts": [
                dt.datetime(2025, 1, 2, 3, 4, 5, 6),
                None,
                dt.datetime(2025, 1, 2),
                pd.Timestamp("2024-02-29 23:59:59.999999"),
            ]
            * (n // 4),  # fmt: skip
            "lon": [113.0 + k / 7 for k in range(n - 1)] + [np.nan],
            "lat": [22.0 + k / 9 for k in range(n)],
        }
    )


@pytest.mark.db
def test_copy_text_stores_what_write_row_stores(session, monkeypatch):
    if db.is_sqlite(session.get_bind()):
        pytest.skip("COPY is PostgreSQL's; SQLite's inserts take driver values as they are")
    session.execute(
        text(
            "CREATE TEMP TABLE copy_probe (k serial, t text, i integer, f float8, b boolean, "
            "d date, ts timestamp, g geometry(Point, 4326))"
        )
    )
    frame = _tricky_frame()
    cols = ["t", "i", "f", "b", "d", "ts"]

    def stored() -> list[tuple]:
        bulk.insert_frame(session, "copy_probe", frame, cols, point=("g", "lon", "lat"))
        rows = session.execute(
            text(
                "SELECT t, i, f, b, d, ts, ST_AsEWKT(g), ST_X(g), ST_Y(g) FROM copy_probe "
                "ORDER BY k"
            )
        ).all()
        session.execute(text("TRUNCATE copy_probe"))
        return [tuple(r) for r in rows]

    calls = []
    real = bulk._copy_lines
    monkeypatch.setattr(bulk, "_copy_lines", lambda *a: calls.append(1) or real(*a))
    fast = stored()
    assert calls, "the text path ran"
    monkeypatch.setattr(bulk, "_copy_lines", _no_text)
    slow = stored()
    assert fast == slow
    assert [r[0] for r in fast] == TRICKY_TEXT  # "" stays "", r"\N" stays text
    assert fast[-1][6] is None and fast[0][7] == 113.0


def _no_text(*args):
    raise TypeError("psycopg's write_row, as before")


def test_copy_text_refuses_what_it_does_not_know():
    frame = pd.DataFrame({"j": [{"a": 1}, None]})
    with pytest.raises(TypeError):
        bulk._copy_lines(frame, ["j"])
