"""Coordinate systems: WGS84, the Chinese GCJ-02 / BD-09 offsets, EPSG codes, metric CRS.

GridLaw stores EPSG:4326 (WGS84; CGCS2000 is treated as equal at this scale). Input may come in
GCJ-02 (Amap/Gaode, Tencent), BD-09 (Baidu) or any EPSG system; :func:`to_wgs84` converts it on
the way in and :func:`from_wgs84` on the way out (e.g. to overlay data on an Amap base map).

All conversions are vectorised numpy: they take scalars or array-likes and return a pair of
floats for scalars, or a pair of float64 arrays otherwise. NaN passes through as NaN.

Notes
-----
GCJ-02 is defined only by its forward formula (WGS84 → GCJ-02, on the Krasovsky ellipsoid);
the inverses here refine a first guess with fixed-point iterations on the forward formula, which
brings the round-trip error far below a millimetre (the one-step approximation in many snippets
is off by up to ~2 m). The offset applies inside a rough bounding box of China only; outside it
GCJ-02 equals WGS84. BD-09 is applied on top of GCJ-02 everywhere, as Baidu does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as _PyprojCRSError

from geodata.errors import CRSError

__all__ = [
    "CHINA_BBOX",
    "PROBLEMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "coerce_coordinate",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "geometry_from_wgs84",
    "geometry_to_wgs84",
    "metric_crs",
    "normalize_crs",
    "check_coordinates",
    "swapped_mask",
    "to_wgs84",
    "validate_lonlat",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 formula.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0

#: Rough bounding box (min lon, min lat, max lon, max lat) inside which GCJ-02 applies.
CHINA_BBOX = (72.004, 0.8293, 137.8347, 55.8271)

# Fixed-point iterations: the offset's Jacobian is ~1e-3, so each step gains ~3 digits;
# 1e-11 degrees is about a micrometre.
_TOL_DEG = 1e-11
_MAX_ITER = 20

WGS84, GCJ02, BD09 = "wgs84", "gcj02", "bd09"
_ALIASES = {
    "wgs84": WGS84,
    "epsg:4326": WGS84,
    "4326": WGS84,
    "gcj02": GCJ02,
    "bd09": BD09,
    "bd09ll": BD09,
}
_ACCEPTED = "wgs84, gcj02, bd09 (also WGS84, EPSG:4326, 4326, GCJ-02, BD-09) or 'EPSG:<code>'"

Pair = tuple[float, float] | tuple[np.ndarray, np.ndarray]


# --- array plumbing -----------------------------------------------------------------------


def _arrays(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray, bool]:
    x = np.asarray(lon, dtype="float64")
    y = np.asarray(lat, dtype="float64")
    if x.shape != y.shape:
        x, y = np.broadcast_arrays(x, y)
    return x, y, x.ndim == 0


def _result(x: np.ndarray, y: np.ndarray, scalar: bool) -> Pair:
    if scalar:
        return float(x), float(y)
    return x, y


def _in_china(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    min_x, min_y, max_x, max_y = CHINA_BBOX
    return (x >= min_x) & (x <= max_x) & (y >= min_y) & (y <= max_y)


def _invert(
    forward: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    x: np.ndarray,
    y: np.ndarray,
    x0: np.ndarray,
    y0: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(u, v) == (x, y)`` by fixed-point iteration from ``(x0, y0)``."""
    u, v = x0, y0
    for _ in range(_MAX_ITER):
        fx, fy = forward(u, v)
        dx, dy = fx - x, fy - y
        u, v = u - dx, v - dy
        # NaN compares False, so missing points do not keep the loop going.
        if not (np.any(np.abs(dx) > _TOL_DEG) or np.any(np.abs(dy) > _TOL_DEG)):
            break
    return u, v


# --- GCJ-02 -------------------------------------------------------------------------------


def _delta_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    pi = math.pi
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    return ret


def _delta_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    pi = math.pi
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    return ret


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlat = _delta_lat(lon - 105.0, lat - 35.0)
    dlon = _delta_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(rad) * math.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def _gcj_to_wgs(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return _invert(_wgs_to_gcj, lon, lat, lon, lat)


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Pair:
    """Shift WGS84 longitude/latitude to GCJ-02 (identity outside China).

    Parameters
    ----------
    lon, lat : float or array-like
        WGS84 degrees.

    Returns
    -------
    tuple
        ``(lon, lat)`` in GCJ-02: floats for scalar input, float64 arrays otherwise.

    Examples
    --------
    The reference pair of the widely used coordtransform implementations:

    >>> wgs84_to_gcj02(116.404, 39.915)
    (116.41024449916938, 39.91640428150164)
    """
    x, y, scalar = _arrays(lon, lat)
    return _result(*_wgs_to_gcj(x, y), scalar)


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Pair:
    """Shift GCJ-02 longitude/latitude back to WGS84 (iterative inverse, error < 1 mm)."""
    x, y, scalar = _arrays(lon, lat)
    return _result(*_gcj_to_wgs(x, y), scalar)


# --- BD-09 --------------------------------------------------------------------------------


def _gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # The usual closed-form inverse is only approximate; it is the starting guess.
    x, y = lon - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return _invert(_gcj_to_bd, lon, lat, z * np.cos(theta), z * np.sin(theta))


def gcj02_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Pair:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu)."""
    x, y, scalar = _arrays(lon, lat)
    return _result(*_gcj_to_bd(x, y), scalar)


def bd09_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Pair:
    """Convert BD-09 (Baidu) longitude/latitude to GCJ-02 (iterative inverse)."""
    x, y, scalar = _arrays(lon, lat)
    return _result(*_bd_to_gcj(x, y), scalar)


def wgs84_to_bd09(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Pair:
    """Convert WGS84 longitude/latitude to BD-09 (via GCJ-02)."""
    x, y, scalar = _arrays(lon, lat)
    return _result(*_gcj_to_bd(*_wgs_to_gcj(x, y)), scalar)


def bd09_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> Pair:
    """Convert BD-09 (Baidu) longitude/latitude to WGS84 (via GCJ-02)."""
    x, y, scalar = _arrays(lon, lat)
    return _result(*_gcj_to_wgs(*_bd_to_gcj(x, y)), scalar)


# --- named systems and EPSG codes ---------------------------------------------------------


def normalize_crs(crs: str | int) -> str:
    """Return ``"wgs84"``, ``"gcj02"``, ``"bd09"`` or ``"EPSG:<code>"`` for a CRS name.

    Parameters
    ----------
    crs : str or int
        ``wgs84``/``gcj02``/``bd09`` in any case, with or without ``-``/``_``
        (``WGS84``, ``GCJ-02``, ``BD-09``), ``EPSG:4326``/``4326``, or any ``EPSG:<code>``
        (also a bare integer code).

    Raises
    ------
    CRSError
        If the name is not one of these or the EPSG code is unknown to PROJ.
    """
    if isinstance(crs, bool) or not isinstance(crs, str | int):
        raise CRSError(f"coordinate system {crs!r} not understood; expected {_ACCEPTED}")
    key = str(crs).strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    if key in _ALIASES:
        return _ALIASES[key]
    code = key.removeprefix("epsg:")
    if not code.isdigit():
        raise CRSError(f"coordinate system {crs!r} not understood; expected {_ACCEPTED}")
    if code == "4326":
        return WGS84
    name = f"EPSG:{int(code)}"
    _check_epsg(name, crs)
    return name


@lru_cache(maxsize=64)
def _epsg_crs(name: str) -> CRS:
    return CRS.from_user_input(name)


def _check_epsg(name: str, original: object) -> None:
    try:
        _epsg_crs(name)
    except _PyprojCRSError as exc:
        raise CRSError(
            f"coordinate system {original!r}: {name} is not a known EPSG code; expected {_ACCEPTED}"
        ) from exc


@lru_cache(maxsize=64)
def _transformer(source: str, target: str) -> Transformer:
    # pyproj >= 3.1 Transformers are thread-safe, so one cached instance serves all threads.
    return Transformer.from_crs(source, target, always_xy=True)


def _epsg_to_wgs(name: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _transformer(name, "EPSG:4326").transform(x, y)
    return np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")


def _wgs_to_epsg(name: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ex, ey = _transformer("EPSG:4326", name).transform(x, y)
    return np.asarray(ex, dtype="float64"), np.asarray(ey, dtype="float64")


def _converter(crs: str | int, *, inbound: bool) -> Callable[[np.ndarray, np.ndarray], tuple]:
    name = normalize_crs(crs)
    if name == WGS84:
        return lambda x, y: (x.copy(), y.copy())
    if name == GCJ02:
        return _gcj_to_wgs if inbound else _wgs_to_gcj
    if name == BD09:
        if inbound:
            return lambda x, y: _gcj_to_wgs(*_bd_to_gcj(x, y))
        return lambda x, y: _gcj_to_bd(*_wgs_to_gcj(x, y))
    if inbound:
        return lambda x, y: _epsg_to_wgs(name, x, y)
    return lambda x, y: _wgs_to_epsg(name, x, y)


def to_wgs84(x: npt.ArrayLike, y: npt.ArrayLike, crs: str | int) -> Pair:
    """Convert coordinates in ``crs`` to WGS84 longitude/latitude.

    Parameters
    ----------
    x, y : float or array-like
        Longitude/latitude for geographic systems (always x first), easting/northing for
        projected EPSG systems.
    crs : str or int
        See :func:`normalize_crs`.

    Returns
    -------
    tuple
        ``(lon, lat)`` in WGS84.

    Raises
    ------
    CRSError
        If ``crs`` is not understood.
    """
    convert = _converter(crs, inbound=True)
    ax, ay, scalar = _arrays(x, y)
    return _result(*convert(ax, ay), scalar)


def from_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike, crs: str | int) -> Pair:
    """Convert WGS84 longitude/latitude to ``crs`` (inverse of :func:`to_wgs84`).

    Used, for example, to shift data onto an Amap (GCJ-02) base map.
    """
    convert = _converter(crs, inbound=False)
    ax, ay, scalar = _arrays(lon, lat)
    return _result(*convert(ax, ay), scalar)


# --- geometries ---------------------------------------------------------------------------


def _transform_geometries(geoms, crs: str | int, *, inbound: bool):
    convert = _converter(crs, inbound=inbound)

    def _coords(xy: np.ndarray) -> np.ndarray:
        x, y = convert(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    if isinstance(geoms, gpd.GeoSeries):
        values = shapely.transform(geoms.array, _coords)
        return gpd.GeoSeries(values, index=geoms.index, name=geoms.name)
    return shapely.transform(np.asarray(geoms, dtype=object), _coords)


def _output_crs(crs: str | int) -> str | None:
    name = normalize_crs(crs)
    if name == WGS84:
        return "EPSG:4326"
    if name in (GCJ02, BD09):
        return None  # offset systems have no EPSG code; callers must remember what they hold
    return name


def geometry_to_wgs84(geoms, crs: str | int | None = None):
    """Convert shapely geometries (array-like or GeoSeries) in ``crs`` to WGS84.

    Parameters
    ----------
    geoms : GeoSeries or array-like of shapely geometries
    crs : str or int, optional
        The system the coordinates are in (see :func:`normalize_crs`). For a GeoSeries it
        defaults to the series' own CRS, which must then have an EPSG code.

    Returns
    -------
    GeoSeries or numpy.ndarray
        A GeoSeries (same index and name, CRS EPSG:4326) for GeoSeries input, else an object
        array of geometries. Z coordinates are dropped.
    """
    crs = _geoseries_crs(geoms) if crs is None else crs
    out = _transform_geometries(geoms, crs, inbound=True)
    if hasattr(out, "set_crs"):
        out = out.set_crs("EPSG:4326", allow_override=True)
    return out


def geometry_from_wgs84(geoms, crs: str | int):
    """Convert WGS84 shapely geometries to ``crs``; inverse of :func:`geometry_to_wgs84`.

    A GeoSeries result carries the target EPSG CRS, or no CRS for GCJ-02/BD-09, which have no
    EPSG code.
    """
    out = _transform_geometries(geoms, crs, inbound=False)
    target = _output_crs(crs)
    if hasattr(out, "set_crs") and target is not None:
        out = out.set_crs(target, allow_override=True)
    return out


def _geoseries_crs(geoms) -> str:
    series_crs = getattr(geoms, "crs", None)
    epsg = series_crs.to_epsg() if series_crs is not None else None
    if epsg is None:
        raise CRSError(
            f"geometries carry no EPSG coordinate system ({series_crs!r}); pass crs= "
            f"one of {_ACCEPTED}"
        )
    return f"EPSG:{epsg}"


# --- validation ---------------------------------------------------------------------------

#: Problem codes returned by :func:`validate_lonlat`, in the order they are checked.
PROBLEMS = ("missing", "not_a_number", "swapped", "out_of_range")


def swapped_mask(lon: npt.ArrayLike, lat: npt.ArrayLike) -> np.ndarray:
    """True where a longitude/latitude pair looks swapped.

    A pair looks swapped when it lies outside China's bounding box (:data:`CHINA_BBOX`) but
    the pair read the other way round lies inside it.
    """
    x, y, _ = _arrays(lon, lat)
    return np.atleast_1d(~_in_china(x, y) & _in_china(y, x))


def coerce_coordinate(values: npt.ArrayLike) -> np.ndarray:
    """Parse coordinate values (numbers or text as typed) to float64; NaN where impossible.

    Text is stripped; empty strings, None and non-finite values become NaN.
    """
    series = pd.Series(np.atleast_1d(np.asarray(values, dtype=object)), dtype=object)
    text = series.map(lambda v: v.strip() if isinstance(v, str) else v)
    numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isfinite(numbers), numbers, np.nan)


def _is_missing(values: npt.ArrayLike) -> np.ndarray:
    series = pd.Series(np.atleast_1d(np.asarray(values, dtype=object)), dtype=object)
    blank = series.map(lambda v: isinstance(v, str) and not v.strip())
    return (series.isna() | blank).to_numpy(dtype=bool)


def validate_lonlat(lon: npt.ArrayLike, lat: npt.ArrayLike) -> np.ndarray:
    """Check longitude/latitude pairs row by row (vectorised).

    Parameters
    ----------
    lon, lat : array-like
        Numbers or text exactly as read from a file (see :func:`geodata.io.read_table`).

    Returns
    -------
    numpy.ndarray
        Object array, one entry per row: ``None`` when the pair is usable, else the first
        problem found, in this order:

        - ``"missing"``: either value is empty/None/NaN;
        - ``"not_a_number"``: either value is not a finite number;
        - ``"swapped"``: see :func:`swapped_mask`;
        - ``"out_of_range"``: longitude outside [-180, 180] or latitude outside [-90, 90].

        Use :func:`coerce_coordinate` to get the numbers themselves.
    """
    missing = _is_missing(lon) | _is_missing(lat)
    x, y = coerce_coordinate(lon), coerce_coordinate(lat)
    if x.shape != y.shape:
        raise ValueError(f"lon and lat differ in length: {x.shape[0]} and {y.shape[0]}")
    not_number = ~missing & (np.isnan(x) | np.isnan(y))
    swapped = ~missing & ~not_number & swapped_mask(x, y)
    out_of_range = (np.abs(x) > 180.0) | (np.abs(y) > 90.0)
    codes = np.select(
        [missing, not_number, swapped, out_of_range],
        np.array(PROBLEMS, dtype=object),
        default=None,
    )
    return codes.astype(object)


# --- coordinates read from vector files -------------------------------------------------

# Beyond this no coordinate system on Earth has coordinates (metres, Gauss-Krueger false
# eastings included): such a value is a typo or an attack (1e308), not a projection.
_COORD_LIMIT = 1e8


def check_coordinates(x: npt.ArrayLike, y: npt.ArrayLike, *, lonlat: bool = True) -> None:
    """Raise unless every coordinate pair is finite and, with ``lonlat``, a longitude/latitude.

    Meant for coordinates read from a file, checked before any conversion or spatial library
    sees them: a GeoJSON is WGS84 by definition, yet often holds UTM or Gauss-Krueger metres.

    Parameters
    ----------
    x, y : array-like
        Coordinates (longitude/latitude, or metres of a projection).
    lonlat : bool, default True
        Whether they are meant to be degrees (WGS84, GCJ-02, BD-09).

    Raises
    ------
    CRSError
        ``key="coords_not_finite"`` for NaN, infinite or absurd (beyond ±1e8) values, else
        ``key="coords_projected"`` for values outside [-180, 180] × [-90, 90] when ``lonlat``;
        ``params`` hold ``position`` (index of the first bad pair) and its ``x`` and ``y``.
    """
    x, y, _ = _arrays(x, y)
    absurd = ~(np.isfinite(x) & np.isfinite(y)) | (np.abs(x) > _COORD_LIMIT)
    absurd |= np.abs(y) > _COORD_LIMIT
    if absurd.any():
        i = int(np.argmax(absurd))
        raise CRSError(
            f"coordinates are not usable numbers (x={x[i]:g}, y={y[i]:g}): infinite, NaN or "
            f"beyond ±{_COORD_LIMIT:g}",
            key="coords_not_finite",
            position=i,
            x=f"{x[i]:g}",
            y=f"{y[i]:g}",
        )
    outside = (np.abs(x) > 180.0) | (np.abs(y) > 90.0)
    if lonlat and outside.any():
        i = int(np.argmax(outside))
        raise CRSError(
            f"coordinates look projected (e.g. x={x[i]:.0f}, y={y[i]:.0f}): pass --crs EPSG:n "
            "with the system they are in, e.g. EPSG:4547 (CGCS2000 Gauss-Krueger, CM 114E) "
            "or EPSG:32649 (UTM 49N)",
            key="coords_projected",
            position=i,
            x=f"{x[i]:.0f}",
            y=f"{y[i]:.0f}",
        )


# --- metric systems -----------------------------------------------------------------------


def metric_crs(lon: npt.ArrayLike, lat: npt.ArrayLike) -> str:
    """The WGS84 UTM zone (``EPSG:326xx`` north, ``EPSG:327xx`` south) for the points' centre.

    Parameters
    ----------
    lon, lat : float or array-like
        WGS84 degrees; NaN is ignored.

    Returns
    -------
    str
        For example ``"EPSG:32649"`` for Jiangmen (113.08 E, 22.6 N).

    Notes
    -----
    The centre is the mean of the coordinates, which is fine for a district or a city, not for
    data straddling the antimeridian; the Norway/Svalbard zone exceptions are not applied.
    """
    x, y, _ = _arrays(lon, lat)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        raise ValueError("metric_crs needs at least one finite longitude/latitude pair")
    cx, cy = float(x[ok].mean()), float(y[ok].mean())
    if not (-180.0 <= cx <= 180.0 and -90.0 <= cy <= 90.0):
        raise ValueError(
            f"centre ({cx}, {cy}) is not a WGS84 longitude/latitude; convert with to_wgs84 first"
        )
    zone = min(int((cx + 180.0) // 6.0) + 1, 60)
    return f"EPSG:{32600 + zone if cy >= 0 else 32700 + zone}"
