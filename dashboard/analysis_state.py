"""The analysis pages' reads and changes (pages 7–9: hot spots, emerging hot spots,
rebalancing, access coverage): ``grid_model`` services through
:func:`dashboard.cache.cached`, and the rebalancing plan's apply and undo."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from dashboard.cache import cached
from dashboard.i18n import current_lang, tr
from dashboard.i18n.analysis import ANALYSIS_LABELS
from dashboard.session import clear_cache, session, write
from dashboard.views import translated
from grid_model.analysis import emerging
from grid_model.analysis.hotspots import hex_hotspot_table, hotspot_months, hotspot_table
from grid_model.gaps.access import need_access, suggest_service_points, uncovered_area
from grid_model.queries import holders
from grid_model.scope import Scope, Viewer

# --- hot spots ----------------------------------------------------------------------------

need_months = cached(hotspot_months, max_entries=16)
"""``need_months(scope, viewer)``: the needs of the scope per grid and month, which the hot
spots and both emerging runs of a page visit share (one read instead of three)."""


def _hotspots(session, scope: Scope, viewer: Viewer, **options):
    return hotspot_table(session, scope, viewer, months=need_months(scope, viewer), **options)


_hotspots_read = cached(_hotspots, max_entries=16, cast={"permutations": int, "seed": int})


def hotspots(scope: Scope, viewer: Viewer, **options):
    """Gi* per grid (a DataFrame): ``hotspots(scope, viewer, permutations=, seed=)``."""
    need_months(scope, viewer)  # read first: inside the statistic's session it is a cache hit
    return _hotspots_read(scope, viewer, **options)


hex_hotspots = cached(
    hex_hotspot_table,
    max_entries=16,
    cast={"resolution": int, "permutations": int, "seed": int},
)
"""``hex_hotspots(scope, viewer, resolution=, permutations=, seed=)``: Gi* per H3 hexagon
(a GeoDataFrame)."""


def _emerging_change(session, scope: Scope, viewer: Viewer, day: dt.date):
    months = need_months(scope, viewer)
    return emerging.emerging_change(session, scope, viewer, day, months=months)


_emerging_change_read = cached(_emerging_change, max_entries=16)


def emerging_change(scope: Scope, viewer: Viewer, day: dt.date):
    """This month's and last month's emerging results and what changed between them
    (:func:`grid_model.analysis.emerging.emerging_change`, counts shared with the hot spots):
    ``(current, previous, changed, current_end, previous_end)``; ``previous`` and
    ``changed`` are None when the scope's period ends before that."""
    need_months(scope, viewer)  # read first: inside the statistic's session it is a cache hit
    change = _emerging_change_read(scope, viewer, day)
    return (
        change.current,
        change.previous,
        change.changed,
        change.current_end,
        change.previous_end,
    )


# --- rebalancing --------------------------------------------------------------------------


def _assistants_on(session, scope: Scope, *, day: dt.date) -> pd.DataFrame:
    frame = holders(session, scope, day, active_only=True)
    return frame[["grid_code", "worker_code"]].rename(columns={"worker_code": "assistant"})


_current_assignment = cached(_assistants_on, max_entries=16)


def current_assignment(scope: Scope, *, day: dt.date) -> pd.DataFrame:
    """Today's grid assistant of each grid in the scope's area: ``grid_code, assistant``."""
    return _current_assignment(Scope(area_code=scope.area_code), day=day)


def plan_rebalance(scope: Scope, *, k: int | None, tolerance: float, locked: tuple[str, ...]):
    """A rebalancing plan (not cached: the page keeps it in the session until applied)."""
    from grid_model import rebalance  # networkx and the solver: paid by the Rebalance page only

    with session() as s:
        return rebalance.rebalance_community(
            s, scope, k=k, tolerance=tolerance, locked=tuple(locked)
        )


def _spare(session, area_code: str | None, *, day: dt.date) -> pd.DataFrame:
    from grid_model import rebalance

    return rebalance.spare_assistants(session, area_code, day=day)


_spare_assistants = cached(_spare, max_entries=16)


def spare_assistants(scope: Scope, *, day: dt.date) -> pd.DataFrame:
    """Who a planned new assistant can be: ``code, name, capacity``."""
    return _spare_assistants(scope.area_code, day=day)


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
    from grid_model import rebalance

    with write() as s:
        rebalance.apply_plan(
            s, plan, viewer=viewer, on=on, new_workers=new_workers, force=force, lang=current_lang()
        )
    clear_cache()
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

access = cached(need_access, max_entries=16, cast={"walk_m": float}, lang=True)
"""``access(scope, viewer, walk_m=)``: distances of the needs ``viewer`` may see to their
nearest service point, and those beyond ``walk_m`` (:class:`grid_model.gaps.access.NeedAccess`;
no personal columns)."""
uncovered = cached(uncovered_area, max_entries=16, names={"day": "on"}, cast={"walk_m": float})
"""``uncovered(scope, walk_m=, day=)``: the part of the scope's area beyond ``walk_m`` of every
service point open on ``day``."""


def _suggest(session, scope: Scope, **options):
    # The sites' attrs do not survive the cache's pickling: they travel beside the frame.
    out = suggest_service_points(session, scope, **options)
    return out, dict(out.attrs)


suggestions = cached(
    _suggest, max_entries=16, names={"day": "on"}, cast={"walk_m": float, "p": int}
)
"""``suggestions(scope, walk_m=, p=, candidates=, day=)``: MCLP sites and their ``attrs``
(``unmet_needs``, ``needs_covered_total``)."""


# --- tables -------------------------------------------------------------------------------


def table(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``views.translated`` with the ``col.*`` headers of the analysis pages."""
    present = [c for c in columns if c in frame.columns]
    renamed = frame[present].rename(
        columns={c: f"col.{c}" for c in present if f"col.{c}" in ANALYSIS_LABELS}
    )
    out = translated(renamed)
    return out.rename(columns={c: tr(c) for c in out.columns if c.startswith("col.")})
