"""Cached wrappers of the analysis services (hot spots, emerging hot spots, rebalancing, access
coverage) for the pages 7–9. Same pattern as :mod:`dashboard.state`: private cached functions
take the database URL and hashable tuples, public wrappers take Scope objects."""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import state
from dashboard.i18n import current_lang
from dashboard.labels_analysis import ANALYSIS_LABELS
from grid_model.errors import GridLawError
from grid_model.scope import Scope, Viewer

# --- hot spots ----------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=16)
def _hotspots(url: str, skey: tuple, vkey: tuple, permutations: int, seed: int):
    from grid_model.analysis.hotspots import hotspot_table

    with state._session_for(url) as s:
        return hotspot_table(s, Scope(*skey), Viewer(*vkey), permutations=permutations, seed=seed)


@st.cache_data(show_spinner=False, max_entries=16)
def _hex_hotspots(
    url: str, skey: tuple, vkey: tuple, resolution: int, permutations: int, seed: int
):
    from grid_model.analysis.hotspots import hex_hotspot_table

    with state._session_for(url) as s:
        return hex_hotspot_table(
            s,
            Scope(*skey),
            Viewer(*vkey),
            resolution=resolution,
            permutations=permutations,
            seed=seed,
        )


@st.cache_data(show_spinner=False, max_entries=16)
def _emerging(url: str, skey: tuple, vkey: tuple):
    from grid_model.analysis.emerging import emerging_table

    with state._session_for(url) as s:
        return emerging_table(s, Scope(*skey), Viewer(*vkey))


def hotspots(scope: Scope, viewer: Viewer, *, permutations: int, seed: int) -> pd.DataFrame:
    """Gi* per grid (``hotspots.hotspot_table``)."""
    return _hotspots(
        state.database_url(),
        state.scope_key(scope),
        state.viewer_key(viewer),
        int(permutations),
        int(seed),
    )


def hex_hotspots(scope: Scope, viewer: Viewer, *, resolution: int, permutations: int, seed: int):
    """Gi* per H3 hexagon (``hotspots.hex_hotspot_table``), a GeoDataFrame."""
    return _hex_hotspots(
        state.database_url(),
        state.scope_key(scope),
        state.viewer_key(viewer),
        int(resolution),
        int(permutations),
        int(seed),
    )


def emerging(scope: Scope, viewer: Viewer) -> pd.DataFrame:
    """Emerging hot spot category per grid (``emerging.emerging_table``)."""
    return _emerging(state.database_url(), state.scope_key(scope), state.viewer_key(viewer))


def month_end(day: dt.date) -> dt.date:
    return dt.date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def last_whole_month_end(day: dt.date) -> dt.date:
    """The last day of the latest calendar month that is complete on ``day``."""
    if day == month_end(day):
        return day
    return day.replace(day=1) - dt.timedelta(days=1)


def emerging_change(scope: Scope, viewer: Viewer, day: dt.date):
    """This month's and last month's emerging results and what changed between them.

    "This month" is the latest whole month on ``day`` (a partial month would read as a drop);
    both runs start where ``scope`` starts. Returns ``(current, previous, changed, current_end,
    previous_end)``; ``previous`` and ``changed`` are None when the scope's period ends before
    that.
    """
    from grid_model.analysis.emerging import what_changed

    end = scope.end if scope.end and scope.end < day else day
    current_end = last_whole_month_end(end)
    previous_end = current_end.replace(day=1) - dt.timedelta(days=1)
    current = emerging(dataclasses.replace(scope, end=current_end), viewer)
    previous = None
    changed = None
    if scope.start is None or scope.start <= previous_end.replace(day=1):
        try:
            previous = emerging(dataclasses.replace(scope, end=previous_end), viewer)
        except GridLawError:  # too few months before: nothing to compare with
            previous = None
    if previous is not None:
        changed = what_changed(current, previous)
    return current, previous, changed, current_end, previous_end


# --- rebalancing --------------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=16)
def _current_assignment(url: str, skey: tuple, day: dt.date) -> pd.DataFrame:
    from grid_model.queries import holders

    with state._session_for(url) as s:
        frame = holders(s, Scope(*skey), day, active_only=True)
    return frame[["grid_code", "worker_code"]].rename(columns={"worker_code": "assistant"})


def current_assignment(scope: Scope, *, day: dt.date) -> pd.DataFrame:
    """Today's grid assistant of each grid in the scope's area: ``grid_code, assistant``."""
    area = Scope(area_code=scope.area_code)
    return _current_assignment(state.database_url(), state.scope_key(area), day)


def plan_rebalance(scope: Scope, *, k: int | None, tolerance: float, locked: tuple[str, ...]):
    """A rebalancing plan (not cached: the page keeps it in the session until applied)."""
    from grid_model.rebalance import rebalance_community

    with state.session() as s:
        return rebalance_community(s, scope, k=k, tolerance=tolerance, locked=tuple(locked))


@st.cache_data(show_spinner=False, max_entries=16)
def _spare_assistants(url: str, area_code: str | None, day: dt.date) -> pd.DataFrame:
    from grid_model.rebalance import spare_assistants

    with state._session_for(url) as s:
        return spare_assistants(s, area_code, day=day)


def spare_assistants(scope: Scope, *, day: dt.date) -> pd.DataFrame:
    """Who a planned new assistant can be: ``code, name, capacity``."""
    return _spare_assistants(state.database_url(), scope.area_code, day)


def apply_plan(
    plan,
    *,
    viewer: Viewer,
    on: dt.date,
    new_workers: dict[str, str] | None = None,
    force: bool = False,
):
    """Store ``plan`` as new assignment periods (with an audit entry), planned new assistants
    being the workers of ``new_workers`` (``force``: even out of tolerance); caches are
    cleared. Returns the plan as applied (new assistants renamed), which
    :func:`reverse_plan` can undo."""
    from grid_model.rebalance import apply_plan as store

    with state.write() as s:
        store(
            s, plan, viewer=viewer, on=on, new_workers=new_workers, force=force, lang=current_lang()
        )
    state.clear_cache()
    return plan.with_assistants(new_workers) if new_workers else plan


def reverse_plan(plan):
    """The plan that puts back what ``plan`` changed: each grid goes to its ``previous``
    assistant (grids that had none keep the planned one)."""
    a = plan.assignment.copy()
    back = a["previous"].where(a["previous"].notna(), a["assistant"])
    a["previous"], a["assistant"] = a["assistant"], back
    a["moved"] = a["previous"] != a["assistant"]
    return dataclasses.replace(plan, assignment=a, moved=int(a["moved"].sum()))


# --- access coverage ----------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=16)
def _access(url: str, skey: tuple, vkey: tuple, walk_m: float):
    from grid_model.gaps.access import need_access

    with state._session_for(url) as s:
        return need_access(s, Scope(*skey), Viewer(*vkey), walk_m=walk_m, lang=current_lang())


@st.cache_data(show_spinner=False, max_entries=16)
def _uncovered(url: str, skey: tuple, walk_m: float, day: dt.date):
    from grid_model.gaps.access import uncovered_area

    with state._session_for(url) as s:
        return uncovered_area(s, Scope(*skey), walk_m=walk_m, on=day)


@st.cache_data(show_spinner=False, max_entries=16)
def _suggest(url: str, skey: tuple, walk_m: float, p: int, candidates: str, day: dt.date):
    from grid_model.gaps.access import suggest_service_points

    with state._session_for(url) as s:
        out = suggest_service_points(
            s, Scope(*skey), walk_m=walk_m, p=p, candidates=candidates, on=day
        )
    return out, dict(out.attrs)


def access(scope: Scope, viewer: Viewer, *, walk_m: float):
    """Distances of the needs ``viewer`` may see to their nearest service point, and those
    beyond ``walk_m`` (:class:`grid_model.gaps.access.NeedAccess`; no personal columns)."""
    return _access(
        state.database_url(), state.scope_key(scope), state.viewer_key(viewer), float(walk_m)
    )


def uncovered(scope: Scope, *, walk_m: float, day: dt.date):
    return _uncovered(state.database_url(), state.scope_key(scope), float(walk_m), day)


def suggestions(scope: Scope, *, walk_m: float, p: int, candidates: str, day: dt.date):
    """MCLP sites and their ``attrs`` (``unmet_needs``, ``needs_covered_total``)."""
    return _suggest(
        state.database_url(), state.scope_key(scope), float(walk_m), int(p), candidates, day
    )


# --- tables -------------------------------------------------------------------------------


def table(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``views.translated`` with the ``col.*`` headers of the analysis pages."""
    from dashboard.i18n import tr
    from dashboard.views import translated

    present = [c for c in columns if c in frame.columns]
    renamed = frame[present].rename(
        columns={c: f"col.{c}" for c in present if f"col.{c}" in ANALYSIS_LABELS}
    )
    out = translated(renamed)
    return out.rename(columns={c: tr(c) for c in out.columns if c.startswith("col.")})
