"""Libraries the services import only when first asked (so the CLI and the API start fast),
imported by the dashboard's server in the background once it starts: the first visitor of
Access would otherwise wait for them (spopt's siting models alone take 0.5–1.2 s
to import). Then the objects of every import are moved out of the garbage collector's reach
(``gc.freeze``): they live as long as the server, and each full collection walked all of
them — a page building tens of thousands of objects (a gap list's points, a million rows)
paid 0.1 s or more per collection (measured on Coverage gaps and Access at 1M needs).

``start()`` runs once per server process (``st.cache_resource``); ``import_all()`` is the work
itself (the page benchmark's warm-up calls it: the server has done it by then).
"""

from __future__ import annotations

import gc
import importlib
import logging
import pkgutil
import threading

import streamlit as st

#: Imported inside the functions that use them (grid_model.analysis, grid_model.gaps.access).
LAZY_LIBRARIES = ("libpysal.weights", "spopt.locate")
#: Imported at the top of the pages (each page's first run would import them).
PAGE_LIBRARIES = ("altair", "folium", "folium.plugins", "mapclassify", "streamlit_folium")

_log = logging.getLogger(__name__)


def import_all() -> None:
    """Import every module of :mod:`dashboard`, :data:`PAGE_LIBRARIES` and
    :data:`LAZY_LIBRARIES` (one that fails is logged, not raised: the page that needs it
    reports the error when it runs), then freeze what is alive."""
    import dashboard

    names = [i.name for i in pkgutil.walk_packages(dashboard.__path__, "dashboard.")]
    for name in [*names, *PAGE_LIBRARIES, *LAZY_LIBRARIES]:
        try:
            importlib.import_module(name)
        except Exception:  # a broken optional import must not stop the server
            _log.exception("preloading %s failed", name)
    gc.collect()  # garbage first: a frozen cycle would never be freed
    gc.freeze()


@st.cache_resource(show_spinner=False)
def start() -> threading.Thread:
    """Start :func:`import_all` in a daemon thread, once per server."""
    thread = threading.Thread(target=import_all, name="gridlaw-preload", daemon=True)
    thread.start()
    return thread
