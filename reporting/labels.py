"""Texts of the reports (zh/en). Labels of categories, classes and indicators the dashboard
already has come from :mod:`dashboard.i18n.translate` (plain data, no Streamlit)."""

from __future__ import annotations

from dashboard.i18n.translate import text

REPORT_TEXTS: dict[str, dict[str, str]] = {
    "monthly_title": {
        "zh": "{area}法律服务月报({month})",
        "en": "Legal services monthly report, {area}, {month}",
    },
    "cover": {"zh": "封面", "en": "Cover"},
    "area": {"zh": "区域", "en": "Area"},
    "month": {"zh": "月份", "en": "Month"},
    "generated_at": {"zh": "生成时间", "en": "Generated at"},
    "data_as_of": {"zh": "数据截至", "en": "Data as of"},
    "role": {"zh": "查看角色", "en": "Role"},
    "headline": {"zh": "主要指标", "en": "Headline indicators"},
    "indicator": {"zh": "指标", "en": "Indicator"},
    "this_month": {"zh": "本月", "en": "This month"},
    "previous_month": {"zh": "上月", "en": "Previous month"},
    "last_year": {"zh": "去年同月", "en": "Same month last year"},
    "mom": {"zh": "环比", "en": "vs previous month"},
    "yoy": {"zh": "同比", "en": "vs last year"},
    "pp": {"zh": "个百分点", "en": " pp"},
    "units_community": {"zh": "分社区指标与排名", "en": "Indicators and ranks per community"},
    "units_grid": {"zh": "分网格指标与排名", "en": "Indicators and ranks per grid"},
    "unit": {"zh": "单位", "en": "Unit"},
    "code": {"zh": "编码", "en": "Code"},
    "name": {"zh": "名称", "en": "Name"},
    "rank": {"zh": "排名", "en": "rank"},
    "by_category": {"zh": "按类别统计需求", "en": "Needs by category"},
    "by_dispute_type": {"zh": "按纠纷类型统计", "en": "By dispute type"},
    "category": {"zh": "类别", "en": "Category"},
    "dispute_type": {"zh": "纠纷类型", "en": "Dispute type"},
    "needs": {"zh": "需求数", "en": "Needs"},
    "open": {"zh": "未办结", "en": "Open"},
    "closed": {"zh": "已办结", "en": "Closed"},
    "mediated": {"zh": "调解成功", "en": "Mediated"},
    "failed": {"zh": "调解不成", "en": "Failed"},
    "overdue": {"zh": "超期未结案件", "en": "Overdue cases"},
    "overdue_supervised": {"zh": "超期与督办案件", "en": "Overdue and supervised cases"},
    "overdue_count": {
        "zh": "截至 {as_of} 超期未结 {n} 件(含此前各月登记的),督办中 {supervised} 件;"
        "列出前 {shown} 件",
        "en": "On {as_of}: {n} overdue cases (reported in any month before), {supervised} "
        "under supervision; {shown} listed",
    },
    "supervised_due": {"zh": "督办期限", "en": "Supervised until"},
    "need_id": {"zh": "编号", "en": "Id"},
    "external_id": {"zh": "案件号", "en": "Case number"},
    "grid_code": {"zh": "网格", "en": "Grid"},
    "reported_at": {"zh": "登记日期", "en": "Reported"},
    "status": {"zh": "状态", "en": "Status"},
    "due_date": {"zh": "应结日期", "en": "Due"},
    "worker_code": {"zh": "承办人", "en": "Handler"},
    "resident_name": {"zh": "当事人", "en": "Resident"},
    "resident_phone": {"zh": "联系电话", "en": "Phone"},
    "hotspots": {"zh": "热点与缺口", "en": "Hot spots and gaps"},
    "new_hotspots": {"zh": "新增热点:{names}", "en": "New hot spots: {names}"},
    "hotspots_now": {"zh": "本月热点:{names}", "en": "Hot spots this month: {names}"},
    "emerging_words": {"zh": "新兴热点:{names}", "en": "Emerging hot spots: {names}"},
    "none": {"zh": "无", "en": "none"},
    "class": {"zh": "类别", "en": "Class"},
    "count": {"zh": "数量", "en": "Count"},
    "gaps": {"zh": "覆盖缺口", "en": "Coverage gaps"},
    "gap": {"zh": "缺口", "en": "Gap"},
    "workload": {"zh": "网格助理员工作量", "en": "Workload per grid assistant"},
    "assistant": {"zh": "网格助理员", "en": "Assistant"},
    "grids": {"zh": "网格数", "en": "Grids"},
    "new": {"zh": "新增", "en": "New"},
    "on_time_rate": {"zh": "按期结案率", "en": "On-time rate"},
    "workload_value": {"zh": "工作量", "en": "Workload"},
    "publicity": {
        "zh": "法治宣传(计划每月 {plan} 次)",
        "en": "Legal publicity (plan: {plan} a month)",
    },
    "held": {"zh": "已开展", "en": "Held"},
    "planned": {"zh": "计划", "en": "Planned"},
    "met": {"zh": "完成", "en": "Met"},
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "map": {"zh": "地图与趋势", "en": "Map and trend"},
    "map_title": {"zh": "{month} 各网格需求数", "en": "Needs per grid, {month}"},
    "trend": {"zh": "趋势", "en": "Trend"},
    "trend_title": {"zh": "近 12 个月需求趋势", "en": "Needs over the last 12 months"},
    "legend_needs": {"zh": "需求数", "en": "Needs"},
    "no_data": {"zh": "无数据", "en": "No data"},
    "notes": {"zh": "说明", "en": "Notes"},
    "page": {"zh": "第 {page} 页 / 共 {pages} 页", "en": "Page {page} of {pages}"},
    # the closed-loop indicators (grid_model.cases.indicators, gridlaw indicators --json)
    "loop": {"zh": "办理闭环指标", "en": "Closed-loop indicators"},
    "loop.dispatched": {"zh": "已派发", "en": "Dispatched"},
    "loop.accepted": {"zh": "已签收", "en": "Accepted"},
    "loop.acceptance_rate": {"zh": "签收率", "en": "Acceptance rate"},
    "loop.timely_acceptance_rate": {"zh": "及时签收率", "en": "Timely acceptance rate"},
    "loop.median_hours_to_accept": {"zh": "签收用时中位数(小时)", "en": "Median hours to accept"},
    "loop.on_hold": {"zh": "挂起", "en": "On hold"},
    "loop.rework_rate": {"zh": "返工率", "en": "Rework rate"},
    "loop.visit_rate": {"zh": "回访率", "en": "Visit rate"},
    "loop.satisfaction_rate": {"zh": "满意率", "en": "Satisfaction rate"},
    "loop.agreement_performance_rate": {"zh": "调解协议履行率", "en": "Agreement performance rate"},
    "loop.supervised": {"zh": "督办中", "en": "Under supervision"},
    # the mediation form
    "mediation_title": {"zh": "人民调解案件统计表", "en": "People's mediation statistics"},
    "period": {"zh": "统计时段", "en": "Period"},
    "unit_filled": {"zh": "填报单位", "en": "Reporting unit"},
    "accepted": {"zh": "受理纠纷数", "en": "Disputes accepted"},
    "in_progress": {"zh": "正在调解", "en": "In progress"},
    "other_closed": {"zh": "其他方式结案", "en": "Closed otherwise"},
    "agreements": {"zh": "调解协议", "en": "Agreements"},
    "written": {"zh": "书面协议", "en": "Written"},
    "oral": {"zh": "口头协议", "en": "Oral"},
    "performed": {"zh": "协议履行", "en": "Performed"},
    "confirmed": {"zh": "司法确认", "en": "Judicial confirmations"},
    "case_file_missing": {
        "zh": "注:书面/口头协议、协议履行和司法确认取自调解卷宗;本库尚无卷宗记录,以“—”表示。",
        "en": "Note: written/oral agreements, performance and judicial confirmations come from "
        "the mediation case file; the database holds none yet, shown as —.",
    },
    "filled_by": {"zh": "填表人:", "en": "Filled in by:"},
    "reviewed_by": {"zh": "审核人:", "en": "Reviewed by:"},
    "filled_on": {"zh": "填报日期:", "en": "Date:"},
}


def rt(key: str, lang: str = "zh", /, **kw) -> str:
    """A report text, else a dashboard text, in ``lang``, formatted with ``kw``."""
    entry = REPORT_TEXTS.get(key)
    if entry is None:
        return text(key, lang, **kw)
    value = entry.get(lang) or entry["zh"]
    return value.format(**kw) if kw else value


#: The dashboard's KPI texts for the headline indicators.
INDICATOR_TEXT = {
    "needs": "kpi_needs",
    "closed": "closed",
    "closure_rate": "kpi_closure_rate",
    "on_time_rate": "kpi_on_time_rate",
    "overdue_open": "kpi_overdue",
    "disputes_mediated": "kpi_mediated",
    "mediation_success_rate": "kpi_mediation_success",
    "mean_days_to_close": "kpi_days_mean",
    "median_days_to_close": "kpi_days_median",
    "services": "kpi_services",
    "diary_compliance": "kpi_diary",
}


def indicator_label(name: str, lang: str = "zh") -> str:
    return rt(INDICATOR_TEXT[name], lang)
