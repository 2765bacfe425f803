"""The Rebalance page's maps: territories (grids coloured by assistant) before and after a plan."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import folium
import geopandas as gpd
import pandas as pd
from branca.utilities import color_brewer

from dashboard.i18n import text
from dashboard.maps.base import (
    BASEMAPS,
    Legend,
    _check_choice,
    _fill_layer,
    _fit,
    _shapes,
    base_map,
    data_crs,
)

NOBODY_COLOR = "#ffffff"

# --- territories --------------------------------------------------------------------------


def territory_colors(assistants: Iterable[str | None]) -> dict[str, str]:
    """A distinct colour per assistant code (sorted, so before and after maps agree)."""
    codes = sorted({a for a in assistants if a is not None and not pd.isna(a)})
    palette = list(color_brewer("Set3", n=12)) + list(color_brewer("Paired", n=12))
    palette += list(color_brewer("Pastel1", n=9)) + list(color_brewer("Set2", n=8))
    return {a: palette[i % len(palette)] for i, a in enumerate(codes)}


def build_territory_map(
    grids: gpd.GeoDataFrame,
    assignment: Mapping[str, str | None],
    *,
    colors: Mapping[str, str] | None = None,
    moved: Iterable[str] = (),
    basemap: str = "none",
    tianditu_key: str | None = None,
    lang: str = "zh",
    simplify_m: float = 5.0,
) -> folium.Map:
    """Grids coloured by their assistant (``assignment``: grid code → assistant code or None);
    ``moved`` grids get a thick outline. The legend lists the assistants with grid counts."""
    _check_choice("basemap", basemap, BASEMAPS)
    crs = data_crs(basemap)
    colors = dict(colors or territory_colors(assignment.values()))
    moved = {str(c) for c in moved}
    m = base_map(basemap, tianditu_key=tianditu_key, lang=lang)
    nobody = text("rb_nobody", lang)
    codes = grids["code"].astype(str)
    who = [assignment.get(c) for c in codes]
    frame = pd.DataFrame(
        {
            "code": codes.to_numpy(),
            "name": grids["name"].to_numpy(),
            "assistant": [a if a is not None else nobody for a in who],
            "fill": [colors.get(a, NOBODY_COLOR) if a is not None else NOBODY_COLOR for a in who],
            "moved": [c in moved for c in codes],
        }
    )
    shapes = _shapes(
        frame,
        grids.geometry.array,
        simplify_m=simplify_m,
        crs=crs,
        props=["code", "name", "assistant", "fill", "moved"],
    )
    _fill_layer(
        shapes,
        name=text("rb_legend", lang),
        fields=["code", "name", "assistant"],
        aliases=[text(k, lang) for k in ("grid_code", "grid_name", "rb_legend")],
        opacity=0.8,
        weight_of=lambda p: bool(p.get("moved")),
    ).add_to(m)
    counts = pd.Series([a for a in who if a is not None], dtype=object).value_counts()
    items = [(colors[a], f"{a} ({int(counts.get(a, 0))})") for a in sorted(colors) if a in counts]
    if any(a is None for a in who):
        items.append((NOBODY_COLOR, nobody))
    if moved:
        items.append(("#000000", text("rb_moved_legend", lang)))
    m.add_child(Legend(text("rb_legend", lang), items))
    _fit(m, shapes)
    return m
