"""The monthly service-quality report: its figures on a hand-checked month, the supervisor's
measures and targets, and the snapshot that approval freezes."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone, translation

from reports import services
from reports.models import Report
from reports.periods import month_of, months_ended
from tests.conftest import SHANGHAI, T0
from tests.reports.conftest import DECEMBER_FIRST, NOVEMBER
from tickets.choices import State
from tickets.errors import ApplicationError

pytestmark = pytest.mark.django_db


def test_months_run_from_the_first_to_the_first():
    assert NOVEMBER.start == datetime(2026, 11, 1, tzinfo=SHANGHAI)
    assert NOVEMBER.end == datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert month_of(datetime(2026, 12, 31, 23, 59, tzinfo=SHANGHAI)).end.year == 2027
    assert months_ended(since=T0, until=DECEMBER_FIRST) == [NOVEMBER]


def test_frequent_problems_are_ranked_by_fault_district_and_time_of_day(month, centre):
    figures = month.figures

    district = centre.community.district.name
    top, second = figures["frequent"]
    assert (top["fault"], top["district_name"], top["day_part"]) == (
        "单户漏水",
        district,
        "morning",
    )
    assert (top["tickets"], top["responses"], top["missed"]) == (2, 4, 0)  # one extended
    assert (second["day_part"], second["tickets"], second["missed_share"]) == ("night", 1, 100.0)
    parts = {row["day_part"]: (row["tickets"], row["missed"]) for row in figures["day_parts"]}
    assert parts == {"night": (1, 2), "morning": (2, 0), "afternoon": (0, 0), "evening": (0, 0)}


def test_compliance_is_read_against_the_first_and_the_extended_deadlines(month, centre):
    (crew,) = month.figures["compliance"]["crew"]

    assert crew["name"] == centre.crew.name
    assert crew["original_counted"] == crew["counted"]
    # The one arrival inside its extension met its deadline, but not the first one.
    assert crew["original_met"] == crew["met"] - 1
    assert crew["original_share"] < crew["share"]
    (district,) = month.figures["compliance"]["district"]
    assert (district["counted"], district["met"]) == (crew["counted"], crew["met"])
    assert month.figures["extensions"] == [
        {"cause": "objective", "requested": 1, "approved": 1, "pending": 0, "refused": 0}
    ]


def test_satisfaction_repeats_and_accountability_are_hand_checked(month, centre):
    figures = month.figures

    trend = {row["month"]: (row["done"], row["share"]) for row in figures["satisfaction"]}
    assert list(trend) == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
    assert trend["2026-11"] == (1, 100.0)
    assert trend["2026-10"] == (1, 0.0)
    assert trend["2026-09"] == (0, None)
    (address,) = figures["repeat_addresses"]
    assert (address["community_name"], address["building"], address["repairs"]) == (
        centre.community.name,
        "3",
        3,
    )
    assert figures["accountability"]["count"] == 1
    assert figures["accountability"]["points"] == 2.0
    assert figures["accountability"]["rows"][0]["party"] == centre.crew.name
    assert figures["targets"] == {"satisfaction": 95.0}  # set in October's report
    assert figures["actual"]["satisfaction"] == 100.0


def test_the_supervisor_writes_measures_and_targets_then_approval_freezes_the_month(
    month, centre, make_ticket, clock
):
    before = month.figures
    services.report_write(
        actor=centre.supervisor,
        report=month,
        remarks="夜间响应慢",
        measures="夜班增加一组抢修",
        targets={"sla": 95, "satisfaction": 98, "completion": None},
    )
    services.report_approve(actor=centre.supervisor, report=month, at=timezone.now())
    clock.move_to(T0 + timedelta(days=10))
    make_ticket(State.NEW)  # a late-recorded ticket of November
    clock.move_to(DECEMBER_FIRST + timedelta(hours=1))

    services.reports_produce(now=timezone.now())
    again = services.report_generate(kind="monthly", period=NOVEMBER, now=timezone.now())

    month.refresh_from_db()
    assert again.figures == before == month.figures
    assert (month.remarks, month.measures) == ("夜间响应慢", "夜班增加一组抢修")
    assert month.targets == {"sla": 95.0, "satisfaction": 98.0}
    with pytest.raises(ApplicationError) as refused:
        services.report_regenerate(
            actor=centre.supervisor, kind="monthly", at=T0, now=timezone.now()
        )
    assert refused.value.code == "conflict"
    with pytest.raises(ApplicationError) as refused:
        services.report_write(actor=centre.supervisor, report=month, remarks="改")
    assert refused.value.code == "conflict"


def test_targets_outside_zero_to_a_hundred_name_the_field_and_change_nothing(month, centre):
    with translation.override("en"), pytest.raises(ApplicationError) as refused:
        services.report_write(
            actor=centre.supervisor, report=month, remarks="x", targets={"sla": 150}
        )

    assert refused.value.fields == {"sla": ["Give a percentage from 0 to 100."]}
    month.refresh_from_db()
    assert (month.remarks, month.targets) == ("", {})


def test_only_the_supervisor_writes_and_the_daily_report_needs_no_approval(month, centre):
    with pytest.raises(ApplicationError) as refused:
        services.report_write(actor=centre.shift_leader, report=month, remarks="x")
    assert refused.value.code == "forbidden"
    daily = Report.objects.filter(kind="daily").first()
    with pytest.raises(ApplicationError) as refused:
        services.report_approve(actor=centre.supervisor, report=daily, at=timezone.now())
    assert refused.value.code == "conflict"
