"""Coverage gaps of DESIGN §5, each as a map layer and a list.

:func:`find_coverage_gaps` returns one :class:`Gap` per kind of :data:`GAP_KINDS`:

- spatial: ``uncovered_area`` (community area no grid covers), ``grid_overlap`` (pairs of
  grids that overlap), ``needs_outside`` (needs outside every grid) and ``needs_snapped``
  (needs just outside, snapped to the nearest grid and flagged);
- staffing: ``no_assistant``, ``no_lawyer``, ``no_mediator``;
- outreach: ``no_recent_diary``, ``no_publicity_quarter``;
- service: ``overdue`` (as :func:`grid_model.measures.definitions.overdue_at` defines it),
  ``needs_without_services``;
- access: ``beyond_walking_distance`` (from :mod:`grid_model.gaps.access`).

Grid-level gaps draw the grid polygons; need-level gaps draw the needs as points. Lists of
needs carry ids, dates, category, status and grid only, never a resident's name or phone.
Areas are measured in the UTM zone of the data (DESIGN §7).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select, true
from sqlalchemy.orm import Session

from geodata.crs import metric_crs
from geodata.kept import Kept, geometries_digest
from grid_model.analysis.counts import grid_need_counts
from grid_model.db.sqlhints import unindexed
from grid_model.errors import InvalidInputError
from grid_model.gaps.access import _drop_slivers, _far_rows, need_access
from grid_model.gaps.distance import _check_walk_m
from grid_model.measures.definitions import due_date_expr, not_closed, overdue_at
from grid_model.models import Area, Assignment, Grid, Need, ServiceEvent, Worker
from grid_model.queries import load_grids, need_list_columns, read_frame
from grid_model.scope import Scope, Viewer, check_viewer

WGS84 = "EPSG:4326"

GAP_KINDS = (
    "uncovered_area",
    "grid_overlap",
    "needs_outside",
    "needs_snapped",
    "no_assistant",
    "no_lawyer",
    "no_mediator",
    "no_recent_diary",
    "no_publicity_quarter",
    "overdue",
    "needs_without_services",
    "beyond_walking_distance",
)
#: The five groups of DESIGN §5.
GAP_GROUPS = {
    "uncovered_area": "spatial",
    "grid_overlap": "spatial",
    "needs_outside": "spatial",
    "needs_snapped": "spatial",
    "no_assistant": "staffing",
    "no_lawyer": "staffing",
    "no_mediator": "staffing",
    "no_recent_diary": "outreach",
    "no_publicity_quarter": "outreach",
    "overdue": "service",
    "needs_without_services": "service",
    "beyond_walking_distance": "access",
}
#: (Chinese, English) label of each kind, for the CLI and exports.
GAP_LABELS = {
    "uncovered_area": ("网格未覆盖区域", "Area not covered by any grid"),
    "grid_overlap": ("网格重叠", "Overlapping grids"),
    "needs_outside": ("网格外的需求", "Needs outside every grid"),
    "needs_snapped": ("吸附到网格的需求", "Needs snapped to a nearby grid"),
    "no_assistant": ("无网格助理员", "Grids without an assistant"),
    "no_lawyer": ("无法律顾问(一格一律师)", "Grids without a lawyer"),
    "no_mediator": ("无人民调解员", "Grids without a mediator"),
    "no_recent_diary": ("近期无日记或走访", "No recent diary entry or visit"),
    "no_publicity_quarter": ("本季度无法制宣传", "No publicity event this quarter"),
    "overdue": ("逾期未结案件", "Open needs past due date"),
    "needs_without_services": ("有需求无服务的网格", "Grids with needs but no services"),
    "beyond_walking_distance": ("超出步行距离的需求", "Needs beyond walking distance"),
}

STAFF_GAPS = {"no_assistant": "grid_assistant", "no_lawyer": "lawyer", "no_mediator": "mediator"}
#: Service-event kinds that are legal publicity (法制宣传).
PUBLICITY_KINDS = ("film_screening", "lecture", "legal_school_class", "leaflet_drive")
#: Service-event kinds that record a household visit (走访) by the grid assistant.
VISIT_KINDS = ("visit", "household_visit")
#: Pieces of area under this many m² are digitising noise, not gaps.
MIN_AREA_M2 = 1.0


@dataclass
class Gap:
    """One kind of gap: ``layer`` is what to draw (EPSG:4326), ``items`` the list."""

    kind: str
    layer: gpd.GeoDataFrame
    items: pd.DataFrame
    count: int

    @property
    def labels(self) -> tuple[str, str]:
        return GAP_LABELS[self.kind]

    @property
    def complete(self) -> bool:
        """Whether ``items`` lists every one of the ``count`` (see ``list_limit``)."""
        return len(self.items) == self.count


@dataclass
class CoverageGaps:
    """Every gap of DESIGN §5 for one scope on one day; index by kind or use the attributes."""

    uncovered_area: Gap
    grid_overlap: Gap
    needs_outside: Gap
    needs_snapped: Gap
    no_assistant: Gap
    no_lawyer: Gap
    no_mediator: Gap
    no_recent_diary: Gap
    no_publicity_quarter: Gap
    overdue: Gap
    needs_without_services: Gap
    beyond_walking_distance: Gap
    today: dt.date
    outreach_days: int
    walk_m: float
    metric_crs: str | None = None
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, kind: str) -> Gap:
        if kind not in GAP_KINDS:
            raise KeyError(f"unknown gap kind {kind!r}; expected one of {', '.join(GAP_KINDS)}")
        return getattr(self, kind)

    @property
    def gaps(self) -> dict[str, Gap]:
        """``{kind: Gap}`` in the order of :data:`GAP_KINDS`."""
        return {kind: self[kind] for kind in GAP_KINDS}

    def __iter__(self):
        return (getattr(self, f.name) for f in fields(self) if f.name in GAP_KINDS)

    def summary(self) -> pd.DataFrame:
        """``kind, count`` in the order of :data:`GAP_KINDS`."""
        return pd.DataFrame({"kind": list(GAP_KINDS), "count": [self[k].count for k in GAP_KINDS]})


def find_coverage_gaps(
    session: Session,
    scope: Scope,
    *,
    today: dt.date,
    outreach_days: int = 30,
    walk_m: float = 1000.0,
    viewer: Viewer,
    lang: str = "zh",
    list_limit: int | None = None,
) -> CoverageGaps:
    """All coverage gaps of ``scope`` as of ``today``.

    Parameters
    ----------
    today : the reference day: grids, assignments and due dates are judged on it.
    outreach_days : a grid whose last diary entry or visit is more than this many days before
        ``today`` (or that has none) is a gap.
    walk_m : walking distance in metres to the nearest legal service room or legal-aid station.
    viewer : who asks: the scope is cut to the viewer's area and, for viewers who may not see
        personal data, needs of people under community correction are left out of every list.
    list_limit : the lists of needs (``needs_outside``, ``needs_snapped``, ``overdue``,
        ``beyond_walking_distance``) hold at most this many, the first in their order, and
        their ``count`` every one (:attr:`Gap.complete` says which are whole); a page that
        shows a few hundred need not read twenty thousand. None: every one.

    Notes
    -----
    Grids are those active on ``today``. Community holes and grid overlaps use every grid of
    the communities the scope touches (so a one-grid scope still sees its community's holes).
    The scope period bounds ``needs_outside``, ``needs_snapped``, ``needs_without_services``
    and ``beyond_walking_distance`` (the period ends at ``today`` when open); ``overdue`` and
    the outreach gaps look at everything up to ``today``.
    """
    if not isinstance(today, dt.date):
        raise InvalidInputError(f"today={today!r}: expected a date")
    if isinstance(outreach_days, bool) or not isinstance(outreach_days, int) or outreach_days < 0:
        raise InvalidInputError(f"outreach_days={outreach_days!r}: expected a whole number ≥ 0")
    walk_m = _check_walk_m(walk_m)
    limit = _check_list_limit(list_limit)
    viewer = check_viewer(session, viewer, lang=lang)
    scope = scope.restricted_to(viewer)
    visible = _visible(viewer)
    grids = load_grids(session, scope, on=today)
    notes: list[str] = []
    gaps: dict[str, Gap] = {}
    crs = _spatial_gaps(session, scope, grids, today, visible, notes, gaps, limit)
    gaps.update(_staffing_gaps(session, scope, grids, today))
    gaps.update(_outreach_gaps(session, scope, grids, today, outreach_days))
    gaps.update(_service_gaps(session, scope, grids, today, visible, limit))
    gaps["beyond_walking_distance"] = _access_gap(session, scope, viewer, today, walk_m, limit)
    return CoverageGaps(
        **gaps,
        today=today,
        outreach_days=outreach_days,
        walk_m=walk_m,
        metric_crs=crs,
        notes=notes,
    )


# --- building blocks ------------------------------------------------------------------------


def _check_list_limit(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise InvalidInputError(f"list_limit={value!r}: expected None or a whole number ≥ 0")
    return int(value)


def _gap(kind: str, items: pd.DataFrame, geometry, count: int | None = None) -> Gap:
    items = items.reset_index(drop=True)
    layer = gpd.GeoDataFrame(items.copy(), geometry=gpd.GeoSeries(geometry, crs=WGS84).values)
    layer = layer.set_crs(WGS84, allow_override=True)
    count = len(items) if count is None else count
    return Gap(kind=kind, layer=layer, items=pd.DataFrame(items), count=count)


def _grid_gap(kind: str, grids: gpd.GeoDataFrame, items: pd.DataFrame) -> Gap:
    """A gap whose items are grids (``grid_code`` first); the layer draws their polygons."""
    geom = grids.set_index("code").geometry
    items = items.sort_values("grid_code").reset_index(drop=True)
    return _gap(kind, items, geom.reindex(items["grid_code"]).to_numpy())


def _grid_items(grids: gpd.GeoDataFrame, mask) -> pd.DataFrame:
    sel = grids[np.asarray(mask, dtype=bool)]
    return pd.DataFrame(
        {
            "grid_code": sel["code"].to_numpy(),
            "grid_name": sel["name"].to_numpy(),
            "community_code": sel["community_code"].to_numpy(),
        }
    )


def _need_gap(kind: str, needs: pd.DataFrame, count: int | None = None) -> Gap:
    """A gap whose items are needs: all of them, or the first of ``count`` when given."""
    return _gap(kind, needs, gpd.points_from_xy(needs["lon"], needs["lat"]), count)


def _visible(viewer: Viewer) -> ColumnElement[bool]:
    """The needs of a list ``viewer`` may see: people under community correction only for
    those who may see personal data (the lists read it in their own queries)."""
    return true() if viewer.sees_personal_data else ~Need.under_correction


def _period_end(scope: Scope, today: dt.date) -> dt.date:
    return min(scope.end, today) if scope.end else today


def _dates(values) -> np.ndarray:
    """``datetime.date`` objects, None where missing (what lists and exports expect)."""
    days = pd.Series(_to_day(values).to_numpy())
    return np.where(days.isna(), None, days.dt.date).astype(object)


def _to_day(values) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype=object)).astype("datetime64[ns]")


# --- 1. spatial -----------------------------------------------------------------------------


def _spatial_gaps(session, scope, grids, today, visible, notes, gaps, limit) -> str | None:
    communities = _communities(session, scope, grids)
    all_grids = _community_grids(session, scope, grids, communities, today)
    bounds = pd.concat(
        [all_grids.geometry.bounds, communities.geometry.dropna().bounds], ignore_index=True
    )
    crs = (
        metric_crs((bounds["minx"] + bounds["maxx"]) / 2, (bounds["miny"] + bounds["maxy"]) / 2)
        if len(bounds)
        else None
    )
    for code in communities.loc[communities.geometry.isna(), "code"]:
        notes.append(f"community {code} has no boundary: its uncovered area is not computed")
    gaps["uncovered_area"], gaps["grid_overlap"] = _area_gaps(
        communities, all_grids, set(grids["code"]), crs
    )
    tree = (
        shapely.STRtree(all_grids.to_crs(crs).geometry.to_numpy())
        if len(all_grids) and crs is not None
        else None
    )
    for kind, quality in (("needs_outside", "outside"), ("needs_snapped", "snapped")):
        where = _off_grid_where(scope, today, visible) & (Need.quality == quality)
        needs = _outside_needs(session, where, tree, crs, limit)
        gaps[kind] = _need_gap(kind, needs, _count(session, where, len(needs), limit))
    return crs


def _count(session: Session, where, listed: int, limit: int | None) -> int:
    """How many needs match ``where``, ``listed`` of them read with ``limit``: counted in the
    database only when the list may have been cut."""
    if limit is None or listed < limit:
        return listed
    return session.scalar(select(func.count()).select_from(Need).where(where))


def _communities(session: Session, scope: Scope, grids: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Communities of the scope: those holding its grids and, for an area not cut to a
    viewer's, those under it in the hierarchy (the area itself, its streets' or its own)."""
    cond = Area.code.in_(sorted(set(grids["community_code"])))
    if scope.area_code and not scope.within:
        code = scope.area_code
        streets = select(Area.code).where(Area.parent_code == code)
        cond = or_(cond, Area.code == code, Area.parent_code == code, Area.parent_code.in_(streets))
    df = read_frame(
        session,
        select(Area.code, Area.name, func.ST_AsBinary(Area.boundary).label("wkb"))
        .where(Area.level == "community", cond)
        .order_by(Area.code),
    )
    geoms = [None if w is None else shapely.from_wkb(bytes(w)) for w in df["wkb"]]
    return gpd.GeoDataFrame(df.drop(columns="wkb"), geometry=geoms, crs=WGS84)


def _community_grids(session, scope, grids, communities, today) -> gpd.GeoDataFrame:
    """Scope grids plus the other active grids of the scope's communities (narrow scopes)."""
    frames = [grids]
    if scope.area_code:
        every = load_grids(session, Scope(), on=today)
        frames.append(every[every["community_code"].isin(set(communities["code"]))])
    out = pd.concat(frames, ignore_index=True).drop_duplicates("code")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84).reset_index(drop=True)


#: The area gaps of the last few sets of communities and grids (see :func:`_area_gaps`).
_AREA_GAPS: Kept[tuple[Gap, Gap]] = Kept(8)


def _area_gaps(communities, all_grids, scope_codes: set[str], crs) -> tuple[Gap, Gap]:
    """The uncovered area and the grid overlaps. They depend only on the communities' and the
    grids' shapes, codes and names, the scope's grid codes and the metric CRS, not on needs or
    staff: kept by all of those (geometries by digest), so a page's next visit — or the Access
    page after Coverage gaps — takes them kept, and any change to a boundary or a code is a new
    key. Each call gets its own copies."""
    shaped = communities.geometry.notna().to_numpy()
    key = (
        geometries_digest(
            np.concatenate([communities.geometry.to_numpy()[shaped], all_grids.geometry.to_numpy()])
        ),
        tuple(shaped),
        tuple(communities["code"]),
        tuple(communities["name"]),
        tuple(all_grids["code"]),
        tuple(all_grids["community_code"]),
        tuple(sorted(scope_codes)),
        crs,
    )
    uncovered, overlaps = _AREA_GAPS.get(
        key,
        lambda: (
            _uncovered_area(communities, all_grids, crs),
            _grid_overlaps(all_grids, scope_codes, crs),
        ),
    )
    return _copied(uncovered), _copied(overlaps)


def _copied(gap: Gap) -> Gap:
    return replace(gap, layer=gap.layer.copy(), items=gap.items.copy())


def _uncovered_area(communities, all_grids, crs) -> Gap:
    cols = ["community_code", "community", "area_m2", "share", "lon", "lat"]
    comm = communities[communities.geometry.notna()]
    if comm.empty:
        return _gap("uncovered_area", pd.DataFrame(columns=cols), [])
    comm_m = comm.to_crs(crs)
    grid_union = np.full(len(comm), shapely.Polygon(), dtype=object)
    if len(all_grids):
        covered = all_grids.to_crs(crs).dissolve(by="community_code").geometry
        found = comm["code"].isin(covered.index).to_numpy()
        grid_union[found] = covered.reindex(comm["code"][found]).to_numpy()
    holes = shapely.difference(comm_m.geometry.to_numpy(), grid_union)
    parts, owner = shapely.get_parts(holes, return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) >= MIN_AREA_M2)
    parts, owner = parts[keep], owner[keep]
    area = shapely.area(parts)
    where = gpd.GeoSeries(shapely.point_on_surface(parts), crs=crs).to_crs(WGS84)
    items = pd.DataFrame(
        {
            "community_code": comm["code"].to_numpy()[owner],
            "community": comm["name"].to_numpy()[owner],
            "area_m2": area,
            "share": area / shapely.area(comm_m.geometry.to_numpy())[owner],
            "lon": where.x.to_numpy(),
            "lat": where.y.to_numpy(),
        }
    )
    order = np.lexsort((-area, items["community_code"].to_numpy()))
    geoms = gpd.GeoSeries(parts, crs=crs).to_crs(WGS84).to_numpy()
    return _gap("uncovered_area", items.iloc[order], geoms[order])


def _grid_overlaps(all_grids, scope_codes: set[str], crs) -> Gap:
    cols = ["grid_a", "grid_b", "area_m2", "share_a", "share_b"]
    if len(all_grids) < 2:
        return _gap("grid_overlap", pd.DataFrame(columns=cols), [])
    metric = all_grids.to_crs(crs).geometry.to_numpy()
    i, j = shapely.STRtree(metric).query(metric, predicate="intersects")
    codes = all_grids["code"].to_numpy()
    pair = (i < j) & (np.isin(codes[i], list(scope_codes)) | np.isin(codes[j], list(scope_codes)))
    i, j = i[pair], j[pair]
    inter = _drop_slivers(shapely.intersection(metric[i], metric[j]), min_m2=MIN_AREA_M2)
    area = shapely.area(inter)
    big = area > MIN_AREA_M2
    i, j, inter, area = i[big], j[big], inter[big], area[big]
    items = pd.DataFrame(
        {
            "grid_a": codes[i],
            "grid_b": codes[j],
            "area_m2": area,
            "share_a": area / shapely.area(metric[i]),
            "share_b": area / shapely.area(metric[j]),
        }
    )
    return _gap("grid_overlap", items, gpd.GeoSeries(inter, crs=crs).to_crs(WGS84).to_numpy())


def _off_grid() -> ColumnElement[bool]:
    """Needs snapped to a grid or outside every grid, written as migration 0011's partial index
    ``ix_needs_off_grid`` is (literal values: a bound parameter would not match it), so both
    backends read the few of them from it instead of scanning every need."""
    return Need.quality.in_(
        bindparam("off_grid", ["outside", "snapped"], expanding=True, literal_execute=True)
    )


def _off_grid_where(scope, today, visible) -> ColumnElement[bool]:
    return and_(
        scope.need_filter(indexed=False), _off_grid(), unindexed(Need.reported_at) <= today, visible
    )


def _outside_needs(session, where, tree, crs, limit) -> pd.DataFrame:
    """The needs matching ``where`` (outside or snapped), in report order, the first
    ``limit``, with their distance to the nearest grid of ``tree`` (the grids in ``crs``;
    None: no grid to measure to)."""
    stmt = select(*need_list_columns(Need.quality)).where(where).order_by(Need.reported_at, Need.id)
    needs = read_frame(session, stmt if limit is None else stmt.limit(limit))
    needs["distance_to_grid_m"] = np.full(len(needs), np.nan)
    if len(needs) and tree is not None:
        pts = gpd.GeoSeries(gpd.points_from_xy(needs["lon"], needs["lat"]), crs=WGS84)
        (src, _), d = tree.query_nearest(
            pts.to_crs(crs).to_numpy(), return_distance=True, all_matches=False
        )
        needs.loc[src, "distance_to_grid_m"] = d
    return needs


# --- 2. staffing ----------------------------------------------------------------------------


def _staffing_gaps(session, scope, grids, today) -> dict[str, Gap]:
    roles = tuple(STAFF_GAPS.values())
    current = read_frame(
        session,
        select(Grid.code.label("grid_code"), Assignment.role)
        .join(Assignment, Assignment.grid_id == Grid.id)
        .join(Worker, Worker.id == Assignment.worker_id)
        .where(
            scope.grid_filter(),
            Assignment.role.in_(roles),
            Assignment.in_force(today),
            Worker.active.is_(True),
        )
        .distinct(),
    )
    ended = read_frame(
        session,
        select(
            Grid.code.label("grid_code"),
            Assignment.role,
            func.max(Assignment.valid_to).label("last_until"),
        )
        .join(Assignment, Assignment.grid_id == Grid.id)
        .where(scope.grid_filter(), Assignment.role.in_(roles), Assignment.valid_to <= today)
        .group_by(Grid.code, Assignment.role),
    )
    out = {}
    for kind, role in STAFF_GAPS.items():
        staffed = set(current.loc[current["role"] == role, "grid_code"])
        items = _grid_items(grids, ~grids["code"].isin(staffed))
        last = ended[ended["role"] == role].set_index("grid_code")["last_until"]
        items["last_until"] = _dates(last.reindex(items["grid_code"]))
        out[kind] = _grid_gap(kind, grids, items)
    return out


# --- 3. outreach ----------------------------------------------------------------------------


def _events_per_grid(session, scope, kinds, start, end) -> pd.DataFrame:
    """``grid_code, kind, held_on`` of service events in grids of ``scope``: by their grid code,
    or, where they have none, by the grid containing their location."""
    conds = [scope.grid_filter(), ServiceEvent.held_on <= end]
    if kinds is not None:
        conds.append(ServiceEvent.kind.in_(kinds))
    if start is not None:
        conds.append(ServiceEvent.held_on >= start)
    cols = (Grid.code.label("grid_code"), ServiceEvent.kind, ServiceEvent.held_on)
    by_code = read_frame(
        session, select(*cols).join(Grid, Grid.code == ServiceEvent.grid_code).where(*conds)
    )
    by_place = read_frame(
        session,
        select(*cols)
        .join(Grid, func.ST_Intersects(Grid.boundary, ServiceEvent.location))
        .where(ServiceEvent.grid_code.is_(None), ServiceEvent.location.is_not(None), *conds),
    )
    return pd.concat([by_code, by_place], ignore_index=True)


def _last_date(frame: pd.DataFrame, column: str) -> pd.Series:
    if frame.empty:
        return pd.Series(dtype="datetime64[ns]")
    return (
        frame.assign(**{column: _to_day(frame[column]).to_numpy()})
        .groupby("grid_code")[column]
        .max()
    )


def _outreach_gaps(session, scope, grids, today, outreach_days) -> dict[str, Gap]:
    # The latest diary entry of each grid: walk the (grid_code, reported_at) index backwards
    # from today and stop at the first diary entry, instead of scanning every need.
    latest = (
        select(Need.reported_at)
        .where(
            (Need.grid_code == Grid.code) & (Need.source == "diary") & (Need.reported_at <= today)
        )
        .order_by(Need.reported_at.desc())
        .limit(1)
        .correlate(Grid)
        .scalar_subquery()
    )
    diary = read_frame(
        session,
        select(Grid.code.label("grid_code"), latest.label("reported_at")).where(
            scope.grid_filter()
        ),
    )
    diary = diary[diary["reported_at"].notna()]
    visits = _events_per_grid(session, scope, VISIT_KINDS, None, today)
    items = _grid_items(grids, np.ones(len(grids)))
    items["last_diary"] = _last_date(diary, "reported_at").reindex(items["grid_code"]).to_numpy()
    items["last_visit"] = _last_date(visits, "held_on").reindex(items["grid_code"]).to_numpy()
    items["last_date"] = items[["last_diary", "last_visit"]].max(axis=1)
    days = (pd.Timestamp(today) - items["last_date"]).dt.days
    items["days_since"] = days.astype("Int64")
    stale = items["last_date"].isna() | (days > outreach_days)
    for col in ("last_diary", "last_visit", "last_date"):
        items[col] = _dates(items[col])
    out = {"no_recent_diary": _grid_gap("no_recent_diary", grids, items[stale.to_numpy()])}

    q_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    publicity = _events_per_grid(session, scope, PUBLICITY_KINDS, None, today)
    held = _to_day(publicity["held_on"]) if len(publicity) else pd.Series(dtype="datetime64[ns]")
    this_quarter = set(publicity.loc[(held >= pd.Timestamp(q_start)).to_numpy(), "grid_code"])
    items = _grid_items(grids, ~grids["code"].isin(this_quarter))
    items["quarter"] = f"{today.year}Q{(today.month - 1) // 3 + 1}"
    last = _last_date(publicity, "held_on").reindex(items["grid_code"])
    items["last_publicity"] = _dates(last)
    out["no_publicity_quarter"] = _grid_gap("no_publicity_quarter", grids, items)
    return out


# --- 4. service -----------------------------------------------------------------------------


def _service_gaps(session, scope, grids, today, visible, limit) -> dict[str, Gap]:
    # Overdue as defined once in grid_model.measures.definitions (the KPI counts the same needs);
    # overdue needs are open: start from the open needs' index, not from the area's range.
    # Most overdue first (the earliest due), then by id.
    where = and_(
        scope.need_filter(period=False, indexed=False), not_closed(), overdue_at(today), visible
    )
    stmt = (
        select(
            *need_list_columns(
                Need.worker_code,
                due_date_expr().label("due_date"),
                Need.due_date.is_(None).label("due_date_default"),
            )
        )
        .where(where)
        .order_by(due_date_expr(), Need.id)
    )
    overdue = read_frame(session, stmt if limit is None else stmt.limit(limit))
    due = _to_day(overdue["due_date"])
    overdue["due_date"] = _dates(due)
    overdue["due_date_default"] = overdue["due_date_default"].astype(bool)
    overdue["days_overdue"] = (pd.Timestamp(today) - due).dt.days.astype(int)
    count = _count(session, where, len(overdue), limit)
    out = {"overdue": _need_gap("overdue", overdue, count)}

    end = _period_end(scope, today)
    counts = grid_need_counts(session, replace(scope, end=end))
    per_grid = counts[counts["grid_code"].isin(set(grids["code"]))]
    served = set(_events_per_grid(session, scope, None, scope.start, end)["grid_code"])
    with_needs = per_grid.set_index("grid_code")["count"]
    items = _grid_items(grids, grids["code"].isin(set(with_needs.index) - served))
    items["needs"] = items["grid_code"].map(with_needs).astype(int)
    items["period_start"] = scope.start
    items["period_end"] = end
    out["needs_without_services"] = _grid_gap("needs_without_services", grids, items)
    return out


# --- 5. access ------------------------------------------------------------------------------


def _access_gap(session, scope, viewer, today, walk_m, limit) -> Gap:
    # the needs reported by today (the period ends there when it is open or later); need_access
    # lists only the needs the viewer may see
    upto = replace(scope, end=_period_end(scope, today))
    access = need_access(session, upto, viewer, walk_m=walk_m, details=False)
    beyond = _far_rows(session, access, limit=limit)
    return _need_gap("beyond_walking_distance", beyond, access.beyond_count)
