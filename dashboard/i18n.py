"""Dashboard texts in Simplified Chinese (default) and English.

Every label, message, legend and chart title of the pages and maps lives in :data:`LABELS`
(keys are ASCII). :func:`text` is pure and is what the map builders use; :func:`tr` reads the
language of the current Streamlit session (``st.session_state["lang"]``, set by the sidebar
switch :func:`language_switch`). Domain messages of ``grid_model.messages`` (importer errors,
CLI) are reachable through the same functions.
"""

from __future__ import annotations

from collections.abc import Callable

from grid_model import config
from grid_model.messages import MESSAGES

LANGS = ("zh", "en")
LANG_NAMES = {"zh": "中文", "en": "English"}
LANG_KEY = "lang"

LABELS: dict[str, dict[str, str]] = {
    # app and navigation
    "app_title": {"zh": "网格法治地图", "en": "GridLaw"},
    "app_subtitle": {
        "zh": "网格化社区法律服务：需求、服务、案件与覆盖",
        "en": "Grid-based community legal services: needs, services, cases and coverage",
    },
    "page_overview": {"zh": "总览", "en": "Overview"},
    "page_map": {"zh": "地图", "en": "Map"},
    "page_workload": {"zh": "工作量", "en": "Workload"},
    "page_gaps": {"zh": "覆盖缺口", "en": "Coverage gaps"},
    "page_cases": {"zh": "案件", "en": "Cases"},
    "page_data": {"zh": "数据", "en": "Data"},
    "home_intro": {
        "zh": "从左侧选择页面。侧栏的区域、时段和筛选条件在各页面之间共享。",
        "en": "Pick a page on the left. The area, period and filters of the sidebar are shared "
        "by every page.",
    },
    "home_pages": {
        "zh": "**总览** 关键指标与趋势 · **地图** 网格专题图、热力图与网格卡片 · "
        "**工作量** 网格助理员工作量 · **覆盖缺口** 空间、人员、走访与服务缺口 · "
        "**案件** 查询、办理与网格日记 · **数据** 导入与导出",
        "en": "**Overview** key figures and trend · **Map** grid choropleth, heat map and grid "
        "card · **Workload** per grid assistant · **Coverage gaps** spatial, staffing, outreach "
        "and service gaps · **Cases** search, status and the grid diary · **Data** import and "
        "export",
    },
    "db_error": {
        "zh": "无法读取数据库（{url}）：{msg}",
        "en": "Cannot read the database ({url}): {msg}",
    },
    "db_empty": {
        "zh": "数据库中还没有网格。请先导入网格（数据页），或运行 `gridlaw seed-demo` 生成演示数据。",
        "en": "The database holds no grids yet. Import grids (Data page) or run "
        "`gridlaw seed-demo` for demo data.",
    },
    "service_missing": {
        "zh": "此功能所需的服务尚未安装：{name}",
        "en": "The service this needs is not installed yet: {name}",
    },
    "error": {"zh": "错误：{msg}", "en": "Error: {msg}"},
    "label_value": {"zh": "{label}：{value}", "en": "{label}: {value}"},
    "list_sep": {"zh": "、", "en": ", "},
    # sidebar filters
    "filters": {"zh": "筛选", "en": "Filters"},
    "street": {"zh": "街道", "en": "Street"},
    "community": {"zh": "社区", "en": "Community"},
    "grid": {"zh": "网格", "en": "Grid"},
    "all": {"zh": "全部", "en": "All"},
    "as_of": {"zh": "截至日期", "en": "As of"},
    "as_of_help": {
        "zh": "按此日期计算未结、超期和结案率（可查看过去某日的情况）",
        "en": "Open, overdue and closure figures are worked out as of this day (a past day "
        "reproduces that day's report)",
    },
    "period": {"zh": "时段", "en": "Period"},
    "period_30d": {"zh": "近 30 天", "en": "Last 30 days"},
    "period_quarter": {"zh": "本季度", "en": "This quarter"},
    "period_12m": {"zh": "近 12 个月", "en": "Last 12 months"},
    "period_year": {"zh": "今年", "en": "This year"},
    "period_all": {"zh": "全部时间", "en": "All time"},
    "period_custom": {"zh": "自定义", "en": "Custom"},
    "period_from": {"zh": "开始日期", "en": "From"},
    "period_to": {"zh": "结束日期", "en": "To"},
    "period_shown": {"zh": "{start} 至 {end}", "en": "{start} to {end}"},
    "period_open": {"zh": "不限", "en": "any"},
    "period_bad": {
        "zh": "开始日期 {start} 晚于结束日期 {end}，已对调",
        "en": "Start {start} is after end {end}; swapped them",
    },
    "category": {"zh": "类别", "en": "Category"},
    "status": {"zh": "状态", "en": "Status"},
    "outcome": {"zh": "结果", "en": "Outcome"},
    "source": {"zh": "来源", "en": "Source"},
    "quality": {"zh": "定位", "en": "Location"},
    "viewer_role": {"zh": "查看身份", "en": "Viewing as"},
    "demo_mode": {
        "zh": "演示模式：尚未设置账号，查看身份可自选。用 `gridlaw account add` 添加账号后需登录。",
        "en": "Demo mode: no accounts yet, so the viewer picks a role. Once an account exists "
        "(`gridlaw account add`), everyone signs in.",
    },
    "sign_in": {"zh": "登录", "en": "Sign in"},
    "accounts": {"zh": "账号", "en": "Accounts"},
    "accounts_none": {
        "zh": "尚无账号，仪表盘处于演示模式。添加第一个账号后，所有访问者都需登录。",
        "en": "No accounts yet: the dashboard is in demo mode. Once the first account is "
        "added, everyone signs in.",
    },
    "accounts_first": {
        "zh": "这是第一个账号：从现在起所有访问者都需登录（包括您）。",
        "en": "This is the first account: from now on everyone signs in (you too).",
    },
    "account_add": {"zh": "添加账号", "en": "Add an account"},
    "account_added": {"zh": "已添加账号 {username}", "en": "Account {username} added"},
    "account_area_help": {
        "zh": "只能查看此区域（街道、社区或网格编码）；留空则不限",
        "en": "Limited to this area (street, community or grid code); empty: no limit",
    },
    "account_disable": {"zh": "停用", "en": "Disable"},
    "account_enable": {"zh": "启用", "en": "Enable"},
    "password_again": {"zh": "再次输入密码", "en": "Password again"},
    "col.account_username": {"zh": "用户名", "en": "Username"},
    "col.account_name": {"zh": "姓名", "en": "Name"},
    "col.account_role": {"zh": "角色", "en": "Role"},
    "col.account_area_code": {"zh": "区域编码", "en": "Area code"},
    "col.account_active": {"zh": "启用", "en": "Active"},
    "sign_out": {"zh": "退出登录", "en": "Sign out"},
    "username": {"zh": "用户名", "en": "Username"},
    "password": {"zh": "密码", "en": "Password"},
    "signed_in_as": {"zh": "已登录：{name}（{role}）", "en": "Signed in: {name} ({role})"},
    "viewer_role_help": {
        "zh": "社区领导、街道、规划人员看不到居民姓名、电话和矫正对象",
        "en": "Leaders, street office and planners do not see residents' names, phones or "
        "people under community correction",
    },
    # enum values
    "category.publicity": {"zh": "法制宣传", "en": "Legal publicity"},
    "category.consultation": {"zh": "法律咨询", "en": "Consultation"},
    "category.legal_aid": {"zh": "法律援助", "en": "Legal aid"},
    "category.mediation": {"zh": "人民调解", "en": "Mediation"},
    "category.correction": {"zh": "矫正帮教", "en": "Correction & assistance"},
    "category.other": {"zh": "其他", "en": "Other"},
    "status.recorded": {"zh": "已登记", "en": "Recorded"},
    "status.dispatched": {"zh": "已派发", "en": "Dispatched"},
    "status.in_progress": {"zh": "办理中", "en": "In progress"},
    "status.closed": {"zh": "已办结", "en": "Closed"},
    "outcome.resolved": {"zh": "已解决", "en": "Resolved"},
    "outcome.mediated": {"zh": "调解成功", "en": "Mediated"},
    "outcome.mediation_failed": {"zh": "调解不成", "en": "Mediation failed"},
    "outcome.referred": {"zh": "已转介", "en": "Referred"},
    "outcome.rejected": {"zh": "不予受理", "en": "Rejected"},
    "source.diary": {"zh": "网格日记", "en": "Grid diary"},
    "source.phone": {"zh": "电话", "en": "Phone"},
    "source.online": {"zh": "网络（QQ/微信）", "en": "Online (QQ/WeChat)"},
    "source.walk_in": {"zh": "来访", "en": "Walk-in"},
    "quality.inside": {"zh": "网格内", "en": "Inside a grid"},
    "quality.snapped": {"zh": "就近归入", "en": "Snapped to nearest"},
    "quality.outside": {"zh": "网格外", "en": "Outside every grid"},
    "role.admin": {"zh": "系统管理员", "en": "Administrator"},
    "role.street_office": {"zh": "街道办事处", "en": "Street office"},
    "role.community_leader": {"zh": "社区领导", "en": "Community leader"},
    "role.planner": {"zh": "规划人员", "en": "Planner"},
    "role.grid_assistant": {"zh": "网格助理员", "en": "Grid assistant"},
    "role.mediator": {"zh": "人民调解员", "en": "Mediator"},
    "role.lawyer": {"zh": "律师", "en": "Lawyer"},
    "role.public": {"zh": "公众", "en": "Public"},
    "role.info_officer": {"zh": "信息员", "en": "Information officer"},
    "role.volunteer": {"zh": "法制宣传志愿者", "en": "Legal-publicity volunteer"},
    "kind.legal_service_room": {"zh": "法律服务室", "en": "Legal service room"},
    "kind.legal_aid_station": {"zh": "法律援助工作站", "en": "Legal-aid station"},
    "kind.legal_school": {"zh": "法治学校", "en": "Legal school"},
    "kind.library": {"zh": "图书室", "en": "Library"},
    # measures (map classes, tables)
    "measure": {"zh": "专题指标", "en": "Measure"},
    "measure.needs": {"zh": "法律需求数", "en": "Legal needs"},
    "measure.per_1000": {"zh": "每千人需求数", "en": "Needs per 1,000 residents"},
    "measure.open": {"zh": "未办结案件", "en": "Open cases"},
    "measure.overdue": {"zh": "超期未结", "en": "Overdue cases"},
    "measure.closed": {"zh": "已办结案件", "en": "Closed cases"},
    "measure.on_time_rate": {"zh": "按期结案率", "en": "On-time closure rate"},
    "measure.closure_rate": {"zh": "结案率", "en": "Closure rate"},
    "measure.services": {"zh": "法律服务次数", "en": "Services given"},
    "measure.population": {"zh": "人口", "en": "Population"},
    "measure.last_diary": {"zh": "最近日记", "en": "Last diary entry"},
    "grid_code": {"zh": "网格编码", "en": "Grid code"},
    "grid_name": {"zh": "网格名称", "en": "Grid name"},
    "community_code": {"zh": "社区编码", "en": "Community code"},
    # KPIs (overview)
    "overview_title": {"zh": "总览", "en": "Overview"},
    "kpi_needs": {"zh": "法律需求", "en": "Legal needs"},
    "kpi_services": {"zh": "法律服务", "en": "Services given"},
    "kpi_mediated": {"zh": "调解成功", "en": "Disputes mediated"},
    "kpi_closure_rate": {"zh": "结案率", "en": "Closure rate"},
    "kpi_on_time_rate": {"zh": "按期结案率", "en": "On-time closure rate"},
    "kpi_mediation_success": {"zh": "调解成功率", "en": "Mediation success rate"},
    "kpi_overdue": {"zh": "超期未结", "en": "Overdue cases"},
    "kpi_open": {"zh": "未办结", "en": "Open cases"},
    "kpi_days_mean": {"zh": "平均办结天数", "en": "Mean days to close"},
    "kpi_days_median": {"zh": "办结天数中位数", "en": "Median days to close"},
    "kpi_diary": {"zh": "日记完成率", "en": "Diary compliance"},
    "not_available": {"zh": "—", "en": "—"},
    "trend_title": {"zh": "各类需求月度趋势", "en": "Monthly needs by category"},
    "month": {"zh": "月份", "en": "Month"},
    "count": {"zh": "数量", "en": "Count"},
    "no_data": {"zh": "所选范围内没有数据", "en": "No data in the chosen scope"},
    "scope_caption": {
        "zh": "范围：{area} · 时段：{period}",
        "en": "Scope: {area} · period: {period}",
    },
    "all_areas": {"zh": "全部区域", "en": "all areas"},
    # map page
    "map_title": {"zh": "网格地图", "en": "Grid map"},
    "classification": {"zh": "分级方法", "en": "Classification"},
    "scheme.NaturalBreaks": {"zh": "自然断点", "en": "Natural breaks"},
    "scheme.FisherJenks": {"zh": "Fisher-Jenks 最优断点", "en": "Fisher-Jenks"},
    "scheme.Quantiles": {"zh": "分位数", "en": "Quantiles"},
    "scheme.EqualInterval": {"zh": "等间距", "en": "Equal interval"},
    "scheme.HeadTailBreaks": {"zh": "头尾断点", "en": "Head/tail breaks"},
    "classes": {"zh": "分级数", "en": "Classes"},
    "basemap": {"zh": "底图", "en": "Base map"},
    "basemap.none": {"zh": "无底图", "en": "None"},
    "basemap.osm": {"zh": "OpenStreetMap", "en": "OpenStreetMap"},
    "basemap.tianditu": {"zh": "天地图", "en": "Tianditu"},
    "basemap.amap": {"zh": "高德地图（GCJ-02）", "en": "Amap (GCJ-02)"},
    "tianditu_key": {"zh": "天地图密钥（tk）", "en": "Tianditu key (tk)"},
    "tianditu_key_missing": {
        "zh": "天地图底图需要密钥：请在侧栏填写 tk，或设置环境变量 GRIDLAW_TIANDITU_KEY",
        "en": "The Tianditu base map needs a key: enter tk or set GRIDLAW_TIANDITU_KEY",
    },
    "heat_layer": {"zh": "需求热力图", "en": "Needs heat map"},
    "heat_note": {
        "zh": "热力图只是密度示意（按 {cell} 度方格汇总），不是热点统计检验",
        "en": "The heat map is a density picture (binned in {cell}° cells), not a hotspot "
        "statistic",
    },
    "service_points": {"zh": "法律服务点", "en": "Legal service points"},
    "outside_needs": {"zh": "网格外需求", "en": "Needs outside every grid"},
    "outside_shown": {
        "zh": "网格外需求（显示最新 {shown} 条，另有更多）",
        "en": "Needs outside every grid (newest {shown} shown; there are more)",
    },
    "legend_no_data": {"zh": "无数据", "en": "No data"},
    "legend_grids": {"zh": "{n} 个网格", "en": "{n} grids"},
    "pick_grid": {"zh": "选择网格查看卡片", "en": "Pick a grid to see its card"},
    "pick_grid_none": {"zh": "（点击地图上的网格）", "en": "(click a grid on the map)"},
    "map_hint": {
        "zh": "点击网格查看网格卡片：人员、指标与最新案件",
        "en": "Click a grid to see its card: staff, figures and latest cases",
    },
    "layers": {"zh": "图层", "en": "Layers"},
    "grid_figures": {"zh": "各网格指标", "en": "Figures per grid"},
    # grid card
    "card_title": {"zh": "网格卡片：{name}（{code}）", "en": "Grid card: {name} ({code})"},
    "card_staff": {"zh": "人员", "en": "Staff"},
    "card_assistant": {"zh": "网格助理员", "en": "Grid assistant"},
    "card_lawyer": {"zh": "法律顾问（律师）", "en": "Lawyer (legal adviser)"},
    "card_mediator": {"zh": "人民调解员", "en": "Mediator"},
    "card_nobody": {"zh": "未配备", "en": "none assigned"},
    "card_latest": {"zh": "最新案件", "en": "Latest cases"},
    "card_population": {
        "zh": "人口 {population} · 户数 {households}",
        "en": "Population {population} · households {households}",
    },
    "card_community": {"zh": "所属社区", "en": "Community"},
    "external_id": {"zh": "编号", "en": "ID"},
    "reported_at": {"zh": "登记日期", "en": "Reported"},
    "due_date": {"zh": "办理期限", "en": "Due"},
    "closed_at": {"zh": "办结日期", "en": "Closed"},
    "worker": {"zh": "经办人", "en": "Handled by"},
    "description": {"zh": "描述", "en": "Description"},
    "dispute_type": {"zh": "纠纷类型", "en": "Dispute type"},
    "resident_name": {"zh": "居民姓名", "en": "Resident"},
    "resident_phone": {"zh": "居民电话", "en": "Resident's phone"},
    "lon": {"zh": "经度", "en": "Longitude"},
    "lat": {"zh": "纬度", "en": "Latitude"},
    "weight": {"zh": "权重", "en": "Weight"},
    # workload page
    "workload_title": {"zh": "网格助理员工作量", "en": "Grid assistants' workload"},
    "workload_period": {
        "zh": "统计时段：{start} 至 {end}（时段为“全部时间”时按近 12 个月计算）",
        "en": "Period: {start} to {end} (the last 12 months when the period is 'all time')",
    },
    "workload_weights": {"zh": "各类需求权重", "en": "Weights per category"},
    "workload_weights_help": {
        "zh": "工作量 = 各类（未结 + 新增）需求数 × 权重之和",
        "en": "Workload = Σ weight × (open + new needs) over the categories",
    },
    "min_cases": {"zh": "参与排名的最少案件数", "en": "Fewest cases to be ranked"},
    "min_cases_help": {
        "zh": "新增加办结少于此数的人员只显示数值，不参与排名",
        "en": "Assistants with fewer new + closed cases are shown but not ranked",
    },
    "workload_chart": {"zh": "每名助理员的工作量", "en": "Workload per assistant"},
    "unranked": {"zh": "案件过少，未排名", "en": "Too few cases: not ranked"},
    "ranked_yes": {"zh": "参与排名", "en": "Ranked"},
    "workload_none": {
        "zh": "所选区域没有在岗的网格助理员",
        "en": "No grid assistant is assigned in the chosen area",
    },
    "col.assistant_code": {"zh": "人员编号", "en": "Code"},
    "col.assistant": {"zh": "网格助理员", "en": "Grid assistant"},
    "col.grids": {"zh": "网格数", "en": "Grids"},
    "col.population": {"zh": "人口", "en": "Population"},
    "col.open": {"zh": "未结", "en": "Open"},
    "col.new": {"zh": "新增", "en": "New"},
    "col.closed": {"zh": "办结", "en": "Closed"},
    "col.mean_days": {"zh": "平均办结天数", "en": "Mean days to close"},
    "col.median_days": {"zh": "办结天数中位数", "en": "Median days to close"},
    "col.on_time_rate": {"zh": "按期结案率", "en": "On-time rate"},
    "col.overdue": {"zh": "超期", "en": "Overdue"},
    "col.diary_compliance": {"zh": "日记完成率", "en": "Diary compliance"},
    "col.workload": {"zh": "工作量指数", "en": "Workload index"},
    "col.workload_per_1000": {"zh": "每千人工作量", "en": "Workload per 1,000 residents"},
    "col.capacity": {"zh": "编制（FTE）", "en": "Capacity (FTE)"},
    "col.rank": {"zh": "排名", "en": "Rank"},
    "col.ranked": {"zh": "排名说明", "en": "Ranking"},
    "col.kind": {"zh": "缺口", "en": "Gap"},
    "col.group": {"zh": "类别", "en": "Group"},
    "col.count": {"zh": "数量", "en": "Count"},
    "col.need_id": {"zh": "需求序号", "en": "Need no."},
    "col.distance_to_grid_m": {"zh": "距最近网格（米）", "en": "To nearest grid (m)"},
    "col.distance_m": {"zh": "距离（米）", "en": "Distance (m)"},
    "col.area_m2": {"zh": "面积（平方米）", "en": "Area (m²)"},
    "col.days_overdue": {"zh": "超期天数", "en": "Days overdue"},
    "col.last_activity": {"zh": "最近日记/走访", "en": "Last diary/visit"},
    "col.id": {"zh": "序号", "en": "No."},
    "col.share": {"zh": "占比", "en": "Share"},
    "col.worker_code": {"zh": "经办人编号", "en": "Worker"},
    "col.due_date_default": {"zh": "按类别默认期限", "en": "Default due date"},
    # coverage gaps page
    "gaps_title": {"zh": "覆盖缺口", "en": "Coverage gaps"},
    "outreach_days": {"zh": "走访间隔（天）", "en": "Outreach interval (days)"},
    "walk_m": {"zh": "步行距离（米）", "en": "Walking distance (m)"},
    "gap_layers": {"zh": "地图显示的缺口", "en": "Gaps on the map"},
    "gap_list": {"zh": "缺口清单", "en": "Gap list"},
    "gap_pick": {"zh": "查看缺口明细", "en": "Show the items of"},
    "gap_none": {"zh": "没有此类缺口", "en": "No gap of this kind"},
    "gap_summary": {"zh": "各类缺口数量", "en": "Gaps by kind"},
    "gap_notes": {"zh": "说明", "en": "Notes"},
    "group.spatial": {"zh": "空间", "en": "Spatial"},
    "group.staffing": {"zh": "人员配备", "en": "Staffing"},
    "group.outreach": {"zh": "走访宣传", "en": "Outreach"},
    "group.service": {"zh": "服务", "en": "Service"},
    "group.access": {"zh": "可达性", "en": "Access"},
    "download_csv": {"zh": "下载 CSV", "en": "Download CSV"},
    "download_xlsx": {"zh": "下载 Excel", "en": "Download Excel"},
    "download_geojson": {"zh": "下载 GeoJSON", "en": "Download GeoJSON"},
    "download_all_gaps": {"zh": "下载全部缺口", "en": "Download every gap"},
    # cases page
    "cases_title": {"zh": "案件", "en": "Cases"},
    "tab_search": {"zh": "查询与办理", "en": "Search and handle"},
    "tab_diary": {"zh": "网格日记（登记需求）", "en": "Grid diary (record a need)"},
    "search": {
        "zh": "搜索（编号、描述、网格、纠纷类型）",
        "en": "Search (id, description, grid, dispute type)",
    },
    "sort_by": {"zh": "排序", "en": "Sort by"},
    "descending": {"zh": "降序", "en": "Descending"},
    "sort.reported_at": {"zh": "登记日期", "en": "Reported"},
    "sort.due_date": {"zh": "办理期限", "en": "Due"},
    "sort.closed_at": {"zh": "办结日期", "en": "Closed"},
    "sort.status": {"zh": "状态", "en": "Status"},
    "sort.category": {"zh": "类别", "en": "Category"},
    "sort.grid_code": {"zh": "网格", "en": "Grid"},
    "sort.id": {"zh": "序号", "en": "No."},
    "cases_found": {
        "zh": "找到 {n} 条（最多显示 {limit} 条）",
        "en": "{n} found (at most {limit} shown)",
    },
    "case_pick": {"zh": "选择案件", "en": "Pick a case"},
    "case_detail": {"zh": "案件详情", "en": "Case detail"},
    "case_history": {"zh": "办理记录", "en": "History"},
    "status_form": {"zh": "变更状态", "en": "Change status"},
    "new_status": {"zh": "新状态", "en": "New status"},
    "status_on": {"zh": "日期", "en": "Date"},
    "status_closed_final": {"zh": "已办结的案件不能再变更", "en": "A closed case cannot change"},
    "submit_status": {"zh": "保存状态", "en": "Save status"},
    "status_saved": {
        "zh": "案件 {id} 已变更为“{status}”",
        "en": "Case {id} is now '{status}'",
    },
    "diary_locate": {"zh": "定位方式", "en": "Locate by"},
    "locate.map": {"zh": "在地图上点击", "en": "Clicking the map"},
    "locate.coords": {"zh": "输入坐标", "en": "Typing coordinates"},
    "locate.grid": {"zh": "选择网格", "en": "Picking a grid"},
    "diary_map_hint": {
        "zh": "在地图上点击需求发生的位置",
        "en": "Click where the need arose",
    },
    "diary_clicked": {
        "zh": "已选位置：{lon}, {lat}（WGS84）",
        "en": "Chosen point: {lon}, {lat} (WGS84)",
    },
    "diary_no_point": {"zh": "请先在地图上点击位置", "en": "Click a point on the map first"},
    "coord_system": {"zh": "坐标系", "en": "Coordinate system"},
    "crs.wgs84": {"zh": "WGS84（GPS）", "en": "WGS84 (GPS)"},
    "crs.gcj02": {"zh": "GCJ-02（高德、腾讯）", "en": "GCJ-02 (Amap, Tencent)"},
    "crs.bd09": {"zh": "BD-09（百度）", "en": "BD-09 (Baidu)"},
    "crs.auto": {"zh": "按文件声明", "en": "As the file declares"},
    "diary_grid_point": {
        "zh": "需求定位在所选网格的中心点",
        "en": "The need is placed at the chosen grid's centre point",
    },
    "submit_need": {"zh": "保存需求", "en": "Save the need"},
    "need_saved": {"zh": "已保存需求 {id}（网格 {grid}）", "en": "Need {id} saved (grid {grid})"},
    "need_exists": {
        "zh": "此需求已保存过（{id}），未重复登记",
        "en": "This need was already saved ({id}); no duplicate was created",
    },
    "under_correction": {"zh": "矫正对象", "en": "Under community correction"},
    "optional_id": {"zh": "编号（可选）", "en": "ID (optional)"},
    "no_grid": {"zh": "网格外", "en": "outside every grid"},
    "diary_role_note": {
        "zh": "以“{role}”身份登记；居民姓名和电话仅对经办人员可见",
        "en": "Recording as '{role}'; residents' names and phones are seen only by case handlers",
    },
    # data page
    "data_title": {"zh": "数据导入与导出", "en": "Import and export"},
    "import_grids": {"zh": "导入网格边界", "en": "Import grid boundaries"},
    "import_needs": {"zh": "导入法律需求", "en": "Import legal needs"},
    "import_workers": {"zh": "导入工作人员与分工", "en": "Import workers and assignments"},
    "upload": {"zh": "选择文件", "en": "Choose a file"},
    "skip_invalid": {
        "zh": "跳过无效行（其余照常导入）",
        "en": "Skip invalid rows (import the rest)",
    },
    "all_or_nothing": {
        "zh": "不勾选时，只要有一行无效，整个文件都不会导入",
        "en": "Unticked: if any row is invalid, nothing from the file is stored",
    },
    "do_import": {"zh": "导入", "en": "Import"},
    "row_errors": {"zh": "无效行", "en": "Invalid rows"},
    "col.row": {"zh": "行号", "en": "Row"},
    "col.field": {"zh": "字段", "en": "Field"},
    "col.value": {"zh": "值", "en": "Value"},
    "col.expected": {"zh": "应为", "en": "Expected"},
    "export": {"zh": "导出", "en": "Export"},
    "export_kind": {"zh": "导出内容", "en": "What to export"},
    "export_format": {"zh": "文件格式", "en": "File format"},
    "prepare_export": {"zh": "生成文件", "en": "Prepare the file"},
    "download": {"zh": "下载 {name}", "en": "Download {name}"},
    "export_rows": {"zh": "{n} 行", "en": "{n} rows"},
    "export.grids": {"zh": "网格", "en": "Grids"},
    "export.needs": {"zh": "法律需求", "en": "Needs"},
    "export.workers": {"zh": "工作人员", "en": "Workers"},
    "export.workload": {"zh": "工作量", "en": "Workload"},
    "export.gaps": {"zh": "覆盖缺口", "en": "Coverage gaps"},
    "export_personal_note": {
        "zh": "导出内容按“查看身份”脱敏：无权限的身份不含居民姓名、电话和矫正对象",
        "en": "Exports follow the 'viewing as' role: without the right, no residents' names, "
        "phones or people under correction",
    },
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
        raise KeyError(f"no dashboard text {key!r}; add it to dashboard/i18n.py") from None
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
    import streamlit as st

    lang = st.session_state.get(LANG_KEY)
    return lang if lang in LANGS else default_lang()


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
    import streamlit as st

    if st.session_state.get(LANG_KEY) not in LANGS:
        st.session_state[LANG_KEY] = default_lang()
    # One label in both languages: a label that changed with the choice would be a new widget.
    return st.sidebar.radio(
        "语言 / Language",
        LANGS,
        format_func=LANG_NAMES.__getitem__,
        key=LANG_KEY,
        horizontal=True,
        persist_state="session",
    )


from dashboard.labels_analysis import ANALYSIS_LABELS  # noqa: E402  (analysis pages' texts)

LABELS.update(ANALYSIS_LABELS)
_ALL.update(ANALYSIS_LABELS)
