"""Permissions are checked in the services, by one mechanism (grid_model.scope), whoever calls.

Hostile callers: a "public" or "community_leader" viewer calling every service that changes
data; an account limited to one grid reading through every path; roles without the right to
personal data looking for people under community correction; an account disabled between two
of its writes; a grid assistant typing another area's external id.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt

import pandas as pd
import pytest
from shapely.geometry import box
from sqlalchemy import func, select

from grid_model import accounts, queries
from grid_model.analysis.hotspots import hex_hotspot_table, hotspot_months, hotspot_table
from grid_model.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from grid_model.gaps.access import access_table, need_access
from grid_model.gaps.coverage import find_coverage_gaps
from grid_model.imports import import_grids, import_needs, import_workers
from grid_model.imports.exporting import KINDS, export_frame
from grid_model.imports.seed import seed_demo
from grid_model.measures.indicators import grid_card
from grid_model.models import Account, Assignment, AuditEntry, Grid, Need, Worker
from grid_model.needs.boundaries import relocate_needs
from grid_model.needs.cases import NeedInput, change_status, need_detail, record_need, search_needs
from grid_model.rebalance import apply_plan, rebalance_community
from grid_model.scope import Scope, Viewer
from tests.factories import add_need, add_worker, make_community
from tests.test_pages import _run, _status, _submit, app_env  # noqa: F401  (fixture)
from tests.test_rebalance import ON, PERIOD, block  # noqa: F401  (fixture)

pytestmark = pytest.mark.db

D = dt.date
TODAY = D(2025, 6, 1)
OTHER = "440703006107"
ADMIN = Viewer.local_admin("test")
LOWER = [
    Viewer(role="public", name="visitor"),
    Viewer(role="community_leader", name="leader"),
]
#: residents' names and phones put on every need, to look for in what comes back
SECRETS = ("张三", "13911110001", "王五", "13922220002", "赵六", "13933330003", "钱七")


@pytest.fixture()
def world(session):
    """Yude (two grids) and another community of the same street, a need in each grid, one
    outside every grid (district level) and one of a person under community correction."""
    yude = make_community(session, n_grids=2)
    other = make_community(session, n_grids=1, code=OTHER, name="另一社区", origin=(113.2, 22.7))
    g1, g2 = yude.grid_codes
    needs = {
        "g1": add_need(session, grid_code=g1, resident_name="张三", resident_phone="13911110001"),
        "g2": add_need(session, grid_code=g2, resident_name="张三"),
        "other": add_need(
            session,
            grid_code=other.grid_codes[0],
            resident_name="王五",
            resident_phone="13922220002",
            description="另一社区的秘密纠纷",
        ),
        "outside": add_need(
            session,
            grid_code=None,
            lon=113.15,
            lat=22.65,
            resident_name="赵六",
            resident_phone="13933330003",
        ),
        "correction": add_need(
            session,
            grid_code=g1,
            category="correction",
            under_correction=True,
            resident_name="钱七",
        ),
    }
    return yude, other, needs


def _counts(session) -> dict[str, int]:
    return {
        m.__tablename__: session.scalar(select(func.count()).select_from(m))
        for m in (Need, Grid, Worker, Assignment, Account, AuditEntry)
    }


def _ids(frame: pd.DataFrame, column: str = "external_id") -> set[str]:
    return set(frame[column]) if column in frame.columns else set()


# --- every change refuses a lower role, and stores nothing -----------------------------------


def _needs_csv(yude) -> bytes:
    x, y = yude.centre(yude.grid_codes[0])
    rows = [["N-1", "2025-03-01", x, y, "法律咨询", "咨询", "日记", "李四", "13800000001"]]
    header = ["编号", "登记日期", "经度", "纬度", "类别", "描述", "来源", "居民姓名", "联系电话"]
    return pd.DataFrame(rows, columns=header).to_csv(index=False).encode()


def _workers_csv(yude) -> bytes:
    frame = pd.DataFrame(
        {
            "编号": ["A-NEW"],
            "姓名": ["新人"],
            "角色": ["网格助理员"],
            "网格编码": [yude.grid_codes[0]],
        }
    )
    return frame.to_csv(index=False).encode()


def _grids_file(tmp_path):
    import geopandas as gpd

    frame = gpd.GeoDataFrame(
        {"网格编码": ["440703006199001"], "网格名称": ["新网格"], "社区": ["新社区"]},
        geometry=[box(113.10, 22.60, 113.11, 22.61)],
        crs="EPSG:4326",
    )
    path = tmp_path / "grids.geojson"
    frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    return path


def _changes(yude, needs, tmp_path):
    """Every service that changes data, as ``name → call(session, viewer)``."""
    form = NeedInput(
        lon=yude.centre(yude.grid_codes[0])[0],
        lat=yude.centre(yude.grid_codes[0])[1],
        category="consultation",
        reported_at="2025-03-05",
        source="diary",
    )
    need_id = needs["g1"].id
    return {
        "import_needs": lambda s, v: import_needs(s, _needs_csv(yude), filename="n.csv", viewer=v),
        "import_workers": lambda s, v: import_workers(
            s, _workers_csv(yude), filename="w.csv", viewer=v
        ),
        "import_grids": lambda s, v: import_grids(s, _grids_file(tmp_path), viewer=v),
        "add_admin": lambda s, v: accounts.add_account(
            s, "evil", "long enough", role="admin", viewer=v
        ),
        "relocate_needs": lambda s, v: relocate_needs(s, viewer=v),
        "record_need": lambda s, v: record_need(s, form, viewer=v),
        "change_status": lambda s, v: change_status(
            s, need_id, "dispatched", viewer=v, on=D(2025, 3, 4)
        ),
        "seed_demo": lambda s, v: seed_demo(s, viewer=v, replace=True),
    }


CHANGES = [
    "import_needs",
    "import_workers",
    "import_grids",
    "add_admin",
    "relocate_needs",
    "record_need",
    "change_status",
    "seed_demo",
]


@pytest.mark.parametrize("viewer", LOWER, ids=lambda v: v.role)
@pytest.mark.parametrize("change", CHANGES)
def test_a_lower_role_is_refused_by_every_change_and_nothing_is_stored(
    session, world, tmp_path, change, viewer
):
    yude, _, needs = world
    before = _counts(session)
    with pytest.raises(PermissionDeniedError) as err:
        _changes(yude, needs, tmp_path)[change](session, viewer)
    assert viewer.role in str(err.value)
    assert _counts(session) == before
    assert needs["g1"].status == "recorded"


def test_the_same_changes_pass_for_the_local_administrator(session, world, tmp_path):
    """The refusals above are about the role: an administrator gets through each."""
    yude, _, needs = world
    calls = _changes(yude, needs, tmp_path)
    for name in CHANGES[:-1]:  # seeding replaces everything: its own test (test_seed.py)
        calls[name](session, ADMIN)
    assert session.scalar(select(Account.role).where(Account.username == "evil")) == "admin"
    assert needs["g1"].status == "dispatched"
    actors = set(session.scalars(select(AuditEntry.actor)).all())
    assert actors == {"test"}  # the audit actor is the viewer's name


def test_a_public_caller_cannot_list_or_disable_accounts(session, world):
    accounts.add_account(session, "ops", "long enough", role="admin", viewer=ADMIN)
    for viewer in LOWER:
        with pytest.raises(PermissionDeniedError):
            accounts.list_accounts(session, viewer)
    # with an account stored, a viewer that is neither signed in nor local is nobody
    with pytest.raises(PermissionDeniedError, match="Sign in first"):
        accounts.set_active(session, "ops", False, viewer=Viewer(role="admin"), lang="en")
    assert session.scalar(select(Account.active).where(Account.username == "ops"))


def test_an_area_limited_admin_may_not_act_on_the_whole_database(session, world, tmp_path):
    yude, _, needs = world
    local = Viewer(role="admin", area_code=yude.code, name="area admin")
    before = _counts(session)
    for change in ("import_needs", "import_workers", "import_grids", "add_admin", "relocate_needs"):
        with pytest.raises(PermissionDeniedError, match="限定区域"):
            _changes(yude, needs, tmp_path)[change](session, dataclasses.replace(local))
    assert _counts(session) == before
    with pytest.raises(PermissionDeniedError) as err:
        accounts.add_account(session, "x1", "long enough", role="admin", viewer=local, lang="zh")
    assert "限定区域" in str(err.value)


@pytest.mark.parametrize("viewer", LOWER[:1], ids=lambda v: v.role)
def test_rebalancing_is_refused_to_a_lower_role(session, block, viewer):  # noqa: F811
    plan = rebalance_community(session, Scope(area_code=block.code), **PERIOD)
    assert plan.moved
    before = _counts(session)
    with pytest.raises(PermissionDeniedError):
        apply_plan(session, plan, viewer=viewer, on=ON)
    with pytest.raises(PermissionDeniedError):
        apply_plan(session, plan, viewer=Viewer(role="community_leader"), on=ON)
    # a planner of another community may not move this one's grids
    elsewhere = Viewer(role="planner", area_code=OTHER, name="planner")
    with pytest.raises(PermissionDeniedError, match=block.grid_codes[1]):
        apply_plan(session, plan, viewer=elsewhere, on=ON, lang="en")
    assert _counts(session) == before
    apply_plan(session, plan, viewer=Viewer(role="planner", area_code=block.code), on=ON)


# --- an area-limited account sees nothing outside its area -------------------------------------


def _every_read(session, viewer, scope, yude, today=TODAY) -> dict[str, set[str]]:
    """External ids (or need ids) of the needs each read path gives ``viewer``."""
    by_id = {n.id: n.external_id for n in session.scalars(select(Need))}
    got: dict[str, set[str]] = {}
    got["search"] = _ids(search_needs(session, scope, viewer, limit=1000))
    got["map outside needs"] = _ids(queries.load_needs(session, scope, viewer, quality="outside"))
    got["load_needs"] = _ids(queries.load_needs(session, scope, viewer))
    got["export needs"] = _ids(export_frame(session, "needs", scope, viewer, today=today), "id")
    gaps = find_coverage_gaps(session, scope, today=today, viewer=viewer)
    for kind in ("needs_outside", "needs_snapped", "overdue", "beyond_walking_distance"):
        got[f"gaps {kind}"] = {by_id[i] for i in gaps[kind].items["need_id"]}
    exported = export_frame(session, "gaps", scope, viewer, today=today)
    got["export gaps"] = {by_id[int(i)] for i in exported.get("need_id", pd.Series()).dropna()}
    access = need_access(session, scope, viewer)
    got["access beyond"] = {by_id[i] for i in access.beyond["need_id"]}
    got["access table"] = {by_id[i] for i in access_table(session, scope, viewer)["need_id"]}
    cards = set()
    for code in yude.grid_codes:
        with contextlib.suppress(NotFoundError):
            cards |= _ids(grid_card(session, code, viewer, today=today).latest)
    got["grid card"] = cards
    detail = set()
    for need_id, external_id in by_id.items():
        try:
            need_detail(session, need_id, viewer)
        except NotFoundError:
            continue
        detail.add(external_id)
    got["detail"] = detail
    return got


def test_an_account_limited_to_one_grid_sees_only_that_grid(session, world):
    yude, other, needs = world
    g1 = yude.grid_codes[0]
    viewer = Viewer(role="grid_assistant", area_code=g1, name="A1")
    mine = {needs["g1"].external_id, needs["correction"].external_id}
    # asking for the whole district, another community or nothing in particular
    for scope in (Scope(), Scope(area_code="440703"), Scope(area_code=OTHER)):
        for path, seen in _every_read(session, viewer, scope, yude).items():
            assert seen <= mine, (path, scope, seen - mine)
    with pytest.raises(NotFoundError):
        grid_card(session, other.grid_codes[0], viewer, today=TODAY)
    with pytest.raises(NotFoundError):
        grid_card(session, yude.grid_codes[1], viewer, today=TODAY)


def test_hot_spot_inputs_stay_in_the_viewers_area(session, world):
    yude, _, needs = world
    g1 = yude.grid_codes[0]
    viewer = Viewer(role="grid_assistant", area_code=g1, name="A1")
    for scope in (Scope(), Scope(area_code=OTHER)):
        # Gi* on grids compares at least three: the viewer's one grid is all it reads
        with pytest.raises(InvalidInputError, match="got 1"):
            hotspot_table(session, scope, viewer, permutations=0)
        hexes = hex_hotspot_table(session, scope, viewer, permutations=0)
        assert hexes["count"].sum() == 2  # the two needs of its grid, nothing else
        assert hexes.attrs["points_outside"] == 0
        # the counts the Hot spots page shares between its statistics: the same one grid
        months = hotspot_months(session, scope, viewer)
        assert set(months.months["grid_code"]) == {g1} and months.months["count"].sum() == 2
        # and months read for a wider scope are not taken for the viewer's
        wide = hotspot_months(session, Scope(), ADMIN)
        with pytest.raises(InvalidInputError, match="got 1"):
            hotspot_table(session, scope, viewer, permutations=0, months=wide)
    everything = hex_hotspot_table(session, Scope(), ADMIN, permutations=0)
    assert everything["count"].sum() + everything.attrs["points_outside"] == len(needs)


def test_needs_outside_every_grid_belong_to_the_district_level(session, world):
    yude, _, needs = world
    outside = needs["outside"].external_id
    for area in (yude.grid_codes[0], yude.code, yude.code[:9]):
        viewer = Viewer(role="grid_assistant", area_code=area)
        seen = set().union(*_every_read(session, viewer, Scope(), yude).values())
        assert outside not in seen, area
        with pytest.raises(NotFoundError):
            change_status(session, needs["outside"].id, "dispatched", viewer=viewer, on=TODAY)
    district = Viewer(role="grid_assistant", area_code=yude.code[:6])
    reads = _every_read(session, district, Scope(), yude)
    for path in ("search", "map outside needs", "export needs", "gaps needs_outside", "detail"):
        assert outside in reads[path], path
    assert outside in _ids(search_needs(session, Scope(), ADMIN))
    change_status(session, needs["outside"].id, "dispatched", viewer=district, on=TODAY)


def test_a_grid_account_cannot_move_other_areas_cases_along(session, world):
    yude, _, needs = world
    viewer = Viewer(role="grid_assistant", area_code=yude.grid_codes[0], name="A1")
    for key in ("g2", "other", "outside"):
        with pytest.raises(NotFoundError):
            change_status(session, needs[key].id, "dispatched", viewer=viewer, on=TODAY)
        assert needs[key].status == "recorded"
    # nor record a need outside every grid (the district's), however close to its grid
    form = NeedInput(lon=113.15, lat=22.65, category="consultation", reported_at="2025-03-05",
                     source="diary")  # fmt: skip
    with pytest.raises(InvalidInputError, match="lon/lat"):
        record_need(session, form, viewer=viewer, lang="en")


def test_record_need_with_another_areas_external_id_reveals_nothing(session, world):
    yude, _, needs = world
    x, y = yude.centre(yude.grid_codes[0])
    viewer = Viewer(role="grid_assistant", area_code=yude.code, name="A1")
    before = _counts(session)
    for key in ("other", "outside"):
        taken = needs[key]
        form = NeedInput(lon=x, lat=y, category="consultation", reported_at="2025-03-05",
                         source="diary", external_id=taken.external_id)  # fmt: skip
        for lang in ("zh", "en"):
            with pytest.raises(InvalidInputError) as err:
                record_need(session, form, viewer=viewer, lang=lang)
            message = str(err.value)
            assert "external_id" in message
            for secret in (*SECRETS, taken.description, taken.status, "已登记", OTHER, "440703"):
                assert secret not in message.replace(taken.external_id, ""), (secret, message)
    assert _counts(session) == before
    # a need the viewer may see comes back as before (a form submitted twice)
    form = NeedInput(lon=x, lat=y, category="consultation", reported_at="2025-03-05",
                     source="diary", external_id=needs["g1"].external_id)  # fmt: skip
    assert record_need(session, form, viewer=viewer) == (needs["g1"], False)


def test_exports_of_every_kind_stay_in_the_area(session, world):
    yude, other, _ = world
    add_worker(session, code="W-FREE", name="待分配", phone="13944440004")  # no grid yet
    viewer = Viewer(role="grid_assistant", area_code=yude.code, name="A1")
    for kind in KINDS:
        frame = export_frame(session, kind, Scope(area_code=OTHER), viewer, today=TODAY)
        text = frame.drop(columns="geometry", errors="ignore").astype(str).to_csv()
        assert OTHER not in text and "王五" not in text and "13922220002" not in text, kind
    workers = export_frame(session, "workers", Scope(), viewer, today=TODAY)
    assert not workers["grids"].str.contains(OTHER).any()
    assert "W-FREE" not in set(workers["code"])  # a worker without a grid: the district's
    district = dataclasses.replace(viewer, area_code=yude.code[:6])
    assert "W-FREE" in set(export_frame(session, "workers", Scope(), district)["code"])


# --- correction cases never reach a role without personal data ---------------------------------


@pytest.mark.parametrize("role", ["community_leader", "street_office", "planner", "public"])
def test_correction_cases_never_reach_a_role_without_personal_data(session, world, role):
    yude, _, needs = world
    viewer = Viewer(role=role)
    hidden = needs["correction"].external_id
    reads = _every_read(session, viewer, Scope(), yude)
    for path, seen in reads.items():
        assert hidden not in seen, path
    assert needs["g1"].external_id in reads["search"]  # the others are there
    for kind in KINDS:
        frame = export_frame(session, kind, Scope(), viewer, today=TODAY)
        text = frame.drop(columns="geometry", errors="ignore").astype(str).to_csv()
        assert not [s for s in SECRETS if s in text], kind
    card = grid_card(session, yude.grid_codes[0], viewer, today=TODAY)
    assert not card.phones and hidden not in _ids(card.latest)


# --- a disabled account is refused at its next write ---------------------------------------------


def _signed_in(session, yude, username="a1", role="grid_assistant") -> Viewer:
    accounts.add_account(session, username, "long enough", role=role, area_code=yude.code,
                         name="助理一", viewer=ADMIN)  # fmt: skip
    viewer = accounts.current_viewer(session, username)
    assert viewer.username == username
    return viewer


def test_a_disabled_account_is_refused_at_its_next_write(session, world):
    yude, _, needs = world
    viewer = _signed_in(session, yude)
    change_status(session, needs["g1"].id, "dispatched", viewer=viewer, on=D(2025, 3, 4))
    accounts.set_active(session, "a1", False, viewer=ADMIN)
    before = _counts(session)
    # the dashboard still holds the viewer it read before the account was disabled
    with pytest.raises(PermissionDeniedError, match="a1") as err:
        change_status(session, needs["g1"].id, "in_progress", viewer=viewer, on=D(2025, 3, 5))
    assert "停用" in str(err.value)
    form = NeedInput(lon=yude.centre(yude.grid_codes[0])[0], lat=yude.centre(yude.grid_codes[0])[1],
                     category="consultation", reported_at="2025-03-05", source="diary")  # fmt: skip
    with pytest.raises(PermissionDeniedError, match="disabled"):
        record_need(session, form, viewer=viewer, lang="en")
    assert _counts(session) == before and needs["g1"].status == "dispatched"
    # and its reads of personal data
    with pytest.raises(PermissionDeniedError):
        search_needs(session, Scope(), viewer)
    with pytest.raises(PermissionDeniedError):
        need_detail(session, needs["g1"].id, viewer)
    with pytest.raises(PermissionDeniedError):
        export_frame(session, "needs", Scope(), viewer, today=TODAY)
    accounts.set_active(session, "a1", True, viewer=ADMIN)
    change_status(session, needs["g1"].id, "in_progress", viewer=viewer, on=D(2025, 3, 5))


def test_a_deleted_or_demoted_account_acts_with_what_is_stored(session, world):
    yude, _, needs = world
    viewer = _signed_in(session, yude)
    account = session.scalar(select(Account).where(Account.username == "a1"))
    account.role = "community_leader"  # demoted since the viewer was read
    session.flush()
    with pytest.raises(PermissionDeniedError, match="community_leader"):
        change_status(session, needs["g1"].id, "dispatched", viewer=viewer, on=D(2025, 3, 4))
    assert "张三" not in search_needs(session, Scope(), viewer).to_csv()
    account.role, account.area_code = "grid_assistant", OTHER  # moved to another community
    session.flush()
    with pytest.raises(NotFoundError):
        change_status(session, needs["g1"].id, "dispatched", viewer=viewer, on=D(2025, 3, 4))
    session.delete(account)
    session.flush()
    with pytest.raises(PermissionDeniedError):
        change_status(session, needs["g1"].id, "dispatched", viewer=viewer, on=D(2025, 3, 4))
    assert needs["g1"].status == "recorded"


def test_an_account_disabled_by_another_session_is_refused_at_once(committed_engine):
    """The account is read in the writing session itself: no window while a cache of the
    dashboard still holds the old viewer."""
    from sqlalchemy.orm import Session

    with Session(committed_engine) as s, s.begin():
        yude = make_community(s, n_grids=1)
        need_id = add_need(s, grid_code=yude.grid_codes[0]).id
        viewer = _signed_in(s, yude)
    with Session(committed_engine) as s, s.begin():
        accounts.set_active(s, "a1", False, viewer=ADMIN)
    with Session(committed_engine) as s, pytest.raises(PermissionDeniedError), s.begin():
        change_status(s, need_id, "dispatched", viewer=viewer, on=D(2025, 3, 4))
    with Session(committed_engine) as s:
        assert s.get(Need, need_id).status == "recorded"


def test_viewer_has_no_default_that_sees_everything():
    with pytest.raises(TypeError):
        Viewer()  # type: ignore[call-arg]
    assert Viewer(role="public").name == "public"
    cli = Viewer.local_admin()
    assert (cli.role, cli.area_code, cli.name, cli.local) == ("admin", None, "cli", True)
    assert not Viewer(role="community_leader").sees_personal_data


def test_services_have_no_viewer_default():
    import inspect

    from grid_model import imports, rebalance
    from grid_model.analysis import emerging, hotspots
    from grid_model.gaps import coverage
    from grid_model.imports import exporting, seed
    from grid_model.measures import indicators
    from grid_model.needs import cases

    services = [
        imports.import_needs, imports.import_grids, imports.import_workers,
        accounts.add_account, accounts.set_active, accounts.list_accounts,
        rebalance.apply_plan, relocate_needs, cases.record_need, cases.change_status,
        cases.search_needs, cases.need_detail, coverage.find_coverage_gaps, need_access,
        access_table, indicators.grid_card, queries.load_needs, seed.seed_demo,
        hotspots.hotspot_months, hotspots.hotspot_table, emerging.emerging_change,
        exporting.export_frame, exporting.export_to_file, *(
            getattr(exporting, f"export_{k}") for k in KINDS
        ),
    ]  # fmt: skip
    for fn in services:
        param = inspect.signature(fn).parameters.get("viewer")
        assert param is not None, fn.__name__
        assert param.default is inspect.Parameter.empty, fn.__name__
        assert "actor" not in inspect.signature(fn).parameters, fn.__name__


def test_cli_acts_as_the_local_administrator(committed_engine, capsys):
    from grid_model.cli import main

    url = committed_engine.url.render_as_string(hide_password=False)
    from sqlalchemy.orm import Session

    with Session(committed_engine) as s, s.begin():
        add_need(s, grid_code=make_community(s, n_grids=1).grid_codes[0])
        accounts.add_account(s, "ops", "long enough", role="admin", viewer=ADMIN)
    # accounts exist: the CLI still acts, as the local administrator, and says so in the log
    assert main(["--db", url, "relocate"]) == 0
    with Session(committed_engine) as s:
        actor = s.scalar(select(AuditEntry.actor).where(AuditEntry.action == "relocate"))
    assert actor == "cli"
    capsys.readouterr()


def test_the_cases_page_refuses_a_disabled_account_before_its_session_notices(
    committed_engine,
    app_env,  # noqa: F811
):
    """The dashboard re-reads the signed-in account only every 30 s (a cache); the services
    read it themselves, so a change sent meanwhile is refused and nothing is stored."""
    from sqlalchemy.orm import Session

    with Session(committed_engine) as s, s.begin():
        yude = make_community(s, n_grids=1)
        need_id = add_need(s, grid_code=yude.grid_codes[0], status="dispatched").id
        accounts.add_account(s, "a1", "long enough", role="grid_assistant",
                             area_code=yude.code, name="助理一", viewer=ADMIN)  # fmt: skip
    app_env(committed_engine.url.render_as_string(hide_password=False), today="2025-04-01")
    at = _run("pages/5_案件_Cases.py")
    at.text_input(key="sign_in_user").input("a1")
    at.text_input(key="sign_in_password").input("long enough")
    at.button(key="sign_in_submit").click().run()
    at.selectbox(key="case_pick").set_value(need_id).run()
    assert at.selectbox(key="case_new_status").options == ["办理中"]
    with Session(committed_engine) as s, s.begin():
        accounts.set_active(s, "a1", False, viewer=ADMIN)
    # the cached account still reads as active: the page draws, the service refuses
    _submit(at, "保存状态")
    assert any("停用" in e.value for e in at.error), [e.value for e in at.error]
    assert _status(committed_engine, need_id) == "dispatched"
