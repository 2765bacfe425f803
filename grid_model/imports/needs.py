"""Importing needs: a table of needs checked (:func:`grid_model.needs.validate.validate_needs`),
located into grids and bulk-inserted (:func:`store_needs`).

Importing the same file again adds nothing: the external id is the key.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
from sqlalchemy import ARRAY, String, any_, bindparam, func, select
from sqlalchemy.orm import Session

from geodata.errors import GeodataError
from grid_model import audit, db, instants
from grid_model.cases.import_columns import (
    INSERTED,
    INSTANTS,
    check_loop_columns,
    synthesise_events,
    with_loop_defaults,
)
from grid_model.db.bulk import bulk_load, insert_frame
from grid_model.errors import InvalidInputError
from grid_model.imports.mapping import ImportMapping, apply_columns
from grid_model.imports.report import ImportReport, settle_errors
from grid_model.imports.rows import NEED_COLUMNS, read_table, rename_columns, source_name
from grid_model.measures import need_stats
from grid_model.models import CaseEvent, Need, Worker
from grid_model.needs import ancestry, geolocate
from grid_model.needs.validate import validate_needs
from grid_model.queries import load_grids
from grid_model.scope import Viewer, require

NEED_INSERT_COLUMNS = [
    "external_id",
    "district_code",
    "reported_at",
    "reported_time",
    "lon",
    "lat",
    "grid_code",
    "quality",
    "category",
    "dispute_type",
    "description",
    "source",
    "status",
    "outcome",
    "due_date",
    "closed_at",
    "closed_time",
    "worker_code",
    "resident_name",
    "resident_phone",
    "under_correction",
    *INSERTED,  # the closed loop's (grid_model.cases.import_columns)
]

#: Imports of at least this many needs refresh the planner's statistics of ``needs`` (about a
#: second on a million needs; see :func:`grid_model.db.analyze`).
ANALYZE_AFTER_ROWS = 10_000

#: External ids asked for in one ``IN (...)``.
_ID_CHUNK = 5000


def import_needs(
    session: Session,
    source,
    *,
    filename: str | None = None,
    crs: str = "wgs84",
    skip_invalid: bool = False,
    errors_out: str | Path | None = None,
    lang: str = "zh",
    viewer: Viewer,
    snap_m: float | None = None,
    progress=None,
    mapping: ImportMapping | None = None,
) -> ImportReport:
    """Import a needs table (CSV in UTF-8/BOM/GBK/GB18030, or XLSX); ``mapping`` names its
    columns, translates its values and says how its dates read
    (:mod:`grid_model.imports.mapping`).

    Raises
    ------
    ImportValidationError
        when any row is bad and ``skip_invalid`` is False; nothing is stored.
    PermissionDeniedError
        ``viewer`` may not import (:func:`grid_model.scope.require`); nothing is read.
    """
    viewer = require(session, viewer, "import", lang=lang)
    report, new = _checked_rows(
        session, source, filename, crs=crs, lang=lang, mapping=mapping or ImportMapping(),
        skip_invalid=skip_invalid, errors_out=errors_out,
    )  # fmt: skip
    report.inserted = store_needs(session, new, snap_m=snap_m, progress=progress)
    audit.record(
        session,
        viewer,
        "import_needs",
        "needs",
        details={
            "file": source_name(source, filename),
            "inserted": report.inserted,
            "existing": report.existing,
            "invalid": report.invalid_rows,
        },
    )
    session.flush()
    return report


def _checked_rows(
    session: Session, source, filename, *, crs, lang, mapping, skip_invalid, errors_out
) -> tuple[ImportReport, pd.DataFrame]:
    """The file read and checked: the report so far and the new good rows, clean. The file's
    own cells go when this returns: a million needs are stored holding them once, clean."""
    original = read_table(source, filename, lang)
    frame = rename_columns(
        apply_columns(original, mapping.columns, NEED_COLUMNS, lang), NEED_COLUMNS, lang
    )
    try:
        clean, col = validate_needs(
            frame, crs=crs, lang=lang, dates=mapping.reading(lang), value_maps=mapping.value_maps
        )
    except GeodataError as exc:
        raise InvalidInputError(str(exc)) from exc
    clean = check_loop_columns(frame, col, clean, workers=_worker_codes(session))
    report = ImportReport(kind="needs", total=len(frame))
    bad = settle_errors(report, col, original, skip_invalid=skip_invalid, errors_out=errors_out)
    good = clean.iloc[[i for i in range(len(clean)) if i not in bad]] if bad else clean
    existing = _existing_ids(session, good["external_id"].tolist())
    report.existing = len(existing)
    return report, good[~good["external_id"].isin(existing)] if existing else good


def store_needs(
    session: Session,
    clean: pd.DataFrame,
    *,
    grids: gpd.GeoDataFrame | None = None,
    snap_m: float | None = None,
    district_code: str | None = None,
    progress=None,
) -> int:
    """Locate validated needs (WGS84) into grids and bulk-insert them. Returns the count."""
    if clean.empty:
        return 0
    grids = load_grids(session) if grids is None else grids
    located = geolocate.locate(
        grids, clean["lon"].to_numpy(float), clean["lat"].to_numpy(float), snap_m=snap_m
    )
    frame = _with_instants(
        with_loop_defaults(clean).assign(
            grid_code=located["grid_code"].to_numpy(),
            quality=located["quality"].to_numpy(),
        )
    )
    frame["district_code"] = ancestry.districts_of(
        session, frame["grid_code"], frame["lon"].to_numpy(), frame["lat"].to_numpy(),
        fallback=district_code,
    ).to_numpy()  # fmt: skip
    before = session.scalar(select(func.max(Need.id))) or 0
    with bulk_load(session, Need.__tablename__, rows=len(frame), after_id=before):
        stored = insert_frame(
            session,
            Need.__tablename__,
            frame,
            NEED_INSERT_COLUMNS,
            point=("location", "lon", "lat"),
            progress=progress,
        )
    events = int(sum(frame[c].notna().sum() for c in INSTANTS))  # at most one event each
    after = session.scalar(select(func.max(CaseEvent.id))) or 0
    with bulk_load(session, CaseEvent.__tablename__, rows=events, after_id=after):
        synthesise_events(session, Need.id > before)
    need_stats.refresh(session)
    if stored >= ANALYZE_AFTER_ROWS:
        db.analyze(session, Need.__tablename__)
    return stored


def _worker_codes(session: Session) -> set[str]:
    return set(session.scalars(select(Worker.code)))


def _with_instants(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``reported_time``/``closed_time``: given (a file's moments), else the
    local midnight of the day (:func:`grid_model.instants.to_stored`), one per distinct day."""
    out = frame.copy(deep=False)  # columns replaced, never written into
    for day, moment in (("reported_at", "reported_time"), ("closed_at", "closed_time")):
        if moment in out and out[moment].notna().sum() == out[day].notna().sum():
            continue
        given = out[moment].tolist() if moment in out else [None] * len(out)
        days = out[day].tolist()
        midnight = {
            d: instants.to_stored(d.date() if isinstance(d, dt.datetime) else d)
            for d in set(days)
            if isinstance(d, dt.date)
        }
        values = [
            g if isinstance(g, dt.datetime) else midnight.get(d)
            for g, d in zip(given, days, strict=True)
        ]
        # python datetimes in an object column: pandas' Timestamps would be cut to dates
        out[moment] = pd.Series(values, index=out.index, dtype=object)
    return out


def _existing_ids(session: Session, values: list[str]) -> set[str]:
    """The external ids among ``values`` already stored."""
    found: set[str] = set()
    if not values or session.scalar(select(Need.id).limit(1)) is None:
        return found  # nothing stored yet: no million ids to ask about
    sqlite = db.is_sqlite(session.get_bind())
    for start in range(0, len(values), _ID_CHUNK):
        chunk = values[start : start + _ID_CHUNK]
        # PostgreSQL: one array parameter (5000 bound parameters cost more to send than to find)
        wanted = (
            Need.external_id.in_(chunk)
            if sqlite
            else Need.external_id == any_(bindparam("ids", chunk, type_=ARRAY(String)))
        )
        found.update(session.scalars(select(Need.external_id).where(wanted)))
    return found
