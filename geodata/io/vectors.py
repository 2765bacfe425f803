"""Reading vector files: GeoJSON, Shapefile (also zipped), GeoPackage and KML, always returned
in EPSG:4326 (converted with :mod:`geodata.crs`); coordinates and attributes are checked."""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyogrio.errors
import shapely

from geodata import crs as gcrs
from geodata.errors import FileReadError
from geodata.io import limits
from geodata.io.sources import _PYOGRIO_ERRORS, Source, _extension, _local_path, _source_name
from geodata.io.tables import _text_length

# Style and timing fields LIBKML adds to every layer; not attributes anyone typed.
_KML_STYLE_FIELDS = ("altitudeMode", "tessellate", "extrude", "visibility", "drawOrder", "icon")
_KML_TIME_FIELDS = ("timestamp", "begin", "end")


def read_vector(
    source: Source,
    *,
    filename: str | os.PathLike[str] | None = None,
    crs: str | int | None = None,
    layer: str | int | None = None,
) -> gpd.GeoDataFrame:
    """Read GeoJSON, Shapefile (also zipped), GeoPackage or KML into EPSG:4326.

    Parameters
    ----------
    source : path, bytes or binary file-like
        The file, or its content (an upload). A Shapefile upload must be a ``.zip`` holding the
        ``.shp`` with its ``.shx``/``.dbf``/``.prj``.
    filename : str, optional
        Name whose extension gives the format when ``source`` is not a path.
    crs : str or int, optional
        The system the coordinates are really in (``wgs84``, ``gcj02``, ``bd09``,
        ``EPSG:<code>``): declares it when the file has none and overrides what the file says
        (GCJ-02 data is usually labelled WGS84). Default: the file's own CRS, or WGS84 when it
        declares none and its coordinates are longitude/latitude.
    layer : str or int, optional
        GeoPackage layer, or the ``.shp`` inside a zip (name with or without ``.shp``);
        default the first. For KML, one folder; default all, concatenated.

    Returns
    -------
    geopandas.GeoDataFrame
        CRS EPSG:4326, 2-D geometries. KML adds a ``kml_layer`` column (the folder name).

    Raises
    ------
    UnsupportedFormatError
        For an unsupported extension.
    FileReadError
        If the file cannot be opened or parsed, or its coordinates are projected and it
        declares no CRS.
    CRSError
        If ``crs`` is not understood.
    """
    name = _source_name(source, filename)
    reader = _VECTOR_READERS[_extension(name, _VECTOR_READERS, "vector")]
    system = None if crs is None else gcrs.normalize_crs(crs)
    with _local_path(source, name) as path:
        try:
            frame = reader(path, layer)
        except _PYOGRIO_ERRORS as exc:
            raise FileReadError(f"cannot read {name!r}: {exc}") from exc
    return _in_wgs84(frame, system, name)


def _read_ogr(path: Path | str, layer: str | int | None) -> gpd.GeoDataFrame:
    return gpd.read_file(path, layer=layer, engine="pyogrio")


def _read_geopackage(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    layers = pyogrio.list_layers(path)
    if len(layers) == 0:
        raise FileReadError(f"cannot read {path.name!r}: the GeoPackage holds no layers")
    if layer is None:
        layer = str(layers[0][0])
    elif isinstance(layer, str) and layer not in layers[:, 0]:
        raise FileReadError(
            f"cannot read {path.name!r}: no layer {layer!r}; layers: {', '.join(layers[:, 0])}"
        )
    return _read_ogr(path, layer)


def _read_shapefile(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    if not any(path.with_suffix(s).exists() for s in (".shx", ".SHX")):
        raise FileReadError(
            f"cannot read {path.name!r}: a shapefile needs its .shx and .dbf files beside it; "
            "upload all of them together as a .zip"
        )
    return _read_ogr(path, None)


def _read_zipped_shapefile(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.namelist() if m.lower().endswith(".shp")]
    except zipfile.BadZipFile as exc:
        raise FileReadError(f"cannot read {path.name!r}: not a zip archive") from exc
    if not members:
        raise FileReadError(f"cannot read {path.name!r}: the zip archive holds no .shp file")
    member = _pick_member(members, layer, path.name)
    # A string, not a Path: Path would fold the "//" of "/vsizip//tmp/...".
    return _read_ogr(f"/vsizip/{path.resolve()}/{member}", None)


def _pick_member(members: list[str], layer: str | int | None, name: str) -> str:
    if layer is None:
        return sorted(members)[0]
    if isinstance(layer, int):
        return sorted(members)[layer]
    wanted = layer.removesuffix(".shp").lower()
    for member in members:
        if Path(member).stem.lower() == wanted or member.lower() == layer.lower():
            return member
    raise FileReadError(f"cannot read {name!r}: no {layer!r} in it; it holds {', '.join(members)}")


def _read_kml(path: Path, layer: str | int | None) -> gpd.GeoDataFrame:
    # pyogrio's wheels bundle GDAL with both the LIBKML and the KML driver, so there is no
    # hand-written KML parser here; LIBKML (preferred by GDAL) reads ExtendedData as fields.
    if not {"LIBKML", "KML"} & set(pyogrio.list_drivers()):
        raise FileReadError(f"cannot read {path.name!r}: this GDAL has no KML driver")
    names = [layer] if layer is not None else [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    frames = [_read_ogr(path, n).assign(kml_layer=str(n)) for n in names]
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    drop = [c for c in _KML_STYLE_FIELDS if c in frame.columns]
    drop += [c for c in _KML_TIME_FIELDS if c in frame.columns and frame[c].isna().all()]
    return gpd.GeoDataFrame(frame.drop(columns=drop), geometry="geometry", crs="EPSG:4326")


_VECTOR_READERS: dict[str, Callable[[Path, str | int | None], gpd.GeoDataFrame]] = {
    ".geojson": _read_ogr,
    ".json": _read_ogr,
    ".shp": _read_shapefile,
    ".zip": _read_zipped_shapefile,
    ".gpkg": _read_geopackage,
    ".kml": _read_kml,
}


def _in_wgs84(frame: gpd.GeoDataFrame, system: str | None, name: str) -> gpd.GeoDataFrame:
    """Declare or override the CRS, then convert to EPSG:4326 with 2-D geometries.

    Coordinates are checked before any conversion: finite, and longitude/latitude wherever the
    system is geographic (GeoJSON and KML are WGS84 by definition, whatever they hold).
    """
    _check_attributes(frame, name)
    frame = frame.set_geometry(frame.geometry.force_2d())
    if system is None:
        lonlat = frame.crs is None or frame.crs.is_geographic
    else:
        lonlat = system in (gcrs.WGS84, gcrs.GCJ02, gcrs.BD09)
    _check_coordinates(frame, name, lonlat=lonlat)
    if system in (gcrs.GCJ02, gcrs.BD09):
        return frame.set_geometry(gcrs.geometry_to_wgs84(frame.geometry, system))
    if system is not None:
        frame = frame.set_crs("EPSG:4326" if system == gcrs.WGS84 else system, allow_override=True)
    elif frame.crs is None:
        frame = frame.set_crs("EPSG:4326")
    converted = frame.to_crs("EPSG:4326")
    if not lonlat:  # a projection given for coordinates that are not in it gives inf
        _check_coordinates(converted, name, lonlat=True)
    return converted


def _check_coordinates(frame: gpd.GeoDataFrame, name: str, *, lonlat: bool) -> None:
    coords, index = shapely.get_coordinates(np.asarray(frame.geometry.array), return_index=True)
    try:
        gcrs.check_coordinates(coords[:, 0], coords[:, 1], lonlat=lonlat)
    except gcrs.CRSError as exc:
        feature = int(index[exc.params["position"]]) + 1
        raise FileReadError(
            f"cannot read {name!r}: feature {feature}: {exc}",
            key=exc.key,
            name=Path(name).name,
            feature=feature,
            x=exc.params["x"],
            y=exc.params["y"],
        ) from exc


def _check_attributes(frame: gpd.GeoDataFrame, name: str) -> None:
    """The table limits (:data:`MAX_COLUMNS`, :data:`MAX_CELL_CHARS`) for a layer's fields."""
    columns = [c for c in frame.columns if c != frame.geometry.name]
    if len(columns) > limits.MAX_COLUMNS:
        raise FileReadError(
            f"cannot read {name!r}: it has {len(columns)} fields, more than the "
            f"{limits.MAX_COLUMNS} allowed",
            key="file_too_many_fields",
            name=Path(name).name,
            n=len(columns),
            limit=limits.MAX_COLUMNS,
        )
    for column in columns:
        values = frame[column]
        if not (values.dtype == object or isinstance(values.dtype, pd.StringDtype)):
            continue
        lengths = values.map(_text_length).to_numpy()
        if lengths.size and lengths.max() > limits.MAX_CELL_CHARS:
            feature = int(np.argmax(lengths))
            raise FileReadError(
                f"cannot read {name!r}: feature {feature + 1}, field {str(column)[:40]!r} holds "
                f"{lengths.max()} characters, more than the {limits.MAX_CELL_CHARS} allowed",
                key="file_field_too_long",
                name=Path(name).name,
                feature=feature + 1,
                column=str(column)[:40],
                n=int(lengths.max()),
                limit=limits.MAX_CELL_CHARS,
            )
