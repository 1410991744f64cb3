"""The shift report: its figures on a hand-checked shift, reruns, the review and the files."""

import csv
import io
from datetime import time, timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from callcentre.models import Call
from dispatch.services import unclosed_plan_write
from reports import services
from reports.models import Report
from reports.periods import shift_of, shifts_ended
from staffing.models import ShiftTemplate
from staffing.shifts import handovers_forget
from tests.conftest import T0
from tickets import services as tickets
from tickets.choices import State
from tickets.errors import ApplicationError

pytestmark = pytest.mark.django_db

DAY_SHIFT_END = T0.replace(hour=20)


@pytest.fixture
def shift(centre, make_ticket, clock):
    """The day shift of T0 (08:00–20:00): four calls, one abandoned; four tickets, one of
    them cancelled, one closed, and two still open at 20:00, one with the dispatcher's note."""
    for abandoned in (False, False, False, True):
        Call.objects.create(
            caller_number="13812345678",
            abandoned=abandoned,
            answered_at=None if abandoned else timezone.now(),
        )
    leak = make_ticket(State.DISPATCHED)
    make_ticket(State.CLOSED)
    burst = make_ticket(State.ON_SITE, fault_type=centre.burst, address='=HYPERLINK("x")')
    cancelled = make_ticket(State.VERIFIED)
    tickets.ticket_cancel(ticket=cancelled, actor=centre.dispatcher, reason="重复报修")
    unclosed_plan_write(
        actor=centre.dispatcher,
        ticket=leak,
        day=T0.date(),
        reason="用户白天不在家",
        plan="约明早 9 点上门",
    )
    # A note that a spreadsheet would run as a formula.
    unclosed_plan_write(
        actor=centre.dispatcher,
        ticket=burst,
        day=T0.date(),
        reason='=HYPERLINK("http://example.com","点击")',
        plan="-",
    )
    clock.move_to(T0 - timedelta(hours=2))  # the night shift before: one call, no ticket
    Call.objects.create(caller_number="13900000000", answered_at=timezone.now())
    clock.move_to(DAY_SHIFT_END + timedelta(minutes=5))
    return {"leak": leak, "burst": burst}


def _day_report() -> Report:
    return Report.objects.get(kind="shift", period_start=T0.replace(hour=8))


def test_shifts_run_between_the_shift_changes(sla_policies):
    assert shift_of(T0).start == T0.replace(hour=8)
    assert shift_of(T0).end == T0.replace(hour=20)
    night = shift_of(T0.replace(hour=2))
    assert (night.start, night.end) == (T0.replace(day=15, hour=20), T0.replace(hour=8))
    ended = shifts_ended(since=T0.replace(hour=7), until=DAY_SHIFT_END)
    assert [(p.start.hour, p.end.hour) for p in ended] == [(20, 8), (8, 20)]
    # The shift templates are the shift changes: edited, they count at once.
    ShiftTemplate.objects.filter(code="day").update(starts_at=time(8, 30))
    ShiftTemplate.objects.create(
        code="late", name="中班", starts_at=time(16, 30), ends_at=time(0, 30)
    )
    ShiftTemplate.objects.create(
        code="peak", name="高峰", starts_at=time(10), ends_at=time(14), handover=False
    )
    handovers_forget()
    assert shift_of(T0).start == T0.replace(hour=8, minute=30)
    assert shift_of(T0.replace(hour=17)).start == T0.replace(hour=16, minute=30)
    assert shift_of(T0.replace(hour=11)).end == T0.replace(hour=16, minute=30)


def test_the_shift_report_has_the_hand_checked_figures(shift):
    services.reports_produce(now=timezone.now())

    figures = _day_report().figures
    assert figures["calls"] == {"received": 4, "answered": 3, "abandoned": 1}
    assert figures["tickets"] == {"received": 4, "valid": 3, "cancelled": 1, "merged": 0}
    assert figures["by_fault"] == [
        {"fault_type": "单户漏水", "count": 2, "share": 66.7},
        {"fault_type": "爆管", "count": 1, "share": 33.3},
    ]
    unclosed = figures["unclosed"]
    assert unclosed["count"] == 2
    reasons = {row["number"]: row["reason"] for row in unclosed["rows"]}
    assert reasons[shift["leak"].number] == "用户白天不在家"
    assert reasons[shift["burst"].number].startswith("=HYPERLINK")


def test_the_beat_job_makes_each_report_once_however_often_it_runs(shift):
    made = services.reports_produce(now=timezone.now())
    again = services.reports_produce(now=timezone.now())

    assert made >= 1
    assert again == 0
    assert Report.objects.filter(kind="shift", period_start=T0.replace(hour=8)).count() == 1


def test_a_rerun_recomputes_a_draft_but_an_approved_report_stays_frozen(centre, shift, clock):
    services.reports_produce(now=timezone.now())
    report = _day_report()
    tickets.ticket_cancel(ticket=shift["leak"], actor=centre.dispatcher, reason="用户撤销")
    services.report_regenerate(actor=centre.supervisor, kind="shift", at=T0, now=timezone.now())
    assert _day_report().figures["tickets"]["cancelled"] == 2
    services.report_submit(
        actor=centre.shift_leader, report=report, remarks="早班平稳", at=timezone.now()
    )
    services.report_approve(actor=centre.supervisor, report=report, at=timezone.now())
    frozen = _day_report().figures

    tickets.ticket_cancel(ticket=shift["burst"], actor=centre.dispatcher, reason="误报")
    services.report_generate(kind="shift", period=shift_of(T0), now=timezone.now())
    with pytest.raises(ApplicationError) as refused:
        services.report_regenerate(actor=centre.supervisor, kind="shift", at=T0, now=timezone.now())

    assert refused.value.code == "conflict"
    assert _day_report().figures == frozen
    assert _day_report().state == Report.State.APPROVED


def test_the_review_goes_leader_then_supervisor_and_refuses_what_is_out_of_turn(centre, shift):
    services.reports_produce(now=timezone.now())
    report = _day_report()

    with pytest.raises(ApplicationError) as early:
        services.report_approve(actor=centre.supervisor, report=report, at=timezone.now())
    with pytest.raises(ApplicationError) as agent:
        services.report_submit(actor=centre.agent, report=report, remarks="", at=timezone.now())
    services.report_submit(
        actor=centre.shift_leader, report=report, remarks="  夜班注意 3 栋 ", at=timezone.now()
    )
    with pytest.raises(ApplicationError) as leader:
        services.report_approve(actor=centre.shift_leader, report=report, at=timezone.now())
    services.report_approve(actor=centre.supervisor, report=report, at=timezone.now())
    with pytest.raises(ApplicationError) as after:
        services.report_submit(
            actor=centre.shift_leader, report=report, remarks="改", at=timezone.now()
        )

    assert [e.value.code for e in (early, agent, leader, after)] == [
        "conflict",
        "forbidden",
        "forbidden",
        "conflict",
    ]
    report.refresh_from_db()
    assert (report.remarks, report.submitted_by, report.approved_by) == (
        "夜班注意 3 栋",
        centre.shift_leader,
        centre.supervisor,
    )


def test_a_period_not_yet_ended_cannot_be_computed(centre, clock):
    with pytest.raises(ApplicationError) as refused:
        services.report_regenerate(
            actor=centre.supervisor, kind="shift", at=timezone.now(), now=timezone.now()
        )
    assert set(refused.value.fields) == {"at"}
    assert not Report.objects.exists()


# The files.


def test_the_xlsx_opens_and_holds_the_rows_with_formulas_neutralised(client, centre, shift):
    services.reports_produce(now=timezone.now())
    client.force_login(centre.supervisor)

    response = client.get(f"/reports/{_day_report().pk}/export.xlsx")

    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    summary, by_fault, unclosed = (list(sheet.values) for sheet in book.worksheets)
    assert [row[1] for row in summary[1:]] == [4, 3, 1, 4, 3, 1, 0, 2]
    assert [row[1:] for row in by_fault[1:]] == [(2, 66.7), (1, 33.3)]
    reasons = [row[7] for row in unclosed[1:]]
    assert '\'=HYPERLINK("http://example.com","点击")' in reasons
    assert len(unclosed) == 3  # headings and the two open tickets


def test_the_csv_streams_with_a_bom_and_no_cell_that_runs(client, centre, shift):
    services.reports_produce(now=timezone.now())
    client.force_login(centre.shift_leader)

    response = client.get(f"/reports/{_day_report().pk}/export.csv")

    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    cells = [cell for row in csv.reader(io.StringIO(text[1:])) for cell in row]
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t") for cell in cells)
    assert shift["burst"].number in text
