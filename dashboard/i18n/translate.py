"""Looking texts up: :func:`text` and :func:`label` are pure (the map builders use them);
:func:`tr`, :func:`tl`, :func:`texts`, :func:`labels` read the language of the current
Streamlit session (``st.session_state["lang"]``, set by :func:`language_switch`)."""

from __future__ import annotations

from collections.abc import Callable

from dashboard.i18n.analysis import ANALYSIS_LABELS
from dashboard.i18n.labels import BASE_LABELS
from dashboard.map_measures import measure_labels
from grid_model import config
from grid_model.messages import MESSAGES
from grid_model.needs.validate import dispute_type_names

LANGS = ("zh", "en")
LANG_NAMES = {"zh": "中文", "en": "English"}
LANG_KEY = "lang"
#: The language chosen, kept beside the widget's own state: Streamlit drops a widget's state
#: set before the widget first showed when the visitor moves to another page, and the
#: dashboard fell back to Chinese there (an English visitor saw Chinese on the second page).
LANG_CHOSEN = "lang_chosen"

#: Every dashboard text: the pages', the map measures' and the analysis pages'.
#: The 15 dispute types: the Chinese name is the stored code, the English one comes with the list.
DISPUTE_LABELS = {
    f"dispute_type.{zh}": {"zh": zh, "en": en} for zh, en in dispute_type_names().items()
}
LABELS: dict[str, dict[str, str]] = {
    **BASE_LABELS,
    **measure_labels(),
    **ANALYSIS_LABELS,
    **DISPUTE_LABELS,
}
_ALL = {**MESSAGES, **LABELS}


def text(key: str, lang: str = "zh", /, **kw) -> str:
    """The text ``key`` in ``lang`` (``'zh'`` or ``'en'``), formatted with ``kw``.

    Raises ``KeyError`` naming the key when it is in neither catalogue, so a missing text
    shows up in the page tests instead of as a blank label.
    """
    try:
        entry = _ALL[key]
    except KeyError:
        raise KeyError(f"no dashboard text {key!r}; add it to dashboard/i18n/") from None
    value = entry.get(lang) or entry["zh"]
    return value.format(**kw) if kw else value


def label(kind: str, value: object, lang: str = "zh") -> str:
    """A translated label of an enum value (``label('category', 'mediation')``); values not in
    the catalogue (e.g. from an imported file) are shown as they are."""
    if value is None:
        return ""
    entry = _ALL.get(f"{kind}.{value}")
    if entry is None:
        return str(value)
    return entry.get(lang) or entry["zh"]


def default_lang() -> str:
    """``GRIDLAW_LANG`` when it is ``zh`` or ``en``, else Chinese. Unlike the CLI, the
    dashboard ignores the server's locale: its users are not at the server."""
    return config.lang_setting() or "zh"


def current_lang() -> str:
    """The language of this Streamlit session (default: :func:`default_lang`)."""
    import streamlit as st  # here, not above: the map builders use text() without Streamlit

    for key in (LANG_KEY, LANG_CHOSEN):
        lang = st.session_state.get(key)
        if lang in LANGS:
            return lang
    return default_lang()


def tr(key: str, **kw) -> str:
    """:func:`text` in the current session's language."""
    return text(key, current_lang(), **kw)


def tl(kind: str, value: object) -> str:
    """:func:`label` in the current session's language."""
    return label(kind, value, current_lang())


def texts(prefix: str = "") -> Callable[[object], str]:
    """``v -> tr(prefix + v)`` bound to the current language: a widget's ``format_func``
    (Streamlit may call it after the script run, where the session is not at hand)."""
    lang = current_lang()
    return lambda v: text(f"{prefix}{v}", lang)


def labels(kind: str, *, none: str = "—") -> Callable[[object], str]:
    """``v -> tl(kind, v)`` bound to the current language, for ``format_func``; ``None``
    (an empty choice) reads as ``none``."""
    lang = current_lang()
    return lambda v: none if v is None else label(kind, v, lang)


def language_switch() -> str:
    """The sidebar language switch (widget key ``lang``); returns the chosen language."""
    import streamlit as st  # see current_lang

    chosen = current_lang()
    if st.session_state.get(LANG_KEY) not in LANGS:
        st.session_state.pop(LANG_KEY, None)  # a new widget: its index says the language
    # One label in both languages: a label that changed with the choice would be a new widget.
    lang = st.sidebar.radio(
        "语言 / Language",
        LANGS,
        index=LANGS.index(chosen),
        format_func=LANG_NAMES.__getitem__,
        key=LANG_KEY,
        horizontal=True,
        persist_state="session",
    )
    st.session_state[LANG_CHOSEN] = lang
    return lang
