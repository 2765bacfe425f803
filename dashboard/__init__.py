"""The Streamlit dashboard's support code (the pages in ``pages/`` and ``app.py`` stay thin).

- :mod:`~dashboard.state`: what the pages import as ``state`` (gathered from the next five);
- :mod:`~dashboard.session`: one engine per database, one session per user action, writes;
- :mod:`~dashboard.cache`: :func:`~dashboard.cache.cached`, a ``grid_model`` service as a
  cached read;
- :mod:`~dashboard.reads` and :mod:`~dashboard.analysis_state`: the cached reads of the pages
  1–6 and 7–9;
- :mod:`~dashboard.sidebar`, :mod:`~dashboard.signin`: the shared sidebar, signing in;
- :mod:`~dashboard.layers`: the Map page's five reads side by side;
- :mod:`~dashboard.maps`: pure folium map builders; :mod:`~dashboard.map_measures`: the
  measures the Map page colours by;
- :mod:`~dashboard.i18n`: texts in Chinese and English; :mod:`~dashboard.escaping`: the one
  place user text meets HTML or markdown;
- :mod:`~dashboard.views`, :mod:`~dashboard.account_views`: shared page elements.
"""
