"""Synthetic but realistic demo data for Huanshi street (环市街道), Pengjiang district, Jiangmen.

:func:`build_demo` returns areas, grids, staff, assignments, legal needs, service events and
service points as (Geo)DataFrames in WGS84 (EPSG:4326). It knows nothing of the ORM: the
seeding service loads the frames into the database.

What is real and what is not
----------------------------
The district outline (Amap fence of 蓬江区) and the locations and codes of the 18 Huanshi
communities come from the bundled reference data in ``geodata/data`` (GCJ-02, converted here
with :mod:`geodata.crs`). **No public polygon exists for the street, the communities or the
grids: all of them are illustrative.** Community polygons are a Voronoi split of the community
points, clipped to the district and to a compact street extent; grids are a k-means/Voronoi
split of each community. Staff, residents, phone numbers and cases are invented. The volumes
follow the seed article on Yude community (育德社区): 11 grids, over a thousand needs, about 200
services and about 30 disputes mediated, film screenings twice a month.

Conventions
-----------
- Dates are ``datetime.date`` objects (``None`` where missing) over 2024-01-01..2025-12-31.
  Text columns use pandas' string dtype, except text that may be missing (``parent_code``,
  ``dispute_type``, ``outcome``, ``assistant``): object dtype with ``None``, like the dates.
- Assignment periods are half-open, as everywhere in GridLaw: an assignment holds on ``d``
  when ``valid_from <= d`` and (``valid_to is None`` or ``d < valid_to``); a successor starts
  on its predecessor's ``valid_to``.
- Grid codes are the community's 12-digit code plus a 3-digit sequence in reading order: grids
  are ranked by centroid latitude into ``round(sqrt(n))`` rows of near-equal size (north
  first), then west to east within a row.
- About 0.5 % of the needs lie just outside every grid (1–18 m, GPS noise to be snapped) and,
  from 400 needs on, two lie far outside (over 1.5 km, inside the district). ``assistant`` of a
  need is the grid assistant of the grid holding the point on the report date; for a point just
  outside it is the nearest grid's assistant, for a point far outside ``None``.
- Staff: one grid assistant (capacity 1.0 FTE), mediator (0.5) and lawyer (0.2, 一格一律师) per
  grid, an information officer (0.5) per three grids and 5–10 volunteers (0.2) per community.
  In every community one assistant was replaced during 2024 (the old worker is inactive); at
  street scale one lawyer outside Yude left on 2025-06-30 without a successor.
- Same arguments give identical frames: every random draw comes from
  ``numpy.random.default_rng`` seeded with ``seed`` (per community ``[seed, code]``, so Yude's
  grids are the same at both scales).

Examples
--------
>>> demo = build_demo(seed=0)
>>> len(demo.grids), demo.grids.code.iloc[0]
(11, '440703006106001')
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import cdist

from geodata.crs import (
    from_wgs84,
    gcj02_to_wgs84,
    geometry_from_wgs84,
    geometry_to_wgs84,
    to_wgs84,
)

__all__ = ["DemoData", "build_demo", "SCALES", "START", "END", "MAX_NEEDS"]

WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:32649"  # UTM 49N, metres, for building the polygons
START = dt.date(2024, 1, 1)
END = dt.date(2025, 12, 31)
SCALES = ("community", "street")
MAX_NEEDS = 1_000_000
NEEDS_PER_COMMUNITY = 1_200

DISTRICT_CODE = "440703"
STREET_CODE = "440703006"
YUDE_CODE = "440703006106"
YUDE_GRIDS = 11

_DAYS = (END - START).days + 1
_START64 = np.datetime64(START, "D")
_SPRING_FESTIVALS = (dt.date(2024, 2, 10), dt.date(2025, 1, 29))

# Street extent: discs around the community points joined along their minimum spanning tree,
# closed morphologically — keeps communities town-sized (~0.3–2 km²) and the street connected.
_EXTENT_RADIUS_M = 700.0
_EXTENT_CORRIDOR_M = 300.0
_EXTENT_CLOSING_M = 250.0

# Metres per degree at Jiangmen (22.6° N), for spreads and offsets drawn in degrees.
_LAT0 = math.radians(22.6)
_M_PER_DEG_LAT = 111_132.92 - 559.82 * math.cos(2 * _LAT0) + 1.175 * math.cos(4 * _LAT0)
_M_PER_DEG_LON = 111_412.84 * math.cos(_LAT0) - 93.5 * math.cos(3 * _LAT0)


@dataclass(frozen=True, eq=False)  # frames do not compare with ==; compare fields instead
class DemoData:
    """Everything :func:`build_demo` makes; all coordinates WGS84 (EPSG:4326).

    Attributes
    ----------
    areas : GeoDataFrame
        ``code, name, level, parent_code, geometry`` — district, street, communities.
    grids : GeoDataFrame
        ``code, name, community_code, population, households, geometry`` (MultiPolygon).
    workers : DataFrame
        ``code, name, role, phone, capacity, active``.
    assignments : DataFrame
        ``worker_code, grid_code, role, valid_from, valid_to`` (half-open periods).
    needs : DataFrame
        ``id, reported_at, lon, lat, category, dispute_type, description, source, status,
        outcome, due_date, closed_at, assistant, resident_name, resident_phone,
        under_correction``.
    service_events : DataFrame
        ``id, kind, held_on, grid_code, lon, lat, attendees, description``.
    service_points : DataFrame
        ``code, name, kind, community_code, lon, lat, opening_hours``.
    """

    areas: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    workers: pd.DataFrame
    assignments: pd.DataFrame
    needs: pd.DataFrame
    service_events: pd.DataFrame
    service_points: pd.DataFrame


# --- vocabularies --------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


# Surnames weighted towards the Wuyi (五邑) region: 梁, 黄, 陈, 李, 谭, 关, 司徒 …
_SURNAMES = np.array(
    _words("梁 黄 陈 李 林 吴 谭 张 关 区 甄 余 冯 何 刘 罗 郑 赵 周 杨 蔡 邓 胡 许 叶 钟 莫 麦")
    + _words("卢 朱 曾 苏 彭 潘 王 孔 简 司徒 欧阳 袁 容 伍 温 汤"),
    dtype=object,
)
_SURNAME_WEIGHTS = np.array(
    [9, 9, 9, 7, 5, 5, 5, 4, 4, 3, 3, 3, 3, 3, 4, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    + [2, 2, 2, 2, 2, 2, 2, 1, 1, 2, 1, 1, 1, 2, 1, 1],
    dtype=float,
)
_GIVEN = np.array(
    list("伟强明华建军志国俊杰文斌辉海锦荣家浩嘉宇子轩永振德坤智丽芳敏静燕玲婷慧娟霞秀红美")
    + list("雪琳欣怡颖晓倩佩凤桂少玉思诗咏锐耀梓晴雅宝添立平安洁兰"),
    dtype=object,
)
_PHONE_PREFIXES = np.array(
    [130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 155, 156, 157, 158, 159]
    + [166, 176, 177, 180, 181, 186, 187, 188, 189, 191, 198, 199]
)

_CATEGORIES = ("consultation", "publicity", "mediation", "legal_aid", "correction", "other")
# Before the seasonal and hotspot boosts on mediation, which bring it to ~3 % (≈30 mediated
# disputes per 1,200 needs, as in the seed article).
_CATEGORY_MIX = np.array([0.55, 0.28, 0.024, 0.022, 0.022, 0.102])
_MEDIATION = _CATEGORIES.index("mediation")
_CORRECTION = _CATEGORIES.index("correction")
# Days allowed to close a need (due date = report date + limit).
_TIME_LIMITS = np.array([7, 7, 30, 30, 30, 15])
# Outcome mix per category over resolved, mediated, mediation_failed, referred, rejected.
_OUTCOMES = ("resolved", "mediated", "mediation_failed", "referred", "rejected")
_OUTCOME_MIX = np.array(
    [
        [0.92, 0.0, 0.0, 0.08, 0.0],  # consultation
        [1.0, 0.0, 0.0, 0.0, 0.0],  # publicity
        [0.0, 0.78, 0.12, 0.10, 0.0],  # mediation
        [0.75, 0.0, 0.0, 0.15, 0.10],  # legal_aid
        [0.95, 0.0, 0.0, 0.05, 0.0],  # correction
        [0.80, 0.0, 0.0, 0.15, 0.05],  # other
    ]
)
_SOURCES = ("diary", "phone", "online", "walk_in")
_SOURCE_MIX = np.array([0.50, 0.20, 0.18, 0.12])
_WEEKEND_FACTOR = np.array([0.2, 0.6, 0.9, 0.4])  # assistants' diaries pause at weekends

# The 15 official categories (names must match the CSV): weight in an urban community and
# case details for descriptions.
_DISPUTES = {
    "婚姻家庭纠纷": (
        18,
        ["夫妻因家庭琐事争吵", "子女赡养老人费用分担争议", "离婚后子女探望权争议"],
    ),
    "邻里纠纷": (24, ["楼上渗水影响楼下住户", "噪音扰民引发争执", "公共楼道堆放杂物争议"]),
    "房屋宅基地纠纷": (5, ["祖屋分割争议", "房屋加建影响采光", "房屋租赁押金退还争议"]),
    "合同纠纷": (6, ["装修合同质量争议", "民间借贷到期未还", "租赁合同提前解约争议"]),
    "生产经营纠纷": (3, ["合伙经营利润分配争议", "商铺经营占道争议"]),
    "损害赔偿纠纷": (6, ["宠物伤人赔偿争议", "高空坠物致损赔偿争议"]),
    "山林土地纠纷": (1, ["菜地使用权争议"]),
    "征地拆迁纠纷": (3, ["旧城改造补偿款分配争议", "拆迁安置面积争议"]),
    "环境污染纠纷": (3, ["餐饮油烟扰民", "店铺噪声扰民"]),
    "劳动争议纠纷": (7, ["拖欠工资", "解除劳动合同经济补偿争议", "工伤待遇争议"]),
    "消费纠纷": (4, ["预付卡退费争议", "网购商品质量争议"]),
    "医疗纠纷": (2, ["诊所诊疗费用争议", "医疗损害赔偿争议"]),
    "道路交通事故纠纷": (4, ["电动车碰撞赔偿争议", "小区内车辆刮擦争议"]),
    "物业纠纷": (10, ["物业管理费收取争议", "小区停车位管理争议", "电梯维修费用分摊争议"]),
    "其它纠纷": (4, ["宗族祠堂使用争议", "家庭财产保管争议"]),
}
_TEMPLATES = {
    "consultation": (
        [
            "居民咨询{}相关法律问题",
            "就{}问题请求法律意见",
            "来电询问{}的处理程序",
            "咨询{}如何维权",
        ],
        _words("劳动合同 工资拖欠 工伤认定 婚姻财产 离婚抚养 遗产继承 遗嘱订立 房屋租赁 房屋买卖")
        + _words("物业管理费 民间借贷 消费维权 交通事故赔偿 社会保险 老人赡养 相邻关系 网络诈骗"),
    ),
    "publicity": (
        ["居民索取{}宣传资料", "要求在网格内开展{}宣讲", "建议在楼道张贴{}宣传海报"],
        _words("民法典 宪法 禁毒 反邪教 防范电信诈骗 反家庭暴力法 消费者权益保护法")
        + _words("未成年人保护法 治安管理处罚法 居民委员会组织法 选举法"),
    ),
    "legal_aid": (
        ["困难家庭申请法律援助({})", "特困户就{}请求法律援助", "低保户{}案件申请援助律师"],
        _words("追索劳动报酬 工伤赔偿 赡养费 抚养费 交通事故赔偿 医疗损害赔偿 离婚诉讼"),
    ),
    "correction": (
        ["社区矫正对象{}", "刑满释放人员安置帮教:{}"],
        _words("定期报到 思想汇报 外出请假咨询 公益活动安排 就业帮扶 心理辅导 技能培训"),
    ),
    "other": (
        ["居民反映{}问题", "网格巡查发现{}"],
        _words("小区治安隐患 违章搭建 占道经营 噪声扰民 出租屋管理 证明开具"),
    ),
}

_FILM_TITLES = _words("禁毒 反邪教 防范电信诈骗 交通安全 未成年人保护 民法典 宪法 扫黑除恶")
_LAW_TOPICS = _words(
    "宪法 民法典 选举法 居民委员会组织法 禁毒 反邪教 综治 反家庭暴力法 消费者权益保护"
)
_CONSULT_TOPICS = _words("劳动争议 婚姻家庭 房屋租赁 遗产继承 消费维权 物业管理 民间借贷")
# kind: (days drawn from, venue (None: out in a grid), attendees range, description, topics)
_EVENT_SPECS = {
    "film_screening": (None, "legal_service_room", (30, 80), "法制宣传片放映:{}", _FILM_TITLES),
    "lecture": ("workday", "legal_service_room", (20, 60), "{}专题讲座", _LAW_TOPICS),
    "legal_school_class": (
        "weekend",
        "legal_school",
        (15, 40),
        "法制学校法律辅导班:{}",
        _LAW_TOPICS,
    ),
    "leaflet_drive": ("weekend", None, (50, 300), "上街发放{}宣传资料", _LAW_TOPICS),
    "consultation_session": ("workday", None, (5, 25), "一格一律师驻点咨询:{}", _CONSULT_TOPICS),
    "mediation_session": ("workday", None, (2, 8), "人民调解员调解会:{}", list(_DISPUTES)),
}
_EVENT_KINDS = tuple(_EVENT_SPECS)
# Events per community over the two years besides the 48 film screenings (Yude: exactly these,
# 200 in all, as in the seed article; elsewhere Poisson around them).
_EVENT_COUNTS = {
    "lecture": 28,
    "legal_school_class": 36,
    "leaflet_drive": 24,
    "consultation_session": 40,
    "mediation_session": 24,
}

_POINT_HOURS = {
    "legal_service_room": "周一至周五 9:00-12:00, 14:30-17:30",
    "legal_aid_station": "周一至周五 8:30-12:00, 14:30-17:30",
    "legal_school": "每月第二、第四个周六 9:30-11:30",
    "library": "周二至周日 9:00-21:00",
}
_POINT_NAMES = {
    "legal_service_room": "法律服务室",
    "legal_aid_station": "法律援助工作站",
    "legal_school": "法制学校",
    "library": "图书室",
}
# The street's own legal aid stations sit in these communities' offices (illustrative).
_STREET_AID_STATIONS = ("440703006101", "440703006104")


# --- reference data ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reference:
    codes: tuple[str, ...]
    names: tuple[str, ...]
    lon: np.ndarray  # WGS84
    lat: np.ndarray
    district: shapely.Geometry  # WGS84
    district_name: str
    street_name: str
    dispute_types: tuple[str, ...]


def _data_text(name: str) -> str:
    return resources.files("geodata").joinpath("data", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _reference() -> _Reference:
    points = json.loads(_data_text("huanshi_440703006_community_points_gcj02_vonng_adcode.geojson"))
    rows = sorted(
        (f["properties"]["code"], f["properties"]["name"], *f["geometry"]["coordinates"])
        for f in points["features"]
    )
    codes, names, glon, glat = zip(*rows, strict=True)
    lon, lat = gcj02_to_wgs84(np.array(glon), np.array(glat))

    fence = json.loads(_data_text("pengjiang_440703_fence_amap_vonng_adcode.geojson"))
    feature = fence["features"][0]
    district_gcj = shapely.from_geojson(json.dumps(feature["geometry"]))
    district = geometry_to_wgs84([district_gcj], "gcj02")[0]

    streets = pd.read_csv(
        resources.files("geodata").joinpath("data", "pengjiang_440703_streets_nbs2023_modood.csv"),
        dtype=str,
    )
    street_name = streets.loc[streets["code"] == STREET_CODE, "name"].item()

    disputes = pd.read_csv(
        resources.files("geodata").joinpath("data", "mediation_dispute_categories_cn.csv"),
        dtype={"seq": int, "name_zh": str},
    ).sort_values("seq")
    dispute_types = tuple(disputes["name_zh"])
    if set(dispute_types) != set(_DISPUTES):
        raise ValueError(
            f"mediation_dispute_categories_cn.csv lists {sorted(dispute_types)}; "
            f"expected the 15 categories {sorted(_DISPUTES)}"
        )
    return _Reference(
        codes=tuple(codes),
        names=tuple(n.removesuffix("居委会") for n in names),
        lon=lon,
        lat=lat,
        district=district,
        district_name=feature["properties"]["name"],
        street_name=street_name,
        dispute_types=dispute_types,
    )


# --- geometry ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Layout:
    street: shapely.Geometry  # WGS84
    communities: np.ndarray  # WGS84 polygons in reference order


def _layout() -> _Layout:
    """Community polygons: Voronoi cells of the points, clipped to the street extent.

    Cells and extent are built in metres (UTM 49N) but clipped in WGS84, so that neighbours
    share their edges exactly in the output system (a straight edge reprojected vertex by
    vertex is no longer straight at the 1e-6 level).
    """
    ref = _reference()
    xy = np.column_stack(from_wgs84(ref.lon, ref.lat, METRIC_CRS))
    extent_m = _street_extent(xy)
    cells_m = shapely.voronoi_polygons(
        shapely.multipoints(xy), extend_to=extent_m.buffer(1_000), ordered=True
    )
    street = shapely.intersection(geometry_to_wgs84([extent_m], METRIC_CRS)[0], ref.district)
    cells = geometry_to_wgs84(np.asarray(shapely.get_parts(cells_m)), METRIC_CRS)
    communities = np.array([_polygonal(p) for p in shapely.intersection(cells, street)])
    return _Layout(street=_polygonal(street), communities=communities)


def _street_extent(xy: np.ndarray) -> shapely.Geometry:
    tree = minimum_spanning_tree(cdist(xy, xy)).tocoo()
    edges = shapely.linestrings(np.stack([xy[tree.row], xy[tree.col]], axis=1))
    pieces = np.concatenate(
        [
            shapely.buffer(shapely.points(xy), _EXTENT_RADIUS_M),
            shapely.buffer(edges, _EXTENT_CORRIDOR_M),
        ]
    )
    closing = _EXTENT_CLOSING_M
    return shapely.union_all(pieces).buffer(closing).buffer(-closing)


def _uniform_points(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniformly inside ``poly`` (rejection sampling in its bounding box)."""
    x0, y0, x1, y1 = poly.bounds
    shapely.prepare(poly)
    out = np.empty((0, 2))
    while len(out) < n:
        k = 2 * (n - len(out)) + 16
        cand = np.column_stack([rng.uniform(x0, x1, k), rng.uniform(y0, y1, k)])
        out = np.concatenate([out, cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])]])
    return out[:n]


def _split_community(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """Split ``poly`` (WGS84) into ``n`` compact grids, returned in reading order.

    Lloyd (k-means) iterations on points sampled in metres give grids of similar area; their
    Voronoi cells are clipped to ``poly`` in WGS84 so that the grids tile it exactly.
    """
    poly_m = geometry_from_wgs84([poly], METRIC_CRS)[0]
    sample = _uniform_points(poly_m, 60 * n, rng)
    centres = sample[rng.choice(len(sample), n, replace=False)]
    for _ in range(25):
        label = np.argmin(cdist(sample, centres, "sqeuclidean"), axis=1)
        counts = np.bincount(label, minlength=n)
        sums = np.stack([np.bincount(label, sample[:, i], minlength=n) for i in (0, 1)], 1)
        centres = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centres)
    cells_m = shapely.voronoi_polygons(
        shapely.multipoints(centres), extend_to=poly_m.buffer(500), ordered=True
    )
    cells = geometry_to_wgs84(np.asarray(shapely.get_parts(cells_m)), METRIC_CRS)
    grids = np.array([_polygonal(g) for g in shapely.intersection(cells, poly)], dtype=object)
    return grids[_reading_order(shapely.get_coordinates(shapely.centroid(grids)))]


def _polygonal(geom: shapely.Geometry) -> shapely.MultiPolygon:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.MultiPolygon(list(shapely.get_parts(parts)))


def _reading_order(xy: np.ndarray) -> np.ndarray:
    """Indices of points in rows north→south (``round(sqrt(n))`` rows), west→east in a row."""
    by_y = np.argsort(-xy[:, 1], kind="stable")
    rows = np.array_split(by_y, max(1, round(math.sqrt(len(xy)))))
    return np.concatenate([row[np.argsort(xy[row, 0], kind="stable")] for row in rows])


# --- small vectorised helpers -------------------------------------------------------------


def _names(rng: np.random.Generator, n: int) -> pd.Series:
    """Chinese personal names: a surname and one or (mostly) two given-name characters."""
    surname = _SURNAMES[rng.choice(len(_SURNAMES), n, p=_SURNAME_WEIGHTS / _SURNAME_WEIGHTS.sum())]
    first = _GIVEN[rng.integers(0, len(_GIVEN), n)]
    second = np.where(rng.random(n) < 0.7, _GIVEN[rng.integers(0, len(_GIVEN), n)], "")
    return _str(surname) + _str(first) + _str(second)


def _phones(rng: np.random.Generator, n: int) -> pd.Series:
    """Mobile numbers 1[3-9]xxxxxxxxx with real operator prefixes."""
    prefix = rng.choice(_PHONE_PREFIXES, n).astype(np.int64)
    return pd.Series(prefix * 100_000_000 + rng.integers(0, 100_000_000, n)).astype("str")


def _ids(prefix: str, n: int, width: int) -> pd.Series:
    return prefix + pd.Series(np.arange(1, n + 1)).astype("str").str.zfill(width)


def _str(values: np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=object), dtype="str")


def _nullable(values) -> pd.Series:
    """Text that may be missing: object dtype with ``None`` (not NaN) for missing values."""
    values = np.asarray(values, dtype=object)
    return pd.Series(np.where(pd.isna(values), None, values), dtype=object)


def _dates(days: np.ndarray) -> np.ndarray:
    """Day offsets from START (NaN → None) as an object array of ``datetime.date``."""
    days = np.asarray(days, dtype=float)
    out = (_START64 + np.nan_to_num(days).astype("int64")).astype(object)
    out[np.isnan(days)] = None
    return out


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One column index per row of an (n, k) weight matrix (rows need not sum to 1)."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), probs.shape[1] - 1)


def _texts(rng: np.random.Generator, templates: list[str], fills: list[str], n: int) -> np.ndarray:
    table = np.array([t.format(f) for t in templates for f in fills], dtype=object)
    return table[rng.integers(0, len(table), n)]


def _calendar() -> tuple[np.ndarray, np.ndarray]:
    """Per day of the period: weekday (0 = Monday) and a holiday flag."""
    days = _START64 + np.arange(_DAYS)
    weekday = (days.astype("int64") + 3) % 7  # 1970-01-01 was a Thursday
    holiday = np.zeros(_DAYS, dtype=bool)
    for festival in _SPRING_FESTIVALS:
        i = (festival - START).days
        holiday[i - 1 : i + 7] = True
    for year in (2024, 2025):
        i = (dt.date(year, 10, 1) - START).days
        holiday[i : i + 7] = True  # National Day golden week
    return weekday, holiday


# --- areas and grids -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Community:
    code: str
    name: str
    index: int  # in the reference order
    rng: np.random.Generator


def _communities(scale: str, seed: int) -> list[_Community]:
    ref = _reference()
    return [
        _Community(code, name, i, np.random.default_rng([seed, int(code)]))
        for i, (code, name) in enumerate(zip(ref.codes, ref.names, strict=True))
        if scale == "street" or code == YUDE_CODE
    ]


def _build_grids(layout: _Layout, communities: list[_Community]) -> gpd.GeoDataFrame:
    frames = []
    for c in communities:
        n = YUDE_GRIDS if c.code == YUDE_CODE else int(c.rng.integers(8, 13))
        shapes = _split_community(layout.communities[c.index], n, c.rng)
        households = c.rng.integers(300, 601, n)
        persons = np.clip(c.rng.normal(2.6, 0.12, n), 2.2, 3.0)
        frames.append(
            pd.DataFrame(
                {
                    "code": [f"{c.code}{i:03d}" for i in range(1, n + 1)],
                    "name": [f"{c.name}第{i}网格" for i in range(1, n + 1)],
                    "community_code": c.code,
                    "population": np.round(households * persons).astype(int),
                    "households": households.astype(int),
                    "geometry": shapes,
                }
            )
        )
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=WGS84)


def _build_areas(layout: _Layout, communities: list[_Community]) -> gpd.GeoDataFrame:
    """District (real outline), street (all 18 communities, whichever scale) and the
    communities built."""
    ref = _reference()
    rows = [
        (DISTRICT_CODE, ref.district_name, "district", None, _polygonal(ref.district)),
        (STREET_CODE, ref.street_name, "street", DISTRICT_CODE, layout.street),
    ]
    rows += [
        (c.code, c.name, "community", STREET_CODE, layout.communities[c.index]) for c in communities
    ]
    frame = pd.DataFrame(rows, columns=["code", "name", "level", "parent_code", "geometry"])
    frame["parent_code"] = _nullable(frame["parent_code"])
    return gpd.GeoDataFrame(frame, crs=WGS84)


# --- staff ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Staff:
    workers: pd.DataFrame
    assignments: pd.DataFrame
    # Per grid (row order of grids): current assistant, and the former one with the first day
    # of the current assistant's assignment (None / 0 where the assistant never changed).
    assistant: np.ndarray
    former: np.ndarray
    changed_on: np.ndarray


def _build_staff(
    communities: list[_Community], grids: gpd.GeoDataFrame, rng: np.random.Generator
) -> _Staff:
    workers: list[tuple] = []
    rows: list[tuple] = []
    assistant = np.empty(len(grids), dtype=object)
    former = np.full(len(grids), None, dtype=object)
    changed_on = np.zeros(len(grids), dtype=int)

    def hire(community: str, letter: str, i: int, role: str, capacity: float) -> str:
        code = f"W{community}{letter}{i:02d}"
        workers.append((code, role, capacity, True))
        return code

    for c in communities:
        where = np.flatnonzero(grids["community_code"].to_numpy() == c.code)
        codes = grids["code"].to_numpy()[where]
        n = len(codes)
        # One assistant left during 2024: the old row is closed, the successor's opens.
        changed, day = int(c.rng.integers(0, n)), int(c.rng.integers(60, 300))
        for i, grid in enumerate(codes):
            code = hire(c.code, "A", i + 1, "grid_assistant", 1.0)
            since = START + dt.timedelta(day) if i == changed else START
            rows.append((code, grid, "grid_assistant", since, None))
            rows.append((hire(c.code, "M", i + 1, "mediator", 0.5), grid, "mediator", START, None))
            rows.append((hire(c.code, "L", i + 1, "lawyer", 0.2), grid, "lawyer", START, None))
            assistant[where[i]] = code
        old = hire(c.code, "A", n + 1, "grid_assistant", 1.0)
        workers[-1] = (old, "grid_assistant", 1.0, False)
        rows.append((old, codes[changed], "grid_assistant", START, START + dt.timedelta(day)))
        former[where[changed]], changed_on[where[changed]] = old, day

        for i, block in enumerate(np.array_split(codes, math.ceil(n / 3)), 1):
            officer = hire(c.code, "I", i, "info_officer", 0.5)
            rows.extend((officer, grid, "info_officer", START, None) for grid in block)
        for i in range(1, int(c.rng.integers(5, 11)) + 1):
            grid = codes[int(c.rng.integers(0, n))]
            rows.append((hire(c.code, "V", i, "volunteer", 0.2), grid, "volunteer", START, None))

    workers_df = pd.DataFrame(workers, columns=["code", "role", "capacity", "active"])
    assignments = pd.DataFrame(
        rows, columns=["worker_code", "grid_code", "role", "valid_from", "valid_to"]
    )
    if len(communities) > 1:
        _lawyer_vacancy(workers_df, assignments, rng)
    workers_df.insert(1, "name", _str(_unique(_names, rng, len(workers_df))))
    workers_df.insert(3, "phone", _str(_unique(_phones, rng, len(workers_df))))
    assignments = assignments.sort_values(["grid_code", "role", "valid_from"], kind="stable")
    return _Staff(workers_df, assignments.reset_index(drop=True), assistant, former, changed_on)


def _lawyer_vacancy(
    workers: pd.DataFrame, assignments: pd.DataFrame, rng: np.random.Generator
) -> None:
    """Street scale: one lawyer outside Yude left on 2025-06-30 and was not replaced yet, so the
    staffing-gap analysis has a grid without 一格一律师 to find."""
    lawyers = assignments.index[
        (assignments["role"] == "lawyer") & ~assignments["grid_code"].str.startswith(YUDE_CODE)
    ]
    k = lawyers[int(rng.integers(0, len(lawyers)))]
    assignments.at[k, "valid_to"] = dt.date(2025, 6, 30)
    workers.loc[workers["code"] == assignments.at[k, "worker_code"], "active"] = False


def _unique(draw, rng: np.random.Generator, n: int) -> np.ndarray:
    """``draw(rng, n)`` redrawn where it repeats, so every value is different."""
    values = draw(rng, n).to_numpy(dtype=object)
    while (dup := pd.Series(values).duplicated().to_numpy()).any():
        values[dup] = draw(rng, int(dup.sum())).to_numpy(dtype=object)
    return values


# --- needs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _GridIndex:
    """Grid geometries (prepared) and the grid rows of each community built."""

    geoms: np.ndarray
    rows: list[np.ndarray]

    @classmethod
    def of(cls, grids: gpd.GeoDataFrame, communities: list[_Community]) -> _GridIndex:
        geoms = np.asarray(grids.geometry.array, dtype=object)
        shapely.prepare(geoms)
        codes = grids["community_code"].to_numpy()
        return cls(geoms, [np.flatnonzero(codes == c.code) for c in communities])

    def locate(self, community: np.ndarray, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Row of the grid holding each point of ``community`` (index into the communities
        built; -1 to skip), first in grid order for a point on a shared edge; -1 for none."""
        out = np.full(len(lon), -1)
        order = np.argsort(community, kind="stable")
        edges = np.searchsorted(community[order], np.arange(len(self.rows) + 1))
        for ci, rows in enumerate(self.rows):
            cand = order[edges[ci] : edges[ci + 1]]
            for r in rows:
                hit = shapely.intersects_xy(self.geoms[r], lon[cand], lat[cand])
                out[cand[hit]] = r
                cand = cand[~hit]
        return out

    def nearest(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        if not len(lon):
            return np.empty(0, dtype=int)
        tree = shapely.STRtree(self.geoms)
        points = shapely.points(lon, lat)
        return tree.query_nearest(points, return_distance=False, all_matches=False)[1]


@dataclass(frozen=True)
class _Hotspots:
    centre: np.ndarray  # (k, 2) lon/lat
    sigma_m: np.ndarray  # (k,)
    weight: np.ndarray  # (k,) shares of the static centres
    emerging: bool  # an extra last centre that appears in 2025 and grows


def _hotspots(c: _Community, outline: shapely.Geometry) -> _Hotspots:
    k = int(c.rng.integers(2, 4))
    emerging = c.code == YUDE_CODE or bool(c.rng.random() < 0.4)
    return _Hotspots(
        centre=_uniform_points(outline, k + emerging, c.rng),
        sigma_m=c.rng.uniform(60, 140, k + emerging),
        weight=c.rng.dirichlet(np.full(k, 2.0)),
        emerging=emerging,
    )


def _sample_days(rng: np.random.Generator, source: np.ndarray) -> np.ndarray:
    """Report days: slowly growing use, quieter at weekends (diaries most) and on holidays."""
    weekday, holiday = _calendar()
    base = 1.0 + 0.1 * np.arange(_DAYS) / _DAYS
    days = np.empty(len(source), dtype=int)
    for s in range(len(_SOURCES)):
        w = base * np.where(weekday >= 5, _WEEKEND_FACTOR[s], 1.0)
        w = w * np.where(holiday, 0.2 if _SOURCES[s] == "diary" else 0.5, 1.0)
        mask = source == s
        days[mask] = rng.choice(_DAYS, int(mask.sum()), p=w / w.sum())
    return days


def _mediation_season(days: np.ndarray) -> np.ndarray:
    """Factor on mediation: family and neighbour disputes peak around Spring Festival and in
    the summer holidays."""
    month = (_START64 + days).astype("datetime64[M]").astype(int) % 12 + 1
    factor = np.where((month == 7) | (month == 8), 1.5, 1.0)
    for festival in _SPRING_FESTIVALS:
        d = days - (festival - START).days
        factor = np.where((d >= -20) & (d <= 15), 2.0, factor)
    return factor


def _locate(
    rng: np.random.Generator,
    days: np.ndarray,
    community: np.ndarray,
    outlines: list[shapely.Geometry],
    hotspots: list[_Hotspots],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points inside each need's community: half uniform, half around the hotspot centres.

    Returns lon, lat and whether the point came from the community's first centre, where
    disputes concentrate.
    """
    n = len(days)
    lon, lat = np.empty(n), np.empty(n)
    dispute_hot = np.zeros(n, dtype=bool)
    ramp = np.clip((days - 366) / 365.0, 0.0, 1.0)  # 0 through 2024, 1 at the end of 2025
    for ci, (outline, hot) in enumerate(zip(outlines, hotspots, strict=True)):
        idx = np.flatnonzero(community == ci)
        weights = [np.full(len(idx), 0.5), 0.5 * np.tile(hot.weight, (len(idx), 1))]
        if hot.emerging:
            weights.append(0.45 * ramp[idx])
        comp = _pick(rng, np.column_stack(weights)) - 1  # -1: uniform background
        dispute_hot[idx] = comp == 0
        c = np.maximum(comp, 0)
        sigma = np.where(comp >= 0, hot.sigma_m[c], np.nan)
        lon[idx], lat[idx] = _rejection(rng, outline, hot.centre[c, 0], hot.centre[c, 1], sigma)
    return lon, lat, dispute_hot


def _rejection(
    rng: np.random.Generator,
    outline: shapely.Geometry,
    cx: np.ndarray,
    cy: np.ndarray,
    sigma_m: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian draws around (cx, cy) with spread ``sigma_m`` (uniform in the bounding box
    where NaN), redrawn until inside ``outline``; after 30 rounds the rest go uniform."""
    x0, y0, x1, y1 = outline.bounds
    shapely.prepare(outline)
    x, y = np.empty(len(cx)), np.empty(len(cx))
    pending = np.arange(len(cx))
    rounds = 0
    while len(pending):
        m = len(pending)
        s = sigma_m[pending]
        gauss = ~np.isnan(s) & (rounds < 30)
        s = np.nan_to_num(s)
        px = np.where(
            gauss, cx[pending] + rng.normal(0, 1, m) * s / _M_PER_DEG_LON, rng.uniform(x0, x1, m)
        )
        py = np.where(
            gauss, cy[pending] + rng.normal(0, 1, m) * s / _M_PER_DEG_LAT, rng.uniform(y0, y1, m)
        )
        inside = shapely.contains_xy(outline, px, py)
        x[pending[inside]], y[pending[inside]] = px[inside], py[inside]
        pending = pending[~inside]
        rounds += 1
    return x, y


def _near_outside(
    rng: np.random.Generator, union: shapely.Geometry, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Points 1–18 m outside ``union`` (WGS84): GPS noise around its outer boundary."""
    rings = shapely.get_exterior_ring(shapely.get_parts(union))
    start = np.concatenate([shapely.get_coordinates(r)[:-1] for r in rings])
    end = np.concatenate([shapely.get_coordinates(r)[1:] for r in rings])
    length = np.hypot(*((end - start) * [_M_PER_DEG_LON, _M_PER_DEG_LAT]).T)
    # Candidates must clear the outline by a metre (1 m in degrees of longitude is the most).
    clear = shapely.buffer(union, 1.0 / _M_PER_DEG_LON)
    shapely.prepare(clear)
    lon, lat = np.empty(0), np.empty(0)
    while len(lon) < n:
        k = 2 * (n - len(lon)) + 8
        seg, t = rng.choice(len(length), k, p=length / length.sum()), rng.random(k)[:, None]
        base = start[seg] + t * (end[seg] - start[seg])
        r, a = rng.uniform(2, 18, k), rng.uniform(0, 2 * np.pi, k)
        px = base[:, 0] + r * np.cos(a) / _M_PER_DEG_LON
        py = base[:, 1] + r * np.sin(a) / _M_PER_DEG_LAT
        keep = ~shapely.intersects_xy(clear, px, py)
        lon, lat = np.concatenate([lon, px[keep]]), np.concatenate([lat, py[keep]])
    return lon[:n], lat[:n]


def _far_outside(
    rng: np.random.Generator, union: shapely.Geometry, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Points inside the district but over 1.5 km from every grid."""
    district = geometry_from_wgs84([_reference().district], METRIC_CRS)[0]
    near = geometry_from_wgs84([union], METRIC_CRS)[0].buffer(1500)
    xy = _uniform_points(shapely.difference(district, near), n, rng)
    return to_wgs84(xy[:, 0], xy[:, 1], METRIC_CRS)


def _classify(
    rng: np.random.Generator, days: np.ndarray, dispute_hot: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Category index per need and dispute-type index (CSV order; -1 unless mediation)."""
    n = len(days)
    probs = np.tile(_CATEGORY_MIX, (n, 1))
    probs[:, _MEDIATION] *= _mediation_season(days) * np.where(dispute_hot, 2.5, 1.0)
    category = _pick(rng, probs)
    mediation = category == _MEDIATION
    w = np.array([_DISPUTES[t][0] for t in _reference().dispute_types], dtype=float)
    dispute = np.full(n, -1)
    dispute[mediation] = rng.choice(len(w), int(mediation.sum()), p=w / w.sum())
    return category, dispute


@lru_cache(maxsize=1)
def _description_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every need description in one array, with start and size per key: the categories,
    then the dispute types in CSV order (mediation needs are described by their type)."""
    groups = [
        []
        if c == "mediation"
        else [t.format(f) for t in _TEMPLATES[c][0] for f in _TEMPLATES[c][1]]
        for c in _CATEGORIES
    ]
    groups += [
        [f"{d}:{x},申请人民调解" for x in _DISPUTES[d][1]] for d in _reference().dispute_types
    ]
    sizes = np.array([len(g) for g in groups])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return np.array([t for g in groups for t in g], dtype=object), starts, sizes


def _describe(rng: np.random.Generator, category: np.ndarray, dispute: np.ndarray) -> np.ndarray:
    table, starts, sizes = _description_table()
    key = np.where(dispute >= 0, len(_CATEGORIES) + dispute, category)
    return table[starts[key] + (rng.random(len(key)) * sizes[key]).astype(int)]


@dataclass(frozen=True)
class _Progress:
    due: np.ndarray  # day offsets
    closed: np.ndarray  # bool
    closed_on: np.ndarray  # day offsets, NaN while open
    status: np.ndarray
    outcome: np.ndarray  # object, None while open


def _progress(rng: np.random.Generator, days: np.ndarray, category: np.ndarray) -> _Progress:
    """Due dates, closure (~90 % on time), status of open needs and outcomes of closed ones."""
    n = len(days)
    due = days + _TIME_LIMITS[category]
    duration = np.floor(_TIME_LIMITS[category] * rng.lognormal(np.log(0.4), 0.7, n))
    stuck = rng.random(n) < 0.02  # never progressed: the overdue backlog
    closed = ~stuck & (days + duration <= _DAYS - 1)
    u = rng.random(n)
    recorded = ((days >= _DAYS - 3) & (u < 0.5)) | (stuck & (u < 0.2))
    status = np.where(
        closed,
        "closed",
        np.where(recorded, "recorded", np.where(u < 0.5, "dispatched", "in_progress")),
    ).astype(object)
    outcome = np.full(n, None, dtype=object)
    outcome[closed] = np.array(_OUTCOMES, dtype=object)[_pick(rng, _OUTCOME_MIX[category[closed]])]
    closed_on = np.where(closed, days + duration, np.nan)
    return _Progress(due, closed, closed_on, status, outcome)


def _build_needs(
    rng: np.random.Generator,
    n: int,
    communities: list[_Community],
    grids: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    staff: _Staff,
) -> pd.DataFrame:
    index = _GridIndex.of(grids, communities)
    outlines = [areas.geometry[areas["code"] == c.code].item() for c in communities]
    hotspots = [_hotspots(c, outline) for c, outline in zip(communities, outlines, strict=True)]
    activity = [1.0 if c.code == YUDE_CODE else c.rng.lognormal(0, 0.25) for c in communities]

    source = rng.choice(len(_SOURCES), n, p=_SOURCE_MIX)
    days = _sample_days(rng, source)

    # Where: a community by population and activity, then a point in it.
    population = np.array([grids["population"].to_numpy()[rows].sum() for rows in index.rows])
    weight = population * np.array(activity)
    community = rng.choice(len(communities), n, p=weight / weight.sum())
    lon, lat, dispute_hot = _locate(rng, days, community, outlines, hotspots)
    grid = index.locate(community, lon, lat)

    # A few points off the grids: GPS noise just outside, and a couple far away.
    n_near, n_far = int(round(0.005 * n)), (2 if n >= 400 else 0)
    off = rng.choice(n, n_near + n_far, replace=False)
    near, far = off[:n_near], off[n_near:]
    union = shapely.union_all(np.asarray(outlines, dtype=object))
    lon[near], lat[near] = _near_outside(rng, union, n_near)
    lon[far], lat[far] = _far_outside(rng, union, n_far)
    grid[near], grid[far] = index.nearest(lon[near], lat[near]), -1
    dispute_hot[off] = False

    category, dispute = _classify(rng, days, dispute_hot)
    description = _describe(rng, category, dispute)
    progress = _progress(rng, days, category)
    under_correction = (category == _CORRECTION) & (rng.random(n) < 0.85)

    assistant = np.full(n, None, dtype=object)
    g = grid[grid >= 0]
    before = days[grid >= 0] < staff.changed_on[g]
    assistant[grid >= 0] = np.where(before, staff.former[g], staff.assistant[g])

    o = np.argsort(days, kind="stable")
    dispute_names = np.array([*_reference().dispute_types, None], dtype=object)  # -1 → None
    return pd.DataFrame(
        {
            "id": _ids("N", n, 7),
            "reported_at": _dates(days[o]),
            "lon": lon[o],
            "lat": lat[o],
            "category": _str(np.array(_CATEGORIES, dtype=object)[category[o]]),
            "dispute_type": _nullable(dispute_names[dispute[o]]),
            "description": _str(description[o]),
            "source": _str(np.array(_SOURCES, dtype=object)[source[o]]),
            "status": _str(progress.status[o]),
            "outcome": _nullable(progress.outcome[o]),
            "due_date": _dates(progress.due[o]),
            "closed_at": _dates(progress.closed_on[o]),
            "assistant": _nullable(assistant[o]),
            "resident_name": _names(rng, n),
            "resident_phone": _phones(rng, n),
            "under_correction": under_correction[o],
        }
    )


# --- services ------------------------------------------------------------------------------


def _point_near(
    rng: np.random.Generator, lon: float, lat: float, outline: shapely.Geometry, radius_m: float
) -> tuple[float, float]:
    """A point within ``radius_m`` of (lon, lat) and inside ``outline``."""
    shapely.prepare(outline)
    for _ in range(1000):
        r, a = radius_m * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        x = lon + r * math.cos(a) / _M_PER_DEG_LON
        y = lat + r * math.sin(a) / _M_PER_DEG_LAT
        if shapely.contains_xy(outline, x, y):
            return float(x), float(y)
    raise ValueError(f"no point inside the outline within {radius_m} m of ({lon}, {lat})")


def _build_service_points(communities: list[_Community], areas: gpd.GeoDataFrame) -> pd.DataFrame:
    ref = _reference()
    rows = []
    for c in communities:
        outline = areas.geometry[areas["code"] == c.code].item()
        kinds = ["legal_service_room"]
        if c.code == YUDE_CODE:
            kinds += ["legal_aid_station", "legal_school", "library"]
        elif c.code in _STREET_AID_STATIONS:
            kinds += ["legal_aid_station"]
        for i, kind in enumerate(kinds, 1):
            lon, lat = _point_near(c.rng, ref.lon[c.index], ref.lat[c.index], outline, 80)
            name = f"{c.name}{_POINT_NAMES[kind]}"
            if kind == "legal_aid_station" and c.code != YUDE_CODE:
                name = f"{ref.street_name}法律援助工作站({c.name})"
            rows.append((f"P{c.code}{i:02d}", name, kind, c.code, lon, lat, _POINT_HOURS[kind]))
    return pd.DataFrame(
        rows, columns=["code", "name", "kind", "community_code", "lon", "lat", "opening_hours"]
    )


def _film_days() -> np.ndarray:
    """Twice a month (24 a year): the first and third Friday evening."""
    weekday, _ = _calendar()
    month = (_START64 + np.arange(_DAYS)).astype("datetime64[M]")
    fridays = np.flatnonzero(weekday == 4)
    nth = pd.Series(fridays).groupby(month[fridays]).cumcount().to_numpy()
    return fridays[(nth == 0) | (nth == 2)]


def _build_service_events(
    communities: list[_Community], grids: gpd.GeoDataFrame, points: pd.DataFrame
) -> pd.DataFrame:
    """Per community: film screenings twice a month, and lectures, legal-school classes,
    leaflet drives, lawyers' consultation sessions and mediation sessions (~200 in two years)."""
    index = _GridIndex.of(grids, communities)
    weekday, holiday = _calendar()
    pools = {
        "workday": np.flatnonzero((weekday < 5) & ~holiday),
        "weekend": np.flatnonzero(weekday >= 5),
    }
    frames = []
    for ci, c in enumerate(communities):
        venues = points[points["community_code"] == c.code].set_index("kind")
        for kind in _EVENT_KINDS:
            pool, venue, (lo, hi), template, topics = _EVENT_SPECS[kind]
            if kind == "film_screening":
                days = _film_days()
            else:
                count = _EVENT_COUNTS[kind]
                count = count if c.code == YUDE_CODE else int(c.rng.poisson(count))
                days = np.sort(c.rng.choice(pools[pool], count))
            m = len(days)
            if venue is not None:  # held at the community's venue
                where = venues.loc[venue if venue in venues.index else "legal_service_room"]
                xy = np.tile([where["lon"], where["lat"]], (m, 1))
                grid = np.repeat(index.locate(np.array([ci]), xy[:1, 0], xy[:1, 1]), m)
            else:  # out in one of the grids
                grid = c.rng.choice(index.rows[ci], m)
                xy = np.empty((m, 2))
                for r in np.unique(grid):
                    xy[grid == r] = _uniform_points(index.geoms[r], int((grid == r).sum()), c.rng)
            frames.append(
                pd.DataFrame(
                    {
                        "day": days,
                        "community": c.code,
                        "kind": kind,
                        "grid": grid,
                        "lon": xy[:, 0],
                        "lat": xy[:, 1],
                        "attendees": c.rng.integers(lo, hi + 1, m),
                        "description": _texts(c.rng, [template], topics, m),
                    }
                )
            )
    events = pd.concat(frames, ignore_index=True)
    events = events.sort_values(["day", "community", "kind"], kind="stable", ignore_index=True)
    return pd.DataFrame(
        {
            "id": _ids("E", len(events), 6),
            "kind": events["kind"],
            "held_on": _dates(events["day"].to_numpy()),
            "grid_code": grids["code"].to_numpy()[events["grid"].to_numpy()],
            "lon": events["lon"],
            "lat": events["lat"],
            "attendees": events["attendees"],
            "description": events["description"],
        }
    )


# --- public --------------------------------------------------------------------------------


def _check_args(scale: object, needs: object, seed: object) -> None:
    if scale not in SCALES:
        raise ValueError(f"scale={scale!r}: expected one of {', '.join(SCALES)}")
    if needs is not None and (
        isinstance(needs, bool)
        or not isinstance(needs, int | np.integer)
        or not 0 <= needs <= MAX_NEEDS
    ):
        raise ValueError(f"needs={needs!r}: expected None or an integer from 0 to {MAX_NEEDS:,}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed={seed!r}: expected a non-negative integer")


def build_demo(*, scale: str = "community", needs: int | None = None, seed: int = 0) -> DemoData:
    """Build the demo data set for Yude community or all of Huanshi street.

    Parameters
    ----------
    scale : {"community", "street"}
        ``"community"``: Yude's 11 grids and its staff, needs and services (areas still hold
        the district and the street). ``"street"``: all 18 communities with 8–12 grids each
        (Yude keeps 11).
    needs : int, optional
        Number of legal needs, 0 to 1,000,000. Default 1,200 per community built.
    seed : int
        Seed of every random draw; the same arguments give identical frames.

    Returns
    -------
    DemoData
        Frames in WGS84; see the module docstring for conventions.

    Raises
    ------
    ValueError
        If ``scale``, ``needs`` or ``seed`` is not one of the accepted values.
    """
    _check_args(scale, needs, seed)
    rng = np.random.default_rng(seed)
    communities = _communities(scale, int(seed))
    layout = _layout()
    areas = _build_areas(layout, communities)
    grids = _build_grids(layout, communities)
    staff = _build_staff(communities, grids, rng)
    n = NEEDS_PER_COMMUNITY * len(communities) if needs is None else int(needs)
    points = _build_service_points(communities, areas)
    return DemoData(
        areas=areas,
        grids=grids,
        workers=staff.workers,
        assignments=staff.assignments,
        needs=_build_needs(rng, n, communities, grids, areas, staff),
        service_events=_build_service_events(communities, grids, points),
        service_points=points,
    )
