"""The supervisor in the browser: the dashboard and its drill-down to the overdue tickets,
then a shift report the shift leader submitted, approved and downloaded as xlsx.

The pages are in Chinese (the browser's language), so the assertions read the translations.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from reports import services
from reports.models import Report
from reports.periods import shift_of
from tests.e2e.helpers import no_horizontal_scroll, sign_in, zh
from tickets.choices import State

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

REMARKS = "白班平稳，一张工单待派"


@pytest.fixture
def shift(transactional_db, centre, make_ticket) -> dict:
    """A leak received two days ago and never dispatched (overdue now), a leak received just
    now, and the report of the first one's shift, which the shift leader has submitted."""
    with time_machine.travel(timezone.now() - timedelta(days=2), tick=False):
        late = make_ticket(State.VERIFIED, caller_phone="+8613700000011")
    fresh = make_ticket(caller_phone="+8613700000012")
    report = services.report_generate(
        kind=Report.Kind.SHIFT, period=shift_of(late.received_at), now=timezone.now()
    )
    report = services.report_submit(
        actor=centre.shift_leader, report=report, remarks=REMARKS, at=timezone.now()
    )
    return {"late": late, "fresh": fresh, "report": report}


def expect_rows(page: Page, *tickets) -> None:
    """The ticket list shows exactly ``tickets``."""
    expect(page.locator("#results #ticket-rows > tr")).to_have_count(len(tickets))
    for ticket in tickets:
        expect(page.locator(f"#ticket-rows a[href='/tickets/{ticket.number}/']")).to_have_count(1)


def test_the_supervisor_drills_into_the_overdue_approves_the_shift_and_downloads_it(
    shift, centre, page, live_server, tmp_path
):
    late, fresh, report = shift["late"], shift["fresh"], shift["report"]

    # Given the supervisor signed in, when they open the dashboard from the top bar…
    sign_in(page, centre.supervisor.username)
    with page.expect_navigation():
        page.locator("header nav a[href='/reports/dashboard/']").click()
    expect(page.locator("h1")).to_have_text(zh("Dashboard"))
    expect(page.locator("nav.tabs a[aria-current='page']")).to_have_text(zh("Today"))
    # …then today's leak is charted, the page fits the screen, and one ticket is overdue.
    expect(page.locator("section[aria-labelledby='faults-title'] svg[role='img']")).to_be_visible()
    assert no_horizontal_scroll(page)
    overdue = page.locator("#overdue-card .big a")
    expect(overdue).to_have_text("1")

    # When they click the overdue figure, the list shows that ticket and says why.
    with page.expect_navigation():
        overdue.click()
    assert page.url == f"{live_server.url}/tickets/?overdue=true"
    expect(page.locator("#id_overdue")).to_have_value("true")
    expect_rows(page, late)

    # A bar of the chart opens the tickets it stands for, too.
    page.go_back()
    with page.expect_navigation():
        page.locator("section[aria-labelledby='faults-title'] svg a").first.click()
    expect(page.locator("#id_state")).to_have_value("valid")
    expect_rows(page, fresh)

    # When they open the shift report the shift leader submitted, from the reports list…
    page.goto("/reports/")
    with page.expect_navigation():
        page.locator(f"table.tickets a[href='/reports/{report.pk}/']").click()
    state = page.locator(".page-head .state")
    expect(state).to_have_text(zh(Report.State.SUBMITTED.label))
    expect(page.locator("main")).to_contain_text(REMARKS)
    # …and approve it, then the page shows it approved and offers no second approval.
    approve = page.get_by_role("button", name=zh("Approve the report"))
    with page.expect_navigation():
        approve.click()
    expect(state).to_have_text(zh(Report.State.APPROVED.label))
    expect(page.locator(".messages")).to_contain_text(
        zh("Report approved; its figures are now kept as they are.")
    )
    expect(approve).to_have_count(0)
    report.refresh_from_db()
    assert (report.state, report.approved_by) == (Report.State.APPROVED, centre.supervisor)

    # When they download the xlsx, then it holds the shift's unclosed ticket.
    with page.expect_download() as downloading:
        page.get_by_role("link", name=zh("Download xlsx")).click()
    download = downloading.value
    start = timezone.localtime(report.period_start)
    assert download.suggested_filename == f"shift-report-{start:%Y%m%d-%H%M}.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    book = load_workbook(saved, read_only=True)
    summary, _by_fault, unclosed = (list(sheet.values) for sheet in book.worksheets)
    assert (zh("Tickets received"), 1) in summary
    assert [row[0] for row in unclosed[1:]] == [late.number]
