"""The demo's fixed facts: the period, the codes, and the bundled reference data.

The district outline, the Huanshi community points and the 15 dispute categories are read
once from ``geodata/data`` (GCJ-02 converted to WGS84 with :mod:`geodata.crs`).

Example
-------
>>> ref = _reference()
>>> len(ref.codes), YUDE_CODE in ref.codes, len(ref.dispute_types)
(18, True, 15)
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import shapely

from geodata.crs import gcj02_to_wgs84, geometry_to_wgs84
from geodata.demo.vocab import _DISPUTES

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

# Metres per degree at Jiangmen (22.6° N), for spreads and offsets drawn in degrees.
_LAT0 = math.radians(22.6)
_M_PER_DEG_LAT = 111_132.92 - 559.82 * math.cos(2 * _LAT0) + 1.175 * math.cos(4 * _LAT0)
_M_PER_DEG_LON = 111_412.84 * math.cos(_LAT0) - 93.5 * math.cos(3 * _LAT0)


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
