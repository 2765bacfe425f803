"""Cached reads: :func:`cached` turns a ``grid_model`` service into a dashboard call whose
result ``st.cache_data`` keeps.

A service takes ``(session, scope, viewer?, ..., **options)`` and returns data; its cached call
takes the same arguments without the session:

>>> kpis = cached(indicators.compute_kpis, names={"day": "today"})  # doctest: +SKIP
>>> kpis(filters.scope, day=filters.today)  # doctest: +SKIP

The cache is keyed by the database URL, the arguments (a :class:`~grid_model.scope.Scope` or
:class:`~grid_model.scope.Viewer` by its fields) and the keyword values, so two databases,
scopes or viewers never share a result. Each read runs in its own read transaction
(:func:`dashboard.session.session_for`: database errors arrive as ``grid_model.errors`` in the
user's language); every write clears the whole cache (:func:`dashboard.session.clear_cache`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from dashboard.i18n import current_lang
from dashboard.session import database_url, engine_for, session_for
from grid_model.scope import Scope, Viewer

_KINDS: dict[str, type] = {"Scope": Scope, "Viewer": Viewer}


def key_of(value: object) -> tuple:
    """A hashable stand-in for an argument: a Scope or Viewer by its fields.

    >>> key_of(Scope(area_code="440703"))[:2]
    ('Scope', ('440703', None, None, (), (), None))
    >>> key_of(3)
    ('', 3)
    """
    for kind, cls in _KINDS.items():
        if isinstance(value, cls):
            return kind, dataclasses.astuple(value)
    return "", value


def value_of(key: tuple) -> Any:
    """The argument :func:`key_of` stands in for.

    >>> value_of(key_of(Scope(area_code="440703"))) == Scope(area_code="440703")
    True
    """
    kind, value = key
    return _KINDS[kind](*value) if kind else value


def keys(*args: object) -> tuple:
    """The cache key of positional arguments (what a cached call's ``read`` takes)."""
    return tuple(key_of(a) for a in args)


def cached(
    service: Callable[..., Any],
    *,
    max_entries: int | None = 32,
    ttl: float | None = None,
    names: Mapping[str, str] | None = None,
    cast: Mapping[str, Callable[[Any], Any]] | None = None,
    engine: bool = False,
    lang: bool = False,
) -> Callable[..., Any]:
    """``service`` as a cached dashboard call.

    Parameters
    ----------
    service
        ``service(session, *args, **kw)``; called with a read session on the current
        database (with ``engine``: its engine, for services that open their own sessions).
    max_entries, ttl
        Kept results and their lifetime in seconds (``st.cache_data``).
    names
        Keyword names of the call → those of the service (``{"day": "today"}``).
    cast
        Keyword values normalised before they are keyed (``{"walk_m": float}``).
    lang
        Pass ``lang=`` the session's language (part of the key).

    Returns
    -------
    callable
        ``call(*args, **kw)``; ``call.read`` is the cached function itself,
        ``read(url, keys(*args), **kw)`` (its ``__wrapped__`` runs uncached).
    """
    renamed = dict(names or {})
    casts = dict(cast or {})

    def read(url: str, args: tuple, **kw: tuple) -> Any:
        values = [value_of(a) for a in args]
        options = {renamed.get(k, k): value_of(v) for k, v in kw.items()}
        if engine:
            return service(engine_for(url), *values, **options)
        with session_for(url) as s:
            return service(s, *values, **options)

    # st.cache_data tells functions apart by module, qualified name and source: every read
    # has the same source, so the name says which service it caches.
    read.__qualname__ = f"cached[{service.__module__}.{service.__qualname__}]"
    cached_read = st.cache_data(show_spinner=False, max_entries=max_entries, ttl=ttl)(read)

    def call(*args: object, **kw: object) -> Any:
        if lang:
            kw["lang"] = current_lang()
        # sorted: the same options in another order are the same cache entry
        options = {k: key_of(casts[k](v) if k in casts else v) for k, v in sorted(kw.items())}
        return cached_read(database_url(), keys(*args), **options)

    call.__doc__ = f"Cached :func:`{service.__module__}.{service.__qualname__}`."
    call.__name__ = call.__qualname__ = service.__name__
    call.read = cached_read  # type: ignore[attr-defined]
    return call
