"""Hostile text in every text field of every entity, through every map builder and the grid
card: shown as text, never run.

A small community is stored on each backend with one payload in every text field (community
name, grid codes and names, worker codes, names and phones, service-point codes, names and
opening hours, need ids, descriptions and residents). The maps are built from what the
services read back, rendered to the page a browser gets, and checked:

- every string the page's scripts hold (JSON and JavaScript literals decoded) is HTML-inert:
  a payload is never there as given, only escaped;
- no stored value, even escaped, sits inside a JavaScript template literal (folium's string
  tooltips are put into one): data travel as JSON properties only;
- the data are really drawn (the escaped payload is on the page, so the test cannot pass by
  dropping them).

The grid card is checked under Streamlit's AppTest: user text in markdown is escaped so that
CommonMark shows it literally (every ASCII punctuation character backslash-escaped).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import string
from pathlib import Path

import pytest
import streamlit as st
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from dashboard import maps
from dashboard.layers import load_map_layers
from grid_model import queries
from grid_model.analysis import emerging, hotspots
from grid_model.gaps import coverage
from grid_model.gaps.access import suggest_service_points, uncovered_area
from grid_model.models import ServicePoint
from grid_model.rebalance import rebalance_community
from grid_model.scope import Scope, Viewer
from tests.factories import ORIGIN, add_need, add_service_event, make_community

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parent.parent

PAYLOADS = {
    "img": "<img src=x onerror=alert(1)>",
    "script": "</script><script>alert(1)</script>",
    "template": "`${alert(1)}`",
    "attribute": "\"'><svg onload=alert(1)>",
    "link": "[click](javascript:alert(1))",
    "beacon": "![](http://beacon.invalid/x.png)",
}
TODAY = dt.date(2025, 6, 30)
COMMUNITY = "440703006106"
#: What must never reach a browser as markup or code, whatever the payload.
LIVE = re.compile(
    r"<img\b|<svg\b|<script>alert|\$\{alert|href=[\"']?javascript:|src=[\"']?http://beacon",
    re.IGNORECASE,
)
TEMPLATE_LITERAL = re.compile(r"bindTooltip\(\s*`(.*?)`", re.DOTALL)
ADMIN = Viewer(role="admin", name="admin")


def _code(i: int, payload: str) -> str:
    """A unique code carrying the payload, within the 32 characters codes may have."""
    return f"{i}{payload}"[:32]


def hostile_world(session: Session, payload: str) -> dict[str, list[str]]:
    """Store a 6-grid community with ``payload`` in every text field; returns the stored
    values by what they are."""
    c = make_community(session, n_grids=6, name=payload)
    grids = c.grids
    for i, grid in enumerate(grids):
        grid.name = f"{payload}{i}"
    # two grids get hostile codes (the rest keep theirs, so the community's own still work)
    for i, grid in enumerate(grids[:2]):
        grid.code = _code(i, payload)
    for role, workers in c.workers.items():
        for i, w in enumerate(workers):
            w.name = f"{payload}{role[0]}{i}"[:50]
            w.phone = f"{role[0]}{i}{payload}"[:32]
            if role == "grid_assistant":
                w.code = _code(i + 10, payload)
    # the lawyer of the last grid leaves: a staffing gap that lists the grid
    c.assignments[-1].valid_to = dt.date(2025, 1, 1)
    session.flush()
    codes = [g.code for g in grids]

    point = ServicePoint(
        code=_code(7, payload),
        name=f"{payload}室",
        kind="legal_service_room",
        community_code=COMMUNITY,
        location=from_shape(Point(ORIGIN[0] + 0.001, ORIGIN[1] + 0.001), srid=4326),
        opening_hours=f"{payload} 9-17",
    )
    session.add(point)
    ids = []
    for month in (3, 4, 5, 6):
        for i, code in enumerate(codes):
            for k in range(1 + (i * month) % 4):
                need = add_need(
                    session,
                    grid_code=code,
                    reported_at=dt.date(2025, month, 1 + k),
                    external_id=f"{month}{i}{k}{payload}",
                    description=f"{payload} 描述",
                    resident_name=f"{payload}"[:50],
                    resident_phone=f"1{payload}"[:32],
                    category="mediation" if k % 2 else "consultation",
                    dispute_type=payload[:40],
                )
                ids.append(need.external_id)
    outside = add_need(
        session,
        grid_code=None,
        lon=ORIGIN[0] - 0.01,
        lat=ORIGIN[1] - 0.01,
        reported_at=dt.date(2025, 6, 2),
        external_id=f"out{payload}",
        description=payload,
    )
    add_service_event(session, grid_code=codes[0], held_on=dt.date(2025, 3, 10))
    session.flush()
    return {
        "community": [payload],
        "grid_code": codes[:2],
        "grid_name": [g.name for g in grids],
        "assistant": [w.code for w in c.workers["grid_assistant"]],
        "point": [point.name, point.opening_hours],
        "need_id": [*ids, outside.external_id],
    }


@pytest.fixture(params=list(PAYLOADS), ids=list(PAYLOADS))
def world(request, committed_engine):
    payload = PAYLOADS[request.param]
    with Session(committed_engine) as s, s.begin():
        values = hostile_world(s, payload)
    return committed_engine, payload, values


def _decoded(page: str) -> str:
    """``page`` with JSON / JavaScript string escapes decoded: the strings as the page's
    scripts hold them (what they would hand to ``innerHTML``)."""
    page = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), page)
    return page.replace('\\"', '"').replace("\\/", "/").replace("\\'", "'")


def _problems(name: str, m, values: dict[str, list[str]], shown: list[str]) -> list[str]:
    """What is wrong with map ``name``: live markup, raw values, data in JavaScript source,
    or shown values missing."""
    page = _decoded(maps.map_html(m))
    out = []
    if LIVE.search(page):
        out.append(f"{name}: live markup {LIVE.search(page).group(0)!r}")
    stored = sorted({v for vs in values.values() for v in vs})
    raw = [v for v in stored if any(ch in v for ch in "<>\"'`$") and v in page]
    if raw:
        out.append(f"{name}: {len(raw)} values on the page unescaped, e.g. {raw[:3]}")
    literals = [html.unescape(s) for s in TEMPLATE_LITERAL.findall(page)]
    in_code = [v for v in stored if any(v in s for s in literals)]
    if in_code:
        out.append(f"{name}: {len(in_code)} values in JavaScript source, e.g. {in_code[:3]}")
    visible = html.unescape(page)
    for kind in shown:
        if not any(v in visible for v in values[kind]):
            out.append(f"{name}: no {kind} shown")
    return out


def _maps(engine, values) -> list[tuple[str, object, list[str]]]:
    """Every map builder on the data the services read back: (name, map, what it shows)."""
    scope = Scope()
    layers = load_map_layers(engine, scope, ADMIN, today=TODAY)
    grids = layers.grids
    built = [
        (
            "grid map",
            maps.build_grid_map(
                grids,
                layers.measures,
                heat=layers.heat,
                points=layers.points,
                outside=layers.outside,
            ),
            ["grid_code", "grid_name", "point", "need_id"],
        ),
        (
            "grid map, Amap, English",
            maps.build_grid_map(
                grids,
                layers.measures,
                measure="needs",
                basemap="amap",
                lang="en",
                points=layers.points,
                outside=layers.outside,
            ),  # fmt: skip
            ["grid_code", "grid_name", "point", "need_id"],
        ),
    ]
    highlight = maps.base_map()
    maps.highlight_layer(grids, values["grid_code"][0]).add_to(highlight)
    built.append(("highlight layer", highlight, []))
    built.append(("pick map", maps.build_pick_map(grids, point=ORIGIN), ["grid_code", "grid_name"]))
    with Session(engine) as s:
        gaps = coverage.find_coverage_gaps(s, scope, today=TODAY, viewer=ADMIN, walk_m=300)
        grid_hot = hotspots.hotspot_table(s, scope, ADMIN, permutations=99)
        hex_hot = hotspots.hex_hotspot_table(s, scope, ADMIN, permutations=99)
        trend = emerging.emerging_table(s, scope, ADMIN)
        plan = rebalance_community(s, scope, k=2, today=TODAY, time_limit_s=5)
        uncovered = uncovered_area(s, scope, walk_m=300, on=TODAY)
        sites = suggest_service_points(s, scope, walk_m=300, p=2, on=TODAY)
        points = queries.load_service_points(s, scope)
    built += [
        ("gap map", maps.build_gap_map(gaps, grids), ["grid_code", "grid_name", "need_id"]),
        ("hot spot map", maps.build_hotspot_map(grid_hot, grids), ["grid_code"]),
        ("hexagon hot spot map", maps.build_hotspot_map(hex_hot), []),
        (
            "emerging map",
            maps.build_emerging_map(grids, trend),
            ["grid_code", "grid_name"],
        ),
    ]
    before = {g: a for g, a in plan.assignment[["grid_code", "previous"]].itertuples(index=False)}
    after = plan.mapping()
    colors = maps.territory_colors([*before.values(), *after.values()])
    moved = plan.assignment.loc[plan.assignment["moved"], "grid_code"].tolist()
    built += [
        (
            "territory map before",
            maps.build_territory_map(grids, before, colors=colors),
            ["grid_code", "grid_name", "assistant"],
        ),
        (
            "territory map after",
            maps.build_territory_map(grids, after, colors=colors, moved=moved),
            ["grid_code", "grid_name"],
        ),
        (
            "access map",
            maps.build_access_map(grids, uncovered, points=points, suggestions=sites, walk_m=300),
            ["grid_code", "grid_name", "point"],
        ),
    ]
    return built


def test_every_map_shows_hostile_text_as_text(world):
    engine, _payload, values = world
    built = _maps(engine, values)
    assert len(built) == 11
    problems = [p for name, m, shown in built for p in _problems(name, m, values, shown)]
    assert not problems, "\n".join(problems)


# --- the grid card and captions (markdown) ---------------------------------------------------


#: What starts or closes a markdown construct (CommonMark, GFM autolinks, Streamlit's
#: directives, emoji and math); a backslash before one shows it as itself (CommonMark §2.4).
MARKDOWN_SPECIAL = set("\\`*_[]()!<>&#+-=.|~:$@")


#: What GFM turns into a link without any markup (autolink literals).
AUTOLINK = re.compile(r"(?i)https?://|www\.|[\w.+-]@[\w-]")


def _shown_literally(text: str) -> re.Pattern:
    """A pattern of ``text`` written in markdown so that it shows literally: every special
    character backslash-escaped (other punctuation may be escaped or not)."""
    parts = []
    for ch in text:
        if ch in MARKDOWN_SPECIAL:
            parts.append(re.escape("\\" + ch))
        elif ch in string.punctuation:
            parts.append(r"\\?" + re.escape(ch))
        else:
            parts.append(re.escape(ch))
    return re.compile("".join(parts))


@pytest.mark.parametrize("which", ["link", "beacon", "img"])
def test_grid_card_and_captions_show_names_as_text(which, committed_engine, monkeypatch):
    payload = PAYLOADS[which]
    with Session(committed_engine) as s, s.begin():
        values = hostile_world(s, payload)
    monkeypatch.setenv(
        "GRIDLAW_DATABASE_URL", committed_engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("GRIDLAW_TODAY", TODAY.isoformat())
    monkeypatch.delenv("GRIDLAW_LANG", raising=False)
    st.cache_data.clear()
    try:
        at = AppTest.from_file(str(ROOT / "pages" / "2_地图_Map.py"), default_timeout=120)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        at.sidebar.selectbox(key="role").set_value("admin").run()
        at.sidebar.selectbox(key="street").set_value("440703006").run()
        at.sidebar.selectbox(key="community").set_value(COMMUNITY).run()
        grid = values["grid_code"][0]
        at.selectbox(key="map_grid").set_value(grid).run()
        assert not at.exception, [e.value for e in at.exception]
        texts = [e.value for e in (*at.subheader, *at.caption, *at.markdown)]
    finally:
        st.cache_data.clear()
    # GFM finds autolinks in the text left after escapes: none may be left there (an
    # invisible U+2060 word joiner may break them)
    plain = re.sub(r"\\(.)", r"\1", "\n".join(texts))
    assert not AUTOLINK.search(plain), AUTOLINK.search(plain)
    source = "\n".join(texts).replace("\u2060", "")
    name = values["grid_name"][0]
    # the card names the grid, its community and its staff (with phones for the admin)
    for shown in (name, grid, payload, f"{payload}g0", f"g0{payload}"[:32]):
        assert _shown_literally(shown).search(source), (shown, texts)
    # and the raw text, which markdown would turn into a link, an image or HTML, is not there
    for line in texts:
        assert payload not in line, line
