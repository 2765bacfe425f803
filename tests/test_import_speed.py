"""The import's fast paths of issue 14's second round against the plain ones, value by value:
COPY's text built column by column against psycopg's ``write_row``; the column checks run
once per distinct value against a run per cell."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from grid_model import db, fields
from grid_model.cases import import_columns
from grid_model.db import bulk
from grid_model.moments import DateReading, parse_moments
from grid_model.needs import validate

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
            "blob": [np.arange(k, dtype="<i8").tobytes() for k in range(n - 1)] + [None],
            "lon": [113.0 + k / 7 for k in range(n - 2)] + [-180.0, np.nan],
            "lat": [22.0 + k / 9 for k in range(n - 2)] + [-89.99999999999999, 1e-300],
        }
    )


@pytest.fixture()
def pg_session():
    """A PostGIS session only: COPY is PostgreSQL's (SQLite's inserts take driver values as
    they are), and a test skipped on one backend fails CI."""
    from tests.conftest import _postgis_engine

    engine = _postgis_engine("copy")
    db.upgrade(engine)
    with Session(engine) as s:
        yield s
        s.rollback()
    engine.dispose()


def test_copy_text_stores_what_write_row_stores(pg_session, monkeypatch):
    session = pg_session
    session.execute(
        text(
            "CREATE TEMP TABLE copy_probe (k serial, t text, i integer, f float8, b boolean, "
            "d date, ts timestamp, blob bytea, g geometry(Point, 4326))"
        )
    )
    frame = _tricky_frame()
    cols = ["t", "i", "f", "b", "d", "ts", "blob"]

    def stored() -> list[tuple]:
        bulk.insert_frame(session, "copy_probe", frame, cols, point=("g", "lon", "lat"))
        rows = session.execute(
            text(
                "SELECT t, i, f, b, d, ts, blob, ST_AsEWKT(g), ST_X(g), ST_Y(g) FROM copy_probe "
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
    monkeypatch.setattr(bulk, "_points_hex", bulk._points_ewkt)
    slow = stored()
    assert fast == slow
    assert [r[0] for r in fast] == TRICKY_TEXT  # "" stays "", r"\N" stays text
    assert fast[-1][7] is None and fast[0][8] == 113.0
    assert np.frombuffer(fast[3][6], dtype="<i8").tolist() == [0, 1, 2]


def _no_text(*args):
    raise TypeError("psycopg's write_row, as before")


def test_copy_text_refuses_what_it_does_not_know():
    frame = pd.DataFrame({"j": [{"a": 1}, None]})
    with pytest.raises(TypeError):
        bulk._copy_lines(frame, ["j"])


MOMENT_CELLS = ["2025-03-04", "2025/3/4 9:30", "2025年3月4日", None, "", " ",
                "2025-02-30", "03/04/2025", "04/03/2025 10:00", "2025-03-04T09:30:00+08:00",
                "x", "0001-01-01", "9999-12-31 23:59", " 2025-03-04 ", "2025-03-04"]  # fmt: skip


@pytest.mark.parametrize("dayfirst", [False, True])
@pytest.mark.parametrize("extra", [[], [float("nan"), dt.date(2025, 3, 4), 1, 1.0]])
def test_moments_parsed_once_per_value_as_cell_by_cell(dayfirst, extra, monkeypatch):
    """Text and None: parsed once per value; anything else (a form's values) as it is."""
    reading = DateReading(dayfirst=dayfirst)
    raw = pd.Series(MOMENT_CELLS * 3 + extra, dtype=object)
    seen = []
    monkeypatch.setattr(validate, "parse_moments", lambda r, rd: seen.append(len(r)) or
                        parse_moments(r, rd))  # fmt: skip
    fast = validate._parse_moments_once(raw, reading)
    assert seen == [len(raw) if extra else len(set(MOMENT_CELLS) - {None})]
    plain = parse_moments(raw, reading)
    for got, expected in zip(fast, plain, strict=True):
        assert list(map(type, got)) == list(map(type, expected))
        assert list(got) == list(expected)


def test_column_checks_per_value_as_cell_by_cell():
    cells = pd.Series(["人民调解", " consultation ", None, "Legal Aid", "astrology", "", "调解",
                       "PUBLICITY", "其他"] * 4, dtype=object)  # fmt: skip
    got = fields._map_vocabulary(fields.stripped(cells), validate.CATEGORY_ALIASES)
    vocab = fields.vocabulary(validate.CATEGORY_ALIASES)
    assert got.tolist() == [
        None if v is None else vocab.get(v.lower(), vocab.get(v))
        for v in map(fields.clean_cell, cells)
    ]
    days = pd.Series([dt.date(1989, 12, 31), None, dt.date(1990, 1, 1), dt.date(2031, 1, 1),
                      dt.date(2030, 12, 31)] * 3, dtype=object)  # fmt: skip
    low, high = dt.date(1990, 1, 1), dt.date(2030, 12, 31)
    assert fields.outside(days, low, high).tolist() == [
        d is not None and not (low <= d <= high) for d in days
    ]


ISO_CELLS = ["2025-03-04", "2025-03-04 09:30", "2025-03-04T09:30:05", "2025-03-04 09:30:05.1",
             "2025-03-04 09:30:05.123456", "2025-03-04 09:30:05.1234567", "2025-03-04 09:30:05.",
             "2025-03-04 9:30", "2025-3-04", "2025/03/04", "2025-03-04x09:30", "2025-03-04 09:3a",
             "2025-03-04 09:30:5", "2025-03-04T09:30:00+08:00", "20250-03-04", "", "x", None,
             "2025-03-04 09:30:05.12a456", "2025-03-04 09-30", "２０２５-03-04", "1999-12-31 23:59"]  # fmt: skip


def test_plain_iso_mask_as_pandas_fullmatch():
    raw = pd.Series(ISO_CELLS * 2 + [np.nan], dtype=object)
    got = import_columns._plain_iso(raw.to_numpy())
    expected = raw.str.fullmatch(import_columns._ISO_NAIVE).fillna(False).astype(bool)
    assert got.tolist() == expected.tolist()
    assert sum(got) == 2 * 7  # the full-width digits are digits to the regex


def test_instant_texts_in_one_go_as_value_by_value():
    stamps = pd.Series(
        np.array(
            [
                "2025-03-04T09:30:05.123456",
                "NaT",
                "1000-01-01",
                "9999-12-31T23:59:59",
                "2025-03-04",
            ],
            dtype="datetime64[us]",
        )  # fmt: skip
    )
    got = import_columns._instant_texts(stamps)
    assert got.tolist() == [import_columns._as_text(v) for v in stamps]
    assert got.tolist()[0] == "2025-03-04 09:30:05.123456" and got[1] is None
