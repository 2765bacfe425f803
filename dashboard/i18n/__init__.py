"""Dashboard texts in Simplified Chinese (default) and English.

Every label, message, legend and chart title of the pages and maps is in :data:`LABELS`
(keys are ASCII), gathered from:

- :mod:`dashboard.i18n.labels`: the texts of the overview … data pages;
- :mod:`dashboard.i18n.analysis`: the texts of the hot spot, rebalance and access pages;
- :mod:`dashboard.map_measures`: the names of the measures the Map page colours by;
- :mod:`dashboard.i18n.translate`: :func:`text`, :func:`label` (pure, what the map builders
  use) and :func:`tr`, :func:`tl`, :func:`texts`, :func:`labels`, :func:`language_switch`
  (the current Streamlit session's language). Domain messages of ``grid_model.messages``
  (importer errors, CLI) are reachable through the same functions.
"""

from dashboard.i18n.translate import (
    LABELS,
    LANG_KEY,
    LANG_NAMES,
    LANGS,
    current_lang,
    default_lang,
    label,
    labels,
    language_switch,
    text,
    texts,
    tl,
    tr,
)

__all__ = [
    "LABELS",
    "LANG_KEY",
    "LANG_NAMES",
    "LANGS",
    "current_lang",
    "default_lang",
    "label",
    "labels",
    "language_switch",
    "text",
    "texts",
    "tl",
    "tr",
]
