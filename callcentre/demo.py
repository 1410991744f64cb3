"""Demo data: a water utility's centre in one city, with a few days of its history.

The history is replayed through the real services at the times it happened, so every
ticket, deadline and event row is exactly what the product itself would have written.
"""

import random
from datetime import datetime, timedelta
from decimal import Decimal

import time_machine
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from callcentre.models import FaqEntry, Open311Partner, Open311Service
from callcentre.open311.services import partner_issue
from callcentre.services import intake_ticket_create
from dispatch.models import Community, Crew, CrewMembership, Department, District
from followups.demo import followups_demo
from followups.workdays import official_year_known
from outages.demo import outages_demo
from reports.models import Report
from reports.services import PERIOD_OF, report_generate, reports_produce
from staffing.demo import staffing_demo
from staffing.models import User
from staffing.roles import Role
from staffing.services import roles_sync, user_create
from tickets import services
from tickets.choices import Category, Channel, ExtensionCause, Grade, Milestone
from tickets.models import FaultType, Skill, Ticket
from tickets.services import CostLine, PartLine

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 - demo mode only, shown on the sign-in page

SKILLS = [("pipe", "管道维修"), ("meter", "水表维修"), ("valve", "阀门与消火栓")]

# code, name, category, default grade, skill
FAULT_TYPES = [
    ("burst-main", "爆管（喷射影响交通）", Category.REPAIR, Grade.EMERGENCY, "pipe"),
    ("area-outage", "大面积停水", Category.REPAIR, Grade.EMERGENCY, "pipe"),
    ("household-leak", "单户漏水", Category.REPAIR, Grade.GENERAL, "pipe"),
    ("low-pressure", "水压偏低", Category.REPAIR, Grade.GENERAL, "pipe"),
    ("household-outage", "单户无水", Category.REPAIR, Grade.GENERAL, "pipe"),
    ("meter-fault", "水表故障", Category.REPAIR, Grade.GENERAL, "meter"),
    ("valve-fault", "阀门损坏", Category.REPAIR, Grade.GENERAL, "valve"),
    ("water-quality", "水质浑浊", Category.COMPLAINT, Grade.GENERAL, None),
    ("service-complaint", "服务态度投诉", Category.COMPLAINT, Grade.GENERAL, None),
    ("billing-question", "水费咨询", Category.CONSULT, Grade.CONSULT, None),
    ("policy-question", "用水政策咨询", Category.CONSULT, Grade.CONSULT, None),
    ("quality-cycle", "水质检测周期咨询", Category.CONSULT, Grade.CONSULT, None),
    ("suggestion", "意见建议", Category.SUGGESTION, Grade.CONSULT, None),
    ("new-connection", "新装接水申请", Category.APPLICATION, Grade.CONSULT, None),
    ("account-transfer", "过户申请", Category.APPLICATION, Grade.CONSULT, None),
]

# District code, name, centre (lat, lng), communities.
DISTRICTS = [
    ("east", "城东片区", (30.6598, 104.1032), ["锦华苑", "东湖花园", "龙舟小区", "望江名苑"]),
    ("west", "城西片区", (30.6712, 104.0121), ["青羊新村", "金沙花园", "光华小区", "草堂院"]),
    ("south", "城南片区", (30.6021, 104.0667), ["南湖国际", "桐梓林小区", "天府家园", "棕北小区"]),
    (
        "north",
        "城北片区",
        (30.7105, 104.0803),
        ["驷马桥小区", "北湖春天", "火车北站宿舍", "荷花池小区"],
    ),
]

# Crew code, name, districts, skills, largest pipe (DN), leader, members.
CREWS = [
    ("east-1", "城东维修一队", ["east"], ["pipe", "valve"], 800, "crew_east1", ["crew_east1b"]),
    ("east-2", "城东维修二队", ["east", "north"], ["pipe", "meter"], 400, "crew_east2", []),
    ("west-1", "城西维修队", ["west"], ["pipe", "meter", "valve"], 600, "crew_west", []),
    ("south-1", "城南维修队", ["south"], ["pipe", "valve"], 1000, "crew_south", []),
    ("north-1", "城北维修队", ["north"], ["pipe", "meter"], 600, "crew_north", []),
]

# Department code, name, staff, time limit in hours (DOMAIN.md: no water and meter testing
# 24 h; billing checks, sampling, inspection and engineering progress 1 working day).
# Each with its time limit: hours, or working days (the water company's rules: no water
# and low pressure within 24 h; billing, sampling, inspection, engineering within 1 working day).
DEPARTMENTS = [
    ("network", "管网部", "dept_network", 24, None),
    ("lab", "水质检测中心", "dept_lab", 24, 1),
    ("billing", "抄收", "dept_billing", 24, 1),
    ("inspection", "稽查部", "dept_inspection", 24, 1),
    ("engineering", "工程公司", "dept_engineering", 24, 1),
]
# What crews report on completing a repair: measures, parts fitted, cost lines.
REPAIR_REPORTS = [
    {
        "measures": "更换管段并试压",
        "part_lines": [
            PartLine("DN25 PPR 管", Decimal("1.5"), "m"),
            PartLine("直通接头", Decimal(2), "个"),
        ],
        "cost_lines": [CostLine("材料费", Decimal("45.00")), CostLine("人工费", Decimal("120.00"))],
    },
    {
        "measures": "更换阀门密封件",
        "part_lines": [PartLine("阀门密封圈", Decimal(2), "个")],
        "cost_lines": [CostLine("材料费", Decimal("12.00"))],
    },
    {
        "measures": "更换水表",
        "part_lines": [PartLine("水表 DN20", Decimal(1), "块")],
        "cost_lines": [CostLine("水表", Decimal("360.00"))],
    },
    {"measures": "紧固接头，恢复供水", "cost_lines": [CostLine("人工费", Decimal("0"))]},
]
# The crew that sits the night out: off duty, so the board shows what that means.
OFF_DUTY_CREWS = {"north-1"}

# username, role, family name, given name
STAFF = [
    ("admin", Role.ADMIN, "系统", "管理员"),
    ("supervisor", Role.SUPERVISOR, "王", "主管"),
    ("leader_day", Role.SHIFT_LEADER, "李", "白班长"),
    ("leader_night", Role.SHIFT_LEADER, "赵", "夜班长"),
    ("dispatcher", Role.DISPATCHER, "陈", "调度"),
    ("dispatcher2", Role.DISPATCHER, "周", "调度"),
    *[(f"agent{n}", Role.AGENT, "坐席", f"{n:02d}") for n in range(1, 9)],
]

STREETS = ["人民南路", "蜀都大道", "建设路", "青华路", "科华北路", "府青路", "光华大道"]
# question, answer, category, keywords: a few pages of the FAQ manual.
FAQ = [
    (
        "为什么我家水压低？",
        "早晚用水高峰水压会偏低；高层用户如长时间偏低，可登记报修，我们安排人员上门检测。",
        "供水",
        "水压 压力 水小",
    ),
    (
        "停水后多久恢复供水？",
        "计划停水提前 24 小时公告；抢修停水一般 4 小时内恢复，具体以现场为准。",
        "供水",
        "停水 来水 恢复",
    ),
    (
        "水费是怎么计算的？",
        "居民用水按阶梯水价计算，第一阶梯每立方米 2.8 元，详见水费单背面说明。",
        "缴费",
        "水费 阶梯 价格",
    ),
    (
        "怎样查询和缴纳水费？",
        "可通过微信公众号、营业厅、银行代扣缴费；公众号可查询近 12 个月账单。",
        "缴费",
        "缴费 交费 账单",
    ),
    (
        "自来水发黄怎么办？",
        "先放水 3 至 5 分钟；仍发黄请报修，我们安排水质检测中心取样。",
        "水质",
        "发黄 浑浊 水质",
    ),
    (
        "二次供水多久检测一次？",
        "二次供水设施每季度检测一次，检测报告在公众号公示。",
        "水质",
        "检测 报告 二次供水",
    ),
    (
        "水表不走或走得快怎么办？",
        "可申请水表校验；校验期间正常用水，结果 1 个工作日内通知。",
        "抄表",
        "水表 校验 不走",
    ),
    (
        "办理过户需要哪些材料？",
        "房产证明、双方身份证、结清水费的凭证，到营业厅办理。",
        "业务",
        "过户 材料 办理",
    ),
    (
        "新装水表怎么申请？",
        "携带房产证明和身份证到营业厅申请，2 个工作日内安排勘察。",
        "业务",
        "新装 接水 开户",
    ),
    ("家里漏水要先做什么？", "先关闭水表前总阀，避免损失扩大，再报修。", "报修", "漏水 关阀 总阀"),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
DESCRIPTIONS = {
    "burst-main": ["路口主管爆裂，水柱喷到路面，车辆绕行", "人行道下水管爆裂，路面积水严重"],
    "area-outage": ["整个小区停水，已持续一小时", "附近几栋楼都没水"],
    "household-leak": ["厨房水管接头漏水", "卫生间墙内渗水，楼下反映天花板滴水", "水表前阀门漏水"],
    "low-pressure": ["高层用户水压很低，热水器无法启动", "早晚高峰水压低"],
    "household-outage": ["家中突然无水，邻居有水", "水龙头出水很小后完全停止"],
    "meter-fault": ["水表不走字", "水表玻璃破裂"],
    "valve-fault": ["单元总阀关不严", "消火栓漏水"],
    "water-quality": ["自来水发黄有异味", "水中有白色悬浮物"],
    "service-complaint": ["维修人员未按约定时间上门", "维修后现场未清理"],
    "billing-question": ["本月水费比平时高很多，想核对读数", "阶梯水价怎么计算"],
    "policy-question": ["一户多人口如何申请调整阶梯水量", "过户需要哪些材料"],
    "quality-cycle": ["小区二次供水多久检测一次", "水质检测报告在哪里查"],
    "suggestion": ["建议停水通知提前短信告知", "建议公众号增加进度查询"],
    "new-connection": ["新房申请安装水表并接水", "商铺申请新装 DN25 水表"],
    "account-transfer": ["房屋已过户，申请变更用水户名", "二手房交易后办理水表过户"],
}


def demo_logins() -> list[tuple[str, str]]:
    """Return one demo sign-in per role, for the sign-in page and the run command."""
    return [
        (_("Administrator"), "admin"),
        (_("Supervisor"), "supervisor"),
        (_("Shift leader"), "leader_day"),
        (_("Dispatcher"), "dispatcher"),
        (_("Seat agent"), "agent1"),
        (_("Crew leader"), "crew_east1"),
        (_("Crew member"), "crew_east1b"),
        (_("Department staff"), "dept_billing"),
    ]


# The demo's Open311 partner (the WeChat account) files requests with this key.
DEMO_OPEN311_KEY = "demo-wechat-open311-key"


class DemoBuilder:
    def __init__(self, *, seed: int, days: int, per_day: int, now: datetime) -> None:
        self.random = random.Random(seed)
        self.days = days
        self.per_day = per_day
        self.now = now
        self.known_callers: list[tuple[str, str]] = []

    @transaction.atomic
    def build_configuration(self) -> None:
        roles_sync()
        skills = {
            code: Skill.objects.get_or_create(code=code, defaults={"name": name})[0]
            for code, name in SKILLS
        }
        for order, (code, name, category, grade, skill) in enumerate(FAULT_TYPES):
            FaultType.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "category": category,
                    "default_grade": grade,
                    "skill": skills.get(skill),
                    "sort_order": order,
                },
            )
        for order, fault_type in enumerate(FaultType.objects.filter(is_active=True)):
            Open311Service.objects.get_or_create(
                code=fault_type.code,
                defaults={
                    "fault_type": fault_type,
                    "name": fault_type.name,
                    "group": fault_type.get_category_display(),
                    "sort_order": order,
                },
            )
        if not Open311Partner.objects.exists():
            partner_issue(name="微信公众号", channel=Channel.WECHAT, key=DEMO_OPEN311_KEY)
        for code, name, (lat, lng), communities in DISTRICTS:
            district, _ = District.objects.get_or_create(code=code, defaults={"name": name})
            for n, community in enumerate(communities):
                Community.objects.get_or_create(
                    district=district,
                    name=community,
                    defaults={
                        "latitude": Decimal(str(round(lat + 0.004 * (n - 1.5), 6))),
                        "longitude": Decimal(str(round(lng + 0.005 * (n % 2), 6))),
                    },
                )
        for username, role, family, given in STAFF:
            self._user(username, role, family, given)
        for n in range(1, 9):  # agent1 sits at extension 8001, and so on
            User.objects.filter(username=f"agent{n}").update(extension=f"800{n}")
        for question, answer, category, keywords in FAQ:
            FaqEntry.objects.get_or_create(
                question=question,
                defaults={"answer": answer, "category": category, "keywords": keywords},
            )
        for n, (code, name, districts, crew_skills, diameter, leader, members) in enumerate(CREWS):
            # Last seen near the first community of its first district.
            home = Community.objects.filter(district__code=districts[0]).first()
            crew, _ = Crew.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "max_pipe_diameter": diameter,
                    "is_on_duty": code not in OFF_DUTY_CREWS,
                    "duty_changed_at": self.now,
                    "last_latitude": home.latitude + Decimal("0.004") if home else None,
                    "last_longitude": home.longitude - Decimal("0.003") if home else None,
                    "last_position_at": self.now if home else None,
                },
            )
            crew.districts.set(District.objects.filter(code__in=districts))
            crew.skills.set([skills[s] for s in crew_skills])
            for m, username in enumerate([leader, *members]):
                user = self._user(
                    username, Role.CREW_MEMBER, name, "负责人" if username == leader else "队员"
                )
                if not user.phone:
                    user.phone = f"+86139000{n:02d}{m:03d}"
                    user.save(update_fields=["phone"])
                CrewMembership.objects.get_or_create(
                    crew=crew, user=user, defaults={"is_leader": username == leader}
                )
        # The demo replays the last days: a year the calendar package does not know yet
        # would refuse working-day limits until someone entered its notice.
        calendar_known = official_year_known(timezone.localdate().year)
        for code, name, username, hours, working_days in DEPARTMENTS:
            department, _ = Department.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "time_limit_hours": hours,
                    "time_limit_working_days": working_days if calendar_known else None,
                },
            )
            department.members.add(self._user(username, Role.DEPARTMENT, name, "专员"))

    def _user(self, username: str, role: Role, family: str, given: str) -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                first_name=given,
                last_name=family,
            )
            if role == Role.ADMIN:
                user.is_superuser = True
                user.save(update_fields=["is_superuser"])
        return user

    def build_history(self) -> int:
        """Replay ``days`` days of calls up to now; return how many tickets were made."""
        if Ticket.objects.exists():
            return 0
        start = self.now - timedelta(days=self.days)
        moments = sorted(
            start + timedelta(seconds=self.random.uniform(0, self.days * 86400))
            for _ in range(self.days * self.per_day)
        )
        for at in moments:
            self._ticket_life(at)
        self._showcase()
        followups_demo(now=self.now, since=start, rng=self.random)
        # Seats, rosters, weeks of switch calls and their forecasts, the floor now.
        staffing_demo(now=self.now, rng=self.random)
        # Outage notices in force, coming and over, their customers told.
        outages_demo(now=self.now)
        # The alerts of the last day, as the minute-by-minute sweep would have raised them.
        services.alerts_sweep(now=self.now)
        # The shift and daily reports of the days replayed, as beat would have made them.
        reports_produce(now=self.now)
        # And the last week's and month's, made when each ended, however long ago that was.
        for kind in (Report.Kind.WEEKLY, Report.Kind.MONTHLY):
            running = PERIOD_OF[kind](self.now)
            last = PERIOD_OF[kind](running.start - timedelta(microseconds=1))
            report_generate(kind=kind, period=last, now=self.now)
        return Ticket.objects.count()

    def _caller(self) -> tuple[str, str]:
        # One call in five is from someone who called before, so the console has history.
        if self.known_callers and self.random.random() < 0.2:
            return self.random.choice(self.known_callers)
        name = self.random.choice(SURNAMES) + self.random.choice(["先生", "女士"])
        phone = (
            "1"
            + self.random.choice(["38", "39", "58", "86", "37"])
            + "".join(self.random.choice("0123456789") for _ in range(8))
        )
        self.known_callers.append((name, phone))
        return name, phone

    def _new_ticket(
        self, at: datetime, fault_code: str | None = None, district: str | None = None
    ) -> Ticket:
        fault = FaultType.objects.get(
            code=fault_code
            or self.random.choices(
                [f[0] for f in FAULT_TYPES],
                weights=[1, 1, 8, 5, 4, 3, 2, 2, 1, 4, 2, 1, 1, 1, 1],
            )[0]
        )
        communities = Community.objects.select_related("district")
        if district:
            communities = communities.filter(district__code=district)
        community = self.random.choice(list(communities))
        name, phone = self._caller()
        agent = User.objects.get(username=f"agent{self.random.randint(1, 8)}")
        road = fault.code == "burst-main"
        with time_machine.travel(at, tick=False):
            return intake_ticket_create(
                agent=agent,
                channel=self.random.choices(
                    [Channel.HOTLINE, Channel.WECHAT, Channel.GOV_12345, Channel.APP],
                    weights=[12, 3, 2, 1],
                )[0],
                category=fault.category,
                fault_type=fault,
                description=self.random.choice(DESCRIPTIONS[fault.code]),
                caller_name=name,
                caller_phone=phone,
                address=f"{self.random.choice(STREETS)}{self.random.randint(1, 300)}号"
                + ("路口" if road else ""),
                building="" if road else str(self.random.randint(1, 24)),
                unit="" if road else str(self.random.randint(1, 4)),
                room="" if road else f"{self.random.randint(1, 30)}0{self.random.randint(1, 4)}",
                community=community,
            )

    def _step(self, at: datetime, service, **kwargs) -> datetime | None:
        """Run ``service`` at ``at`` if that moment has already come; return it, else None."""
        if at > self.now:
            return None
        with time_machine.travel(at, tick=False):
            service(**kwargs)
        return at

    def _later(self, at: datetime, low: int, high: int) -> datetime:
        return at + timedelta(minutes=self.random.randint(low, high))

    def _ticket_life(self, at: datetime) -> None:
        ticket = self._new_ticket(at)
        dispatcher = User.objects.get(username=self.random.choice(["dispatcher", "dispatcher2"]))
        at = self._step(
            self._later(at, 1, 6), services.ticket_verify, actor=dispatcher, ticket=ticket
        )
        if at is None:
            return
        if ticket.grade == Grade.CONSULT or ticket.category == Category.COMPLAINT:
            self._referral(ticket, at, dispatcher)
            return
        crew = self._crew_for(ticket)
        at = self._step(
            self._later(at, 2, 25),
            services.ticket_dispatch,
            actor=dispatcher,
            ticket=ticket,
            crew=crew,
        )
        if at is None:
            return
        leader = crew.memberships.get(is_leader=True).user
        at = self._step(self._later(at, 1, 16), services.ticket_accept, actor=leader, ticket=ticket)
        if at is None:
            return
        at = self._step(
            self._later(at, 15, 120), services.ticket_arrive, actor=leader, ticket=ticket
        )
        if at is None:
            return
        if ticket.grade == Grade.EMERGENCY:
            at = self._step(
                self._later(at, 10, 80),
                services.ticket_mitigate,
                actor=leader,
                ticket=ticket,
                note="关闭上游阀门，已止水",
            )
            if at is None:
                return
        at = self._step(
            self._later(at, 30, 400),
            services.ticket_resolve,
            actor=leader,
            ticket=ticket,
            **self.random.choice(REPAIR_REPORTS),
        )
        if at is None:
            return
        self._step(self._later(at, 10, 110), services.ticket_close, actor=dispatcher, ticket=ticket)

    def _referral(self, ticket: Ticket, at: datetime, dispatcher: User) -> None:
        code = {
            "water-quality": "lab",
            "service-complaint": "inspection",
            "new-connection": "engineering",
        }.get(ticket.fault_type.code, "billing")
        department = Department.objects.get(code=code)
        at = self._step(
            self._later(at, 5, 40),
            services.ticket_refer,
            actor=dispatcher,
            ticket=ticket,
            department=department,
        )
        if at is None:
            return
        staff = department.members.first()
        at = self._step(
            self._later(at, 30, 600),
            services.ticket_answer,
            actor=staff,
            ticket=ticket,
            answer="已电话联系用户并答复，用户表示理解",
        )
        if at is None:
            return
        self._step(self._later(at, 10, 120), services.ticket_close, actor=dispatcher, ticket=ticket)

    def _crew_for(self, ticket: Ticket) -> Crew:
        crews = list(Crew.objects.filter(districts=ticket.district_id, is_active=True))
        return self.random.choice(crews or list(Crew.objects.all()))

    def _showcase(self) -> None:
        """Leave the last hour with tickets in every state, to show each screen at work."""
        now = self.now
        dispatcher = User.objects.get(username="dispatcher")
        supervisor = User.objects.get(username="supervisor")
        crew = Crew.objects.get(code="east-1")
        leader = User.objects.get(username="crew_east1")

        self._new_ticket(now - timedelta(minutes=3), "household-leak")
        self._new_ticket(now - timedelta(minutes=8), "burst-main")
        waiting = self._new_ticket(now - timedelta(minutes=40), "low-pressure")
        self._step(
            now - timedelta(minutes=37), services.ticket_verify, actor=dispatcher, ticket=waiting
        )

        burst = self._new_ticket(now - timedelta(minutes=50), "burst-main", "east")
        for minutes, service, kwargs in [
            (48, services.ticket_verify, {}),
            (45, services.ticket_dispatch, {"crew": crew}),
        ]:
            self._step(
                now - timedelta(minutes=minutes), service, actor=dispatcher, ticket=burst, **kwargs
            )
        for minutes, service, kwargs in [
            (42, services.ticket_accept, {}),
            (20, services.ticket_arrive, {}),
        ]:
            self._step(
                now - timedelta(minutes=minutes), service, actor=leader, ticket=burst, **kwargs
            )
        with time_machine.travel(now - timedelta(minutes=15), tick=False):
            services.extension_request(
                actor=leader,
                ticket=burst,
                milestone=Milestone.MITIGATE,
                requested_due=burst.mitigate_due + timedelta(hours=1),
                cause=ExtensionCause.OBJECTIVE,
                reason="上游阀门锈死，需调用备用阀门钥匙",
            )
        child = self._new_ticket(now - timedelta(minutes=30), "burst-main", "east")
        self._step(
            now - timedelta(minutes=28),
            services.ticket_merge,
            actor=dispatcher,
            ticket=child,
            parent=burst,
            reason="同一爆管点的重复来电",
        )
        mistaken = self._new_ticket(now - timedelta(minutes=25), "household-leak")
        self._step(
            now - timedelta(minutes=20),
            services.ticket_cancel,
            actor=dispatcher,
            ticket=mistaken,
            reason="用户来电确认已自行修好",
        )
        self._advance(now, "household-leak", crew, leader, ["dispatch"], started=22)
        self._advance(now, "meter-fault", crew, leader, ["dispatch", "accept"], started=70)
        self._advance(
            now,
            "area-outage",
            crew,
            leader,
            ["dispatch", "accept", "arrive", "mitigate"],
            started=95,
        )
        question = self._new_ticket(now - timedelta(minutes=45), "billing-question")
        self._step(
            now - timedelta(minutes=43), services.ticket_verify, actor=dispatcher, ticket=question
        )
        self._step(
            now - timedelta(minutes=40),
            services.ticket_refer,
            actor=dispatcher,
            ticket=question,
            department=Department.objects.get(code="billing"),
        )
        raised = self._new_ticket(now - timedelta(minutes=35), "household-outage")
        self._step(
            now - timedelta(minutes=33),
            services.ticket_reclassify,
            actor=supervisor,
            ticket=raised,
            grade=Grade.EMERGENCY,
            reason="整栋楼无水，按紧急处理",
        )

    def _advance(self, now, fault_code, crew, leader, steps, *, started: int) -> None:
        """Create a ticket ``started`` minutes ago and take it through ``steps``, a few
        minutes apart."""
        dispatcher = User.objects.get(username="dispatcher")
        ticket = self._new_ticket(now - timedelta(minutes=started), fault_code, "east")
        at = now - timedelta(minutes=started - 2)
        self._step(at, services.ticket_verify, actor=dispatcher, ticket=ticket)
        for step in steps:
            at += timedelta(minutes=self.random.randint(3, 12))
            if step == "dispatch":
                self._step(at, services.ticket_dispatch, actor=dispatcher, ticket=ticket, crew=crew)
            elif step == "mitigate":
                self._step(
                    at, services.ticket_mitigate, actor=leader, ticket=ticket, note="已关阀止水"
                )
            else:
                self._step(at, getattr(services, f"ticket_{step}"), actor=leader, ticket=ticket)
