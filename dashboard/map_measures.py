"""The measures the Map page can colour the grids by: one table, read by the page (the
choice), the grid map (format and classification) and :mod:`dashboard.i18n` (the names).

Plain data, no Streamlit, no folium.

>>> [m.key for m in MAP_MEASURES][:3]
['per_1000', 'needs', 'open']
>>> MEASURE_BY_KEY["on_time_rate"].rate, MEASURE_BY_KEY["on_time_rate"].higher_is_better
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MapMeasure:
    """A column of ``indicators.grid_measures`` (or of the grids) the map can colour by.

    Attributes
    ----------
    key : str
        The column; its text key is ``measure.<key>``.
    zh, en : str
        Its name in Chinese and English.
    rate : bool
        A share in [0, 1], shown as a percentage (else a number).
    higher_is_better : bool
        Classified with the palette reversed, so red is always worse.
    """

    key: str
    zh: str
    en: str
    rate: bool = False
    higher_is_better: bool = False

    @property
    def label_key(self) -> str:
        return f"measure.{self.key}"


MAP_MEASURES: tuple[MapMeasure, ...] = (
    MapMeasure("per_1000", "每千人需求数", "Needs per 1,000 residents"),
    MapMeasure("needs", "法律需求数", "Legal needs"),
    MapMeasure("open", "未办结案件", "Open cases"),
    MapMeasure("overdue", "超期未结", "Overdue cases"),
    MapMeasure("closed", "已办结案件", "Closed cases"),
    MapMeasure("on_time_rate", "按期结案率", "On-time closure rate", True, True),
    MapMeasure("closure_rate", "结案率", "Closure rate", True, True),
    MapMeasure("services", "法律服务次数", "Services given", higher_is_better=True),
    MapMeasure("population", "人口", "Population"),
)
MEASURE_BY_KEY = {m.key: m for m in MAP_MEASURES}
#: The keys, in the order the Map page offers them.
MEASURES = tuple(MEASURE_BY_KEY)
HIGHER_IS_BETTER = frozenset(m.key for m in MAP_MEASURES if m.higher_is_better)
RATE_MEASURES = frozenset(m.key for m in MAP_MEASURES if m.rate)


def measure_labels() -> dict[str, dict[str, str]]:
    """The ``measure.<key>`` texts of :data:`dashboard.i18n.LABELS`."""
    return {m.label_key: {"zh": m.zh, "en": m.en} for m in MAP_MEASURES}
