"""Texts (zh/en) of the analysis pages: hot spots, rebalancing and access coverage.

Merged into :data:`dashboard.i18n.LABELS` by :mod:`dashboard.i18n.translate`; plain data, imports
nothing of the dashboard.
"""

from __future__ import annotations

ANALYSIS_LABELS: dict[str, dict[str, str]] = {
    "page_hotspots": {"zh": "热点", "en": "Hot spots"},
    "page_rebalance": {"zh": "调配", "en": "Rebalance"},
    "page_access": {"zh": "可达性", "en": "Access"},
    # --- hot spots ------------------------------------------------------------------------
    "hotspots_title": {"zh": "需求热点分析", "en": "Hot spot analysis of needs"},
    "hs_unit": {"zh": "分析单元", "en": "Analysis unit"},
    "hs_unit.grid": {"zh": "网格", "en": "Grids"},
    "hs_unit.hex": {"zh": "六边形（H3）", "en": "Hexagons (H3)"},
    "hs_resolution": {"zh": "六边形大小（H3 级别）", "en": "Hexagon size (H3 resolution)"},
    "hs_resolution_help": {
        "zh": "8 级约 0.7 平方公里，9 级约 0.1 平方公里，10 级约 0.015 平方公里",
        "en": "Resolution 8 ≈ 0.7 km², 9 ≈ 0.1 km², 10 ≈ 0.015 km² per hexagon",
    },
    "hs_permutations": {"zh": "置换次数", "en": "Permutations"},
    "hs_permutations_help": {
        "zh": "随机置换检验的次数；0 = 使用解析 p 值（正态近似）",
        "en": "Number of random permutations; 0 = the analytical (normal) p-value",
    },
    "hs_seed": {"zh": "随机种子", "en": "Random seed"},
    "hs_seed_help": {
        "zh": "同一种子得到同样的结果",
        "en": "The same seed gives the same result",
    },
    "hs_map_title": {"zh": "Gi* 热点与冷点", "en": "Gi* hot and cold spots"},
    "hs_legend": {"zh": "热点分析（Gi*，FDR 校正）", "en": "Hot spot analysis (Gi*, FDR)"},
    "hs_table": {"zh": "各单元结果", "en": "Result per unit"},
    "hs_summary": {
        "zh": "热点 {hot} 个 · 冷点 {cold} 个 · 不显著 {ns} 个",
        "en": "{hot} hot · {cold} cold · {ns} not significant",
    },
    "hs_outside": {
        "zh": "{n} 条需求落在研究区的六边形之外，未计入",
        "en": "{n} needs fall in no hexagon of the study area and are left out",
    },
    "class.hot_99": {"zh": "热点（99% 置信度）", "en": "Hot spot, 99% confidence"},
    "class.hot_95": {"zh": "热点（95% 置信度）", "en": "Hot spot, 95% confidence"},
    "class.hot_90": {"zh": "热点（90% 置信度）", "en": "Hot spot, 90% confidence"},
    "class.not_significant": {"zh": "不显著", "en": "Not significant"},
    "class.cold_90": {"zh": "冷点（90% 置信度）", "en": "Cold spot, 90% confidence"},
    "class.cold_95": {"zh": "冷点（95% 置信度）", "en": "Cold spot, 95% confidence"},
    "class.cold_99": {"zh": "冷点（99% 置信度）", "en": "Cold spot, 99% confidence"},
    "heat_vs_hotspot": {
        "zh": "注意：地图页的热力图只是需求密度的示意图，颜色深只说明那里需求多；"
        "热点是统计检验——一个网格连同相邻网格的需求总数明显高于随机情况下的预期时，"
        "才算热点。需求多的网格不一定是热点，热点也不一定是需求最多的网格。",
        "en": "Note: the heat map on the Map page is a density picture — dark only means many "
        "needs there. A hot spot is a statistical test: a grid is a hot spot when the needs "
        "of the grid and its neighbours together are clearly more than chance would give. A "
        "busy grid need not be a hot spot, and a hot spot need not be the busiest grid.",
    },
    "hs_explain_title": {"zh": "这些类别是什么意思？", "en": "What do the classes mean?"},
    "hs_explain": {
        "zh": "- **热点（红色）**：该单元及其相邻单元的需求合计显著高于全区平均水平，"
        "即高值聚集。99%、95%、90% 表示把握程度，颜色越深越有把握。\n"
        "- **冷点（蓝色）**：该单元及其相邻单元的需求合计显著低于全区平均，即低值聚集。\n"
        "- **不显著（灰色）**：看不出与随机分布有明显差别。\n\n"
        "方法：Getis-Ord Gi* 统计量（相邻 = 共边或共角，含该单元本身），置换检验，"
        "并按错误发现率（FDR）校正了多重比较，因此单元很多时也不会凭运气冒出“热点”。",
        "en": "- **Hot spot (red)**: the needs of the unit and its neighbours together are "
        "significantly above the area's average — a cluster of high values. 99, 95 and 90 % "
        "are how sure we are; darker is surer.\n"
        "- **Cold spot (blue)**: significantly below average — a cluster of low values.\n"
        "- **Not significant (grey)**: no clear difference from a random pattern.\n\n"
        "Method: Getis-Ord Gi* (neighbours share an edge or a corner; the unit itself "
        "included), permutation test, corrected for multiple comparisons with the false "
        "discovery rate (FDR), so many units do not produce 'hot spots' by luck.",
    },
    "emerging_title": {"zh": "新兴热点（逐月时空分析）", "en": "Emerging hot spots (monthly)"},
    "emerging_legend": {"zh": "时空热点类型", "en": "Space-time pattern"},
    "emerging_months": {
        "zh": "分析月份：{first} 至 {last}（{n} 个月）",
        "en": "Months analysed: {first} to {last} ({n} months)",
    },
    "emerging_list": {"zh": "有时空模式的网格", "en": "Grids with a space-time pattern"},
    "emerging_none": {"zh": "没有网格呈现时空热点模式", "en": "No grid shows a pattern"},
    "emerging_too_short": {
        "zh": "至少需要 2 个月的数据才能做新兴热点分析",
        "en": "Emerging hot spots need at least 2 months of data",
    },
    "emerging_explain": {
        "zh": "- **新热点**：最近一个月首次成为热点\n"
        "- **连续热点**：最近连续几个月都是热点，此前不是\n"
        "- **加剧热点**：几乎每月都是热点，且越来越强\n"
        "- **持续热点**：几乎每月都是热点，强度无明显变化\n"
        "- **减弱热点**：几乎每月都是热点，但在减弱\n"
        "- **零星热点**：时是时不是热点，从未是冷点\n"
        "- **振荡热点**：本月是热点，以前曾是冷点\n"
        "- **历史热点**：过去几乎一直是热点，最近一个月不是\n\n"
        "冷点类型与之对应。",
        "en": "- **New**: a hot spot for the first time in the latest month\n"
        "- **Consecutive**: hot in the last few months in a row, not before\n"
        "- **Intensifying**: hot in almost every month, and getting stronger\n"
        "- **Persistent**: hot in almost every month, no clear trend\n"
        "- **Diminishing**: hot in almost every month, but weakening\n"
        "- **Sporadic**: on-and-off hot, never cold\n"
        "- **Oscillating**: hot this month, cold in some earlier month\n"
        "- **Historical**: hot in almost every month but not in the latest one\n\n"
        "Cold-spot patterns mirror these.",
    },
    "changed_title": {"zh": "本月变化", "en": "What changed this month"},
    "changed_caption": {
        "zh": "截至 {current} 与截至 {previous} 的新兴热点类型对比",
        "en": "Pattern up to {current} compared with up to {previous}",
    },
    "changed_none": {"zh": "本月没有网格改变类型", "en": "No grid changed its pattern"},
    "col.previous": {"zh": "上月", "en": "Before"},
    "col.current": {"zh": "本月", "en": "Now"},
    "col.class": {"zh": "类别", "en": "Class"},
    "col.category_emerging": {"zh": "时空类型", "en": "Pattern"},
    "col.z": {"zh": "z 值", "en": "z-score"},
    "col.p": {"zh": "p 值", "en": "p-value"},
    "col.p_fdr": {"zh": "FDR 校正 p 值", "en": "FDR-adjusted p"},
    "col.neighbours": {"zh": "相邻单元数", "en": "Neighbours"},
    "col.cell": {"zh": "六边形编号", "en": "Hexagon"},
    "col.name": {"zh": "网格名称", "en": "Grid name"},
    "col.trend_z": {"zh": "趋势 z 值", "en": "Trend z"},
    "col.trend_p": {"zh": "趋势 p 值", "en": "Trend p"},
    "col.share_hot": {"zh": "热点月份占比", "en": "Share of hot months"},
    "col.last_count": {"zh": "最近一月需求数", "en": "Needs in the latest month"},
    "emerging.no_pattern": {"zh": "无模式", "en": "No pattern"},
    "emerging.new_hot": {"zh": "新热点", "en": "New hot spot"},
    "emerging.consecutive_hot": {"zh": "连续热点", "en": "Consecutive hot spot"},
    "emerging.intensifying_hot": {"zh": "加剧热点", "en": "Intensifying hot spot"},
    "emerging.persistent_hot": {"zh": "持续热点", "en": "Persistent hot spot"},
    "emerging.diminishing_hot": {"zh": "减弱热点", "en": "Diminishing hot spot"},
    "emerging.sporadic_hot": {"zh": "零星热点", "en": "Sporadic hot spot"},
    "emerging.oscillating_hot": {"zh": "振荡热点", "en": "Oscillating hot spot"},
    "emerging.historical_hot": {"zh": "历史热点", "en": "Historical hot spot"},
    "emerging.new_cold": {"zh": "新冷点", "en": "New cold spot"},
    "emerging.consecutive_cold": {"zh": "连续冷点", "en": "Consecutive cold spot"},
    "emerging.intensifying_cold": {"zh": "加剧冷点", "en": "Intensifying cold spot"},
    "emerging.persistent_cold": {"zh": "持续冷点", "en": "Persistent cold spot"},
    "emerging.diminishing_cold": {"zh": "减弱冷点", "en": "Diminishing cold spot"},
    "emerging.sporadic_cold": {"zh": "零星冷点", "en": "Sporadic cold spot"},
    "emerging.oscillating_cold": {"zh": "振荡冷点", "en": "Oscillating cold spot"},
    "emerging.historical_cold": {"zh": "历史冷点", "en": "Historical cold spot"},
    # --- rebalancing ----------------------------------------------------------------------
    "rebalance_title": {"zh": "网格助理员调配", "en": "Rebalance grid assistants"},
    "rb_intro": {
        "zh": "重新划分各网格助理员负责的网格：每人的片区连成一片，工作量在容差内均衡，"
        "尽量少调整现有分工；锁定的网格保持不变。",
        "en": "Reassign grids to assistants: every territory in one piece, workloads "
        "balanced within the tolerance, as few changes to today's assignment as possible; "
        "locked grids stay.",
    },
    "rb_k": {"zh": "助理员人数", "en": "Assistants"},
    "rb_k_help": {
        "zh": "默认是目前在岗的人数（{n}）",
        "en": "Default: today's number of assistants ({n})",
    },
    "rb_tolerance": {"zh": "容差（±%）", "en": "Tolerance (±%)"},
    "rb_tolerance_help": {
        "zh": "每人工作量与其应承担份额的最大相对偏差",
        "en": "Largest relative deviation of a workload from its share",
    },
    "rb_locked": {"zh": "锁定网格", "en": "Locked grids"},
    "rb_run": {"zh": "生成调配方案", "en": "Plan"},
    "rb_apply": {"zh": "应用方案", "en": "Apply the plan"},
    "rb_undo": {"zh": "撤销上次调配", "en": "Undo the last change"},
    "rb_before": {"zh": "调整前", "en": "Before"},
    "rb_after": {"zh": "调整后", "en": "After"},
    "rb_legend": {"zh": "网格助理员", "en": "Grid assistant"},
    "rb_moved_legend": {"zh": "调整的网格（粗框）", "en": "Moved grid (thick outline)"},
    "rb_nobody": {"zh": "无人负责", "en": "Nobody"},
    "rb_loads": {"zh": "每人工作量", "en": "Load per assistant"},
    "rb_moves": {"zh": "调整的网格", "en": "Grids moved"},
    "rb_summary": {
        "zh": "最大偏差 {dev} · 调整网格 {moved} 个 · 片区连片：{contiguous} · 在容差内：{ok}",
        "en": "Largest deviation {dev} · {moved} grids moved · contiguous: {contiguous} · "
        "within tolerance: {ok}",
    },
    "yes": {"zh": "是", "en": "yes"},
    "no": {"zh": "否", "en": "no"},
    "rb_applied": {
        "zh": "已应用：{moved} 个网格的新分工自 {on} 起生效（历史记录保留）",
        "en": "Applied: the new assignment of {moved} grids holds from {on} (history kept)",
    },
    "rb_undone": {"zh": "已撤销，恢复原分工", "en": "Undone: the previous assignment is back"},
    "rb_no_grids": {"zh": "所选区域没有网格", "en": "The chosen area has no grids"},
    "rb_no_assistants": {
        "zh": "所选区域目前没有在岗的网格助理员",
        "en": "No grid assistant is assigned in the chosen area today",
    },
    "rb_new_title": {
        "zh": "方案新增了助理员：请为每位新增助理员选定人员（在岗、尚未负责网格的网格助理员）",
        "en": "The plan adds assistants: choose who each new assistant is (active grid "
        "assistants who cover no grid today)",
    },
    "rb_new_who": {"zh": "{label} 由谁担任", "en": "Who is {label}"},
    "rb_new_missing": {
        "zh": "方案需要 {n} 位新增助理员，但只有 {spare} 位在岗且未负责网格的网格助理员。"
        "请先在“数据”页导入人员，或减少助理员人数。",
        "en": "The plan needs {n} new assistants but only {spare} active grid assistants "
        "cover no grid. Import the workers on the Data page first, or plan for fewer.",
    },
    "rb_new_twice": {
        "zh": "同一人不能担任两位新增助理员",
        "en": "One person cannot be two of the new assistants",
    },
    "rb_force": {
        "zh": "方案超出容差，仍然应用",
        "en": "Apply although the plan misses the tolerance",
    },
    "rb_force_help": {
        "zh": "工作量最大偏差超出所设容差；确认后按此方案调整",
        "en": "The largest workload deviation exceeds the tolerance set; apply it on purpose",
    },
    "rb_hint": {
        "zh": "设置参数后点击“生成调配方案”",
        "en": "Set the options and press 'Plan'",
    },
    "col.load": {"zh": "工作量", "en": "Load"},
    "col.target": {"zh": "应承担份额", "en": "Share"},
    "col.deviation": {"zh": "偏差", "en": "Deviation"},
    "col.assistant_before": {"zh": "原助理员", "en": "From"},
    "col.assistant_after": {"zh": "新助理员", "en": "To"},
    # --- access coverage ------------------------------------------------------------------
    "access_title": {"zh": "法律服务可达性", "en": "Access to legal services"},
    "acc_walk_m": {"zh": "步行距离（米）", "en": "Walking distance (m)"},
    "acc_walk_help": {
        "zh": "直线距离超过此值的需求视为未覆盖",
        "en": "Needs farther than this (straight line) count as not covered",
    },
    "acc_p": {"zh": "建议新增服务点数", "en": "New service points to suggest"},
    "acc_candidates": {"zh": "候选位置", "en": "Candidate sites"},
    "acc_candidates.grid_centroids": {"zh": "网格中心", "en": "Grid centres"},
    "acc_candidates.needs_hexes": {"zh": "未覆盖需求的六边形中心", "en": "Centres of unmet hexes"},
    "acc_needs": {"zh": "需求总数", "en": "Needs"},
    "acc_beyond": {"zh": "超出步行距离的需求", "en": "Needs beyond walking distance"},
    "acc_covered_new": {"zh": "新增服务点可覆盖", "en": "Covered by the new points"},
    "acc_median": {"zh": "到最近服务点距离中位数", "en": "Median distance to nearest point"},
    "acc_uncovered_layer": {"zh": "未覆盖区域", "en": "Area beyond walking distance"},
    "acc_suggested_layer": {"zh": "建议新增服务点", "en": "Suggested new service points"},
    "acc_suggested": {"zh": "建议新增服务点（最大覆盖选址）", "en": "Suggested points (MCLP)"},
    "acc_suggested_tip": {
        "zh": "建议点 {rank}：可覆盖 {n} 条未覆盖需求（其中 {alone} 条仅由此点覆盖）",
        "en": "Suggestion {rank}: covers {n} unmet needs ({alone} by this point alone)",
    },
    "acc_none_needed": {
        "zh": "所有需求都在步行距离内，无需新增服务点",
        "en": "Every need is within walking distance: no new point needed",
    },
    "acc_uncovered_table": {"zh": "各网格未覆盖面积", "en": "Uncovered area per grid"},
    "col.candidate": {"zh": "候选位置", "en": "Candidate"},
    "col.needs_covered": {"zh": "可覆盖需求", "en": "Needs covered"},
    "col.needs_covered_alone": {"zh": "仅此点覆盖", "en": "By this point alone"},
    "col.grid_name": {"zh": "网格名称", "en": "Grid name"},
    "col.uncovered_share": {"zh": "未覆盖比例", "en": "Share uncovered"},
    "col.uncovered_m2": {"zh": "未覆盖面积（㎡）", "en": "Uncovered (m²)"},
    "col.households": {"zh": "户数", "en": "Households"},
}
