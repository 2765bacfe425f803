"""Static images of a report: the choropleth of needs per grid and the monthly trend (PNG).

Drawn with matplotlib's Agg backend (no display, no tiles): Chinese labels in Noto Sans CJK
(Debian ``fonts-noto-cjk``), a legend, a scale bar and a north arrow on the map. Grid names
are drawn as text, never interpreted (matplotlib's mathtext is turned off for them).
"""

from __future__ import annotations

import io
import math
from functools import cache
from pathlib import Path

import geopandas as gpd
import matplotlib
import pandas as pd

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from dashboard.i18n.translate import label  # noqa: E402
from reporting.labels import rt  # noqa: E402

#: Where Debian's fonts-noto-cjk puts Noto Sans CJK (the .ttc holds SC, TC, JP, KR, HK).
CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
)
CJK_FAMILY = "Noto Sans CJK SC"
DPI = 150
_COLOURS = ("#fff5eb", "#fdd0a2", "#fd8d3c", "#d94801", "#7f2704")


@cache
def cjk_font() -> str:
    """Register Noto Sans CJK with matplotlib (once) and return its family name; raise
    FileNotFoundError naming the package when it is not installed."""
    found = [p for p in CJK_FONT_FILES if Path(p).exists()]
    if not found:
        raise FileNotFoundError(
            f"Noto Sans CJK not found at {CJK_FONT_FILES[0]}: apt-get install fonts-noto-cjk"
        )
    for path in found:
        font_manager.fontManager.addfont(path)
    return CJK_FAMILY


def _style() -> dict:
    return {
        "font.family": [cjk_font()],
        "axes.unicode_minus": False,
        "text.parse_math": False,  # a grid named "$x$" is text, not a formula
    }


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _classes(values: pd.Series, k: int = len(_COLOURS)) -> list[float]:
    """Class breaks (quantiles, whole numbers, at least 0..1) for ``values``."""
    top = float(values.max()) if len(values) else 0.0
    qs = sorted({math.ceil(float(values.quantile(q))) for q in (0.2, 0.4, 0.6, 0.8)})
    breaks = [0.0] + [float(b) for b in qs if 0 < b < top] + [max(top, 1.0)]
    return breaks[: k + 1]


def _scale_bar(ax, lat: float) -> None:
    """A scale bar in the lower left: a round length near a fifth of the map's width."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    m_per_deg = 111_320 * math.cos(math.radians(lat))
    width_m = (x1 - x0) * m_per_deg / 5
    length = max(10 ** math.floor(math.log10(width_m)), 1)
    for step in (5, 2):
        if length * step <= width_m:
            length *= step
            break
    deg = length / m_per_deg
    x, y = x0 + (x1 - x0) * 0.05, y0 + (y1 - y0) * 0.05
    ax.plot([x, x + deg], [y, y], color="black", linewidth=3, solid_capstyle="butt")
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x + deg / 2, y + (y1 - y0) * 0.015, text, ha="center", va="bottom", fontsize=8)


def _north_arrow(ax) -> None:
    ax.annotate(
        "N",
        xy=(0.95, 0.95),
        xytext=(0.95, 0.84),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=11,
        fontweight="bold",
        arrowprops={"facecolor": "black", "width": 4, "headwidth": 11},
    )


def _unit_labels(ax, gdf: gpd.GeoDataFrame, by_community: bool) -> None:
    """Names at a point inside each community (street maps) or grid (community maps)."""
    if by_community:
        parts = gdf.dissolve(by="community_code", aggfunc={"community": "first"})
        names, geoms = parts["community"], parts.geometry
    else:
        names, geoms = gdf["name"], gdf.geometry
    size = 7 if len(names) <= 30 else 5
    for name, geom in zip(names, geoms, strict=True):
        if geom is None or geom.is_empty:
            continue
        p = geom.representative_point()
        ax.text(p.x, p.y, str(name)[:16], ha="center", va="center", fontsize=size, color="#222222")


def choropleth_png(
    grid_map: gpd.GeoDataFrame, *, title: str, by_community: bool, lang: str = "zh"
) -> bytes:
    """Needs per grid as a choropleth (PNG): classes with a legend, scale bar, north arrow."""
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(7.0, 6.0))
        ax.set_title(title, fontsize=12)
        ax.set_axis_off()
        if grid_map.empty:
            ax.text(0.5, 0.5, rt("no_data", lang), ha="center", transform=ax.transAxes)
            return _png(fig)
        breaks = _classes(grid_map["needs"])
        cmap = ListedColormap(_COLOURS[: len(breaks) - 1])
        norm = BoundaryNorm(breaks, cmap.N, extend="neither", clip=True)
        grid_map.plot(
            column="needs", cmap=cmap, norm=norm, edgecolor="#666666", linewidth=0.3, ax=ax
        )
        _unit_labels(ax, grid_map, by_community)
        ax.set_aspect(1 / math.cos(math.radians(grid_map.geometry.union_all().centroid.y)))
        _scale_bar(ax, grid_map.geometry.union_all().centroid.y)
        _north_arrow(ax)
        handles = [
            Patch(facecolor=cmap(i), edgecolor="#666666", label=_range(breaks, i))
            for i in range(len(breaks) - 1)
        ]
        ax.legend(
            handles=handles,
            title=rt("legend_needs", lang),
            loc="lower right",
            fontsize=8,
            title_fontsize=8,
            frameon=True,
        )
        return _png(fig)


def _range(breaks: list[float], i: int) -> str:
    """The needs a class holds: ``0–2``, then ``3–5`` (one number when it is one)."""
    lo = int(breaks[i]) if i == 0 else int(breaks[i]) + 1
    hi = int(breaks[i + 1])
    return f"{lo}" if lo >= hi else f"{lo}–{hi}"


def trend_png(trend: pd.DataFrame, *, title: str, lang: str = "zh") -> bytes:
    """Needs per month and category as lines (PNG)."""
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(7.5, 3.6))
        ax.set_title(title, fontsize=12)
        if trend.empty:
            ax.text(0.5, 0.5, rt("no_data", lang), ha="center", transform=ax.transAxes)
            ax.set_axis_off()
            return _png(fig)
        table = trend.pivot_table(
            index="month", columns="category", values="count", aggfunc="sum", fill_value=0
        )
        for category in table.columns:
            ax.plot(
                table.index,
                table[category],
                marker="o",
                markersize=3,
                label=label("category", category, lang),
            )
        ax.set_xlabel(rt("month", lang))
        ax.set_ylabel(rt("needs", lang))
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, ncols=3, loc="upper left")
        return _png(fig)
