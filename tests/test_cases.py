"""Cases: recording from the diary form, status changes, search and detail with redaction."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select

from geodata.crs import wgs84_to_gcj02
from grid_model.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from grid_model.models import AuditEntry, Need, Status
from grid_model.needs.cases import (
    STATUS_FLOW,
    TRANSITIONS,
    NeedInput,
    change_status,
    content_id,
    need_detail,
    record_need,
    search_needs,
)
from grid_model.scope import Scope, Viewer
from tests.factories import add_need, make_community

pytestmark = pytest.mark.db

D = dt.date
ADMIN = Viewer(role="admin", name="admin")
ASSISTANT = Viewer(role="grid_assistant", area_code="440703006106", name="A1")
LEADER = Viewer(role="community_leader", area_code="440703006106", name="leader")
M1 = Viewer(role="mediator", area_code="440703006106", name="M1")
# Grid 1 (NW) spans 113.080–113.084 E, 22.604–22.608 N; grid 2 (NE) lies east of it.
IN_G1 = (113.082, 22.606)


def _form(**overrides) -> NeedInput:
    values = {
        "lon": IN_G1[0],
        "lat": IN_G1[1],
        "category": "consultation",
        "reported_at": D(2025, 3, 3),
        "source": "diary",
        "description": "咨询劳动合同解除",
        "resident_name": "张三",
        "resident_phone": "13912345678",
    }
    values.update(overrides)
    return NeedInput(**values)


@pytest.fixture()
def community(session):
    return make_community(session, n_grids=4)


def _audit(session, need: Need) -> list[AuditEntry]:
    return session.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == str(need.id)).order_by(AuditEntry.id)
    ).all()


# --- the status flow --------------------------------------------------------------------------


def test_transitions_cover_every_status_and_never_reopen():
    assert STATUS_FLOW[0] == "recorded" and STATUS_FLOW[-1] == "closed"
    assert set(TRANSITIONS) == {s.value for s in Status}
    assert TRANSITIONS["closed"] == frozenset()
    assert all(targets <= set(STATUS_FLOW) for targets in TRANSITIONS.values())
    for a, b in [
        ("recorded", "dispatched"),
        ("dispatched", "in_progress"),
        ("in_progress", "closed"),
    ]:
        assert b in TRANSITIONS[a]
    assert "closed" in TRANSITIONS["recorded"]


def test_full_flow_with_audit(session, community):
    need = add_need(session, category="mediation", reported_at=D(2025, 3, 3))
    change_status(session, need.id, "dispatched", viewer=M1, on=D(2025, 3, 4))
    change_status(session, need.id, "in_progress", viewer=ADMIN, on=D(2025, 3, 5))
    got = change_status(session, need.id, "closed", outcome="mediated", viewer=M1, on=D(2025, 3, 9))
    assert (got.status, got.outcome, got.closed_at) == ("closed", "mediated", D(2025, 3, 9))
    entries = _audit(session, need)
    assert [(e.actor, e.details["from"], e.details["to"]) for e in entries] == [
        ("M1", "recorded", "dispatched"),
        ("admin", "dispatched", "in_progress"),
        ("M1", "in_progress", "closed"),
    ]
    assert entries[-1].action == "change_status" and entries[-1].details["outcome"] == "mediated"


def test_consultation_closed_on_the_spot(session, community):
    need = add_need(session)
    change_status(
        session, need.id, "closed", outcome="resolved", viewer=ASSISTANT, on=D(2025, 3, 3)
    )
    assert (need.status, need.closed_at) == ("closed", D(2025, 3, 3))


@pytest.mark.parametrize(
    ("start", "to", "match"),
    [
        ("closed", "in_progress", "closed.*in_progress"),
        ("closed", "recorded", "closed.*recorded"),
        ("recorded", "in_progress", "recorded.*in_progress"),
        ("dispatched", "closed", "dispatched.*closed"),
        ("dispatched", "dispatched", "dispatched.*dispatched"),
        ("recorded", "archived", "recorded.*archived"),
    ],
)
def test_transitions_not_allowed(session, community, start, to, match):
    need = add_need(session, status=start, outcome="resolved" if start == "closed" else None)
    with pytest.raises(InvalidInputError, match=match):
        change_status(session, need.id, to, outcome="resolved", viewer=ASSISTANT, on=D(2025, 3, 9))
    assert need.status == start and _audit(session, need) == []


def test_reopen_message_in_both_languages(session, community):
    need = add_need(session, status="closed", outcome="resolved", closed_at=D(2025, 3, 4))
    with pytest.raises(InvalidInputError) as zh:
        change_status(session, need.id, "recorded", viewer=ASSISTANT, on=D(2025, 3, 9))
    assert "“closed”" in str(zh.value) and "不能重新打开" in str(zh.value)
    with pytest.raises(InvalidInputError) as en:
        change_status(session, need.id, "recorded", viewer=ASSISTANT, on=D(2025, 3, 9), lang="en")
    assert "cannot go from status 'closed' to 'recorded'" in str(en.value)


def test_closing_needs_a_fitting_outcome(session, community):
    need = add_need(session)  # a consultation
    with pytest.raises(InvalidInputError, match="outcome"):
        change_status(session, need.id, "closed", viewer=ASSISTANT, on=D(2025, 3, 4), lang="en")
    with pytest.raises(InvalidInputError, match="won"):
        change_status(session, need.id, "closed", outcome="won", viewer=ASSISTANT, on=D(2025, 3, 4))
    with pytest.raises(InvalidInputError, match="mediation"):
        change_status(
            session,
            need.id,
            "closed",
            outcome="mediated",
            viewer=ASSISTANT,
            on=D(2025, 3, 4),
            lang="en",
        )
    with pytest.raises(InvalidInputError, match="outcome"):
        change_status(
            session, need.id, "dispatched", outcome="resolved", viewer=ASSISTANT, on=D(2025, 3, 4)
        )
    with pytest.raises(InvalidInputError, match="2025-03-03"):
        change_status(
            session, need.id, "closed", outcome="resolved", viewer=ASSISTANT, on=D(2025, 3, 1)
        )
    assert need.status == "recorded" and need.outcome is None


def test_change_status_unknown_or_hidden_need(session, community):
    with pytest.raises(NotFoundError, match="987654"):
        change_status(session, 987654, "dispatched", viewer=ASSISTANT, on=D(2025, 3, 4))
    hidden = add_need(session, under_correction=True, category="correction")
    with pytest.raises(PermissionDeniedError, match="community_leader may not change the status"):
        change_status(session, hidden.id, "dispatched", viewer=LEADER, on=D(2025, 3, 4), lang="en")
    elsewhere = Viewer(role="grid_assistant", area_code="440703006107", name="X")
    with pytest.raises(NotFoundError):
        change_status(session, hidden.id, "dispatched", viewer=elsewhere, on=D(2025, 3, 4))
    change_status(session, hidden.id, "dispatched", viewer=ASSISTANT, on=D(2025, 3, 4))
    assert hidden.status == "dispatched"
    with pytest.raises(PermissionDeniedError, match="不能登记需求"):
        record_need(session, NeedInput(lon=113.085, lat=22.605, category="consultation",
                                       reported_at="2025-03-05"), viewer=LEADER)  # fmt: skip


# --- recording ------------------------------------------------------------------------------


def test_record_need_locates_defaults_and_audits(session, community):
    need, created = record_need(session, _form(external_id="D-1"), viewer=ASSISTANT)
    assert created
    assert (need.grid_code, need.quality, need.status) == (
        community.grid_codes[0],
        "inside",
        "recorded",
    )
    assert need.due_date == D(2025, 3, 10)  # consultation: 7 days
    assert need.district_code == "440703" and (need.lon, need.lat) == IN_G1
    [entry] = _audit(session, need)
    assert (entry.actor, entry.action, entry.details["grid_code"]) == (
        "A1",
        "record_need",
        need.grid_code,
    )
    assert "张三" not in str(entry.details)  # no personal data in the audit log


def test_record_need_is_idempotent_by_external_id(session, community):
    first, created = record_need(session, _form(external_id="D-1"), viewer=ASSISTANT)
    again, created_again = record_need(
        session, _form(external_id="D-1", description="another text"), viewer=ASSISTANT
    )
    assert created and not created_again and again.id == first.id
    assert session.scalar(select(func.count(Need.id))) == 1
    assert len(_audit(session, first)) == 1


def test_form_submitted_twice_stores_one_case(session, community):
    first, created = record_need(session, _form(), viewer=ASSISTANT)
    # the same form again, with cosmetic differences in spacing and phone formatting
    again, created_again = record_need(
        session,
        _form(
            description=" 咨询劳动合同解除 ", resident_phone="139-1234-5678", lon=IN_G1[0] + 1e-5
        ),
        viewer=ASSISTANT,
    )
    assert created and not created_again and again.id == first.id
    assert first.external_id.startswith("H") and first.external_id == content_id(
        {**dataclasses.asdict(_form()), "grid_code": first.grid_code}
    )
    other, created_other = record_need(session, _form(description="咨询婚姻家庭"), viewer=ASSISTANT)
    next_day, created_next = record_need(session, _form(reported_at="2025-03-04"), viewer=ASSISTANT)
    assert created_other and created_next
    assert len({first.id, other.id, next_day.id}) == 3


def test_record_need_accepts_typed_text_and_chinese_names(session, community):
    need, _ = record_need(
        session,
        _form(
            lon="113.082",
            lat=" 22.606 ",
            category="人民调解",
            source="电话",
            reported_at="2025年3月5日",
            dispute_type="邻里纠纷",
        ),  # fmt: skip
        viewer=ADMIN,
    )
    assert (need.category, need.source, need.reported_at) == ("mediation", "phone", D(2025, 3, 5))
    assert need.due_date == D(2025, 4, 4) and need.dispute_type == "邻里纠纷"


def test_record_need_converts_gcj02(session, community):
    lon, lat = wgs84_to_gcj02(*IN_G1)
    assert abs(lon - IN_G1[0]) > 0.003  # Amap's offset is hundreds of metres here
    need, _ = record_need(session, _form(lon=lon, lat=lat), viewer=ADMIN, crs="gcj02")
    assert need.lon == pytest.approx(IN_G1[0], abs=1e-7)
    assert need.lat == pytest.approx(IN_G1[1], abs=1e-7)
    assert need.grid_code == community.grid_codes[0]


def test_record_need_shared_edge_snapped_and_outside(session, community):
    g1, g2 = community.grid_codes[:2]
    east_edge = to_shape(community.grids[0].boundary).bounds[2]  # shared with grid 2
    edge, _ = record_need(session, _form(lon=east_edge, description="edge"), viewer=ADMIN)
    assert (edge.grid_code, edge.quality) == (g1, "inside")  # smallest code on a shared edge
    near, _ = record_need(session, _form(lon=113.088 + 1e-4, description="near"), viewer=ADMIN)
    assert (near.grid_code, near.quality) == (g2, "snapped")  # ~10 m east of the block
    far, _ = record_need(session, _form(lon=113.1, description="far"), viewer=ADMIN)
    assert (far.grid_code, far.quality, far.district_code) == (None, "outside", None)
    strict, _ = record_need(
        session, _form(lon=113.088 + 1e-4, description="strict"), viewer=ADMIN, snap_m=5
    )
    assert strict.quality == "outside"


@pytest.mark.parametrize(
    ("overrides", "field", "zh", "en"),
    [
        ({"lon": None}, "lon", "必填", "required"),
        ({"lon": "abc"}, "lon", "经度", "longitude"),
        ({"lon": 22.606, "lat": 113.082}, "lon/lat", "互换", "swapped"),
        ({"lat": 95}, "lat", "纬度", "latitude"),
        ({"category": "lawsuit"}, "category", "以下之一", "one of"),
        ({"category": None}, "category", "必填", "required"),
        ({"source": "fax"}, "source", "以下之一", "one of"),
        ({"source": None}, "source", "必填", "required"),
        ({"reported_at": "2025-02-30"}, "reported_at", "有效日期", "real date"),
        ({"reported_at": "2999-01-01"}, "reported_at", "不晚于今天", "not after today"),
        ({"due_date": "2025-03-01"}, "due_date", "不早于登记日期", "not before"),
        ({"dispute_type": "火星纠纷"}, "dispute_type", "以下之一", "one of"),
        ({"worker_code": "NOBODY"}, "worker_code", "工作人员", "worker code"),
    ],
)
def test_record_need_rejects_bad_fields(session, community, overrides, field, zh, en):
    for lang, word in (("zh", zh), ("en", en)):
        with pytest.raises(InvalidInputError) as exc:
            record_need(session, _form(**overrides), viewer=ADMIN, lang=lang)
        message = str(exc.value)
        assert field in message and word in message, message
    assert session.scalar(select(func.count(Need.id))) == 0


def test_record_need_reports_every_bad_field_and_bad_crs(session, community):
    with pytest.raises(InvalidInputError) as exc:
        record_need(session, _form(lon="x", category="?", source=None), viewer=ADMIN, lang="en")
    assert all(f"'{f}'" in str(exc.value) for f in ("lon", "category", "source"))
    with pytest.raises(InvalidInputError, match="crs"):
        record_need(session, _form(), viewer=ADMIN, crs="mars")


def test_record_need_outside_the_viewers_area(session, community):
    elsewhere = Viewer(role="grid_assistant", area_code="440703006107", name="X")
    with pytest.raises(InvalidInputError, match="440703006107"):
        record_need(session, _form(), viewer=elsewhere)


# --- search and detail ----------------------------------------------------------------------


@pytest.fixture()
def cases(session, community):
    g1, g2 = community.grid_codes[:2]
    return {
        "a": add_need(session, grid_code=g1, reported_at=D(2025, 3, 1), description="劳动合同纠纷",
                      resident_name="张三", resident_phone="13911110000"),
        "b": add_need(session, grid_code=g2, reported_at=D(2025, 3, 5), description="邻里噪音 100%",
                      resident_name="李四", category="mediation"),
        "c": add_need(session, grid_code=g1, reported_at=D(2025, 3, 3), description="矫正帮教",
                      resident_name="王五", under_correction=True, category="correction"),
        "d": add_need(session, grid_code=None, district_code="440705", lon=113.2, lat=22.7,
                      reported_at=D(2025, 3, 4), description="外区"),
    }  # fmt: skip


def test_search_for_admin_sorted_and_paged(session, cases):
    df = search_needs(session, Scope(), ADMIN)
    assert df["id"].tolist() == [cases[k].id for k in ("b", "d", "c", "a")]
    assert {"resident_name", "resident_phone", "under_correction"} <= set(df.columns)
    asc = search_needs(session, Scope(), ADMIN, sort="reported_at", descending=False, limit=2)
    assert asc["id"].tolist() == [cases["a"].id, cases["c"].id]
    page = search_needs(session, Scope(), ADMIN, descending=False, limit=2, offset=2)
    assert page["id"].tolist() == [cases["d"].id, cases["b"].id]
    by_grid = search_needs(session, Scope(), ADMIN, sort="grid_code", descending=False)
    assert by_grid["id"].iloc[-1] == cases["d"].id  # no grid: last either way
    by_grid_desc = search_needs(session, Scope(), ADMIN, sort="grid_code")
    assert by_grid_desc["id"].iloc[-1] == cases["d"].id


def test_search_text(session, cases):
    assert search_needs(session, Scope(), ADMIN, text="劳动")["id"].tolist() == [cases["a"].id]
    assert search_needs(session, Scope(), ADMIN, text="100%")["id"].tolist() == [cases["b"].id]
    assert search_needs(session, Scope(), ADMIN, text="%").shape[0] == 1  # % is literal
    assert search_needs(session, Scope(), ADMIN, text="张三")["id"].tolist() == [cases["a"].id]
    assert search_needs(session, Scope(), ADMIN, text=cases["b"].external_id.lower()).shape[0] == 1


def test_search_redacted_for_community_leader(session, cases):
    df = search_needs(session, Scope(), LEADER)
    assert not {"resident_name", "resident_phone", "under_correction"} & set(df.columns)
    # the leader's area only, and never anyone under correction
    assert df["id"].tolist() == [cases["b"].id, cases["a"].id]
    assert search_needs(session, Scope(), LEADER, text="张三").empty  # no search by name
    assert search_needs(session, Scope(), LEADER, text="矫正").empty
    assert len(search_needs(session, Scope(), LEADER, limit=1)) == 1


def test_search_rejects_bad_arguments(session, cases):
    for kw in ({"sort": "resident_name"}, {"limit": 0}, {"offset": -1}, {"limit": "10"}):
        with pytest.raises(InvalidInputError):
            search_needs(session, Scope(), ADMIN, **kw)


def test_need_detail_with_history(session, community):
    need, _ = record_need(session, _form(external_id="D-9"), viewer=ASSISTANT)
    change_status(
        session, need.id, "closed", outcome="resolved", viewer=ASSISTANT, on=D(2025, 3, 3)
    )
    detail = need_detail(session, need.id, ADMIN)
    assert detail["external_id"] == "D-9" and detail["resident_name"] == "张三"
    assert [h["action"] for h in detail["history"]] == ["record_need", "change_status"]
    assert detail["history"][1]["details"]["to"] == "closed"
    redacted = need_detail(session, need.id, LEADER)
    assert "resident_name" not in redacted and "resident_phone" not in redacted
    assert "under_correction" not in redacted
    assert redacted["status"] == "closed" and len(redacted["history"]) == 2


def test_need_detail_hidden_and_missing(session, cases):
    with pytest.raises(NotFoundError):
        need_detail(session, cases["c"].id, LEADER)  # under correction
    with pytest.raises(NotFoundError):
        need_detail(session, cases["d"].id, LEADER)  # another district
    assert need_detail(session, cases["c"].id, ASSISTANT)["resident_name"] == "王五"
    with pytest.raises(NotFoundError, match="424242"):
        need_detail(session, 424242, ADMIN, lang="en")
