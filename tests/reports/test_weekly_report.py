"""The weekly report: 12345 transfers, complaints by cause, repair and consult volumes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from followups import services as followups
from followups.models import Callback
from reports import services
from reports.models import Report
from reports.periods import week_of, weeks_ended
from tests.conftest import T0
from tickets.choices import Channel, State

pytestmark = pytest.mark.django_db

NEXT_MONDAY = T0.replace(hour=0) + timedelta(days=7)


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


def _week() -> Report:
    return Report.objects.get(kind="weekly", period_start=week_of(T0).start)


def test_weeks_run_from_monday_to_monday():
    assert week_of(T0 + timedelta(days=6)).start == T0.replace(hour=0)
    assert week_of(T0).end == NEXT_MONDAY
    assert [w.start for w in weeks_ended(since=T0, until=NEXT_MONDAY)] == [T0.replace(hour=0)]
    assert weeks_ended(since=T0, until=NEXT_MONDAY - timedelta(seconds=1)) == []


def test_the_weekly_report_has_the_hand_checked_figures(week):
    figures = _week().figures

    transfers = figures["transfers"]
    assert (transfers["received"], transfers["closed"]) == (2, 1)
    assert transfers["callbacks"] == {"due": 1, "on_time": 1, "share": 100.0}
    assert transfers["by_category"] == [
        {"category": "consult", "count": 1},
        {"category": "repair", "count": 1},
    ]
    assert {row["external_ref"] for row in transfers["rows"]} == {"GD-2026-0042", ""}

    complaints = figures["complaints"]
    assert (complaints["count"], complaints["first_counted"], complaints["first_met"]) == (2, 2, 1)
    assert complaints["first_share"] == 50.0
    assert complaints["final_share"] is None  # no department has answered yet
    assert [(row["cause"], row["count"]) for row in complaints["by_cause"]] == [("服务态度投诉", 2)]

    volumes = figures["volumes"]
    assert (volumes["repair"], volumes["consult"]) == (2, 2)  # the transfers count too
    assert volumes["previous"] == {"repair": 1, "consult": 0}
    by_day = {row["day"]: (row["repair"], row["consult"]) for row in volumes["days"]}
    assert len(by_day) == 7
    assert by_day["2026-11-16"] == (1, 1)
    assert by_day["2026-11-17"] == (1, 0)
    assert by_day["2026-11-18"] == (0, 1)
    assert by_day["2026-11-22"] == (0, 0)


def test_a_rerun_of_the_week_makes_no_second_report(week):
    services.reports_produce(now=timezone.now())
    services.report_generate(kind="weekly", period=week_of(T0), now=timezone.now())

    assert Report.objects.filter(kind="weekly").count() == 1
