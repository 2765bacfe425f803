"""The Open311 GeoReport v2 API and the mobile intake page: a presentation layer like the
dashboard. Routes read the request, call ``grid_model`` services and answer; every check is in
the services.

- :mod:`~api.app` — :func:`create_app` (the FastAPI application), docs from local files;
- :mod:`~api.errors` — every error as a GeoReport list of ``{code, description}``, zh/en;
- :mod:`~api.auth` — who asks: an API key, the intake page's session, or the public;
- :mod:`~api.open311` — the GeoReport routes under ``/open311/v2/``;
- :mod:`~api.intake` — the ``/intake`` page and its sign-in.
"""
