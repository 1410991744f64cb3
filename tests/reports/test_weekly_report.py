"""The weekly report: 12345 transfers, complaints by cause, repair and consult volumes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from reports import services
from reports.models import Report
from reports.periods import week_of, weeks_ended
from tests.conftest import T0
from tests.reports.conftest import NEXT_MONDAY

pytestmark = pytest.mark.django_db


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
