"""Data (数据): import grids, needs and workers through the same importers as the CLI (all or
nothing, unless invalid rows are skipped; a table of row errors), and download every export."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import account_views, mapping_view, state, views
from dashboard.i18n import current_lang, texts, tr
from geodata.errors import GeodataError
from geodata.io import frame_to_bytes
from grid_model import imports
from grid_model.errors import GridLawError, ImportValidationError
from grid_model.imports.exporting import KINDS

GRID_TYPES = ["geojson", "json", "zip", "gpkg", "kml", "shp"]
TABLE_TYPES = ["csv", "xlsx"]
SPATIAL_KINDS = {"grids", "needs", "gaps"}

state.page_header("data_title")
filters = state.sidebar(statuses=False, role_default="admin")
lang = current_lang()


def _error_table(exc: ImportValidationError) -> None:
    views.show_error(exc)
    rows = pd.DataFrame([e.as_dict() for e in exc.errors])
    st.dataframe(
        rows.rename(columns={c: tr(f"col.{c}") if c != "id" else tr("external_id") for c in rows}),
        hide_index=True,
        key="import_errors",
    )


def _run_import(kind: str, fn, upload, **kwargs) -> None:
    def work(s):
        upload.seek(0)  # read anew when the database was busy and the import runs again
        return fn(s, upload, filename=upload.name, lang=lang, viewer=filters.viewer, **kwargs)

    try:
        report = state.run_write(work)
    except ImportValidationError as exc:
        _error_table(exc)
    except GridLawError as exc:
        views.show_error(exc)
    else:
        st.success(report.summary(lang))
        if report.invalid:
            st.markdown(f"**{tr('row_errors')}**")
            st.dataframe(
                pd.DataFrame([e.as_dict() for e in report.invalid]),
                hide_index=True,
                key=f"skipped_{kind}",
            )


may_import = filters.viewer.may("import")
if not may_import:
    views.not_allowed(filters.viewer, "import")

grids_tab, needs_tab, workers_tab, export_tab, accounts_tab = st.tabs(
    [tr("import_grids"), tr("import_needs"), tr("import_workers"), tr("export"), tr("accounts")]
)

with grids_tab:
    upload = st.file_uploader(tr("upload"), type=GRID_TYPES, key="upload_grids")
    crs = st.selectbox(
        tr("coord_system"),
        ("auto", "wgs84", "gcj02", "bd09"),
        format_func=texts("crs."),
        key="grids_crs",
    )
    mapping = mapping_view.mapping_form("grids", upload, "grids_map")
    skip = st.checkbox(tr("skip_invalid"), key="grids_skip_invalid", help=tr("all_or_nothing"))
    if st.button(
        tr("do_import"), key="import_grids_btn", disabled=upload is None or not may_import
    ):
        _run_import(
            "grids",
            imports.import_grids,
            upload,
            crs=None if crs == "auto" else crs,
            skip_invalid=skip,
            mapping=mapping,
        )

with needs_tab:
    upload = st.file_uploader(tr("upload"), type=TABLE_TYPES, key="upload_needs")
    crs = st.selectbox(
        tr("coord_system"), ("wgs84", "gcj02", "bd09"), format_func=texts("crs."), key="needs_crs"
    )
    mapping = mapping_view.mapping_form("needs", upload, "needs_map")
    skip = st.checkbox(tr("skip_invalid"), key="needs_skip_invalid", help=tr("all_or_nothing"))
    if st.button(
        tr("do_import"), key="import_needs_btn", disabled=upload is None or not may_import
    ):
        _run_import(
            "needs", imports.import_needs, upload, crs=crs, skip_invalid=skip, mapping=mapping
        )

with workers_tab:
    upload = st.file_uploader(tr("upload"), type=TABLE_TYPES, key="upload_workers")
    mapping = mapping_view.mapping_form("workers", upload, "workers_map")
    skip = st.checkbox(tr("skip_invalid"), key="workers_skip_invalid", help=tr("all_or_nothing"))
    if st.button(
        tr("do_import"), key="import_workers_btn", disabled=upload is None or not may_import
    ):
        _run_import(
            "workers",
            imports.import_workers,
            upload,
            skip_invalid=skip,
            today=filters.today,
            mapping=mapping,
        )

with export_tab:
    st.caption(tr("export_personal_note"))
    e1, e2 = st.columns(2)
    kind = e1.selectbox(tr("export_kind"), KINDS, format_func=texts("export."), key="export_kind")
    formats = ("geojson", "gpkg", "csv", "xlsx") if kind in SPATIAL_KINDS else ("csv", "xlsx")
    fmt = e2.selectbox(tr("export_format"), formats, key="export_format")
    if st.button(tr("prepare_export"), key="export_prepare"):
        try:
            frame = state.export_frame(kind, filters.scope, filters.viewer, day=filters.today)
            data = frame_to_bytes(frame, fmt, layer=kind)
        except GridLawError as exc:
            views.show_error(exc)
        except GeodataError as exc:
            views.show_error(exc)
        else:
            name = f"gridlaw_{kind}.{fmt}"
            st.caption(tr("export_rows", n=len(frame)))
            st.download_button(
                tr("download", name=name), data, file_name=name, key="export_download"
            )

with accounts_tab:
    if not filters.viewer.may("manage_accounts"):
        views.not_allowed(filters.viewer, "manage_accounts")
    else:
        account_views.accounts_panel(filters.viewer)
