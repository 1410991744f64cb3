"""The callback rules: who is called back, from when and by when, and the batch that does it."""

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from callcentre.models import Caller
from followups.models import Callback, CallbackRule, CallbackSampling
from followups.services import (
    account_callbacks_schedule,
    add_months,
    callback_record,
    callbacks_schedule,
)
from tests.conftest import SHANGHAI
from tests.followups.helpers import satisfied
from tickets import services as ticket_services
from tickets.choices import Category, Channel, Grade

pytestmark = pytest.mark.django_db


def _local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def _callback_of(ticket) -> Callback:
    return Callback.objects.get(ticket=ticket, follows__isnull=True)


def test_a_hotline_repair_is_called_back_the_day_after_dispatch(rules, make_ticket, clock):
    ticket = make_ticket("dispatched")  # Monday 09:00

    created = callbacks_schedule(now=timezone.now() + timedelta(minutes=5))

    callback = _callback_of(ticket)
    assert created == 1
    assert callback.rule == rules["hotline-repair"]
    assert callback.callable_at == _local(2026, 11, 17, 8, 30)
    assert callback.due_at == _local(2026, 11, 17, 17, 30)
    assert (callback.name, callback.phone.as_e164) == ("张先生", "+8613812345678")


def test_a_12345_transfer_is_called_back_within_three_working_days_of_receipt(
    rules, make_ticket, clock
):
    # The day before National Day: the holiday does not count, the swapped Saturday does.
    clock.move_to(_local(2026, 9, 30, 10, 0))
    ticket = make_ticket("new", channel=Channel.GOV_12345)

    callbacks_schedule(now=timezone.now() + timedelta(minutes=1))

    callback = _callback_of(ticket)
    assert callback.rule == rules["gov-12345"]
    assert callback.callable_at == _local(2026, 9, 30, 10, 0)
    assert callback.due_at == _local(2026, 10, 10, 17, 30)


def test_a_finished_connection_is_called_back_within_two_working_days(
    rules, make_ticket, centre, clock
):
    connection_type = centre.billing
    connection_type.category = Category.APPLICATION
    connection_type.save()
    clock.move_to(_local(2026, 4, 30, 15, 0))  # before the Labour Day holiday
    ticket = make_ticket("closed", fault_type=connection_type, category=Category.APPLICATION)

    callbacks_schedule(now=timezone.now() + timedelta(minutes=1))

    callback = _callback_of(ticket)
    assert callback.rule == rules["application"]
    assert callback.rule.questionnaire == "application"
    assert callback.due_at == _local(2026, 5, 7, 17, 30)  # 1–5 May off: the 6th and the 7th


def test_a_12345_complaint_is_called_back_once(rules, make_ticket, complaint_type, clock):
    ticket = make_ticket(
        "closed", fault_type=complaint_type, channel=Channel.GOV_12345, building="", unit=""
    )

    callbacks_schedule(now=timezone.now() + timedelta(minutes=1))

    assert list(Callback.objects.filter(ticket=ticket).values_list("rule__code", flat=True)) == [
        "gov-12345"
    ]


def test_cancelled_tickets_and_other_channels_are_not_called_back(rules, make_ticket, clock):
    cancelled = make_ticket("new")
    ticket_services.ticket_cancel(actor=None, ticket=cancelled, reason="重复")
    wechat = make_ticket("dispatched", channel=Channel.WECHAT)

    callbacks_schedule(now=timezone.now() + timedelta(minutes=1))

    assert not Callback.objects.filter(ticket__in=[cancelled, wechat]).exists()


def test_running_the_batch_again_creates_nothing_twice(rules, make_ticket, clock):
    make_ticket("dispatched")
    callbacks_schedule(now=timezone.now() + timedelta(minutes=1))
    clock.shift(300)
    make_ticket("dispatched")

    again = callbacks_schedule(now=timezone.now() + timedelta(minutes=1))
    callbacks_schedule(now=timezone.now() + timedelta(minutes=2))

    assert again == 1
    assert Callback.objects.count() == 2
    assert CallbackRule.objects.get(code="hotline-repair").scanned_through is not None


def test_a_ticket_committed_late_is_still_seen_by_the_next_run(rules, make_ticket, clock):
    ticket = make_ticket("dispatched")
    # The run that should have seen it had already looked past its dispatch time.
    CallbackRule.objects.update(scanned_through=ticket.dispatched_at + timedelta(minutes=5))

    callbacks_schedule(now=timezone.now() + timedelta(minutes=6))

    assert _callback_of(ticket)


def test_a_page_of_tickets_costs_the_same_queries_however_many_pages(rules, make_ticket, clock):
    CallbackRule.objects.exclude(code="hotline-repair").update(is_active=False)
    for _ in range(6):
        make_ticket("dispatched")
    later = timezone.now() + timedelta(minutes=1)

    def queries(batch: int) -> int:
        Callback.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            callbacks_schedule(now=later, batch=batch, since=later - timedelta(days=1))
        return len(captured)

    # Pages of 3: two full and an empty last one; pages of 1: six full and the empty one.
    # Each full page is one read and one insert, the empty one a read; the rest is fixed.
    pages_of_three, pages_of_one = queries(batch=3), queries(batch=1)
    assert Callback.objects.count() == 6
    assert pages_of_one - pages_of_three == 2 * (6 - 2)


def test_a_sampling_rate_calls_back_a_share_and_always_the_same_tickets(
    rules, make_ticket, centre, clock
):
    rule = rules["hotline-repair"]
    rule.sampling_percent = 50
    rule.save()
    tickets = [make_ticket("dispatched") for _ in range(40)]
    later = timezone.now() + timedelta(minutes=1)

    callbacks_schedule(now=later)
    first = set(Callback.objects.values_list("ticket_id", flat=True))
    Callback.objects.all().delete()
    callbacks_schedule(now=later, since=later - timedelta(days=1))

    assert 10 <= len(first) <= 30
    assert set(Callback.objects.values_list("ticket_id", flat=True)) == first
    assert first <= {ticket.pk for ticket in tickets}


def test_a_district_or_grade_may_have_its_own_sampling_rate(rules, make_ticket, centre, clock):
    rule = rules["hotline-repair"]
    CallbackSampling.objects.create(rule=rule, district=centre.community.district, percent=0)
    CallbackSampling.objects.create(rule=rule, grade=Grade.EMERGENCY, percent=100)
    general = make_ticket("dispatched")
    emergency = make_ticket("dispatched", fault_type=centre.burst, building="", unit="")

    callbacks_schedule(now=timezone.now() + timedelta(minutes=1))

    # The district's rate is the more specific one, even for an emergency.
    assert not Callback.objects.filter(ticket__in=[general, emergency]).exists()
    CallbackSampling.objects.create(
        rule=rule, district=centre.community.district, grade=Grade.EMERGENCY, percent=100
    )
    callbacks_schedule(now=timezone.now() + timedelta(minutes=1), since=general.received_at)
    assert list(Callback.objects.values_list("ticket_id", flat=True)) == [emergency.pk]


def test_a_rule_whose_deadline_the_calendar_does_not_know_waits(rules, make_ticket, clock):
    clock.move_to(_local(2027, 1, 4, 10, 0))  # no official data for 2027, nothing entered
    ticket = make_ticket("new", channel=Channel.GOV_12345)

    created = callbacks_schedule(now=timezone.now() + timedelta(minutes=1))

    assert created == 0
    assert not Callback.objects.filter(ticket=ticket).exists()
    assert CallbackRule.objects.get(code="gov-12345").scanned_through is None
    # The hotline rule counts calendar days and went on.
    assert CallbackRule.objects.get(code="hotline-repair").scanned_through is not None


def test_a_key_account_is_called_back_every_half_year(rules, centre, clock):
    clock.move_to(_local(2026, 5, 1, 9, 0))
    account = Caller.objects.create(
        phone="+8613700000001", name="某医院", customer_type=Caller.CustomerType.KEY_ACCOUNT
    )
    Caller.objects.create(phone="+8613700000002", name="张先生")

    clock.move_to(_local(2026, 10, 17, 9, 0))
    assert account_callbacks_schedule(now=timezone.now()) == 0
    clock.move_to(_local(2026, 10, 19, 9, 0))  # two weeks before it is due
    assert account_callbacks_schedule(now=timezone.now()) == 1
    assert account_callbacks_schedule(now=timezone.now()) == 0

    callback = Callback.objects.get(caller=account)
    assert callback.due_at == _local(2026, 11, 1, 17, 30)
    assert callback.callable_at == _local(2026, 10, 18, 8, 30)
    assert callback.rule.questionnaire == "account"


def test_the_next_account_callback_counts_from_the_last_one(rules, centre, clock):
    account = Caller.objects.create(
        phone="+8613700000001", name="某学校", customer_type=Caller.CustomerType.SPECIAL
    )
    clock.move_to(timezone.now() + timedelta(days=200))
    account_callbacks_schedule(now=timezone.now())
    callback = Callback.objects.get(caller=account)
    answers = {"needs": "", "questions": "", "policy_explained": "yes"}
    answers |= {"billing_accurate": "yes", "water_quality_ok": "yes", "pressure_ok": "yes"}
    callback_record(actor=centre.agent, callback=callback, report=satisfied(answers=answers))

    clock.shift(timedelta(days=30))
    assert account_callbacks_schedule(now=timezone.now()) == 0
    clock.shift(timedelta(days=140))
    assert account_callbacks_schedule(now=timezone.now()) == 1


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ((2026, 8, 31), 6, (2027, 2, 28)),
        ((2026, 1, 15), 6, (2026, 7, 15)),
        ((2026, 12, 1), 1, (2027, 1, 1)),
    ],
)
def test_months_are_added_to_the_same_day_or_the_month_end(day, months, expected):
    assert add_months(date(*day), months) == date(*expected)
