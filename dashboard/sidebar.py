"""The sidebar every page shares: language, area (street → community → grid), as-of day,
period, categories, statuses and who is viewing; :func:`sidebar` returns them as
:class:`Filters`. Widget keys are ASCII and shared by every page (values persist across pages).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

import pandas as pd
import streamlit as st
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from dashboard.escaping import md_tr
from dashboard.i18n import labels, language_switch, texts, tl, tr
from dashboard.reads import areas, grids
from dashboard.session import database_url
from dashboard.signin import accounts_enabled, signed_in
from grid_model import config
from grid_model.errors import GridLawError
from grid_model.models import Category, Status
from grid_model.scope import ROLES, Scope, Viewer

# Sidebar widget keys (ASCII), shared by every page.
KEY_DISTRICT = "district"
KEY_STREET = "street"
KEY_COMMUNITY = "community"
KEY_GRID = "grid"
KEY_PERIOD = "period"
KEY_FROM = "period_from"
KEY_TO = "period_to"
KEY_CATEGORY = "category"
KEY_STATUS = "status"
KEY_ROLE = "role"

KEY_AS_OF = "as_of"

# "all" first: the default, so a database whose data end before today is not an empty page.
PERIODS = ("all", "12m", "30d", "quarter", "year", "custom")
DEFAULT_ROLE = "community_leader"


def today() -> dt.date:
    """``GRIDLAW_TODAY`` if set, else the machine's date (:func:`grid_model.config.today`)."""
    return config.today()


@dataclass(frozen=True)
class Filters:
    """What the sidebar chose: the scope for the services, the viewer, and labels to show."""

    scope: Scope
    viewer: Viewer
    area_label: str
    period_label: str
    today: dt.date


def period_dates(choice: str, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """Start and end (inclusive) of a period preset relative to ``day``."""
    if choice == "30d":
        return day - dt.timedelta(days=29), day
    if choice == "quarter":
        first_month = 3 * ((day.month - 1) // 3) + 1
        return dt.date(day.year, first_month, 1), day
    if choice == "12m":
        return _minus_months(day, 12) + dt.timedelta(days=1), day
    if choice == "year":
        return dt.date(day.year, 1, 1), day
    if choice == "all":
        return None, None
    raise ValueError(f"unknown period {choice!r}; expected one of {', '.join(PERIODS)}")


def _minus_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    m += 1
    return dt.date(y, m, min(day.day, calendar.monthrange(y, m)[1]))


def _name_of(frame, code_col: str, name_col: str) -> dict[str, str]:
    return dict(zip(frame[code_col], frame[name_col], strict=True))


def _named(names: dict[str, str], *, with_code: bool = False):
    everything = tr("all")

    def fmt(code: str | None) -> str:
        if code is None:
            return everything
        name = names.get(code, code)
        return f"{name} · {code}" if with_code else name

    return fmt


def _family(all_areas: pd.DataFrame, mine: str | None) -> set[str] | None:
    """The areas on the way to area ``mine`` or inside it, by the stored parents (None: all,
    without one)."""
    if not mine:
        return None
    parent = dict(zip(all_areas["code"], all_areas["parent_code"], strict=True))
    if mine not in parent:  # a grid: its community and what lies above
        grid = grids(Scope(area_code=mine))
        grid = grid[grid["code"] == mine]
        if len(grid):
            parent[mine] = grid["community_code"].iloc[0]
    up, here = set(), mine
    while here in parent and here not in up:
        up.add(here)
        here = parent[here]
    below, frontier = {mine}, {mine}
    while frontier:
        frontier = {c for c, p in parent.items() if p in frontier and c not in below}
        below |= frontier
    return up | below


def _related(codes: pd.Series, family: set[str] | None) -> pd.Series:
    """Which ``codes`` are in ``family`` (all without one)."""
    if family is None:
        return pd.Series(True, index=codes.index)
    return codes.isin(family)


def _pick(sb, label: str, options: pd.DataFrame, key: str, **fmt) -> tuple[str | None, dict]:
    names = _name_of(options, "code", "name")
    shown = _named(names, **fmt)
    # "all" is the None option; a None kept across pages would otherwise read "Choose an option"
    choice = sb.selectbox(
        tr(label), [None, *names], format_func=shown, key=key, placeholder=shown(None),
        persist_state="session",
    )  # fmt: skip
    return choice, names


def _below(all_areas: pd.DataFrame, level: str, parents: set[str]) -> pd.DataFrame:
    """Areas of ``level`` whose parent, or parent's parent, is one of ``parents``."""
    rows = all_areas[all_areas["level"] == level]
    if not parents:
        return rows
    children = set(all_areas.loc[all_areas["parent_code"].isin(parents), "code"])
    return rows[rows["parent_code"].isin(parents | children)]


def _area_selectors(sb, mine: str | None = None) -> tuple[str | None, str]:
    """(District →) street → community → grid selectors, by the stored hierarchy; the most
    specific choice is the area. The district selector shows when there are several. With
    ``mine`` (an account's area) only the areas on the way to it or inside it are offered."""
    all_areas = areas()
    family = _family(all_areas, mine)
    all_areas = all_areas[_related(all_areas["code"], family)]
    district, district_names = None, {}
    districts = all_areas[all_areas["level"] == "district"]
    if len(districts) > 1:
        district, district_names = _pick(sb, "district", districts, KEY_DISTRICT)
    streets = _below(all_areas, "street", {district} if district else set())
    street, street_names = (None, {})
    if len(streets) or not district:
        street, street_names = _pick(sb, "street", streets, KEY_STREET)
    above = {street} if street else ({district} if district else set())
    community, community_names = _pick(
        sb, "community", _below(all_areas, "community", above), KEY_COMMUNITY
    )
    if community:
        gdf = grids(Scope(area_code=community))
        if mine in set(gdf["code"]):  # a grid's account: that grid only
            gdf = gdf[gdf["code"] == mine]
        grid, grid_names = _pick(sb, "grid", gdf, KEY_GRID, with_code=True)
        if grid:
            return grid, f"{community_names[community]} · {grid_names[grid]}"
        return community, community_names[community]
    if street:
        return street, street_names[street]
    if district:
        return district, district_names[district]
    return None, tr("all_areas")


def _period(sb, day: dt.date) -> tuple[dt.date | None, dt.date | None, str]:
    choice = sb.selectbox(
        tr("period"),
        PERIODS,
        format_func=texts("period_"),
        key=KEY_PERIOD,
        persist_state="session",
    )
    if choice == "custom":
        start_default, end_default = period_dates("12m", day)
        start = sb.date_input(
            tr("period_from"), value=start_default, key=KEY_FROM, persist_state="session"
        )
        end = sb.date_input(tr("period_to"), value=end_default, key=KEY_TO, persist_state="session")
        if start and end and start > end:
            sb.warning(tr("period_bad", start=start, end=end))
            start, end = end, start
    else:
        start, end = period_dates(choice, day)
    shown = tr(
        "period_shown",
        start=start.isoformat() if start else tr("period_open"),
        end=end.isoformat() if end else tr("period_open"),
    )
    return start, end, shown


def _require_database() -> None:
    """Stop the page with a clear message when the database cannot be read."""
    try:
        areas()
    except (SQLAlchemyError, GridLawError) as exc:
        url = make_url(database_url()).render_as_string(hide_password=True)
        st.error(md_tr("db_error", url=url, msg=str(exc).splitlines()[0]))
        st.stop()


def sidebar(
    *,
    categories: bool = True,
    statuses: bool = True,
    role_default: str = DEFAULT_ROLE,
) -> Filters:
    """Draw the shared sidebar (language, area, as-of day, period, category, status, role) and
    return the chosen filters. Widgets keep their values across pages (``persist_state``)."""
    language_switch()
    sb = st.sidebar
    _require_database()
    account = signed_in(sb) if accounts_enabled() else None
    sb.header(tr("filters"))
    area_code, area_label = _area_selectors(sb, account.area_code if account else None)
    day = sb.date_input(
        tr("as_of"), value=today(), key=KEY_AS_OF, help=tr("as_of_help"), persist_state="session"
    )
    day = day or today()
    start, end, period_label = _period(sb, day)
    chosen_categories = _choose(sb, "category", Category, KEY_CATEGORY) if categories else []
    chosen_statuses = _choose(sb, "status", Status, KEY_STATUS) if statuses else []
    viewer = account if account is not None else _demo_viewer(sb, role_default)
    scope = Scope(
        area_code=area_code,
        start=start,
        end=end,
        categories=tuple(chosen_categories),
        statuses=tuple(chosen_statuses),
    ).restricted_to(viewer)
    if scope.area_code != area_code:
        area_label = _area_name(scope.area_code)
    return Filters(
        scope=scope,
        viewer=viewer,
        area_label=area_label,
        period_label=period_label,
        today=day,
    )


def _choose(sb, kind: str, values, key: str) -> list[str]:
    """A multiselect of the values of an enum (none chosen: all)."""
    return sb.multiselect(
        tr(kind),
        [v.value for v in values],
        format_func=labels(kind),
        placeholder=tr("all"),
        key=key,
        persist_state="session",
    )


def _demo_viewer(sb, role_default: str) -> Viewer:
    """Demo mode (no account stored): the visitor says who they are, and is told so."""
    role = sb.selectbox(
        tr("viewer_role"),
        ROLES,
        index=ROLES.index(role_default),
        format_func=labels("role"),
        key=KEY_ROLE,
        help=tr("viewer_role_help"),
        persist_state="session",
    )
    sb.caption(tr("demo_mode"))
    return Viewer(role=role, name=tl("role", role))


def _area_name(code: str) -> str:
    """The name of an area or grid code (the code itself when unknown)."""
    all_areas = areas()
    named = dict(zip(all_areas["code"], all_areas["name"], strict=True))
    if code in named:
        return named[code]
    gdf = grids(Scope(area_code=code))
    match = gdf[gdf["code"] == code]
    return str(match["name"].iloc[0]) if len(match) else code


def page_header(title_key: str) -> None:
    """Page config and title; call first on every page."""
    st.set_page_config(page_title=f"{tr(title_key)} · {tr('app_title')}", layout="wide")
    st.title(tr(title_key))
