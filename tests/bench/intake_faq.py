"""The FAQ manual of the intake benchmark: varied Chinese entries made from word lists.

Questions combine a subject (小区, 高层住户 …), an issue of a category (水压低, 水费突然变高 …)
and a question pattern; answers join sentences of the category with general ones, so the
entries share words the way a real manual does (most say 水, a tenth say 停水) and queries
match from a handful to nearly all of them.
"""

import random
from dataclasses import dataclass

# category: (issues, keywords, sentences of answers)
TOPICS: dict[str, tuple[list[str], list[str], list[str]]] = {
    "供水": (
        [
            "水压低",
            "水压不稳",
            "水流很小",
            "高峰期没水",
            "楼上没水",
            "热水器打不着火",
            "水管有异响",
        ],
        ["水压", "压力", "水小", "供水", "加压"],
        [
            "早晚用水高峰水压会偏低，属正常现象。",
            "高层用户由二次供水设施加压供水，长时间偏低请登记报修。",
            "请先确认家中总阀是否完全打开，再观察水压变化。",
            "我们会安排供水管理所人员上门检测管网压力。",
            "如整栋楼水压均偏低，请联系物业检查加压泵。",
        ],
    ),
    "停水": (
        ["突然停水", "计划停水", "没收到停水通知", "什么时候来水", "来水后水发浑", "抢修停水"],
        ["停水", "来水", "恢复", "通知", "抢修"],
        [
            "计划停水提前 24 小时在公众号和小区公告栏通知。",
            "抢修停水一般 4 小时内恢复供水，具体以现场为准。",
            "恢复供水后请先放水 3 分钟，待水清后再使用。",
            "停水期间请关闭家中水龙头，避免来水后跑水。",
            "可在公众号“停水公告”栏目查询所在区域停水信息。",
        ],
    ),
    "水质": (
        [
            "水发黄",
            "水有异味",
            "水有白色沉淀",
            "水浑浊",
            "水里有漂浮物",
            "有消毒水味",
            "烧水有水垢",
        ],
        ["水质", "发黄", "浑浊", "异味", "检测"],
        [
            "管网冲洗或水流方向改变时可能短时发黄，放水几分钟即可。",
            "消毒水味来自余氯，符合国家饮用水卫生标准，煮沸后即可消除。",
            "白色沉淀多为钙镁离子形成的水垢，对健康无害。",
            "如放水后仍有异常，我们安排水质检测中心免费取样检测。",
            "检测结果一般 3 个工作日内电话告知。",
        ],
    ),
    "缴费": (
        ["水费突然变高", "缴费方式", "阶梯水价", "欠费停水", "开具发票", "滞纳金", "银行代扣失败"],
        ["水费", "缴费", "交费", "账单", "发票", "阶梯"],
        [
            "居民用水按阶梯水价计算，第一阶梯每立方米 2.8 元。",
            "可通过微信公众号、营业厅、银行代扣等方式缴纳水费。",
            "公众号可查询近 12 个月的账单和缴费记录。",
            "水费明显升高时，请先检查家中是否有暗漏。",
            "电子发票可在缴费后通过公众号下载。",
            "欠费超过 3 个月将发出催缴通知，结清后 24 小时内恢复供水。",
        ],
    ),
    "抄表": (
        [
            "水表不走",
            "水表走得快",
            "估抄水量",
            "读数不对",
            "水表冻裂",
            "表箱损坏",
            "远传水表没数据",
        ],
        ["水表", "抄表", "读数", "校验", "冻裂"],
        [
            "可申请水表校验，校验期间正常用水，结果 1 个工作日内通知。",
            "抄表员每两个月上门抄表一次，请保持表箱周围通畅。",
            "冬季请用保温材料包裹水表，防止冻裂。",
            "远传水表数据异常时，我们会安排人员现场核对读数。",
            "经校验水表确有误差的，多收水费将予以退还。",
        ],
    ),
    "业务办理": (
        ["过户", "新装水表", "销户", "更名", "用水增容", "移表", "一户多人口申请"],
        ["过户", "新装", "开户", "销户", "材料", "办理"],
        [
            "请携带房产证明和身份证原件到营业厅办理。",
            "过户需要双方身份证、房产证明和结清水费的凭证。",
            "新装申请受理后 2 个工作日内安排人员勘察。",
            "部分业务可在公众号“网上营业厅”在线办理。",
            "一户多人口可凭户口簿申请增加阶梯水量。",
        ],
    ),
    "报修": (
        ["管道漏水", "爆管", "阀门坏了", "井盖冒水", "管道老化", "水龙头滴水", "消火栓漏水"],
        ["漏水", "爆管", "报修", "维修", "阀门", "总阀"],
        [
            "请先关闭水表前总阀，避免损失扩大，再拨打热线报修。",
            "爆管等紧急故障我们 30 分钟内安排抢修人员到场。",
            "表后户内管道属用户产权，可由物业或自行请人维修。",
            "维修完成后请在回访电话中对服务进行评价。",
            "维修人员上门时会出示工作证，请注意核实。",
        ],
    ),
    "二次供水": (
        ["水箱清洗", "水质检测报告", "加压泵故障", "泵房噪音大", "二次供水改造", "水箱溢水"],
        ["二次供水", "水箱", "泵房", "加压泵", "清洗"],
        [
            "二次供水设施每半年清洗消毒一次，结果在小区公示。",
            "二次供水水质每季度检测一次，报告可在公众号查询。",
            "加压泵故障时我们会通知物业并安排专业人员维修。",
            "泵房噪音超标可申请检测，我们将安排减振处理。",
        ],
    ),
    "排水": (
        ["下水道堵塞", "污水外溢", "雨水井堵塞", "化粪池满溢", "排水管破裂", "窨井盖缺失"],
        ["排水", "下水道", "堵塞", "污水", "井盖"],
        [
            "小区内排水设施由物业负责，市政管网由排水公司负责疏通。",
            "窨井盖缺失存在安全隐患，我们会在 2 小时内到场设置围挡。",
            "请勿向下水道倾倒油污和杂物，以免造成堵塞。",
            "污水外溢时请远离现场，等待专业人员处理。",
        ],
    ),
    "节水政策": (
        ["节水器具补贴", "阶梯水量调整", "低保户减免", "再生水使用", "超计划用水加价"],
        ["节水", "补贴", "减免", "政策", "阶梯水量"],
        [
            "购买列入目录的节水器具可申请一次性补贴。",
            "低保户凭有效证明每月可减免一定水量的水费。",
            "非居民用户超计划用水部分实行累进加价。",
            "相关政策以水务局最新公布的文件为准。",
        ],
    ),
}
SUBJECTS = [
    "",
    "小区",
    "高层住户",
    "老旧小区",
    "商铺",
    "学校",
    "单元楼",
    "别墅区",
    "写字楼",
    "地下室",
    "新建小区",
    "农贸市场",
    "医院",
    "工地",
]
PATTERNS = [
    "{s}{i}怎么办？",
    "为什么{s}{i}？",
    "{s}{i}多久能处理好？",
    "{s}{i}需要准备什么材料？",
    "{s}{i}应该找谁？",
    "{s}{i}是否收费？",
    "{s}{i}怎样办理？",
    "{s}{i}可以上门处理吗？",
    "夜间{s}{i}怎么处理？",
    "{s}{i}能在网上办理吗？",
    "{s}{i}有什么规定？",
    "{s}{i}的原因是什么？",
]
GENERAL = [
    "如需帮助请拨打 24 小时服务热线 96{n:03d}。",
    "工作人员将在 {n} 小时内与您联系。",
    "可通过微信公众号“蓉城自来水”查询办理进度。",
    "具体以现场勘察结果为准。",
    "{subject}用户可先联系物业配合处理。",
    "节假日正常受理，夜间由值班人员处理紧急情况。",
    "如对处理结果不满意，可申请复核，我们将在 {n} 个工作日内答复。",
]

# (kind, query): what agents type, by kind; the benchmark cycles through them.
QUERIES: dict[str, list[str]] = {
    "word": ["水压", "水费", "停水", "漏水", "水表", "过户", "发票", "爆管", "堵塞", "发黄"],
    "phrase": [
        "为什么我家水压低",
        "停水后多久恢复供水",
        "水费是怎么计算的",
        "自来水发黄怎么办",
        "水表不走怎么办",
        "办理过户需要哪些材料",
        "下水道堵塞找谁",
        "热水器打不着火是不是水压问题",
        "欠费停水了怎么恢复",
        "夜间爆管怎么处理",
    ],
    # Words nearly every entry holds: the database returns a large share of the manual.
    "broad": ["水", "供水", "用水", "自来水", "怎么办"],
    "rare": ["燃气泄漏", "宽带安装", "IC卡", "天气预报"],
}


@dataclass(frozen=True)
class Entry:
    question: str
    answer: str
    category: str
    keywords: str
    is_published: bool


def faq_entries(count: int, *, seed: int = 7) -> list[Entry]:
    """Return ``count`` entries with distinct questions, the same for the same seed."""
    rng = random.Random(seed)
    combinations = [
        (category, subject, issue, pattern)
        for category, (issues, _keywords, _sentences) in TOPICS.items()
        for issue in issues
        for subject in SUBJECTS
        for pattern in PATTERNS
    ]
    if count > len(combinations):
        raise ValueError(f"at most {len(combinations)} FAQ entries can be made, not {count}")
    entries = []
    for category, subject, issue, pattern in rng.sample(combinations, count):
        _issues, keywords, sentences = TOPICS[category]
        answer = rng.sample(sentences, rng.randint(1, min(3, len(sentences))))
        general = rng.choice(GENERAL).format(n=rng.randint(1, 48), subject=subject or "居民")
        answer.insert(rng.randrange(len(answer) + 1), general)
        words = [issue, *rng.sample(keywords, rng.randint(2, 3))]
        entries.append(
            Entry(
                question=pattern.format(s=subject, i=issue),
                answer="".join(answer),
                category=category,
                keywords=" ".join(dict.fromkeys(words)),
                is_published=rng.random() < 0.96,
            )
        )
    return entries
