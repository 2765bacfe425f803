"""What the pages import as ``state``: the database, cached reads, the sidebar and the map
widget, gathered from the modules that implement them.

- :mod:`dashboard.session`: ``session()``, ``write()``, ``run_write(work)``, ``clear_cache()``
  (one engine per database URL, one session per user action, every write clears the cache);
- :mod:`dashboard.cache`: :func:`~dashboard.cache.cached`, a ``grid_model`` service as a
  cached read keyed by database URL, scope, viewer and options;
- :mod:`dashboard.reads`: the cached reads of the pages (``grids``, ``kpis``, ``map_layers``…);
- :mod:`dashboard.sidebar` and :mod:`dashboard.signin`: the shared sidebar and signing in;
- here: :func:`show_map`, ``st_folium`` with Leaflet served by the app.

Settings (:mod:`grid_model.config`): ``GRIDLAW_DATABASE_URL``, ``GRIDLAW_TODAY`` (an ISO date
used as "today" for overdue and outreach figures), ``GRIDLAW_TIANDITU_KEY`` (default Tianditu
key of the Tianditu base map).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit_folium import st_folium

from dashboard.cache import key_of, keys
from dashboard.maps import local_assets
from dashboard.reads import (
    areas,
    coverage_gaps,
    dispute_types,
    export_frame,
    grid_card,
    grid_measures,
    grid_point,
    grids,
    heat_bins,
    kpis,
    map_layers,
    need_detail,
    search_needs,
    service_points,
    trend,
    workload,
)
from dashboard.session import (
    clear_cache,
    database_url,
    engine,
    run_write,
    session,
    write,
)
from dashboard.sidebar import Filters, page_header, period_dates, sidebar, today
from grid_model import config

__all__ = [
    "Filters",
    "areas",
    "clear_cache",
    "coverage_gaps",
    "database_url",
    "dispute_types",
    "engine",
    "export_frame",
    "grid_card",
    "grid_measures",
    "grid_point",
    "grids",
    "heat_bins",
    "key_of",
    "keys",
    "kpis",
    "map_layers",
    "need_detail",
    "page_header",
    "period_dates",
    "run_write",
    "search_needs",
    "service_points",
    "session",
    "show_map",
    "sidebar",
    "static_url",
    "tianditu_key",
    "today",
    "trend",
    "workload",
    "write",
]


def tianditu_key() -> str | None:
    return config.tianditu_key()


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
