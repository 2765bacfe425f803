"""The demo data set stored in both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from grid_model.errors import InvalidInputError
from grid_model.imports.seed import seed_demo
from grid_model.models import Area, Assignment, Grid, Need, ServiceEvent, ServicePoint, Worker
from grid_model.scope import Viewer

pytestmark = pytest.mark.db
ADMIN = Viewer.local_admin("seed-demo")


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_seed_demo_community(session):
    report = seed_demo(session, scale="community", seed=0, viewer=ADMIN)
    assert report.grids == 11 == _count(session, Grid)
    assert _count(session, Area, Area.code == "440703006106") == 1
    assert _count(session, Need) == report.needs and 1000 <= report.needs <= 1500
    assert 150 <= _count(session, ServiceEvent) <= 260
    assert _count(session, ServicePoint) >= 4
    assistants = _count(
        session, Assignment, Assignment.role == "grid_assistant", Assignment.valid_to.is_(None)
    )
    assert assistants == 11
    assert _count(session, Worker, Worker.role == "mediator") == 11
    inside = _count(session, Need, Need.quality == "inside")
    assert inside / report.needs > 0.98
    assert _count(session, Need, Need.quality == "snapped") >= 1
    with pytest.raises(InvalidInputError):
        seed_demo(session, scale="community", seed=0, viewer=ADMIN)
    again = seed_demo(session, scale="community", seed=0, replace=True, viewer=ADMIN)
    assert again.needs == report.needs
