"""Message catalogue: every user-facing message of the domain and the CLI, in zh and en.

``t(key, lang, **kw)`` formats a message; keys are ASCII. Add a key in both languages.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # import: field validation ("expected" texts)
    "expected_id": {"zh": "非空且在文件中唯一的编号", "en": "a non-empty id, unique in the file"},
    "expected_id_unique": {
        "zh": "文件中唯一的编号(第 {first} 行已出现)",
        "en": "an id unique in the file (already on row {first})",
    },
    "expected_number": {"zh": "数字", "en": "a number"},
    "expected_lon": {
        "zh": "经度,-180 到 180 之间的数字",
        "en": "a longitude, a number between -180 and 180",
    },
    "expected_lat": {
        "zh": "纬度,-90 到 90 之间的数字",
        "en": "a latitude, a number between -90 and 90",
    },
    "expected_not_swapped": {
        "zh": "经度和纬度未互换(此行的经纬度似乎填反了)",
        "en": "longitude and latitude in their own columns (they look swapped)",
    },
    "expected_required": {"zh": "必填", "en": "a value (required)"},
    "expected_date": {
        "zh": "有效日期,如 2025-03-01、2025/3/1 或 2025年3月1日",
        "en": "a real date such as 2025-03-01, 2025/3/1 or 2025年3月1日",
    },
    "expected_closed_after": {
        "zh": "不早于登记日期 {reported}",
        "en": "not before the report date {reported}",
    },
    "expected_one_of": {"zh": "以下之一:{choices}", "en": "one of: {choices}"},
    "expected_closed_at_for_closed": {
        "zh": "状态为已办结时须填写办结日期",
        "en": "a closing date when the status is closed",
    },
    "expected_outcome_for_closed": {
        "zh": "仅在已办结时填写结果",
        "en": "an outcome only when the status is closed",
    },
    "expected_geometry": {
        "zh": "面或多面几何(Polygon/MultiPolygon)",
        "en": "a Polygon or MultiPolygon geometry",
    },
    "expected_valid_geometry": {"zh": "有效的几何({reason})", "en": "a valid geometry ({reason})"},
    "expected_community": {
        "zh": "社区编码(12 位)或已知的社区名称",
        "en": "a 12-digit community code or a known community name",
    },
    "expected_integer": {"zh": "非负整数", "en": "a non-negative whole number"},
    "expected_positive": {"zh": "大于 0 的数字", "en": "a number greater than 0"},
    "expected_known_grid": {
        "zh": "数据库中已有的网格编码",
        "en": "a grid code that exists in the database",
    },
    "expected_columns": {"zh": "必需的列:{columns}", "en": "the required columns: {columns}"},
    # import: report
    "import_invalid": {
        "zh": "文件有 {n} 处错误(共 {total} 行),未保存任何数据:",
        "en": "The file has {n} error(s) in {total} row(s); nothing was stored:",
    },
    "import_row_error": {
        "zh": "第 {row} 行(编号 {id}):字段“{field}”的值“{value}”无效,应为{expected}",
        "en": "row {row} (id {id}): field '{field}' has '{value}', expected {expected}",
    },
    "import_done": {
        "zh": "导入{kind}:新增 {inserted} 条,已存在 {existing} 条,跳过无效 {invalid} 条",
        "en": "Imported {kind}: {inserted} new, {existing} already stored, {invalid} invalid skipped",
    },
    "import_errors_written": {"zh": "无效行已写入 {path}", "en": "Invalid rows written to {path}"},
    "errors_out_required": {
        "zh": "--skip-invalid 需要同时指定 --errors-out 文件",
        "en": "--skip-invalid needs --errors-out FILE",
    },
    "kind_needs": {"zh": "法律需求", "en": "needs"},
    "kind_grids": {"zh": "网格", "en": "grids"},
    "kind_workers": {"zh": "工作人员", "en": "workers"},
    # database / CLI
    "db_not_empty": {
        "zh": "数据库中已有数据;如需替换请加 --replace",
        "en": "the database already holds data; add --replace to replace it",
    },
    "seeded": {
        "zh": "已生成演示数据:{grids} 个网格,{workers} 名工作人员,{needs} 条需求,{services} 次服务",
        "en": "Demo data seeded: {grids} grids, {workers} workers, {needs} needs, {services} services",
    },
    "initialised": {"zh": "数据库已就绪:{url}", "en": "Database ready: {url}"},
    "summary_refreshed": {
        "zh": "已更新已办结需求汇总:重算 {buckets} 个(网格, 月份)分组,需求表统计已刷新",
        "en": "Closed-needs summary refreshed: {buckets} (grid, month) buckets recomputed; "
        "planner statistics of needs refreshed",
    },
    # permissions
    "not_allowed": {
        "zh": "当前身份({role})不能{action}",
        "en": "The role {role} may not {action}",
    },
    "action.import": {"zh": "导入数据", "en": "import data"},
    "action.manage_accounts": {"zh": "管理账号", "en": "manage accounts"},
    "action.rebalance": {"zh": "调整网格分工", "en": "change which assistant covers which grids"},
    "action.record_need": {"zh": "登记需求", "en": "record needs"},
    "action.change_status": {"zh": "更改案件状态", "en": "change the status of cases"},
    # accounts
    "account_bad_username": {
        "zh": "用户名 {value!r} 无效:应为 2–64 个字母、数字或 _ . @ -",
        "en": "username {value!r}: expected 2–64 letters, digits or _ . @ -",
    },
    "account_taken": {"zh": "用户名 {value!r} 已存在", "en": "username {value!r} is taken"},
    "account_bad_role": {
        "zh": "角色 {value!r} 无效:应为 {choices} 之一",
        "en": "role {value!r}: expected one of {choices}",
    },
    "account_short_password": {
        "zh": "密码至少 {n} 个字符",
        "en": "password: expected at least {n} characters",
    },
    "account_bad_area": {
        "zh": "区域 {value!r} 不存在(应为已有的区、街道、社区或网格编码)",
        "en": "area {value!r}: expected the code of a stored district, street, community or grid",
    },
    "account_unknown": {"zh": "没有用户名为 {value!r} 的账号", "en": "no account {value!r}"},
    "account_added": {
        "zh": "已添加账号 {username}(角色 {role},区域 {area})",
        "en": "Account {username} added (role {role}, area {area})",
    },
    "account_disabled": {"zh": "已停用账号 {username}", "en": "Account {username} disabled"},
    "account_enabled": {"zh": "已启用账号 {username}", "en": "Account {username} enabled"},
    "passwords_differ": {"zh": "两次输入的密码不一致", "en": "the passwords differ"},
    # sign-in throttle (issue 8, class 7): one answer for a wrong password, a disabled account
    # and a name that is no account; the lock says when to try again
    "sign_in_failed": {
        "zh": "用户名或密码不正确，或账号已停用",
        "en": "Wrong username or password, or the account is disabled",
    },
    "sign_in_locked": {
        "zh": "登录失败次数过多，请 {minutes} 分钟后再试",
        "en": "Too many failed sign-ins: try again in {minutes} minute(s)",
    },
    "sign_in_retry": {
        "zh": "暂时无法完成登录，请重试",
        "en": "The sign-in could not be completed; please try again",
    },
    # rebalancing: why a plan cannot be applied
    "plan_split": {
        "zh": "方案中有片区不连片或锁定网格被调整,不能应用",
        "en": "plan: a territory is split or a locked grid moves; such a plan cannot be applied",
    },
    "plan_tolerance": {
        "zh": "方案最大偏差 {dev:.1%} 超出容差 {tol:.0%};确认后可强制应用",
        "en": "plan: max deviation {dev:.1%} exceeds the tolerance {tol:.0%}; apply it anyway "
        "only on purpose (force)",
    },
    "plan_no_grid": {
        "zh": "方案中的网格不存在:{codes}",
        "en": "plan: grid(s) {codes} do not exist",
    },
    "plan_no_worker": {
        "zh": "方案中的人员不存在:{codes}(新增助理员 NEW-n 需指定人员)",
        "en": "plan: no worker {codes}; name who each planned new assistant (NEW-n) is",
    },
    "plan_not_assistant": {
        "zh": "{codes} 不是在岗的网格助理员",
        "en": "{codes}: not active grid assistants",
    },
    "plan_stale": {
        "zh": "网格 {codes} 的助理员在生成方案后已变更,请重新生成方案",
        "en": "plan: today's assistant of grid(s) {codes} changed since the plan was made; "
        "plan again",
    },
    "plan_early": {
        "zh": "生效日期 {on} 早于网格 {codes} 现有分工的开始日期",
        "en": "on={on}: before the start of the open assignment of grid(s) {codes}",
    },
    "relocated": {
        "zh": "重新定位 {checked} 条需求,{changed} 条所属网格有变化",
        "en": "Relocated {checked} needs; {changed} changed grid",
    },
    "exported": {"zh": "已导出 {n} 行到 {path}", "en": "Exported {n} rows to {path}"},
    "grids_ok": {
        "zh": "网格检查通过:{n} 个网格,未发现问题",
        "en": "Grid check passed: {n} grids, no problems",
    },
    "grids_problems": {"zh": "网格检查发现 {n} 个问题:", "en": "Grid check found {n} problem(s):"},
    "error": {"zh": "错误:{msg}", "en": "Error: {msg}"},
    # cases: the diary form and status changes (grid_model.cases)
    "invalid_field": {
        "zh": "字段“{field}”的值“{value}”无效,应为{expected}",
        "en": "field '{field}' has '{value}', expected {expected}",
    },
    "expected_not_future": {
        "zh": "不晚于今天({today})的日期",
        "en": "a date not after today ({today})",
    },
    "expected_in_area": {
        "zh": "您负责区域({area})内的位置",
        "en": "a location inside your area ({area})",
    },
    "expected_known_worker": {
        "zh": "数据库中已有的工作人员编号",
        "en": "a worker code that exists in the database",
    },
    "expected_crs": {
        "zh": "坐标系 wgs84、gcj02、bd09 或 EPSG:<代码>",
        "en": "a coordinate system: wgs84, gcj02, bd09 or EPSG:<code>",
    },
    "expected_outcome_on_close": {
        "zh": "办结时须填写结果,以下之一:{choices}",
        "en": "an outcome when closing, one of: {choices}",
    },
    "expected_mediation_outcome": {
        "zh": "适合“{category}”类需求的结果({choices});调解结果仅用于人民调解",
        "en": "an outcome for a '{category}' need ({choices}); mediation outcomes are for "
        "mediation needs only",
    },
    "status_transition": {
        "zh": "需求 {id} 的状态不能从“{from_}”改为“{to}”;可改为:{allowed}",
        "en": "need {id} cannot go from status '{from_}' to '{to}'; allowed: {allowed}",
    },
    "status_none_allowed": {
        "zh": "无(已办结的需求不能重新打开)",
        "en": "none (a closed need cannot be reopened)",
    },
    "need_not_found": {"zh": "未找到需求 {id}", "en": "need {id} not found"},
}


def t(key: str, lang: str = "zh", /, **kw) -> str:
    """The message ``key`` in ``lang`` ('zh' or 'en'), formatted with ``kw``."""
    entry = MESSAGES[key]
    text = entry.get(lang) or entry["zh"]
    return text.format(**kw) if kw else text
