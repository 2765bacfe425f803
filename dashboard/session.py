"""The database of the dashboard: one engine per URL, one session per user action.

- The engine is created once per database URL (``st.cache_resource``); the URL comes from
  ``GRIDLAW_DATABASE_URL`` (:func:`grid_model.config.database_url`).
- ``with session() as s:`` is a read that is not cached; a change is
  ``run_write(lambda s: service(s, ...))`` (run again while the database is busy,
  :func:`grid_model.db.run_write`) or ``with write() as s:`` (run once); both commit and then
  clear every cached read (:mod:`dashboard.cache`). Database errors leave all of them as
  :mod:`grid_model.errors` classes with a message in the user's language (never a traceback).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from dashboard.i18n import current_lang
from grid_model import config, db

T = TypeVar("T")


def database_url() -> str:
    return config.database_url()


@st.cache_resource(show_spinner=False)
def engine_for(url: str) -> Engine:
    """The engine of ``url``, created once per process."""
    return db.get_engine(url)


@st.cache_resource(show_spinner=False)
def _sessions_for(url: str) -> sessionmaker[Session]:
    return db.session_factory(engine_for(url))


def engine() -> Engine:
    """The engine of ``GRIDLAW_DATABASE_URL``, created once per process."""
    return engine_for(database_url())


@contextmanager
def session_for(url: str) -> Iterator[Session]:
    """A read transaction on the database ``url``, errors in the user's language."""
    with db.reading(engine_for(url), lang=current_lang()) as s:
        yield s


@contextmanager
def session() -> Iterator[Session]:
    """A read transaction for one user action."""
    with session_for(database_url()) as s:
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
    """Forget every cached read (after a write)."""
    st.cache_data.clear()
