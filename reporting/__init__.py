"""Rendering of the reports whose figures :mod:`grid_model.reports` assembles.

- :mod:`reporting.sections`: the monthly report as sections of tables, one layout for both files;
- :mod:`reporting.xlsx`: XLSX workbooks (openpyxl), formulas neutralised;
- :mod:`reporting.pdf`: PDF from HTML/CSS (WeasyPrint), CJK fonts embedded, A4, page numbers;
- :mod:`reporting.docx`: the mediation agreement from the DOCX template (docxtpl);
- :mod:`reporting.charts`: the choropleth and the trend chart (matplotlib, PNG);
- :mod:`reporting.files`: one call per report and output format (what the CLI and the page use).

The arrow points down as everywhere: ``reporting`` uses ``grid_model`` (and the plain texts
of ``dashboard.i18n``), never the other way round.
"""
