"""Importing workers and their grid assignments (CSV/XLSX).

:func:`validate_workers` checks a workers table against the role vocabulary
(:data:`ROLE_ALIASES`) and the grids stored; :func:`import_workers` stores it. A new
assignment closes the grid's open assignment of the same role for single-holder roles
(:data:`SINGLE_HOLDER_ROLES`): history is kept.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from grid_model import audit, fields
from grid_model.fields import Collector
from grid_model.imports.mapping import ImportMapping, apply_columns
from grid_model.imports.report import ImportReport, settle_errors
from grid_model.imports.rows import WORKER_COLUMNS, read_table, rename_columns, source_name
from grid_model.messages import t
from grid_model.models import Assignment, Grid, Role, Worker
from grid_model.scope import Viewer, require

ROLE_ALIASES = {
    "grid_assistant": ["网格助理员", "网格员", "助理员"],
    "mediator": ["人民调解员", "调解员"],
    "lawyer": ["律师", "法律顾问"],
    "info_officer": ["信息员"],
    "volunteer": ["志愿者", "法制宣传志愿者", "法治宣传志愿者"],
}

#: Roles a grid has one holder of at a time: a new one closes the open assignment.
SINGLE_HOLDER_ROLES = frozenset({Role.grid_assistant, Role.lawyer, Role.mediator})

#: Text columns of a workers table and the model column that bounds each.
WORKER_TEXT_COLUMNS = {"code": Worker.code, "name": Worker.name, "phone": Worker.phone}

_GRID_SEPARATORS = re.compile(r"[;,;,、\s]+")


def import_workers(
    session: Session,
    source,
    *,
    filename: str | None = None,
    skip_invalid: bool = False,
    errors_out: str | Path | None = None,
    lang: str = "zh",
    viewer: Viewer,
    today: dt.date | None = None,
    mapping: ImportMapping | None = None,
) -> ImportReport:
    """Import workers and their grid assignments (CSV/XLSX).

    Columns: code, name, role, phone, capacity, active, grids (grid codes separated by ``;``,
    ``,`` or spaces), valid_from. A new assignment closes the grid's previous assignment of the
    same role for single-holder roles (assistant, lawyer, mediator): history is kept.
    ``viewer`` must be allowed to import (:func:`grid_model.scope.require`)."""
    viewer = require(session, viewer, "import", lang=lang)
    today = today or fields.today()
    original = read_table(source, filename, lang)
    columns = mapping.columns if mapping else {}
    frame = rename_columns(
        apply_columns(original, columns, WORKER_COLUMNS, lang), WORKER_COLUMNS, lang
    )
    clean, col = validate_workers(frame, session, lang=lang)
    report = ImportReport(kind="workers", total=len(frame))
    bad = settle_errors(report, col, original, skip_invalid=skip_invalid, errors_out=errors_out)
    good = clean.iloc[[i for i in range(len(clean)) if i not in bad]]

    grid_ids = dict(session.execute(select(Grid.code, Grid.id)).all())
    involved = {grid_ids[g] for grids in good["grids"] for g in grids}
    holders = _OpenAssignments.read(session, involved)
    for row in good.itertuples(index=False):
        worker = _store_worker(session, row, report)
        since = row.valid_from or today
        for g in row.grids:
            holders.assign(session, worker, grid_ids[g], since)
    audit.record(
        session,
        viewer,
        "import_workers",
        "workers",
        details={
            "file": source_name(source, filename),
            "inserted": report.inserted,
            "updated": report.updated,
        },
    )
    session.flush()
    return report


def validate_workers(
    frame: pd.DataFrame, session: Session, *, lang: str = "zh"
) -> tuple[pd.DataFrame, Collector]:
    """Check a workers table (canonical column names) against the vocabulary and the grids
    stored; return the clean values (``grids`` as lists of codes) with the errors collected."""
    fields.require_columns(frame, ["code", "name", "role"], lang)
    codes = fields.stripped(frame["code"])
    col = Collector(frame, codes, lang)
    col.add(codes.isna().to_numpy(), "code", frame["code"], t("expected_id", lang))
    dup = (codes.notna() & codes.duplicated()).to_numpy()
    col.add(dup, "code", frame["code"], t("expected_id", lang))
    fields.check_texts(frame, col, WORKER_TEXT_COLUMNS)
    names = fields.stripped(frame["name"])
    col.add(names.isna().to_numpy(), "name", frame["name"], t("expected_required", lang))
    role = fields.check_vocabulary(frame, col, "role", ROLE_ALIASES, required=True)
    cap_raw = fields.optional_text(frame, "capacity")
    cap, bad_cap = fields.parse_numbers(cap_raw, low=0, high=fields.CAPACITY_MAX, low_open=True)
    expected_cap = t("expected_capacity", lang, max=f"{fields.CAPACITY_MAX:g}")
    col.add(bad_cap, "capacity", cap_raw, expected_cap)
    # Empty means active; 在岗/离岗 are this column's own words for yes and no.
    active = fields.check_booleans(frame, col, "active", 在岗=True, 离岗=False)
    start, _ = fields.check_optional_dates(frame, "valid_from", col, fields.latest_planned())
    clean = pd.DataFrame(
        {
            "code": codes,
            "name": names,
            "role": role,
            "phone": fields.optional_text(frame, "phone"),
            "capacity": cap,
            "active": active.map(lambda v: v is not False),
            "valid_from": start,
            "grids": _check_grids(frame, col, session),
        },
        index=frame.index,
    )
    return clean, col


def _check_grids(frame: pd.DataFrame, col: Collector, session: Session) -> pd.Series:
    """Each row's grid codes (a list, empty when none), recording codes not stored."""
    grids_raw = fields.optional_text(frame, "grids")
    grid_lists = grids_raw.map(
        lambda v: [] if v is None else [g for g in _GRID_SEPARATORS.split(v) if g]
    )
    known = set(session.scalars(select(Grid.code)).all())
    unknown = grid_lists.map(lambda gs: [g for g in gs if g not in known])
    col.add(
        unknown.map(bool).to_numpy(),
        "grids",
        unknown.map(lambda gs: ";".join(gs)),
        t("expected_known_grid", col.lang),
    )
    return grid_lists


def _store_worker(session: Session, row, report: ImportReport) -> Worker:
    """Insert or update the worker of one clean row, counting it in ``report``."""
    worker = session.scalars(select(Worker).where(Worker.code == row.code)).one_or_none()
    values = dict(
        name=row.name,
        role=row.role,
        phone=row.phone,
        capacity=float(row.capacity) if pd.notna(row.capacity) else 1.0,
        active=bool(row.active),
    )
    if worker is None:
        worker = Worker(code=row.code, district_code=None, **values)
        session.add(worker)
        session.flush()
        report.inserted += 1
    elif any(getattr(worker, k) != v for k, v in values.items()):
        for k, v in values.items():
            setattr(worker, k, v)
        report.updated += 1
    else:
        report.existing += 1
    return worker


class _OpenAssignments:
    """The open assignments (:meth:`Assignment.is_open`) of the grids an import touches, read
    once and kept up to date as the import assigns and closes."""

    def __init__(self, assignments: Iterable[Assignment]):
        self._open: dict[tuple[int, str], list[Assignment]] = defaultdict(list)
        for a in assignments:
            self._open[a.grid_id, str(a.role)].append(a)

    @classmethod
    def read(cls, session: Session, grid_ids: set[int]) -> _OpenAssignments:
        if not grid_ids:
            return cls([])
        stmt = select(Assignment).where(
            Assignment.grid_id.in_(sorted(grid_ids)), Assignment.is_open()
        )
        return cls(session.scalars(stmt).all())

    def assign(self, session: Session, worker: Worker, grid_id: int, since: dt.date) -> None:
        """Assign ``worker`` to the grid from ``since`` unless it holds it already; for a
        single-holder role, the grid's other open assignments of the role end on ``since``."""
        current = self._open[grid_id, str(worker.role)]
        if any(a.worker_id == worker.id for a in current):
            return
        if worker.role in SINGLE_HOLDER_ROLES:
            for a in current:
                a.valid_to = since
            current.clear()
        new = Assignment(worker_id=worker.id, grid_id=grid_id, role=worker.role, valid_from=since)
        session.add(new)
        current.append(new)
