"""Hostile input through every entry point that takes it (issue 8, classes 3, 4, 9 and 10):
the CLI imports (files under ``tests/hostile/imp_*``), the diary form (``cases.record_need``)
and the search box (``cases.search_needs``), on both backends; plus the field vocabulary
(:mod:`grid_model.fields`) on its own.

Every bad file must exit 3, name each bad row and field, echo no resident's name or phone,
and store nothing."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grid_model import fields
from grid_model.analysis import emerging
from grid_model.cli import main
from grid_model.errors import ImportValidationError, InvalidInputError, RowError
from grid_model.models import Grid, Need, Worker
from grid_model.needs import cases
from grid_model.scope import Scope, Viewer
from tests.factories import add_need, make_community

HOSTILE = Path(__file__).resolve().parent / "hostile"
X, Y = 113.082, 22.606  # inside grid …001 of make_community (the hostile files use it too)
NAME = "欧阳" + "娜" * 49  # the over-long resident name in imp_too_long.csv


@pytest.fixture()
def url(committed_engine) -> str:
    with Session(committed_engine) as s, s.begin():
        make_community(s, n_grids=4)
    return committed_engine.url.render_as_string(hide_password=False)


def _counts(engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(conn.scalar(select(func.count()).select_from(m)) for m in (Need, Grid, Worker))


def _import(url, kind: str, name: str, capsys, *extra: str) -> tuple[int, str]:
    code = main(["--db", url, "--lang", "en", "-q", f"import-{kind}", str(HOSTILE / name), *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _named(output: str) -> set[tuple[int, str]]:
    """(row, field) of every row-error line the CLI printed."""
    return {(int(r), f) for r, f in re.findall(r"row (\d+) \(id [^)]*\): field '([^']+)'", output)}


HOSTILE_FILES = [
    # (kind, file, the (row, field) pairs that must be named)
    (
        "needs",
        "imp_correction_marks.csv",
        {(r, "under_correction") for r in range(2, 8)},
    ),
    (
        "needs",
        "imp_dates.csv",
        {
            (2, "reported_at"),
            (3, "reported_at"),
            (4, "reported_at"),
            (5, "closed_at"),
            (6, "due_date"),
            (7, "due_date"),
        },
    ),  # fmt: skip
    (
        "needs",
        "imp_too_long.csv",
        {
            (2, "resident_name"),
            (3, "description"),
            (4, "id"),
            (5, "resident_phone"),
            (6, "assistant"),
            (7, "source"),
        },
    ),  # fmt: skip
    (
        "needs",
        "imp_control_chars.csv",
        {
            (2, "description"),
            (3, "resident_name"),
            (4, "id"),
            (5, "description"),
            (5, "resident_name"),
        },
    ),  # fmt: skip
    (
        "needs",
        "imp_huge_coordinates.csv",
        {
            (2, "lon"),
            (2, "lat"),
            (3, "lon"),
            (4, "lat"),
            (5, "lon"),
            (6, "lon/lat"),
            (7, "lon"),
            (7, "lat"),
        },
    ),  # fmt: skip
    (
        "workers",
        "imp_workers_hostile.csv",
        {
            (2, "capacity"),
            (3, "capacity"),
            (4, "capacity"),
            (5, "capacity"),
            (6, "capacity"),
            (7, "active"),
            (8, "name"),
            (9, "phone"),
            (9, "valid_from"),
            (10, "name"),
        },
    ),  # fmt: skip
    (
        "grids",
        "imp_grids_hostile.geojson",
        {
            (2, "population"),
            (3, "population"),
            (4, "population"),
            (5, "population"),
            (6, "households"),
            (7, "name"),
            (8, "name"),
            (9, "code"),
        },
    ),  # fmt: skip
]


@pytest.mark.db
@pytest.mark.parametrize(
    ("kind", "name", "named"), HOSTILE_FILES, ids=[f[1] for f in HOSTILE_FILES]
)
def test_hostile_file_exits_3_names_rows_and_stores_nothing(
    url, committed_engine, capsys, kind, name, named
):
    before = _counts(committed_engine)
    code, output = _import(url, kind, name, capsys)
    assert code == 3, output
    assert "Traceback" not in output
    assert _named(output) == named
    assert NAME not in output and "1" * 33 not in output  # no resident's name, no phone
    assert "\x00" not in output and "\x1b" not in output and "\x07" not in output
    assert _counts(committed_engine) == before


@pytest.mark.db
def test_projected_coordinates_ask_for_crs(url, capsys):
    _, output = _import(url, "needs", "imp_huge_coordinates.csv", capsys)
    (line,) = [s for s in output.splitlines() if "row 6 " in s]
    assert "--crs EPSG:" in line
    assert "NaN" not in output


@pytest.mark.db
def test_every_documented_true_and_false_is_stored_as_such(url, committed_engine, capsys):
    code, output = _import(url, "needs", "imp_correction_accepted.csv", capsys)
    assert code == 0, output
    with Session(committed_engine) as s:
        stored = dict(s.execute(select(Need.external_id, Need.under_correction)).all())
    assert len(stored) == 16
    assert {k: int(v) for k, v in stored.items()} == {k: int(k[-1]) for k in stored}


@pytest.mark.db
@pytest.mark.parametrize(
    ("kind", "name", "columns"),
    [
        ("needs", "imp_two_description_columns.csv", ("description", "描述")),
        ("needs", "imp_two_phone_columns.csv", ("电话", "联系电话")),
        ("workers", "imp_workers_two_phone_columns.csv", ("电话", "联系电话")),
        ("grids", "imp_grids_two_name_columns.geojson", ("name", "网格名称")),
    ],
)
def test_two_columns_for_one_field_is_an_error_naming_both(
    url, committed_engine, capsys, kind, name, columns
):
    before = _counts(committed_engine)
    code, output = _import(url, kind, name, capsys)
    assert code == 3, output
    assert all(f"'{c}'" in output for c in columns), output
    assert _counts(committed_engine) == before


@pytest.mark.db
def test_summary_counts_rows_and_lists_every_problem(url, committed_engine, capsys):
    code, output = _import(url, "needs", "imp_eleven_bad_rows.csv", capsys)
    assert code == 3
    assert "11 invalid row(s) of 12" in output and "22 problem(s)" in output
    assert len(_named(output)) == 22
    assert _counts(committed_engine)[0] == 0


@pytest.mark.db
def test_skipped_rows_are_counted_as_rows(url, committed_engine, capsys, tmp_path):
    out = tmp_path / "bad.csv"
    code, output = _import(
        url, "needs", "imp_eleven_bad_rows.csv", capsys, "--skip-invalid", "--errors-out", str(out)
    )
    assert code == 0
    assert "11 invalid skipped" in output
    assert _counts(committed_engine)[0] == 1


# --- the diary form: cases.record_need ------------------------------------------------------

ADMIN = Viewer(role="admin", name="tester")


def _form(**overrides) -> cases.NeedInput:
    values = dict(lon=X, lat=Y, category="consultation", reported_at="2025-03-01", source="diary")
    values.update(overrides)
    return cases.NeedInput(**values)


def _tomorrow_plus(days: int) -> str:
    return (fields.today() + dt.timedelta(days=days)).isoformat()


FORM_CASES = [
    ({"description": "漏水\x00楼上"}, "description"),
    ({"description": "长" * (fields.TEXT_MAX + 1)}, "description"),
    ({"resident_name": NAME}, "resident_name"),
    ({"resident_name": "王\x1b五"}, "resident_name"),
    ({"resident_phone": "1" * 33}, "resident_phone"),
    ({"external_id": "E" * 65}, "id"),
    ({"reported_at": "0001-01-01"}, "reported_at"),
    ({"reported_at": "9999-12-31"}, "reported_at"),
    ({"reported_at": "1989-12-31"}, "reported_at"),
    ({"due_date": "9999-12-31"}, "due_date"),
    ({"lon": "1e308", "lat": "1e308"}, "lon"),
    ({"lon": float("inf")}, "lon"),
    ({"lon": 500123.5, "lat": 2499876.25}, "lon/lat"),
    ({"under_correction": "X"}, "under_correction"),
    ({"under_correction": "ture"}, "under_correction"),
]


@pytest.mark.db
@pytest.mark.parametrize(("overrides", "field"), FORM_CASES)
def test_record_need_rejects_hostile_fields(session, overrides, field):
    make_community(session, n_grids=4)
    before = session.scalar(select(func.count()).select_from(Need))
    with pytest.raises(InvalidInputError) as info:
        cases.record_need(session, _form(**overrides), viewer=ADMIN, lang="en")
    message = str(info.value)
    assert f"field '{field}'" in message
    assert NAME not in message and "\x00" not in message and "\x1b" not in message
    assert session.scalar(select(func.count()).select_from(Need)) == before


@pytest.mark.db
def test_record_need_day_after_tomorrow_is_rejected_and_tomorrow_accepted(session):
    make_community(session, n_grids=4)
    with pytest.raises(InvalidInputError, match="reported_at"):
        cases.record_need(session, _form(reported_at=_tomorrow_plus(2)), viewer=ADMIN, lang="en")
    need, created = cases.record_need(
        session, _form(reported_at=_tomorrow_plus(1), under_correction="√"), viewer=ADMIN
    )
    assert created and need.under_correction is True


# --- the search box: cases.search_needs -----------------------------------------------------


@pytest.mark.db
@pytest.mark.parametrize(
    "text", ["\x00", "漏水\x00", "a\x1b[2J", "x" * (fields.SEARCH_MAX + 1)], ids=repr
)
def test_search_rejects_nul_control_and_overlong_text(session, text):
    make_community(session, n_grids=4)
    with pytest.raises(InvalidInputError) as info:
        cases.search_needs(session, Scope(), ADMIN, text=text, lang="en")
    assert "search" in str(info.value)


@pytest.mark.db
def test_search_still_finds_ordinary_text(session):
    make_community(session, n_grids=4)
    add_need(session, external_id="S-1", description="楼上漏水 100%")
    found = cases.search_needs(session, Scope(), ADMIN, text=" 100% ")
    assert list(found["external_id"]) == ["S-1"]


# --- emerging hot spots on absurd stored dates ----------------------------------------------


@pytest.mark.db
def test_emerging_does_not_walk_centuries_of_months(session):
    c = make_community(session, n_grids=4)
    for code in c.grid_codes:
        for month in range(1, 13):
            add_need(session, grid_code=code, reported_at=dt.date(2024, month, 5))
    # written by another tool, bypassing the importers
    add_need(session, grid_code=c.grid_codes[0], reported_at=dt.date(1, 1, 1))
    add_need(session, grid_code=c.grid_codes[1], reported_at=dt.date(9999, 12, 31))
    started = time.perf_counter()
    result = emerging.emerging_table(session, Scope(), Viewer.local_admin("test"))
    assert time.perf_counter() - started < 30
    months = result.attrs["months"]
    assert months[0] >= "1990-01" and months[-1] <= fields.latest_reported().isoformat()[:7]
    assert len(months) == 12


# --- the vocabulary on its own ---------------------------------------------------------------


def test_booleans_accept_the_documented_set_only():
    accepted = ["是", "否", "√", "×", "✓", "✗", "1", "0", "true", "FALSE", "Yes", "no", "Y", "n"]
    values, bad = fields.parse_booleans(pd.Series([*accepted, None, "", " ✓ "], dtype=object))
    assert not bad.any()
    assert values.tolist() == [True, False] * 7 + [None, None, True]
    rejected = ["是的", "对", "X", "x", "ture", "2", "√√", "-", "yes!"]
    values, bad = fields.parse_booleans(pd.Series(rejected, dtype=object))
    assert bad.all() and values.isna().all()


def test_max_lengths_come_from_the_model():
    assert fields.max_length(Need.resident_name) == 50
    assert fields.max_length(Need.external_id) == 64
    assert fields.max_length(Need.description) == fields.TEXT_MAX == 5000
    assert fields.max_length(Grid.name) == 100


def test_text_problems():
    series = pd.Series(
        ["ok", "a\x00b", "tab\there", "line\nbreak", "\u202eevil", "x" * 6, None], dtype=object
    )
    single = fields.text_problems(series, max_length=5).tolist()
    assert single == [None, "control", "control", "control", "control", "too_long", None]
    free = fields.text_problems(series, max_length=5, multiline=True).tolist()
    assert free == [None, "control", "too_long", "too_long", "control", "too_long", None]


def test_date_bounds():
    today = fields.today()
    dates = pd.Series(
        [dt.date(1, 1, 1), dt.date(1989, 12, 31), dt.date(1990, 1, 1), today,
         today + dt.timedelta(days=1), today + dt.timedelta(days=2), dt.date(9999, 12, 31), None],
        dtype=object,
    )  # fmt: skip
    out = fields.outside(dates, fields.EARLIEST, fields.latest_reported()).tolist()
    assert out == [True, True, False, False, False, True, True, False]


def test_numbers():
    raw = pd.Series(["1", "0.5", "10", "0", "-1", "10.01", "inf", "nan", "1e309", "abc"])
    values, bad = fields.parse_numbers(raw, low=0, high=10, low_open=True)
    assert bad.tolist() == [False, False, False, True, True, True, True, True, True, True]
    counts, bad = fields.parse_counts(pd.Series(["0", "12", "3.5", "-1", "1e400", "99999999999"]))
    assert bad.tolist() == [False, False, True, True, True, True]
    assert counts.tolist()[:2] == [0, 12]


def test_import_validation_error_counts_rows():
    errors = [RowError(r, str(r), f, "v", "x") for r in range(2, 13) for f in ("a", "b")]
    exc = ImportValidationError(errors=errors, total_rows=12)
    assert exc.invalid_rows == 11
    assert "11" in exc.summary("en") and "22" in exc.summary("en")
    assert str(exc) == exc.summary("en")


# --- accounts: the display name and the area typed by an administrator ---------------------


@pytest.mark.db
@pytest.mark.parametrize(
    ("name", "area"),
    [("张\x00三", None), ("名" * 101, None), ("ok", "440703\x00"), ("ok", "4" * 33)],
    ids=["nul-name", "long-name", "nul-area", "long-area"],
)
def test_add_account_rejects_control_characters_and_overlong_text(session, name, area):
    from grid_model import accounts
    from grid_model.models import Account

    make_community(session, n_grids=1)
    with pytest.raises(InvalidInputError) as info:
        accounts.add_account(
            session, "clerk", "a long enough password", role="admin", area_code=area, name=name,
            lang="en", viewer=Viewer.local_admin("test"),
        )  # fmt: skip
    assert "\x00" not in str(info.value)
    assert session.scalar(select(func.count()).select_from(Account)) == 0
