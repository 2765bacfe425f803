"""GridLaw dashboard (网格法治地图): ``streamlit run app.py`` (or ``gridlaw demo``).

The entry point only builds the navigation, with page titles in the user's language; each page
in ``pages/`` draws the shared sidebar (language, area, period, filters) and calls the services
through :mod:`dashboard.state`.
"""

from __future__ import annotations

import streamlit as st

from dashboard import preload, views
from dashboard.i18n import current_lang, tr
from grid_model import db
from grid_model.errors import GridLawError

# (file, title key, URL path, icon); the first is the home page.
PAGES = (
    ("pages/1_总览_Overview.py", "page_overview", "overview", ":material/dashboard:"),
    ("pages/2_地图_Map.py", "page_map", "map", ":material/map:"),
    ("pages/3_工作量_Workload.py", "page_workload", "workload", ":material/groups:"),
    ("pages/4_覆盖缺口_Gaps.py", "page_gaps", "gaps", ":material/report:"),
    ("pages/5_案件_Cases.py", "page_cases", "cases", ":material/gavel:"),
    ("pages/6_数据_Data.py", "page_data", "data", ":material/database:"),
    ("pages/7_热点_Hotspots.py", "page_hotspots", "hotspots", ":material/local_fire_department:"),
    ("pages/8_调配_Rebalance.py", "page_rebalance", "rebalance", ":material/swap_horiz:"),
    ("pages/9_可达性_Access.py", "page_access", "access", ":material/directions_walk:"),
    ("pages/10_我的待办_MyCases.py", "page_mycases", "mycases", ":material/task_alt:"),
    ("pages/11_督办_Supervision.py", "page_supervision", "supervision", ":material/alarm:"),
    ("pages/12_报表_Reports.py", "page_reports", "reports", ":material/summarize:"),
)


def main() -> None:
    preload.start()  # once per server: the libraries of Hot spots and Access, in the background
    pages = [
        st.Page(path, title=tr(key), url_path=url, icon=icon, default=i == 0)
        for i, (path, key, url, icon) in enumerate(PAGES)
    ]
    page = st.navigation(pages)
    try:
        page.run()
    except Exception as exc:
        # the last line of defence: a page that let a domain or database error through shows
        # a message, never a traceback (whose text may hold the SQL and its values)
        if isinstance(exc, GridLawError):
            views.show_error(exc)
        elif db.is_database_error(exc):
            views.show_error(db.translate_error(exc, current_lang()))
        else:
            raise


main()
