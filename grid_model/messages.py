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
        "zh": "共 {total} 行中有 {rows} 行无效({n} 处错误),未保存任何数据:",
        "en": "{rows} invalid row(s) of {total}, {n} problem(s); nothing was stored:",
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
    # --- issue 8, permissions in the services (one mechanism) ---
    "action.relocate": {"zh": "重新定位需求", "en": "re-geolocate needs"},
    "not_allowed_in_area": {
        "zh": "限定区域({area})的账号不能{action}:此操作涉及整个数据库",
        "en": "An account limited to an area ({area}) may not {action}: it affects the whole "
        "database",
    },
    "not_signed_in": {
        "zh": "请先登录:已设置账号,不能以未登录身份操作",
        "en": "Sign in first: accounts are set up, so nobody acts without one",
    },
    "account_inactive": {
        "zh": "账号 {username} 已停用或不存在,不能再操作;请联系管理员",
        "en": "The account {username} is disabled or gone and may no longer act; ask an "
        "administrator",
    },
    "plan_outside_area": {
        "zh": "调配方案包含您区域({area})以外的网格:{codes}",
        "en": "The plan moves grids outside your area ({area}): {codes}",
    },
    "expected_unused_id": {
        "zh": "尚未使用的编号(此编号已被占用,请换一个)",
        "en": "an id not used yet (this one is taken: choose another)",
    },
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
    # cases: the diary form and status changes (grid_model.needs.cases)
    "invalid_field": {
        "zh": "字段“{field}”的值“{value}”无效,应为{expected}",
        "en": "field '{field}' has '{value}', expected {expected}",
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
    # concurrent writes and database errors (issue 8, classes 8 and 10: grid_model.db)
    "db_busy": {
        "zh": "数据库正忙(另一项写入尚未完成),未保存;请稍后重试",
        "en": "The database is busy (another change is being written); nothing was saved, "
        "try again",
    },
    "status_changed_meanwhile": {
        "zh": "需求 {id} 已被他人同时修改,现为“{status}”;未保存,请刷新后再试",
        "en": "need {id} was changed by someone else meanwhile: now '{status}'; nothing was "
        "saved, reload and try again",
    },
    "db_duplicate": {
        "zh": "与已保存的记录重复({what}),未保存",
        "en": "duplicates a stored record ({what}); nothing was saved",
    },
    "db_constraint": {
        "zh": "数据库拒绝了一个值({what}),未保存",
        "en": "the database refused a value ({what}); nothing was saved",
    },
    "db_too_long": {
        "zh": "有一个值超过数据库允许的长度{limit},未保存",
        "en": "a value is longer than the database allows{limit}; nothing was saved",
    },
    "db_too_long_limit": {"zh": "(最多 {n} 个字符)", "en": " (at most {n} characters)"},
    "db_nul": {
        "zh": "文本中含有数据库不接受的空字符(NUL);未保存任何内容",
        "en": "a text holds a NUL character, which the database does not accept; nothing was saved",
    },
    "db_bad_value": {
        "zh": "有一个值数据库无法保存({what}),未保存",
        "en": "a value the database cannot store ({what}); nothing was saved",
    },
    "db_disk_full": {
        "zh": "数据库所在磁盘已满,未保存;请联系管理员",
        "en": "the database's disk is full; nothing was saved, ask an administrator",
    },
    "db_connection": {
        "zh": "无法连接数据库或连接已中断,未保存;请稍后重试",
        "en": "the connection to the database failed or was lost; nothing was saved, try again",
    },
    "db_read_only": {
        "zh": "数据库为只读,未保存",
        "en": "the database is read-only; nothing was saved",
    },
    "db_schema": {
        "zh": "数据库表缺失或版本过旧({detail});请运行 gridlaw init",
        "en": "the database's tables are missing or out of date ({detail}); run gridlaw init",
    },
    "db_refused": {
        "zh": "数据库拒绝了此操作({kind}),未保存",
        "en": "the database refused the operation ({kind}); nothing was saved",
    },
    # field vocabulary and schema checks (issue 8, validation: grid_model.fields)
    "expected_boolean": {"zh": "是或否,以下之一:{choices}", "en": "yes or no, one of: {choices}"},
    "expected_no_control": {
        "zh": "不含控制字符(NUL、ESC、制表符、换行、文字方向控制符等)的文本",
        "en": "text without control characters (NUL, ESC, tab, line breaks, direction overrides)",
    },
    "expected_no_control_multiline": {
        "zh": "不含控制字符(NUL、ESC、文字方向控制符等;制表符和换行可以)的文本",
        "en": "text without control characters (NUL, ESC, direction overrides; tab and line "
        "breaks are fine)",
    },
    "expected_max_length": {
        "zh": "不超过 {n} 个字符(此值有 {length} 个)",
        "en": "at most {n} characters (this one has {length})",
    },
    "expected_date_recent": {
        "zh": "{earliest} 至 {latest} 之间的日期(不晚于今天 {today},可宽限一天)",
        "en": "a date from {earliest} to {latest} (not after today, {today}, but for a day's "
        "leeway)",
    },
    "expected_date_planned": {
        "zh": "{earliest} 至 {latest} 之间的日期(最多为一年后)",
        "en": "a date from {earliest} to {latest} (at most a year ahead)",
    },
    "expected_projected": {
        "zh": "以度为单位的经纬度;这些值像投影坐标(米),请用 --crs EPSG:n 指明文件的坐标系"
        "(如 EPSG:4547;数据页面上选择坐标系)",
        "en": "longitude/latitude in degrees; these look like projected metres: pass --crs "
        "EPSG:n with the file's system (e.g. EPSG:4547; on the Data page choose the system)",
    },
    "expected_capacity": {
        "zh": "大于 0 且不超过 {max} 的数字(全职为 1)",
        "en": "a number greater than 0 and at most {max} (full time is 1)",
    },
    "expected_count": {"zh": "0 到 {max} 之间的整数", "en": "a whole number from 0 to {max}"},
    "value_hidden": {
        "zh": "(个人信息已隐藏,{n} 个字符)",
        "en": "(personal data hidden, {n} characters)",
    },
    "columns_conflict": {
        "zh": "列“{first}”和“{second}”都表示字段“{field}”,请只保留其中一列",
        "en": "columns '{first}' and '{second}' both mean the field '{field}': keep one of them",
    },
    "search_bad_text": {
        "zh": "搜索内容含控制字符(NUL、ESC 等),请删除后再搜索",
        "en": "search text: it contains control characters (NUL, ESC, …); remove them",
    },
    "search_too_long": {
        "zh": "搜索内容最多 {n} 个字符(此处有 {length} 个)",
        "en": "search text: at most {n} characters (this one has {length})",
    },
    # issue 8, files in and out (geodata.io limits, XLSX formulas, projected coordinates):
    # the keys of geodata errors (GeodataError.key), said by geodata_message
    "file_too_big": {
        "zh": "无法读取“{name}”:文件有 {size} MB,超过允许的 {limit} MB",
        "en": "cannot read '{name}': it holds {size} MB, more than the {limit} MB allowed",
    },
    "file_too_many_columns": {
        "zh": "无法读取“{name}”:第 {row} 行有 {n} 列,最多允许 {limit} 列",
        "en": "cannot read '{name}': row {row} has {n} columns, more than the {limit} allowed",
    },
    "file_too_many_fields": {
        "zh": "无法读取“{name}”:有 {n} 个属性字段,最多允许 {limit} 个",
        "en": "cannot read '{name}': it has {n} fields, more than the {limit} allowed",
    },
    "file_beyond_header": {
        "zh": "无法读取“{name}”:第 {row} 行在第 {column} 列有值,超出表头的 {n} 列",
        "en": "cannot read '{name}': row {row} has a value in column {column}, beyond the {n} "
        "columns of the header row",
    },
    "file_cell_too_long": {
        "zh": "无法读取“{name}”:第 {row} 行第 {column} 列有 {n} 个字符,单元格最多允许 {limit} 个",
        "en": "cannot read '{name}': row {row}, column {column} holds {n} characters, more than "
        "the {limit} allowed in a cell",
    },
    "file_field_too_long": {
        "zh": "无法读取“{name}”:第 {feature} 个要素的字段“{column}”有 {n} 个字符,最多允许 {limit} 个",
        "en": "cannot read '{name}': feature {feature}, field '{column}' holds {n} characters, "
        "more than the {limit} allowed",
    },
    "file_nul": {
        "zh": "无法读取“{name}”:第 {row} 行含有 NUL 字符",
        "en": "cannot read '{name}': row {row} holds a NUL character",
    },
    "file_formula_no_value": {
        "zh": "无法读取“{name}”:单元格 {cell}(列 {column})是公式,但文件中没有保存计算结果;"
        "请用 Excel 或 WPS 打开并保存后再导入,或将公式粘贴为数值",
        "en": "cannot read '{name}': cell {cell} (column {column}) holds a formula without a "
        "saved result; open the file in Excel or WPS, save it and import it again, or paste "
        "the values",
    },
    "file_cell_error": {
        "zh": "无法读取“{name}”:单元格 {cell}(列 {column})是表格错误值 {value}",
        "en": "cannot read '{name}': cell {cell} (column {column}) holds the spreadsheet error "
        "{value}",
    },
    "coords_projected": {
        "zh": "无法读取“{name}”:第 {feature} 个要素的坐标看起来是投影坐标(如 x={x}, y={y}),"
        "不是经纬度:请用 --crs EPSG:n 指明坐标系,如 EPSG:4547(CGCS2000 高斯-克吕格,中央经线 114°E)"
        "或 EPSG:32649(UTM 49N)",
        "en": "cannot read '{name}': feature {feature}: coordinates look projected (e.g. x={x}, "
        "y={y}): pass --crs EPSG:n with the system they are in, e.g. EPSG:4547 (CGCS2000 "
        "Gauss-Krueger, CM 114E) or EPSG:32649 (UTM 49N)",
    },
    "coords_not_finite": {
        "zh": "无法读取“{name}”:第 {feature} 个要素的坐标不是可用的数(x={x}, y={y}):"
        "无穷大、NaN 或超出 ±1e8",
        "en": "cannot read '{name}': feature {feature}: coordinates are not usable numbers "
        "(x={x}, y={y}): infinite, NaN or beyond ±1e8",
    },
}


# --- s10-cases ---
MESSAGES.update(
    {
        "case_step_unknown": {
            "zh": "未知的办案步骤“{step}”;应为以下之一:{choices}",
            "en": "unknown case step '{step}'; expected one of: {choices}",
        },
        "case_step_not_allowed": {
            "zh": "案件 {id} 当前为“{status}”,不能执行“{step}”;可执行:{allowed}",
            "en": "case {id} is '{status}': step '{step}' is not allowed; allowed: {allowed}",
        },
        "case_none_allowed": {"zh": "无(案件已办结)", "en": "none (the case is closed)"},
        "case_role_refused": {
            "zh": "角色“{role}”不能执行“{step}”;可执行的角色:{roles}",
            "en": "role '{role}' may not take step '{step}'; roles that may: {roles}",
        },
        "case_not_assignee": {
            "zh": "只有被派遣的工作人员({assignee})才能对案件 {id} 执行“{step}”",
            "en": "only the worker the case was dispatched to ({assignee}) may take step "
            "'{step}' on case {id}",
        },
        "case_self_verify": {
            "zh": "办理人({worker})不能核查自己办结的案件 {id}",
            "en": "the worker who handled case {id} ({worker}) may not verify it",
        },
        "case_act_for": {
            "zh": "只有管理员可以代其他工作人员({worker})登记步骤",
            "en": "only an administrator may enter a step for another worker ({worker})",
        },
        "case_field_unknown": {
            "zh": "步骤“{step}”不接受字段:{fields};可用字段:{choices}",
            "en": "step '{step}' takes no field(s) {fields}; it takes: {choices}",
        },
        "expected_case_instant": {
            "zh": "时间(如 2025-03-04 09:30,或带时区 2025-03-04T09:30+08:00),不早于上一步骤"
            "({last}),不晚于现在",
            "en": "a time (e.g. 2025-03-04 09:30, or with an offset 2025-03-04T09:30+08:00) "
            "not before the previous step ({last}) nor in the future",
        },
        "expected_reason": {
            "zh": "原因(1–{n} 个字符,不含控制字符)",
            "en": "a reason (1–{n} characters, no control characters)",
        },
        "expected_satisfaction": {
            "zh": "满意度,以下之一:{choices}",
            "en": "a satisfaction, one of: {choices}",
        },
        "expected_priority": {
            "zh": "优先级,以下之一:{choices}",
            "en": "a priority, one of: {choices}",
        },
        "expected_yes_no": {"zh": "是或否", "en": "yes or no"},
        "expected_active_worker": {
            "zh": "在职工作人员的编号(本辖区)",
            "en": "the code of an active worker",
        },
        "expected_supervise_due": {
            "zh": "督办期限(日期),不早于今天",
            "en": "a supervision deadline (a date) not before the day of the step",
        },
        "case_not_overdue": {
            "zh": "案件 {id} 未逾期(期限 {due}),无需督办",
            "en": "case {id} is not overdue (due {due}): nothing to supervise",
        },
        "expected_phone": {"zh": "电话号码(数字,6–20 位)", "en": "a phone number (6–20 digits)"},
        "expected_id_number": {
            "zh": "18 位居民身份证号码(校验位正确)",
            "en": "an 18-character resident ID number with a right check digit",
        },
        "expected_both_sides": {
            "zh": "至少一名申请人和一名被申请人",
            "en": "at least one applicant and one respondent",
        },
        "expected_mediators": {"zh": "人民调解员的工作人员编号", "en": "worker codes of mediators"},
        "expected_extension": {
            "zh": "晚于 {due} 的日期(只能延期一次)",
            "en": "a day after {due} (the limit is extended once)",
        },
        "mediation_only": {
            "zh": "案件 {id} 属于“{category}”,只有人民调解案件有调解案卷",
            "en": "case {id} is '{category}': only mediation cases have a case file",
        },
        "mediation_no_file": {
            "zh": "案件 {id} 尚未建立调解案卷(先受理登记)",
            "en": "case {id} has no mediation case file yet (open it first)",
        },
        "mediation_file_exists": {
            "zh": "案件 {id} 已有调解案卷",
            "en": "case {id} has a mediation case file already",
        },
        "case_step_done": {
            "zh": "案件 {id}:{step} → {status}({at})",
            "en": "case {id}: {step} → {status} ({at})",
        },
        "action.reminders": {"zh": "生成提醒", "en": "build reminders"},
        "reminder_subject": {
            "zh": "网格法治地图:{day} 待办提醒({n} 件)",
            "en": "GridLaw: your cases on {day} ({n})",
        },
        "reminder_to_accept": {"zh": "待签收 {n} 件:", "en": "To accept ({n}):"},
        "reminder_overdue": {"zh": "已逾期 {n} 件:", "en": "Overdue ({n}):"},
        "reminder_due_soon": {"zh": "即将到期 {n} 件:", "en": "Due soon ({n}):"},
        "reminders_done": {
            "zh": "{day}:生成提醒 {built} 份,发送 {sent} 份,失败 {failed} 份",
            "en": "{day}: {built} digest(s) built, {sent} sent, {failed} failed",
        },
        "expected_instant": {
            "zh": "时间(如 2025-03-04 09:30、2025年3月4日 9:30,或带时区),不晚于现在",
            "en": "a time (e.g. 2025-03-04 09:30, or with an offset) not in the future",
        },
        "expected_after": {"zh": "不早于“{field}”的时间", "en": "a time not before '{field}'"},
        "expected_visit_pair": {
            "zh": "回访时间与满意度须同时填写",
            "en": "a return-visit time and a satisfaction together",
        },
        "expected_visit_closed": {
            "zh": "只有已办结的需求才有回访",
            "en": "a return visit only on a closed need",
        },
        "case_already_visited": {
            "zh": "案件 {id} 已于 {at} 回访",
            "en": "case {id} was already visited on {at}",
        },
    }
)


def geodata_message(exc: Exception, lang: str = "zh") -> str:
    """A :class:`geodata.errors.GeodataError` in ``lang`` where it has a key, else as raised."""
    key = getattr(exc, "key", None)
    if key in MESSAGES:
        try:
            return t(key, lang, **exc.params)
        except (KeyError, IndexError):  # a key's fields missing: say it as raised
            pass
    return str(exc)


def t(key: str, lang: str = "zh", /, **kw) -> str:
    """The message ``key`` in ``lang`` ('zh' or 'en'), formatted with ``kw``."""
    entry = MESSAGES[key]
    text = entry.get(lang) or entry["zh"]
    return text.format(**kw) if kw else text


# --- s12-reports ---
MESSAGES.update(
    {
        "report_bad_month": {
            "zh": "月份“{value}”无效:应为 YYYY-MM,如 2025-11",
            "en": "month '{value}' is not valid: expected YYYY-MM, e.g. 2025-11",
        },
        "report_bad_date": {
            "zh": "{field}“{value}”无效:应为日期,如 2025-11-01",
            "en": "{field} '{value}' is not valid: expected a date such as 2025-11-01",
        },
        "report_bad_period": {
            "zh": "时段无效:开始日期 {start} 晚于结束日期 {end}",
            "en": "period not valid: start {start} is after end {end}",
        },
        "report_all_areas": {"zh": "全部区域", "en": "All areas"},
        "report_area_not_found": {"zh": "未找到区域 {code}", "en": "area {code} not found"},
        "report_no_hotspots": {
            "zh": "本月无法计算热点:{reason}",
            "en": "no hot spots this month: {reason}",
        },
        "report_no_emerging": {
            "zh": "无法计算新兴热点:{reason}",
            "en": "no emerging hot spots: {reason}",
        },
        "report_total": {"zh": "合计", "en": "Total"},
        "report_untyped": {"zh": "未填纠纷类型", "en": "No dispute type given"},
        "report_agreement_denied": {
            "zh": "角色 {role} 无权查看个人信息,不能生成调解协议书",
            "en": "role {role} may not see personal data and so cannot produce a mediation "
            "agreement",
        },
        "report_not_mediation": {
            "zh": "需求 {id} 不是人民调解案件(类别:{category})",
            "en": "need {id} is not a mediation case (category: {category})",
        },
        "report_bad_format": {
            "zh": "不支持的输出格式“{suffix}”:应为 {choices}",
            "en": "output format '{suffix}' not supported: expected {choices}",
        },
        "report_future_month": {
            "zh": "月份 {month} 尚未开始(今天是 {today})",
            "en": "month {month} has not begun yet (today is {today})",
        },
        "report_written": {"zh": "已生成报表 {path}", "en": "report written to {path}"},
    }
)

# --- s13-places ---
MESSAGES.update(
    {
        "expected_mapped": {
            "zh": "值映射中的一个值(映射中没有的值:{seen})",
            "en": "a value of the value map (values seen that it does not map: {seen})",
        },
        "expected_date": {
            "zh": "有效日期或时间,如 2025-03-01、2025/3/1 14:05、2025年3月1日、"
            "2022-05-02T02:30:00Z 或 05/01/2022 12:00:03 AM(其他格式用 --date-format)",
            "en": "a real date or time such as 2025-03-01, 2025/3/1 14:05, 2025年3月1日, "
            "2022-05-02T02:30:00Z or 05/01/2022 12:00:03 AM (other forms: --date-format)",
        },
        "bad_timezone": {
            "zh": "时区“{name}”不是 IANA 时区名,如 Asia/Shanghai 或 America/New_York",
            "en": "time zone '{name}' is not an IANA time zone such as Asia/Shanghai or "
            "America/New_York",
        },
        "bad_pair": {
            "zh": "{option} “{value}”:应为 字段=值",
            "en": "{option} '{value}': expected FIELD=VALUE",
        },
        "unknown_field": {
            "zh": "没有字段“{field}”;可用字段:{fields}",
            "en": "no field '{field}'; the fields are: {fields}",
        },
        "bad_map_code": {
            "zh": "值映射 {where}:“{value}”映射到“{code}”,应为以下之一:{choices}",
            "en": "value map {where}: '{value}' maps to '{code}', expected one of: {choices}",
        },
        "bad_map_file": {
            "zh": "值映射文件 {path} 应有两列:value,code",
            "en": "value map file {path}: expected two columns, value,code",
        },
        "bad_mapping_file": {
            "zh": "无法读取映射文件 {path}:{reason}",
            "en": "cannot read the mapping file {path}: {reason}",
        },
        "mapped_header_missing": {
            "zh": "文件中没有列“{header}”;文件的列:{have}",
            "en": "the file has no column '{header}'; its columns are: {have}",
        },
        "kind_areas": {"zh": "区域", "en": "areas"},
        "expected_parent": {
            "zh": "文件中或已存储的另一区域的编码",
            "en": "the code of another area, in the file or stored",
        },
        "expected_code": {
            "zh": "不超过 {max} 个字符的编码",
            "en": "a code of at most {max} characters",
        },
    }
)


# --- s11-api ---
# The Open311 API (grid_model.open311, api/) and its keys, idempotency, photos, limits.
MESSAGES.update(
    {
        "o311.service.publicity": {"zh": "法治宣传", "en": "Legal publicity"},
        "o311.service.consultation": {"zh": "法律咨询", "en": "Legal consultation"},
        "o311.service.legal_aid": {"zh": "法律援助", "en": "Legal aid"},
        "o311.service.mediation": {"zh": "人民调解", "en": "People's mediation"},
        "o311.service.correction": {"zh": "矫正帮教", "en": "Correction and assistance"},
        "o311.service.other": {"zh": "其他法律需求", "en": "Other legal need"},
        "o311.service_desc.publicity": {
            "zh": "居民希望了解的法律知识、普法活动需求",
            "en": "Legal knowledge residents ask about, requests for publicity events",
        },
        "o311.service_desc.consultation": {
            "zh": "居民的法律问题咨询",
            "en": "A resident's legal question",
        },
        "o311.service_desc.legal_aid": {
            "zh": "需要法律援助(代理、辩护)的情形",
            "en": "A case that needs legal aid (representation, defence)",
        },
        "o311.service_desc.mediation": {
            "zh": "需要人民调解的纠纷,附纠纷类型",
            "en": "A dispute for people's mediation, with its dispute type",
        },
        "o311.service_desc.correction": {
            "zh": "社区矫正、安置帮教相关需求(个人信息受保护)",
            "en": "Community correction and resettlement (personal data protected)",
        },
        "o311.service_desc.other": {"zh": "其他法律服务需求", "en": "Any other legal need"},
        "o311.group": {"zh": "网格法律服务", "en": "Grid legal services"},
        "o311.source.diary": {"zh": "网格日记", "en": "Grid diary"},
        "o311.source.phone": {"zh": "电话(含 12345)", "en": "Phone (incl. 12345)"},
        "o311.source.online": {"zh": "网络(微信/QQ)", "en": "Online (WeChat/QQ)"},
        "o311.source.walk_in": {"zh": "来访", "en": "Walk-in"},
        "o311.no": {"zh": "否", "en": "no"},
        "o311.yes": {"zh": "是", "en": "yes"},
        "o311.attr.source": {"zh": "需求来源", "en": "Where the need came from"},
        "o311.attr.dispute_type": {
            "zh": "纠纷类型(全国人民调解纠纷分类)",
            "en": "Dispute type (national people's-mediation categories)",
        },
        "o311.attr.under_correction": {
            "zh": "当事人是否为社区矫正对象",
            "en": "Whether the person is under community correction",
        },
        "o311.attr.reported_at": {
            "zh": "登记日期(默认今天)",
            "en": "Report date (default today)",
        },
        "o311.attr_type.source": {"zh": "取值之一", "en": "one of the values"},
        "o311.attr_type.dispute_type": {"zh": "取值之一", "en": "one of the values"},
        "o311.attr_type.under_correction": {"zh": "0 或 1", "en": "0 or 1"},
        "o311.attr_type.reported_at": {
            "zh": "日期,如 2025-03-01",
            "en": "a date such as 2025-03-01",
        },
        "o311.no_service": {"zh": "没有服务代码 {code!r}", "en": "no service {code!r}"},
        "o311.notice_created": {"zh": "已登记", "en": "Recorded"},
        "o311.notice_existing": {
            "zh": "此需求此前已登记,未重复登记",
            "en": "This need was recorded before; not recorded twice",
        },
        "o311.no_media": {"zh": "未找到照片", "en": "photo not found"},
        "o311.outcome_fixed": {
            "zh": "状态 {status} 的办结结果为 {outcome}",
            "en": "status {status} closes with the outcome {outcome}",
        },
        "o311.not_found": {"zh": "未找到", "en": "not found"},
        "o311.method": {"zh": "不支持此请求方法", "en": "method not allowed"},
        "o311.internal": {
            "zh": "服务器内部错误,已记录;请稍后再试",
            "en": "internal error, logged; please try again later",
        },
        "o311.key_invalid": {
            "zh": "API 密钥无效、已停用,或其账号已停用",
            "en": "the API key is unknown or revoked, or its account is disabled",
        },
        "o311.key_required": {
            "zh": "此操作需要 API 密钥(api_key 参数或 X-API-Key 请求头)或登录",
            "en": "this needs an API key (api_key parameter or X-API-Key header) or a sign-in",
        },
        "o311.rate_limited": {
            "zh": "写入过于频繁:每分钟最多 {limit} 次,请 {seconds} 秒后再试",
            "en": "too many writes: at most {limit} a minute; try again in {seconds} s",
        },
        "o311.too_large": {
            "zh": "请求过大:最多 {limit} MB",
            "en": "request too large: at most {limit} MB",
        },
        "o311.cookie_header": {
            "zh": "以登录会话写入时须带 X-GridLaw-Intake 请求头",
            "en": "writes with a signed-in session need the X-GridLaw-Intake header",
        },
        "o311.signed_out": {"zh": "已退出登录", "en": "signed out"},
        "o311.bad_body": {
            "zh": "请求内容无法解析:应为表单(multipart/form-data 或 application/x-www-form-urlencoded)",
            "en": "the request body cannot be read: expected a form (multipart/form-data or "
            "application/x-www-form-urlencoded)",
        },
        "expected_iso_datetime": {
            "zh": "ISO 8601 日期或时间,如 2025-03-01 或 2025-03-01T08:00:00+08:00",
            "en": "an ISO 8601 date or time such as 2025-03-01 or 2025-03-01T08:00:00+08:00",
        },
        "expected_area_code": {
            "zh": "区域或网格代码(数字、字母和连字符,最多 32 个)",
            "en": "an area or grid code (digits, letters and hyphens, at most 32)",
        },
        "expected_request_ids": {
            "zh": "以逗号分隔的需求编号(最多 {n} 个)",
            "en": "request ids separated by commas (at most {n})",
        },
        "expected_whole_between": {
            "zh": "{low} 到 {high} 之间的整数",
            "en": "a whole number from {low} to {high}",
        },
        "expected_integer": {"zh": "整数", "en": "a whole number"},
        "expected_text": {"zh": "文本", "en": "text"},
        "expected_file": {"zh": "文件", "en": "a file"},
        "expected_idempotency_key": {
            "zh": "1 到 {n} 个可打印 ASCII 字符(不含空格),如 UUID",
            "en": "1 to {n} printable ASCII characters without spaces, such as a UUID",
        },
        "idempotency_key_reused": {
            "zh": "幂等键 {key} 已用于另一个不同的请求",
            "en": "the idempotency key {key} was already used for a different request",
        },
        "media_too_large": {
            "zh": "照片过大({size} 字节):最多 {limit} MB",
            "en": "photo too large ({size} bytes): at most {limit} MB",
        },
        "media_bad_type": {
            "zh": "照片须为 {allowed} 图像(按内容判断,不看文件名)",
            "en": "the photo must be a {allowed} image (judged by its content, not its name)",
        },
        "media_too_many_pixels": {
            "zh": "照片像素过多:最多 {limit} 像素",
            "en": "photo has too many pixels: at most {limit}",
        },
        "media_bad_name": {"zh": "不是已存储照片的名称", "en": "not a stored photo's name"},
        "api_key_created": {
            "zh": "已为 {username} 创建 API 密钥(只显示这一次,请妥善保存):",
            "en": "API key created for {username} (shown only this once; keep it safe):",
        },
        "api_serving": {
            "zh": "Open311 API:http://{host}:{port}/open311/v2/  文档:/docs  采集页:/intake",
            "en": "Open311 API: http://{host}:{port}/open311/v2/  docs: /docs  intake: /intake",
        },
    }
)

# --- s10b-casefile ---
MESSAGES.update(
    {
        "case_file_done": {
            "zh": "案件 {id}:调解案卷已更新({action})",
            "en": "case {id}: mediation case file updated ({action})",
        },
        "expected_worker": {"zh": "已登记的工作人员编号", "en": "a known worker's code"},
    }
)
