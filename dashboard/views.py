"""Small Streamlit renderers shared by the pages: KPI tiles, translated tables, the grid card,
errors. They render what a service returned; they compute nothing of the domain.

Names, codes and messages are user text: where Streamlit renders markdown they go through
:func:`dashboard.escaping.md_text` / :func:`~dashboard.escaping.md_tr` and show as text.
Tables (``st.dataframe``) show cells as text already."""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd
import streamlit as st

from dashboard.escaping import md_text, md_tr
from dashboard.i18n import current_lang, tl, tr
from dashboard.i18n import label as value_label
from geodata.errors import GeodataError
from grid_model.errors import GridLawError, ImportValidationError
from grid_model.messages import t

#: Columns whose values are enum codes, and the label kind that translates them.
VALUE_KINDS = {
    "category": "category",
    "status": "status",
    "outcome": "outcome",
    "source": "source",
    "quality": "quality",
    "role": "role",
    "kind": "kind",
    "dispute_type": "dispute_type",
}


def fmt_rate(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return tr("not_available")
    return f"{100 * value:.1f}%"


def fmt_number(value: float | int | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return tr("not_available")
    return f"{value:,.{digits}f}"


def metric(key: str, label: str, value: str, *, help: str | None = None) -> None:
    """``st.metric`` inside a keyed container (``st.metric`` takes no key; the container's key
    lets tests and the browser find the tile)."""
    with st.container(key=key):
        st.metric(label, value, help=help)


def kpi_tiles(kpis, *, prefix: str = "kpi", columns: int = 4) -> None:
    """The headline KPIs of :class:`grid_model.measures.indicators.Kpis` as metric tiles."""
    tiles = [
        ("needs", tr("kpi_needs"), fmt_number(kpis.needs)),
        ("services", tr("kpi_services"), fmt_number(kpis.services)),
        ("mediated", tr("kpi_mediated"), fmt_number(kpis.disputes_mediated)),
        ("overdue", tr("kpi_overdue"), fmt_number(kpis.overdue_open)),
        ("closure_rate", tr("kpi_closure_rate"), fmt_rate(kpis.closure_rate)),
        ("on_time_rate", tr("kpi_on_time_rate"), fmt_rate(kpis.on_time_rate)),
        (
            "mediation_success",
            tr("kpi_mediation_success"),
            fmt_rate(kpis.mediation_success_rate),
        ),
        ("days_median", tr("kpi_days_median"), fmt_number(kpis.median_days_to_close, 1)),
    ]
    cols = st.columns(columns)
    for i, (name, label, value) in enumerate(tiles):
        with cols[i % columns]:
            metric(f"{prefix}_{name}", label, value)


def translated(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """``frame`` (only ``columns`` when given) with enum values and headers in the user's
    language; headers without a text keep their name."""
    cols = [c for c in (columns or frame.columns) if c in frame.columns]
    out = frame[cols].copy()
    for col in cols:
        kind = VALUE_KINDS.get(col)
        if kind:
            out[col] = labelled(out[col], kind)
    return out.rename(columns={c: _header(c) for c in cols})


def labelled(values: pd.Series, kind: str) -> pd.Series:
    """``values`` with each text replaced by its label of ``kind`` in the user's language
    (other values kept): each distinct value is looked up once, not once per row."""
    lang = current_lang()
    names = {v: value_label(kind, v, lang) for v in values.unique() if isinstance(v, str)}
    return values.map(lambda v: names[v] if isinstance(v, str) else v)


def _header(column: str) -> str:
    for key in (f"col.{column}", column, f"measure.{column}"):
        try:
            return tr(key)
        except KeyError:
            continue
    return column


def scope_caption(filters) -> None:
    """The caption naming the area (names are user text) and period the page shows."""
    st.caption(tr("scope_caption", area=md_text(filters.area_label), period=filters.period_label))


def not_allowed(viewer, action: str) -> None:
    """Say that ``viewer``'s role may not do ``action`` (see ``grid_model.scope.PERMISSIONS``)."""
    lang = current_lang()
    role = tl("role", viewer.role)
    st.info(t("not_allowed", lang, role=role, action=t(f"action.{action}", lang)))


def show_error(exc: GridLawError | GeodataError) -> None:
    """A domain or file error in the user's language (services raise them with their own
    text, which may quote a value: shown as text)."""
    if isinstance(exc, ImportValidationError):
        st.error(exc.summary(current_lang()))
        return
    st.error(md_tr("error", msg=str(exc)))


def say(kind: str, message: str) -> None:
    """Show a message a service wrote (it may quote a value a user gave) as plain text in an
    alert or caption: ``kind`` is ``'error'``, ``'warning'``, ``'info'``, ``'success'`` or
    ``'caption'``."""
    show = {"error": st.error, "warning": st.warning, "info": st.info, "success": st.success,
            "caption": st.caption}[kind]  # fmt: skip
    show(md_text(message))


def grid_card(card) -> None:
    """Render a :class:`grid_model.measures.indicators.GridCard`."""
    with st.container(key="grid_card", border=True):
        st.subheader(md_tr("card_title", name=card.name, code=card.code))
        st.caption(md_tr("label_value", label=tr("card_community"), value=card.community))
        if card.population is not None:
            st.caption(
                tr("label_value", label=tr("measure.population"), value=f"{card.population:,}")
            )
        st.markdown(f"**{tr('card_staff')}**")
        lines = []
        for role, label_key in (
            ("grid_assistant", "card_assistant"),
            ("lawyer", "card_lawyer"),
            ("mediator", "card_mediator"),
        ):
            names = card.staff.get(role) or []
            shown = (
                md_text(tr("list_sep")).join(
                    md_text(f"{n} {card.phones[n]}" if n in card.phones else n) for n in names
                )
                if names
                else f"*{tr('card_nobody')}*"
            )
            lines.append("- " + tr("label_value", label=tr(label_key), value=shown))
        st.markdown("\n".join(lines))
        k = card.kpis
        # two by two: the card is a narrow column beside the map
        top, bottom = st.columns(2), st.columns(2)
        with top[0]:
            metric("card_needs", tr("kpi_needs"), fmt_number(k.needs))
        with top[1]:
            metric("card_overdue", tr("kpi_overdue"), fmt_number(k.overdue_open))
        with bottom[0]:
            metric("card_closure_rate", tr("kpi_closure_rate"), fmt_rate(k.closure_rate))
        with bottom[1]:
            metric("card_on_time_rate", tr("kpi_on_time_rate"), fmt_rate(k.on_time_rate))
        st.markdown(f"**{tr('card_latest')}**")
        if card.latest.empty:
            st.caption(tr("no_data"))
        else:
            st.dataframe(
                translated(
                    card.latest,
                    ["external_id", "reported_at", "category", "status", "due_date", "description"],
                ),
                hide_index=True,
                key="card_latest",
            )
