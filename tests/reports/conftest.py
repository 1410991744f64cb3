"""The hand-checked week and month the weekly and monthly reports are read from."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from followups import services as followups
from followups.models import Accountability, Callback
from reports import services
from reports.models import Report
from reports.periods import month_of
from tests.conftest import SHANGHAI, T0
from tickets import services as tickets
from tickets.choices import Channel, ExtensionCause, State

NEXT_MONDAY = T0.replace(hour=0) + timedelta(days=7)
NOVEMBER = month_of(T0)
OCTOBER = month_of(T0 - timedelta(days=30))
DECEMBER_FIRST = datetime(2026, 12, 1, 0, 5, tzinfo=SHANGHAI)


@pytest.fixture
def week(centre, make_ticket, complaint_type, rules, clock):
    """The week of Monday 16 November: two 12345 transfers (a repair closed and called back
    in time, a consult still open), a complaint answered in time and one never answered,
    a repair on Tuesday and a consult on Wednesday; one repair the week before."""
    clock.move_to(T0 - timedelta(days=7))
    make_ticket(State.CLOSED)
    clock.move_to(T0)
    transfer = make_ticket(State.CLOSED, channel=Channel.GOV_12345, external_ref="GD-2026-0042")
    make_ticket(State.VERIFIED, channel=Channel.GOV_12345, fault_type=centre.billing)
    Callback.objects.create(
        rule=rules["gov-12345"],
        ticket=transfer,
        phone="+8613812345678",
        state=Callback.State.DONE,
        satisfaction=Callback.Satisfaction.SATISFIED,
        callable_at=T0,
        due_at=T0 + timedelta(days=3),
        done_at=T0 + timedelta(days=1),
        created_at=T0,
    )
    answered = make_ticket(State.NEW, fault_type=complaint_type)
    clock.shift(timedelta(minutes=20))
    followups.complaint_first_reply(actor=centre.agent, ticket=answered, text="已联系部门")
    make_ticket(State.NEW, fault_type=complaint_type)  # its first reply never comes
    make_ticket(State.CANCELLED)  # not a valid request: counted nowhere
    clock.move_to(T0 + timedelta(days=1))
    make_ticket(State.DISPATCHED)
    clock.move_to(T0 + timedelta(days=2))
    make_ticket(State.NEW, fault_type=centre.billing)
    clock.move_to(NEXT_MONDAY + timedelta(minutes=5))
    services.reports_produce(now=timezone.now())
    return {"transfer": transfer}


def _callback(rules, ticket, *, done_at, satisfaction) -> Callback:
    return Callback.objects.create(
        rule=rules["hotline-repair"],
        ticket=ticket,
        phone="+8613812345678",
        state=Callback.State.DONE,
        satisfaction=satisfaction,
        callable_at=done_at,
        due_at=done_at + timedelta(hours=8),
        done_at=done_at,
        created_at=done_at,
    )


@pytest.fixture
def month(centre, make_ticket, rules, clock):
    """November at one address of one crew: a leak at 09:00 closed at once; a leak at 10:00
    that arrived within an approved extension but after its first deadline; a leak at 02:00
    dispatched 40 minutes late and never reached. Callbacks: satisfied in November; not
    satisfied in October of a ticket of October, the crew losing two points in November."""
    clock.move_to(T0 - timedelta(days=28))
    october = make_ticket(State.CLOSED)
    clock.move_to(T0)
    on_time = make_ticket(State.CLOSED)
    clock.move_to(T0 + timedelta(hours=1))
    extended = make_ticket(State.ACCEPTED)
    first_due = extended.arrive_due
    extension = tickets.extension_request(
        actor=centre.crew_leader,
        ticket=extended,
        milestone="arrive",
        requested_due=first_due + timedelta(hours=2),
        cause=ExtensionCause.OBJECTIVE,
        reason="道路封闭",
    )
    tickets.extension_decide(actor=centre.crew_leader, extension=extension, approve=True)
    clock.move_to(first_due + timedelta(minutes=30))
    tickets.ticket_arrive(actor=centre.crew_leader, ticket=extended)
    clock.move_to(T0.replace(hour=2) + timedelta(days=1))
    night = make_ticket(State.NEW)
    clock.shift(timedelta(minutes=40))
    tickets.ticket_verify(actor=centre.dispatcher, ticket=night)
    tickets.ticket_dispatch(actor=centre.dispatcher, ticket=night, crew=centre.crew)
    _callback(rules, on_time, done_at=T0 + timedelta(days=4), satisfaction="satisfied")
    unsatisfied = _callback(
        rules, october, done_at=T0 - timedelta(days=27), satisfaction="unsatisfied"
    )
    Accountability.objects.create(
        callback=unsatisfied,
        ticket=october,
        crew=centre.crew,
        deduction_points=Decimal("2.0"),
        reason="未按时到场",
        recorded_by=centre.supervisor,
        recorded_at=T0 + timedelta(days=4),
    )
    Report.objects.create(
        kind=Report.Kind.MONTHLY,
        period_start=OCTOBER.start,
        period_end=OCTOBER.end,
        generated_at=OCTOBER.end,
        targets={"satisfaction": 95.0},
    )
    clock.move_to(DECEMBER_FIRST)
    services.reports_produce(now=timezone.now())
    return Report.objects.get(kind="monthly", period_start=NOVEMBER.start)
