"""The figures of the reports a street office files (issue 12), assembled from the measures.

Modules
-------
period
    A report month and the months it is compared with (环比, 同比).
monthly
    The monthly report (月报): :func:`~grid_model.reports.monthly.monthly_report`.
mediation
    The people's-mediation statistics form (人民调解案件统计表):
    :func:`~grid_model.reports.mediation.mediation_form`.
agreement
    The case file fields of a mediation agreement (调解协议书):
    :func:`~grid_model.reports.agreement.agreement_case`.

Every figure is computed by the services of :mod:`grid_model.measures`,
:mod:`grid_model.analysis` and :mod:`grid_model.gaps`; nothing here counts needs itself
except through :mod:`grid_model.measures.definitions`. Rendering (XLSX, PDF, DOCX, images)
lives in the top-level package ``reporting``.
"""
