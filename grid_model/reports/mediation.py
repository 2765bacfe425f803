"""The people's-mediation statistics form (人民调解案件统计表) and the measures per dispute type.

:func:`dispute_type_measures` groups :data:`~grid_model.measures.definitions.MEASURES` (and
the predicate :func:`~grid_model.measures.definitions.mediation_failed`) by a need's
``dispute_type``; :func:`mediation_form` lays them out as the justice office's form: one row
per dispute type of :func:`grid_model.needs.validate.dispute_types` (the 15 national
categories, in their order), a row for mediation cases without a dispute type when there are
any, and the total.

Columns of the form
-------------------
accepted : 受理 — mediation cases reported in the period.
mediated : 调解成功 — of those, closed by the day counted with outcome ``mediated``.
failed : 调解不成 — closed with outcome ``mediation_failed``.
other_closed : 其他方式结案 — closed otherwise (resolved, referred, rejected): with the three
    before and ``in_progress`` a row adds up to ``accepted``.
in_progress : 正在调解 — open at the day counted.
written, oral : 书面协议、口头协议 — case files (:class:`~grid_model.models.MediationCase`)
    with a written / oral agreement made by the day counted.
performed : 协议履行 — case files whose follow-up found the agreement performed.
confirmed : 司法确认 — case files whose judicial confirmation was granted by the day.

The four case-file columns are None (shown as —) while the database holds no case file at all
(data from before the case file existed), rather than a 0 that would read as "none made".
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from grid_model.measures.definitions import count_if, mediation_failed, need_aggregates
from grid_model.messages import t
from grid_model.models import MediationCase, Need
from grid_model.needs.validate import dispute_types
from grid_model.queries import read_frame
from grid_model.reports.period import area_name, check_period
from grid_model.scope import Scope, Viewer, check_viewer

#: The measures read per dispute type.
DISPUTE_MEASURES = ("needs", "open", "closed", "mediation_closed", "mediated")
#: The columns of the form, in order.
FORM_COLUMNS = (
    "accepted",
    "mediated",
    "failed",
    "other_closed",
    "in_progress",
    "written",
    "oral",
    "performed",
    "confirmed",
)
#: Columns filled from the mediation case file (None until there is one).
CASE_FILE_COLUMNS = ("written", "oral", "performed", "confirmed")
#: The row key of mediation cases without a dispute type, and of the total.
UNTYPED, TOTAL = "", "total"


def dispute_type_measures(session: Session, scope: Scope, day: dt.date) -> pd.DataFrame:
    """``dispute_type`` and the :data:`DISPUTE_MEASURES` plus ``failed`` of the needs of
    ``scope`` with a dispute type, as of ``day``; a row per dispute type of the 15, zeros
    included, in their order."""
    key = func.coalesce(Need.dispute_type, "").label("dispute_type")
    stmt = (
        select(
            key,
            *need_aggregates(day, DISPUTE_MEASURES),
            count_if(mediation_failed(day)).label("failed"),
        )
        .where(scope.need_filter() & (Need.reported_at <= day))
        .group_by(key)
    )
    counts = read_frame(session, stmt).set_index("dispute_type")
    columns = [*DISPUTE_MEASURES, "failed"]
    frame = counts.reindex(list(dispute_types()))[columns].fillna(0).astype("int64")
    return frame.rename_axis("dispute_type").reset_index()


def _case_file_aggregates(day: dt.date) -> list:
    """The case-file columns of the form, as aggregates over needs joined to their file."""
    file = MediationCase
    made = file.agreement_on.is_not(None) & (file.agreement_on <= day)
    return [
        count_if(made & (file.agreement_kind == "written")).label("written"),
        count_if(made & (file.agreement_kind == "oral")).label("oral"),
        count_if(file.performance_result == "performed").label("performed"),
        count_if(file.judicial_granted_on.is_not(None) & (file.judicial_granted_on <= day)).label(
            "confirmed"
        ),
    ]


def case_file_counts(session: Session, scope: Scope, day: dt.date) -> pd.DataFrame:
    """Per dispute type (``""``: none given) the :data:`CASE_FILE_COLUMNS` of the case files
    of the needs of ``scope`` reported by ``day``."""
    key = func.coalesce(Need.dispute_type, "").label("dispute_type")
    stmt = (
        select(key, *_case_file_aggregates(day))
        .join(MediationCase, MediationCase.need_id == Need.id)
        .where(scope.need_filter() & (Need.reported_at <= day))
        .group_by(key)
    )
    return read_frame(session, stmt).set_index("dispute_type")


def has_case_files(session: Session) -> bool:
    """Whether the database holds any mediation case file."""
    return bool(session.scalar(select(exists().where(MediationCase.id.is_not(None)))))


@dataclass
class MediationForm:
    """The form: ``rows`` indexed by dispute type (``""``: none given, ``"total"``)."""

    area_code: str | None
    area_name: str
    start: dt.date
    end: dt.date
    as_of: dt.date
    rows: pd.DataFrame
    case_file: bool = False

    def row(self, dispute_type: str) -> dict:
        return self.rows.loc[dispute_type].to_dict()


def mediation_form(
    session: Session,
    *,
    start: dt.date,
    end: dt.date,
    area_code: str | None = None,
    viewer: Viewer,
    today: dt.date,
    lang: str = "zh",
) -> MediationForm:
    """The statistics form of the mediation cases of ``area_code`` (cut to ``viewer``'s area)
    reported in ``[start, end]``, counted as of ``min(end, today)``."""
    start, end = check_period(start, end, lang=lang)
    viewer = check_viewer(session, viewer, lang=lang)
    area = Scope(area_code=area_code).restricted_to(viewer)
    scope = dataclasses.replace(area, start=start, end=end, categories=("mediation",))
    as_of = min(end, today)
    with_files = has_case_files(session)
    rows = _form_rows(session, scope, as_of, with_files)
    return MediationForm(
        area_code=area.area_code,
        area_name=area_name(session, area.area_code, lang),
        start=start,
        end=end,
        as_of=as_of,
        rows=rows,
        case_file=with_files,
    )


def _form_rows(session: Session, scope: Scope, day: dt.date, with_files: bool) -> pd.DataFrame:
    typed = dispute_type_measures(session, scope, day).set_index("dispute_type")
    untyped = _untyped(session, scope, day)
    parts = [typed] + ([untyped] if int(untyped["needs"].iloc[0]) else [])
    body = pd.concat(parts)
    body.loc[TOTAL] = body.sum()
    rows = pd.DataFrame(
        {
            "accepted": body["needs"],
            "mediated": body["mediated"],
            "failed": body["failed"],
            "other_closed": body["mediation_closed"] - body["mediated"] - body["failed"],
            "in_progress": body["open"],
        }
    ).astype("int64")
    if with_files:
        files = case_file_counts(session, scope, day).reindex(body.index[:-1]).fillna(0)
        files.loc[TOTAL] = files.sum()
        for column in CASE_FILE_COLUMNS:
            rows[column] = files[column].astype("int64")
    else:
        for column in CASE_FILE_COLUMNS:
            rows[column] = pd.Series([None] * len(rows), index=rows.index, dtype=object)
    return rows[list(FORM_COLUMNS)]


def _untyped(session: Session, scope: Scope, day: dt.date) -> pd.DataFrame:
    """The measures of the scope's needs without a dispute type, as one row keyed ``""``."""
    stmt = select(
        *need_aggregates(day, DISPUTE_MEASURES), count_if(mediation_failed(day)).label("failed")
    ).where(scope.need_filter() & (Need.reported_at <= day) & Need.dispute_type.is_(None))
    frame = read_frame(session, stmt).fillna(0).astype("int64")
    frame.index = pd.Index([UNTYPED], name="dispute_type")
    return frame


def row_label(key: str, lang: str = "zh") -> str:
    """The label of a form row: the dispute type, or the untyped and total rows."""
    if key == TOTAL:
        return t("report_total", lang)
    if key == UNTYPED:
        return t("report_untyped", lang)
    return key
