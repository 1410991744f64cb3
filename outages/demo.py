"""Demo outages: one in force, one coming, one over; told to the demo's customers."""

from datetime import datetime, timedelta

import time_machine

from callcentre.models import Caller, CallerAddress
from dispatch.models import Community, District
from outages import services
from outages.models import Outage
from staffing.models import User


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
    for outage in Outage.objects.all():
        for change in outage.changes.all():
            services.outage_notify(change=change)


def _published(*, at: datetime, actor, **fields) -> Outage:
    with time_machine.travel(at, tick=False):
        return services.outage_publish(actor=actor, **fields)
