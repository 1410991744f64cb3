"""Demo outages: one in force, one coming, one over, and an incident from the open burst
main with its plan; each told to the demo's customers."""

from datetime import datetime, timedelta

import time_machine

from callcentre.models import Caller, CallerAddress
from dispatch.models import Community, District
from outages import services
from outages.models import Outage, PlanStep
from staffing.models import User
from tickets.choices import FINAL_STATES
from tickets.models import FaultType, Ticket


def outages_demo(*, now: datetime) -> None:
    if Outage.objects.exists():
        return
    dispatcher = User.objects.get(username="dispatcher")
    supervisor = User.objects.get(username="supervisor")
    in_force_at = Community.objects.get(name="锦华苑")
    # The hospital has its supply here: it is on the list to call in person.
    hospital = Caller.objects.filter(customer_type=Caller.CustomerType.KEY_ACCOUNT).first()
    if hospital is not None:
        CallerAddress.objects.get_or_create(
            caller=hospital,
            community=in_force_at,
            address="锦华路 1 号",
            building="1",
            unit="",
            room="",
            defaults={"last_used_at": now - timedelta(days=30)},
        )
    _published(
        at=now - timedelta(days=2),
        actor=dispatcher,
        supply=Outage.Supply.WATER,
        title="锦华路 DN300 供水主管更换",
        reason="主管老化渗漏，计划更换 120 米",
        customer_text="请提前储水；临时供水车停在小区北门，23:00 前恢复供水。",
        starts_at=now - timedelta(hours=2),
        expected_end_at=now + timedelta(hours=6),
        communities=[in_force_at],
    )
    _published(
        at=now - timedelta(hours=1),
        actor=supervisor,
        supply=Outage.Supply.WATER,
        title="东湖花园二次供水水箱清洗",
        reason="二次供水水箱半年清洗消毒",
        customer_text="清洗期间 3、5、7 栋停水，请提前储水。",
        starts_at=now + timedelta(hours=20),
        expected_end_at=now + timedelta(hours=26),
        buildings=[(Community.objects.get(name="东湖花园"), name) for name in ("3", "5", "7")],
        late_reason="水质检测结果提前，需尽快清洗",
    )
    over = _published(
        at=now - timedelta(days=9),
        actor=dispatcher,
        supply=Outage.Supply.WATER,
        title="城西片区管网碰口施工",
        reason="新建小区接入管网碰口",
        customer_text="施工期间城西片区水压偏低。",
        starts_at=now - timedelta(days=7),
        expected_end_at=now - timedelta(days=7) + timedelta(hours=8),
        districts=[District.objects.get(code="west")],
    )
    with time_machine.travel(over.expected_end_at - timedelta(minutes=30), tick=False):
        services.outage_restore(actor=dispatcher, outage=over)
    _incident(now=now, dispatcher=dispatcher)
    for outage in Outage.objects.all():
        for change in outage.changes.all():
            services.outage_notify(change=change)


# The emergency plan (应急预案) of a burst main and of a large-area outage, and what every
# incident's plan holds.
PLAN = [
    ("burst-main", 1, "关闭上游阀门，控制漏水范围"),
    ("burst-main", 2, "通知交警设置围挡、疏导交通"),
    ("burst-main", 3, "安排临时供水车到受影响小区"),
    ("area-outage", 1, "确认停水范围，排查原因"),
    ("area-outage", 2, "安排临时供水车到受影响小区"),
    (None, 8, "向分管领导报告"),
    (None, 9, "恢复供水后核实水质"),
]


def _incident(*, now: datetime, dispatcher) -> None:
    """The plan in the configuration, and an incident declared from the open burst main."""
    types = {
        fault.code: fault
        for fault in FaultType.objects.filter(code__in=["burst-main", "area-outage"])
    }
    PlanStep.objects.bulk_create(
        [
            PlanStep(fault_type=types.get(code) if code else None, order=order, text=text)
            for code, order, text in PLAN
            if code is None or code in types
        ]
    )
    burst = (
        Ticket.objects.filter(fault_type__code="burst-main", community__isnull=False)
        .exclude(state__in=FINAL_STATES)
        .order_by("-received_at")
        .first()
    )
    if burst is None:
        return
    with time_machine.travel(burst.received_at + timedelta(minutes=8), tick=False):
        incident = services.incident_declare(
            actor=dispatcher,
            ticket=burst,
            expected_end_at=max(now, burst.received_at) + timedelta(hours=4),
            customer_text="附近供水主管爆裂，正在抢修，预计 4 小时内恢复供水；临时供水车已派出。",
        )
        services.incident_step_tick(actor=dispatcher, step=incident.steps.first())


def _published(*, at: datetime, actor, **fields) -> Outage:
    with time_machine.travel(at, tick=False):
        return services.outage_publish(actor=actor, **fields)
