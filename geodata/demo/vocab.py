"""Vocabularies of the demo: names, categories and their mixes, outcomes, sources, dispute
types, description templates, event kinds and service point kinds (all illustrative).

Example
-------
>>> _CATEGORIES[_MEDIATION], len(_DISPUTES)
('mediation', 15)
"""

from __future__ import annotations

import numpy as np


def _words(text: str) -> list[str]:
    return text.split()


# Surnames weighted towards the Wuyi (五邑) region: 梁, 黄, 陈, 李, 谭, 关, 司徒 …
_SURNAMES = np.array(
    _words("梁 黄 陈 李 林 吴 谭 张 关 区 甄 余 冯 何 刘 罗 郑 赵 周 杨 蔡 邓 胡 许 叶 钟 莫 麦")
    + _words("卢 朱 曾 苏 彭 潘 王 孔 简 司徒 欧阳 袁 容 伍 温 汤"),
    dtype=object,
)
_SURNAME_WEIGHTS = np.array(
    [9, 9, 9, 7, 5, 5, 5, 4, 4, 3, 3, 3, 3, 3, 4, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    + [2, 2, 2, 2, 2, 2, 2, 1, 1, 2, 1, 1, 1, 2, 1, 1],
    dtype=float,
)
_GIVEN = np.array(
    list("伟强明华建军志国俊杰文斌辉海锦荣家浩嘉宇子轩永振德坤智丽芳敏静燕玲婷慧娟霞秀红美")
    + list("雪琳欣怡颖晓倩佩凤桂少玉思诗咏锐耀梓晴雅宝添立平安洁兰"),
    dtype=object,
)
_PHONE_PREFIXES = np.array(
    [130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 155, 156, 157, 158, 159]
    + [166, 176, 177, 180, 181, 186, 187, 188, 189, 191, 198, 199]
)

_CATEGORIES = ("consultation", "publicity", "mediation", "legal_aid", "correction", "other")
# Before the seasonal and hotspot boosts on mediation, which bring it to ~3 % (≈30 mediated
# disputes per 1,200 needs, as in the seed article).
_CATEGORY_MIX = np.array([0.55, 0.28, 0.024, 0.022, 0.022, 0.102])
_MEDIATION = _CATEGORIES.index("mediation")
_CORRECTION = _CATEGORIES.index("correction")
# Days allowed to close a need (due date = report date + limit).
_TIME_LIMITS = np.array([7, 7, 30, 30, 30, 15])
# Outcome mix per category over resolved, mediated, mediation_failed, referred, rejected.
_OUTCOMES = ("resolved", "mediated", "mediation_failed", "referred", "rejected")
_OUTCOME_MIX = np.array(
    [
        [0.92, 0.0, 0.0, 0.08, 0.0],  # consultation
        [1.0, 0.0, 0.0, 0.0, 0.0],  # publicity
        [0.0, 0.78, 0.12, 0.10, 0.0],  # mediation
        [0.75, 0.0, 0.0, 0.15, 0.10],  # legal_aid
        [0.95, 0.0, 0.0, 0.05, 0.0],  # correction
        [0.80, 0.0, 0.0, 0.15, 0.05],  # other
    ]
)
_SOURCES = ("diary", "phone", "online", "walk_in")
_SOURCE_MIX = np.array([0.50, 0.20, 0.18, 0.12])
_WEEKEND_FACTOR = np.array([0.2, 0.6, 0.9, 0.4])  # assistants' diaries pause at weekends

# The 15 official categories (names must match the CSV): weight in an urban community and
# case details for descriptions.
_DISPUTES = {
    "婚姻家庭纠纷": (
        18,
        ["夫妻因家庭琐事争吵", "子女赡养老人费用分担争议", "离婚后子女探望权争议"],
    ),
    "邻里纠纷": (24, ["楼上渗水影响楼下住户", "噪音扰民引发争执", "公共楼道堆放杂物争议"]),
    "房屋宅基地纠纷": (5, ["祖屋分割争议", "房屋加建影响采光", "房屋租赁押金退还争议"]),
    "合同纠纷": (6, ["装修合同质量争议", "民间借贷到期未还", "租赁合同提前解约争议"]),
    "生产经营纠纷": (3, ["合伙经营利润分配争议", "商铺经营占道争议"]),
    "损害赔偿纠纷": (6, ["宠物伤人赔偿争议", "高空坠物致损赔偿争议"]),
    "山林土地纠纷": (1, ["菜地使用权争议"]),
    "征地拆迁纠纷": (3, ["旧城改造补偿款分配争议", "拆迁安置面积争议"]),
    "环境污染纠纷": (3, ["餐饮油烟扰民", "店铺噪声扰民"]),
    "劳动争议纠纷": (7, ["拖欠工资", "解除劳动合同经济补偿争议", "工伤待遇争议"]),
    "消费纠纷": (4, ["预付卡退费争议", "网购商品质量争议"]),
    "医疗纠纷": (2, ["诊所诊疗费用争议", "医疗损害赔偿争议"]),
    "道路交通事故纠纷": (4, ["电动车碰撞赔偿争议", "小区内车辆刮擦争议"]),
    "物业纠纷": (10, ["物业管理费收取争议", "小区停车位管理争议", "电梯维修费用分摊争议"]),
    "其它纠纷": (4, ["宗族祠堂使用争议", "家庭财产保管争议"]),
}
_TEMPLATES = {
    "consultation": (
        [
            "居民咨询{}相关法律问题",
            "就{}问题请求法律意见",
            "来电询问{}的处理程序",
            "咨询{}如何维权",
        ],
        _words("劳动合同 工资拖欠 工伤认定 婚姻财产 离婚抚养 遗产继承 遗嘱订立 房屋租赁 房屋买卖")
        + _words("物业管理费 民间借贷 消费维权 交通事故赔偿 社会保险 老人赡养 相邻关系 网络诈骗"),
    ),
    "publicity": (
        ["居民索取{}宣传资料", "要求在网格内开展{}宣讲", "建议在楼道张贴{}宣传海报"],
        _words("民法典 宪法 禁毒 反邪教 防范电信诈骗 反家庭暴力法 消费者权益保护法")
        + _words("未成年人保护法 治安管理处罚法 居民委员会组织法 选举法"),
    ),
    "legal_aid": (
        ["困难家庭申请法律援助({})", "特困户就{}请求法律援助", "低保户{}案件申请援助律师"],
        _words("追索劳动报酬 工伤赔偿 赡养费 抚养费 交通事故赔偿 医疗损害赔偿 离婚诉讼"),
    ),
    "correction": (
        ["社区矫正对象{}", "刑满释放人员安置帮教:{}"],
        _words("定期报到 思想汇报 外出请假咨询 公益活动安排 就业帮扶 心理辅导 技能培训"),
    ),
    "other": (
        ["居民反映{}问题", "网格巡查发现{}"],
        _words("小区治安隐患 违章搭建 占道经营 噪声扰民 出租屋管理 证明开具"),
    ),
}

_FILM_TITLES = _words("禁毒 反邪教 防范电信诈骗 交通安全 未成年人保护 民法典 宪法 扫黑除恶")
_LAW_TOPICS = _words(
    "宪法 民法典 选举法 居民委员会组织法 禁毒 反邪教 综治 反家庭暴力法 消费者权益保护"
)
_CONSULT_TOPICS = _words("劳动争议 婚姻家庭 房屋租赁 遗产继承 消费维权 物业管理 民间借贷")
# kind: (days drawn from, venue (None: out in a grid), attendees range, description, topics)
_EVENT_SPECS = {
    "film_screening": (None, "legal_service_room", (30, 80), "法制宣传片放映:{}", _FILM_TITLES),
    "lecture": ("workday", "legal_service_room", (20, 60), "{}专题讲座", _LAW_TOPICS),
    "legal_school_class": (
        "weekend",
        "legal_school",
        (15, 40),
        "法制学校法律辅导班:{}",
        _LAW_TOPICS,
    ),
    "leaflet_drive": ("weekend", None, (50, 300), "上街发放{}宣传资料", _LAW_TOPICS),
    "consultation_session": ("workday", None, (5, 25), "一格一律师驻点咨询:{}", _CONSULT_TOPICS),
    "mediation_session": ("workday", None, (2, 8), "人民调解员调解会:{}", list(_DISPUTES)),
}
_EVENT_KINDS = tuple(_EVENT_SPECS)
# Events per community over the two years besides the 48 film screenings (Yude: exactly these,
# 200 in all, as in the seed article; elsewhere Poisson around them).
_EVENT_COUNTS = {
    "lecture": 28,
    "legal_school_class": 36,
    "leaflet_drive": 24,
    "consultation_session": 40,
    "mediation_session": 24,
}

_POINT_HOURS = {
    "legal_service_room": "周一至周五 9:00-12:00, 14:30-17:30",
    "legal_aid_station": "周一至周五 8:30-12:00, 14:30-17:30",
    "legal_school": "每月第二、第四个周六 9:30-11:30",
    "library": "周二至周日 9:00-21:00",
}
_POINT_NAMES = {
    "legal_service_room": "法律服务室",
    "legal_aid_station": "法律援助工作站",
    "legal_school": "法制学校",
    "library": "图书室",
}
# The street's own legal aid stations sit in these communities' offices (illustrative).
_STREET_AID_STATIONS = ("440703006101", "440703006104")
