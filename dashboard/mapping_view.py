"""The Data page's import mapping: a preview of the file's first rows, which column is which,
the codes of the file's own values and how its dates read — saved as the TOML file
``gridlaw import-… --mapping`` reads (:mod:`grid_model.imports.mapping`)."""

from __future__ import annotations

import hashlib

import pandas as pd
import streamlit as st

from dashboard import views
from dashboard.i18n import current_lang, tr
from geodata.errors import GeodataError
from grid_model import config
from grid_model.errors import GridLawError
from grid_model.imports import mapping as imapping
from grid_model.needs.validate import VALUE_MAP_FIELDS

PREVIEW_ROWS = 5
#: Distinct values offered for a value map (the rest are named as errors at import).
MAX_VALUES = 60


def _saved(kind: str, key: str) -> tuple[imapping.ImportMapping, bool]:
    """The mapping loaded (an empty one without a file) and whether it is new this run (the
    widgets then take its values)."""
    saved = st.file_uploader(tr("mapping_saved"), type=["toml"], key=f"{key}_toml")
    data = saved.getvalue() if saved is not None else b""
    digest = hashlib.sha256(data + current_lang().encode()).hexdigest()
    fresh = st.session_state.get(f"{key}_loaded") != digest
    st.session_state[f"{key}_loaded"] = digest
    if saved is None:
        return imapping.ImportMapping(), fresh
    return imapping.parse_mapping(data, current_lang(), where=saved.name), fresh


def _preset(widget: str, value, fresh: bool) -> None:
    """A newly loaded mapping's value into a widget's state (widgets keep theirs otherwise)."""
    if fresh:
        st.session_state[widget] = value


def _columns(kind: str, headers: list[str], base, key: str, fresh: bool) -> dict[str, str]:
    """A select box per field: the header that holds it (none chosen: the usual headers)."""
    chosen: dict[str, str] = {}
    boxes = st.columns(3)
    # The choice "none picked" is a label of the widget's language (keys are per language).
    auto = tr("mapping_auto")
    options = [auto, *(h for h in headers if h != auto)]
    for i, name in enumerate(imapping.TABLES[kind]):
        default = base.columns.get(name)
        _preset(f"{key}_col_{name}", default if default in options else auto, fresh)
        choice = boxes[i % 3].selectbox(name, options, key=f"{key}_col_{name}")
        if choice and choice != auto:
            chosen[name] = choice
    return chosen


def _usual_header(table: pd.DataFrame, name: str) -> str | None:
    """The header the needs import reads field ``name`` from when none is picked."""
    aliases = {a.strip().lower() for a in imapping.TABLES["needs"][name]}
    return next((c for c in table.columns if str(c).strip().lower() in aliases), None)


def _value_maps(table: pd.DataFrame, columns: dict[str, str], base, key: str, token: str) -> dict:
    """For each mapped vocabulary field, the code of each value the file holds."""
    maps: dict[str, dict[str, str]] = {}
    for name in VALUE_MAP_FIELDS:
        header = columns.get(name) or _usual_header(table, name)
        if header is None or header not in table:
            continue
        values = sorted({str(v).strip() for v in table[header].dropna() if str(v).strip()})
        known = base.value_maps.get(name, {})
        editor = pd.DataFrame(
            {"value": values[:MAX_VALUES], "code": [known.get(v) for v in values[:MAX_VALUES]]}
        )
        st.markdown(f"**{tr('mapping_values', field=name)}**")
        edited = st.data_editor(
            editor,
            column_config={
                "value": st.column_config.TextColumn(tr("mapping_value"), disabled=True),
                "code": st.column_config.SelectboxColumn(
                    tr("mapping_code"), options=imapping.codes_of(name)
                ),
            },
            hide_index=True,
            # a new mapping or new values: a new editor (an editor keeps its edits)
            key=f"{key}_values_{name}_{token}_{len(values)}",
        )
        pairs = {v: c for v, c in zip(edited["value"], edited["code"], strict=True) if c}
        if pairs:
            maps[name] = pairs
    return maps


def _dates(base, key: str, fresh: bool) -> dict:
    c1, c2, c3 = st.columns(3)
    _preset(f"{key}_fmt", base.date_format or "", fresh)
    _preset(f"{key}_tz", base.timezone or config.timezone().key, fresh)
    _preset(f"{key}_dayfirst", base.dayfirst, fresh)
    fmt = c1.text_input(
        tr("mapping_date_format"), key=f"{key}_fmt", help=tr("mapping_date_format_help")
    )
    zone = c2.text_input(tr("mapping_timezone"), key=f"{key}_tz")
    dayfirst = c3.checkbox(tr("mapping_dayfirst"), key=f"{key}_dayfirst")
    return {"date_format": fmt.strip() or None, "timezone": zone.strip() or None,
            "dayfirst": dayfirst}  # fmt: skip


def mapping_form(kind: str, upload, key: str) -> imapping.ImportMapping | None:
    """The mapping of ``upload`` as chosen on the page (None when no file or it cannot be
    read: the error is shown)."""
    if upload is None:
        return None
    lang = current_lang()
    with st.expander(tr("mapping_title"), expanded=False):
        try:
            base, fresh = _saved(kind, key)
            # Widgets of one language each: a choice's shown label is kept by Streamlit
            # when the language changes, so a switch starts them anew from the mapping.
            key = f"{key}_{lang}"
            upload.seek(0)
            table = imapping.preview(upload, upload.name, kind, lang)
        except (GridLawError, GeodataError) as exc:
            views.show_error(exc)
            return None
        finally:
            upload.seek(0)
        st.caption(tr("mapping_preview", n=min(PREVIEW_ROWS, len(table))))
        st.dataframe(table.head(PREVIEW_ROWS), hide_index=True, key=f"{key}_preview")
        headers = [str(c) for c in table.columns]
        columns = _columns(kind, headers, base, key, fresh)
        extra: dict = {}
        if kind == "needs":
            token = st.session_state[f"{key.rsplit('_', 1)[0]}_loaded"][:8]
            maps = _value_maps(table, columns, base, key, token)
            extra = {"value_maps": maps, **_dates(base, key, fresh)}
        try:
            mapping = imapping.check_fields(
                imapping.ImportMapping(columns=columns, **extra), kind, lang
            )
            mapping.reading(lang)
        except GridLawError as exc:
            views.show_error(exc)
            return None
        st.download_button(
            tr("mapping_save"),
            imapping.mapping_toml(mapping),
            file_name=f"{kind}_mapping.toml",
            key=f"{key}_save",
        )
    return mapping
