"""The demo's follow-ups: key accounts, the callbacks the rules schedule over the replayed
days, and a morning of callbacks already made, each through the real services."""

import random
from datetime import datetime, timedelta
from itertools import cycle

import time_machine

from callcentre.models import Caller
from followups.models import Callback, CallbackRule
from followups.services import (
    CallbackReport,
    account_callbacks_schedule,
    callback_record,
    callbacks_schedule,
)
from staffing.models import User
from tickets.models import FaultType

# phone, name, kind: known for almost half a year, so their callback comes up now.
KEY_ACCOUNTS = [
    ("+8613880000001", "市第一人民医院", Caller.CustomerType.KEY_ACCOUNT),
    ("+8613880000002", "锦江区实验小学", Caller.CustomerType.SPECIAL),
    ("+8613880000003", "蜀都大酒店", Caller.CustomerType.KEY_ACCOUNT),
]
_YES = {
    "department_contacted": "yes",
    "came_on_site": "yes",
    "polite": "yes",
    "on_time": "yes",
    "listened": "yes",
    "explained": "yes",
    "no_improper_demands": "yes",
    "site_tidy": "yes",
    "water_quality_ok": "na",
    "pressure_ok": "yes",
    "date_kept": "yes",
    "progress_ok": "yes",
    "workmanship_ok": "yes",
    "attitude_ok": "yes",
}
OUTCOMES = [
    CallbackReport(reached=True, answers=_YES, result="已修复", satisfaction="satisfied"),
    CallbackReport(reached=True, answers=_YES, result="已修复", satisfaction="satisfied"),
    CallbackReport(reached=False, note="无人接听"),
    CallbackReport(
        reached=True,
        answers={**_YES, "on_time": "no"},
        result="已修复",
        satisfaction="basically",
        comments="维修人员晚到了半小时",
    ),
    CallbackReport(reached=True, answers=_YES, result="已修复", satisfaction="satisfied"),
    CallbackReport(
        reached=True,
        answers={**_YES, "site_tidy": "no", "explained": "no"},
        result="仍有渗水",
        satisfaction="unsatisfied",
        comments="修完第二天又开始渗水，现场也没有清理",
    ),
]


def followups_demo(*, now: datetime, since: datetime, rng: random.Random) -> None:
    complaint_type = FaultType.objects.filter(code="service-complaint").first()
    CallbackRule.objects.filter(complaint_fault_type=None).update(
        complaint_fault_type=complaint_type
    )
    for phone, name, kind in KEY_ACCOUNTS:
        account, _ = Caller.objects.get_or_create(
            phone=phone, defaults={"name": name, "customer_type": kind}
        )
        Caller.objects.filter(pk=account.pk).update(created_at=now - timedelta(days=175))
    with time_machine.travel(now, tick=False):
        callbacks_schedule(now=now, since=since)
        account_callbacks_schedule(now=now)
    agents = list(User.objects.filter(username__startswith="agent").order_by("username"))
    ready = Callback.objects.filter(
        state=Callback.State.PENDING, callable_at__lte=now, ticket__isnull=False
    ).order_by("due_at", "id")
    at = now - timedelta(hours=2)
    for callback, report in zip(ready[: len(OUTCOMES) * 2], cycle(OUTCOMES), strict=False):
        at += timedelta(minutes=rng.randint(4, 9))
        if at < callback.callable_at:
            continue
        with time_machine.travel(at, tick=False):
            callback_record(actor=rng.choice(agents), callback=callback, report=report)
