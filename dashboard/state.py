"""Streamlit plumbing shared by the pages: the engine, sessions, cached reads, sidebar filters.

- The engine is created once per database URL (``st.cache_resource``); the URL comes from
  ``GRIDLAW_DATABASE_URL`` (see :mod:`grid_model.config`).
- One session per user action: ``with state.session() as s:`` for reads that are not cached;
  a change is ``state.run_write(lambda s: service(s, ...))`` (run again while the database is
  busy, :func:`grid_model.db.run_write`) or ``with state.write() as s:`` (run once); both
  commit and then clear every cached read. Database errors leave all of them as
  :mod:`grid_model.errors` classes with a message in the user's language (never a traceback).
- Cached reads (``st.cache_data``) are keyed by the database URL, the scope as a tuple and the
  other arguments, so two databases or two scopes never share a result.

Settings
--------
GRIDLAW_TODAY
    An ISO date used as "today" for overdue and outreach figures (demos, tests); default: the
    real date.
GRIDLAW_TIANDITU_KEY
    Default Tianditu key for the Tianditu base map.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pandas as pd
import streamlit as st
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

import geodata
from dashboard.escaping import md_tr
from dashboard.i18n import current_lang, labels, language_switch, texts, tl, tr
from dashboard.maps import MAX_MARKERS
from grid_model import config, db, queries
from grid_model.accounts import MAX_PASSWORD
from grid_model.errors import DatabaseError, GridLawError
from grid_model.models import Category, Status
from grid_model.scope import ROLES, Scope, Viewer

T = TypeVar("T")

# Sidebar widget keys (ASCII), shared by every page.
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


# --- engine and sessions ------------------------------------------------------------------


def database_url() -> str:
    return config.database_url()


@st.cache_resource(show_spinner=False)
def _engine_for(url: str) -> Engine:
    return db.get_engine(url)


@st.cache_resource(show_spinner=False)
def _sessions_for(url: str) -> sessionmaker[Session]:
    return db.session_factory(_engine_for(url))


def engine() -> Engine:
    """The engine of ``GRIDLAW_DATABASE_URL``, created once per process."""
    return _engine_for(database_url())


@contextmanager
def _session_for(url: str) -> Iterator[Session]:
    with db.reading(_engine_for(url), lang=current_lang()) as s:
        yield s


@contextmanager
def session() -> Iterator[Session]:
    """A read transaction for one user action."""
    with _session_for(database_url()) as s:
        yield s


@contextmanager
def write() -> Iterator[Session]:
    """A write transaction for a change, run once: committed at the end of the block, then
    every cached read is cleared so the pages show the change."""
    with db.writing(engine(), lang=current_lang()) as s:
        yield s
    clear_cache()


def run_write(work: Callable[[Session], T]) -> T:
    """``work(session)`` as one change, run again while the database is busy (so it must
    read its input anew each time); then every cached read is cleared. What it returned."""
    result = db.run_write(engine(), work, lang=current_lang())
    clear_cache()
    return result


def clear_cache() -> None:
    st.cache_data.clear()


def today() -> dt.date:
    """``GRIDLAW_TODAY`` if set, else the machine's date (:func:`grid_model.config.today`)."""
    return config.today()


def tianditu_key() -> str | None:
    return config.tianditu_key()


# --- cache keys ---------------------------------------------------------------------------


def scope_key(scope: Scope) -> tuple:
    return dataclasses.astuple(scope)


def _scope(key: tuple) -> Scope:
    return Scope(*key)


def viewer_key(viewer: Viewer) -> tuple:
    return dataclasses.astuple(viewer)


def _viewer(key: tuple) -> Viewer:
    return Viewer(*key)


# --- cached reads -------------------------------------------------------------------------
# Each takes the URL and tuples so st.cache_data can hash them; the public wrappers below
# take Scope/Viewer objects.


@st.cache_data(show_spinner=False, max_entries=16)
def _areas(url: str):
    with _session_for(url) as s:
        return queries.load_areas(s)


@st.cache_data(show_spinner=False, max_entries=32)
def _grids(url: str, skey: tuple):
    with _session_for(url) as s:
        return queries.load_grids(s, _scope(skey))


@st.cache_data(show_spinner=False, max_entries=32)
def _service_points(url: str, skey: tuple):
    with _session_for(url) as s:
        return queries.load_service_points(s, _scope(skey))


@st.cache_data(show_spinner=False, max_entries=32)
def _kpis(url: str, skey: tuple, day: dt.date):
    from grid_model.measures import indicators

    with _session_for(url) as s:
        return indicators.compute_kpis(s, _scope(skey), today=day)


@st.cache_data(show_spinner=False, max_entries=32)
def _trend(url: str, skey: tuple):
    from grid_model.measures import indicators

    with _session_for(url) as s:
        return indicators.monthly_trend(s, _scope(skey))


@st.cache_data(show_spinner=False, max_entries=32)
def _grid_measures(url: str, skey: tuple, day: dt.date):
    from grid_model.measures import indicators

    with _session_for(url) as s:
        return indicators.grid_measures(s, _scope(skey), today=day)


@st.cache_data(show_spinner=False, max_entries=32)
def _heat_bins(url: str, skey: tuple, cell_deg: float):
    from grid_model.measures import indicators

    with _session_for(url) as s:
        return indicators.heat_bins(s, _scope(skey), cell_deg=cell_deg)


@st.cache_data(show_spinner=False, max_entries=32)
def _outside_needs(url: str, skey: tuple, vkey: tuple, limit: int):
    with _session_for(url) as s:
        return queries.load_needs(s, _scope(skey), _viewer(vkey), limit=limit, quality="outside")


@st.cache_data(show_spinner=False, max_entries=16)
def _map_layers(url: str, skey: tuple, vkey: tuple, day: dt.date):
    from dashboard.layers import load_map_layers

    return load_map_layers(_engine_for(url), _scope(skey), _viewer(vkey), today=day)


@st.cache_data(show_spinner=False, max_entries=64)
def _grid_card(url: str, grid_code: str, vkey: tuple, day: dt.date):
    from grid_model.measures import indicators

    with _session_for(url) as s:
        return indicators.grid_card(s, grid_code, _viewer(vkey), today=day)


@st.cache_data(show_spinner=False, max_entries=32)
def _workload(url: str, skey: tuple, start, end, weights: tuple, min_cases: int, day: dt.date):
    from grid_model.measures import workload

    with _session_for(url) as s:
        return workload.assistant_workload(
            s,
            _scope(skey),
            start=start,
            end=end,
            weights=dict(weights) or None,
            min_cases=min_cases,
            today=day,
        )


@st.cache_data(show_spinner=False, max_entries=16)
def _gaps(url: str, skey: tuple, vkey: tuple, day: dt.date, outreach_days: int, walk_m: float):
    from grid_model.gaps import coverage

    with _session_for(url) as s:
        return coverage.find_coverage_gaps(
            s,
            _scope(skey),
            today=day,
            outreach_days=outreach_days,
            walk_m=walk_m,
            viewer=_viewer(vkey),
        )


@st.cache_data(show_spinner=False, max_entries=32)
def _search(
    url: str,
    skey: tuple,
    vkey: tuple,
    text: str,
    sort: str,
    descending: bool,
    limit: int,
    lang: str = "zh",
):
    from grid_model.needs import cases

    with _session_for(url) as s:
        return cases.search_needs(
            s,
            _scope(skey),
            _viewer(vkey),
            text=text or None,
            sort=sort,
            descending=descending,
            limit=limit,
            lang=lang,
        )


def areas():
    """Districts, streets and communities (GeoDataFrame, boundary where known)."""
    return _areas(database_url())


def grids(scope: Scope):
    return _grids(database_url(), scope_key(scope))


def service_points(scope: Scope):
    return _service_points(database_url(), scope_key(scope))


def kpis(scope: Scope, *, day: dt.date):
    return _kpis(database_url(), scope_key(scope), day)


def trend(scope: Scope):
    return _trend(database_url(), scope_key(scope))


def grid_measures(scope: Scope, *, day: dt.date):
    return _grid_measures(database_url(), scope_key(scope), day)


def heat_bins(scope: Scope, *, cell_deg: float = 0.002):
    return _heat_bins(database_url(), scope_key(scope), cell_deg)


def outside_needs(scope: Scope, viewer: Viewer, *, limit: int = MAX_MARKERS + 1):
    """The newest ``limit`` needs outside every grid, redacted for ``viewer`` (one more than
    the map draws, so it can say there are more)."""
    return _outside_needs(database_url(), scope_key(scope), viewer_key(viewer), limit)


def map_layers(scope: Scope, viewer: Viewer, *, day: dt.date):
    """Everything the Map page draws (:class:`dashboard.layers.MapLayers`), read in parallel."""
    return _map_layers(database_url(), scope_key(scope), viewer_key(viewer), day)


def grid_card(grid_code: str, viewer: Viewer, *, day: dt.date):
    return _grid_card(database_url(), grid_code, viewer_key(viewer), day)


def workload(
    scope: Scope,
    *,
    start: dt.date,
    end: dt.date,
    weights: dict[str, float] | None,
    min_cases: int,
    day: dt.date,
):
    key = tuple(sorted((weights or {}).items()))
    return _workload(database_url(), scope_key(scope), start, end, key, min_cases, day)


def coverage_gaps(
    scope: Scope, viewer: Viewer, *, day: dt.date, outreach_days: int = 30, walk_m: float = 1000
):
    return _gaps(
        database_url(), scope_key(scope), viewer_key(viewer), day, outreach_days, float(walk_m)
    )


def search_needs(
    scope: Scope,
    viewer: Viewer,
    *,
    text: str = "",
    sort: str = "reported_at",
    descending: bool = True,
    limit: int = 200,
    lang: str = "zh",
):
    return _search(
        database_url(), scope_key(scope), viewer_key(viewer), text, sort, descending, limit, lang
    )


def need_detail(need_id: int, viewer: Viewer, *, lang: str) -> dict:
    """Not cached: the detail shows the case as it is now."""
    from grid_model.needs import cases

    with session() as s:
        return cases.need_detail(s, need_id, viewer, lang=lang)


def export_frame(kind: str, scope: Scope, viewer: Viewer, *, day: dt.date):
    from grid_model.imports import exporting

    with session() as s:
        return exporting.export_frame(s, kind, scope, viewer, today=day)


@st.cache_data(show_spinner=False)
def dispute_types() -> list[str]:
    """The 15 official people's-mediation dispute categories (人民调解纠纷分类)."""
    import pandas as pd

    path = Path(geodata.__file__).resolve().parent / "data" / "mediation_dispute_categories_cn.csv"
    return pd.read_csv(path)["name_zh"].tolist()


def grid_point(grids, code: str) -> tuple[float, float]:
    """A point surely inside grid ``code`` (WGS84 lon, lat): where a need recorded "in this
    grid" without coordinates is placed."""
    geom = grids.loc[grids["code"] == code].geometry.iloc[0]
    p = geom.representative_point()
    return round(p.x, 6), round(p.y, 6)


# --- maps ---------------------------------------------------------------------------------

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def static_url() -> str | None:
    """Where the app serves ``static/`` (``/app/static/``, under ``server.baseUrlPath``), or
    None when static serving is off or the Leaflet copies are missing."""
    if not st.get_option("server.enableStaticServing"):
        return None
    if not (STATIC_DIR / "leaflet" / "leaflet.js").is_file():
        return None
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/app/static/" if base else "/app/static/"


def show_map(m, *, key: str, height: int = 560, returned_objects=(), **kwargs):
    """``st_folium`` with Leaflet loaded from the app itself when it serves it (see
    ``static/README.md``), else from folium's CDN links."""
    from streamlit_folium import st_folium

    from dashboard.maps import local_assets

    base = static_url()
    if base:
        local_assets(m, base)
    return st_folium(
        m,
        key=key,
        height=height,
        use_container_width=True,
        returned_objects=list(returned_objects),
        **kwargs,
    )


# --- sidebar filters ----------------------------------------------------------------------


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
    import calendar

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


def _related(codes: pd.Series, mine: str | None) -> pd.Series:
    """Which ``codes`` lie on the way to or inside area ``mine`` (all without one)."""
    if not mine:
        return pd.Series(True, index=codes.index)
    return codes.map(lambda c: str(c).startswith(mine) or mine.startswith(str(c)))


def _area_selectors(sb, mine: str | None = None) -> tuple[str | None, str]:
    """Street → community → grid selectors; the most specific choice is the area. With
    ``mine`` (an account's area) only the areas on the way to it or inside it are offered."""
    all_areas = areas()
    all_areas = all_areas[_related(all_areas["code"], mine)]
    streets = all_areas[all_areas["level"] == "street"]
    street_names = _name_of(streets, "code", "name")
    street = sb.selectbox(
        tr("street"),
        [None, *street_names],
        format_func=_named(street_names),
        key=KEY_STREET,
        persist_state="session",
    )
    communities = all_areas[all_areas["level"] == "community"]
    if street:
        communities = communities[communities["parent_code"] == street]
    community_names = _name_of(communities, "code", "name")
    community = sb.selectbox(
        tr("community"),
        [None, *community_names],
        format_func=_named(community_names),
        key=KEY_COMMUNITY,
        persist_state="session",
    )
    grid = None
    if community:
        gdf = grids(Scope(area_code=community))
        gdf = gdf[_related(gdf["code"], mine)]
        grid_names = _name_of(gdf, "code", "name")
        grid = sb.selectbox(
            tr("grid"),
            [None, *grid_names],
            format_func=_named(grid_names, with_code=True),
            key=KEY_GRID,
            persist_state="session",
        )
        if grid:
            return grid, f"{community_names[community]} · {grid_names[grid]}"
        return community, community_names[community]
    if street:
        return street, street_names[street]
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


KEY_ACCOUNT = "gl_account"  # username of the signed-in account (its rights are read anew)
KEY_ATTEMPTS = "gl_sign_in_attempts"  # this browser session's failed sign-ins


@st.cache_data(show_spinner=False, ttl=30)
def _accounts_enabled(url: str) -> bool:
    from grid_model.accounts import accounts_enabled

    with _session_for(url) as s:
        return accounts_enabled(s)


@st.cache_data(show_spinner=False, ttl=30)
def _current_viewer(url: str, username: str) -> Viewer | None:
    from grid_model.accounts import current_viewer

    with _session_for(url) as s:
        return current_viewer(s, username)


def _signed_in(sb) -> Viewer:
    """The signed-in account's viewer, as the account is now (a disabled account is signed
    out within 30 s); without one, a sign-in form and the page stops."""
    saved = st.session_state.get(KEY_ACCOUNT)
    viewer = _current_viewer(database_url(), saved) if saved else None
    if saved and viewer is None:
        del st.session_state[KEY_ACCOUNT]
    if viewer is not None:
        sb.caption(md_tr("signed_in_as", name=viewer.name, role=tl("role", viewer.role)))
        if sb.button(tr("sign_out"), key="sign_out"):
            del st.session_state[KEY_ACCOUNT]
            st.rerun()
        return viewer
    with st.form("sign_in_form"):
        st.subheader(tr("sign_in"))
        username = st.text_input(tr("username"), key="sign_in_user", max_chars=64)
        password = st.text_input(
            tr("password"), type="password", key="sign_in_password", max_chars=MAX_PASSWORD
        )
        submitted = st.form_submit_button(tr("sign_in"), key="sign_in_submit", type="primary")
    if submitted:
        result = _sign_in(username, password)
        if result.viewer is not None:
            st.session_state[KEY_ACCOUNT] = username.strip()
            st.rerun()
        st.error(result.message(current_lang()))
    st.stop()


def _sign_in(username: str, password: str):
    """One sign-in attempt, throttled per username (in the database) and per browser session
    (this session's :class:`~grid_model.accounts.Attempts`); after a failure it waits the
    short delay outside the transaction, so no lock is held while it waits."""
    from grid_model.accounts import Attempts, sign_in

    attempts = st.session_state.setdefault(KEY_ATTEMPTS, Attempts())
    address = st.context.ip_address  # None where unknown (and not a string under AppTest)
    origin = address if isinstance(address, str) else None
    try:
        with write() as s:  # a failure is recorded: a write, with the write lock taken first
            result = sign_in(s, username, password, client=attempts, origin=origin)
    except (SQLAlchemyError, DatabaseError):
        # e.g. two first attempts on one name at once: this one is not counted, nor let in
        st.error(tr("sign_in_retry"))
        st.stop()
    time.sleep(result.delay)
    return result


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
    account = _signed_in(sb) if _accounts_enabled(database_url()) else None
    sb.header(tr("filters"))
    area_code, area_label = _area_selectors(sb, account.area_code if account else None)
    day = sb.date_input(
        tr("as_of"), value=today(), key=KEY_AS_OF, help=tr("as_of_help"), persist_state="session"
    )
    day = day or today()
    start, end, period_label = _period(sb, day)
    chosen_categories: list[str] = []
    if categories:
        chosen_categories = sb.multiselect(
            tr("category"),
            [c.value for c in Category],
            format_func=labels("category"),
            placeholder=tr("all"),
            key=KEY_CATEGORY,
            persist_state="session",
        )
    chosen_statuses: list[str] = []
    if statuses:
        chosen_statuses = sb.multiselect(
            tr("status"),
            [s.value for s in Status],
            format_func=labels("status"),
            placeholder=tr("all"),
            key=KEY_STATUS,
            persist_state="session",
        )
    if account is None:
        # Demo mode (no account stored): the visitor says who they are, and is told so.
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
        viewer = Viewer(role=role, name=tl("role", role))
    else:
        viewer = account
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
