"""The morning meeting's daily report: its figures on a hand-checked day, and its files."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from followups.models import Callback
from outages.services import incident_declare, outage_restore
from reports import services
from reports.models import Report
from reports.periods import day_of, days_ended
from tests.conftest import T0
from tickets.choices import State

pytestmark = pytest.mark.django_db

MIDNIGHT = T0.replace(hour=0) + timedelta(days=1)


@pytest.fixture
def day(centre, make_ticket, rules, clock):
    """Monday: a general repair closed at once; a general one never dispatched; an emergency
    dispatched at once and never accepted, declared an incident with a 4 h ETA and restored
    after 5; two callbacks, one customer not satisfied."""
    closed = make_ticket(State.CLOSED)
    waiting = make_ticket(State.VERIFIED)
    emergency = make_ticket(State.DISPATCHED, fault_type=centre.burst)
    satisfactions = (Callback.Satisfaction.SATISFIED, Callback.Satisfaction.UNSATISFIED)
    for ticket, satisfaction in zip((closed, emergency), satisfactions, strict=True):
        Callback.objects.create(
            rule=rules["hotline-repair"],
            ticket=ticket,
            phone="+8613812345678",
            state=Callback.State.DONE,
            satisfaction=satisfaction,
            callable_at=T0,
            due_at=T0 + timedelta(hours=8),
            done_at=T0 + timedelta(hours=3),
            created_at=T0,
        )
    incident = incident_declare(
        actor=centre.dispatcher,
        ticket=emergency,
        expected_end_at=T0 + timedelta(hours=4),
        customer_text="爆管抢修中。",
    )
    clock.move_to(T0 + timedelta(hours=5))
    outage_restore(actor=centre.dispatcher, outage=incident)
    clock.move_to(MIDNIGHT + timedelta(minutes=5))
    services.reports_produce(now=timezone.now())
    return {"waiting": waiting, "emergency": emergency, "incident": incident}


def _monday() -> Report:
    return Report.objects.get(kind="daily", period_start=day_of(T0).start)


def test_days_run_from_midnight_to_midnight():
    assert day_of(T0).start == T0.replace(hour=0)
    assert [d.start.day for d in days_ended(since=T0, until=MIDNIGHT)] == [16]
    assert days_ended(since=T0, until=MIDNIGHT - timedelta(seconds=1)) == []


def test_the_daily_report_has_the_hand_checked_figures(day):
    figures = _monday().figures

    assert figures["completion"] == {"valid": 3, "closed": 1, "share": 33.3}
    (outage,) = figures["outages"]
    assert (outage["id"], outage["kind"], outage["late_minutes"]) == (
        day["incident"].pk,
        "incident",
        60,
    )
    compliance = {
        (r["grade"], r["milestone"]): (r["met"], r["counted"]) for r in figures["compliance"]
    }
    assert compliance == {
        ("general", "dispatch"): (1, 2),
        ("general", "accept"): (1, 2),
        ("general", "arrive"): (1, 2),
        ("general", "resolve"): (1, 1),  # the other is due tomorrow
        ("general", "close"): (1, 1),
        ("emergency", "dispatch"): (1, 1),
        ("emergency", "accept"): (0, 1),
        ("emergency", "arrive"): (0, 1),
        ("emergency", "mitigate"): (0, 1),
        ("emergency", "close"): (0, 1),
    }
    assert figures["satisfaction"]["done"] == 2
    assert figures["satisfaction"]["share"] == 50.0
    assert figures["overdue"]["count"] == 2
    assert figures["overdue"]["by_grade"] == {"emergency": 1, "general": 1}
    assert {row["number"] for row in figures["overdue"]["rows"]} == {
        day["waiting"].number,
        day["emergency"].number,
    }


def test_the_morning_meeting_page_and_its_xlsx(client, centre, day):
    client.force_login(centre.supervisor)
    report = _monday()

    page = client.get(f"/reports/{report.pk}/")
    book = load_workbook(
        io.BytesIO(b"".join(client.get(f"/reports/{report.pk}/export.xlsx").streaming_content)),
        read_only=True,
    )

    assert page.status_code == 200
    assert "33.3%" in page.content.decode()
    assert day["waiting"].number in page.content.decode()
    summary, compliance, overdue, special, outages = (
        list(sheet.values) for sheet in book.worksheets
    )
    assert [row[1] for row in summary[1:]] == [3, 1, 33.3, 2, 50.0, 2]
    assert (len(compliance), len(overdue), len(special), len(outages)) == (11, 3, 1, 2)
    assert outages[1][5] == 60  # minutes after the ETA
    assert day["incident"].title in page.content.decode()
    assert client.post(f"/reports/{report.pk}/", {"remarks": "x"}).status_code == 404


def test_a_report_made_before_outages_were_counted_still_shows_and_exports(client, centre, day):
    report = _monday()
    del report.figures["outages"]
    report.save(update_fields=["figures"])
    client.force_login(centre.supervisor)

    assert client.get(f"/reports/{report.pk}/").status_code == 200
    book = load_workbook(
        io.BytesIO(b"".join(client.get(f"/reports/{report.pk}/export.xlsx").streaming_content)),
        read_only=True,
    )
    assert len(book.worksheets) == 4
