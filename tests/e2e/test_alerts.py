"""Overdue alerts in the browser: the count in the top bar, acknowledging a breach, and the
cause of a delay that the supervisor reads.

The pages are in Chinese (the browser's language), so the assertions read the translations.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_in, tab_to, zh
from tickets.choices import AlertLevel, AlertMilestone, ExtensionCause, Grade
from tickets.models import Alert, SlaPolicy, Ticket
from tickets.services import alerts_sweep

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

BADGE = "a.alert-bell .badge-alert"
RESPONSIBLE = "调度员陈某"


@pytest.fixture
def overdue(transactional_db, centre, make_ticket) -> Ticket:
    """A general ticket received a minute more than its dispatch time ago and never
    dispatched: the sweep warned a minute before its dispatch deadline, and now it breaches."""
    minutes = SlaPolicy.objects.get(grade=Grade.GENERAL).dispatch_minutes
    with time_machine.travel(timezone.now() - timedelta(minutes=minutes + 1), tick=False):
        ticket = make_ticket()
    assert ticket.dispatch_due < timezone.now()
    alerts_sweep(now=ticket.dispatch_due - timedelta(minutes=1))
    alerts_sweep(now=timezone.now())
    assert set(Alert.objects.values_list("milestone", "level")) == {
        (AlertMilestone.DISPATCH, AlertLevel.WARNING),
        (AlertMilestone.DISPATCH, AlertLevel.BREACH),
    }
    return ticket


def breach_of(ticket: Ticket) -> Alert:
    return Alert.objects.get(ticket=ticket, level=AlertLevel.BREACH)


def submit(page: Page):
    """Send the page's form and return the answer to it."""
    with page.expect_navigation() as navigation:
        page.locator("main form button[type=submit]").click()
    return navigation.value


def test_given_a_missed_dispatch_when_the_dispatcher_acknowledges_it_then_the_count_drops(
    overdue, centre, page, live_server
):
    breach = breach_of(overdue)

    # Given the dispatcher signed in: the top bar counts the warning and the breach.
    sign_in(page, centre.dispatcher.username)
    expect(page.locator(BADGE)).to_have_text("2")
    expect(page.locator(BADGE)).to_have_attribute("role", "status")

    # When they reach the bell with Tab and press Enter, the waiting alerts open.
    tab_to(page, "a.alert-bell")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{live_server.url}/alerts/"
    expect(page.locator("h1")).to_have_text(zh("Alerts"))
    expect(page.locator("nav.tabs a[href='/alerts/']")).to_have_attribute("aria-current", "page")
    rows = page.locator("table.alerts tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text(overdue.number)

    # And acknowledge the breach.
    acknowledge = page.locator(f"form[action='/alerts/{breach.pk}/acknowledge/'] button")
    expect(acknowledge).to_have_text(zh("Acknowledge"))
    with page.expect_navigation():
        acknowledge.click()

    # Then the count drops to the warning alone, which is all that still waits.
    assert page.url == f"{live_server.url}/alerts/"
    expect(page.locator(".messages .message-success")).to_have_text(zh("Alert acknowledged."))
    expect(page.locator(BADGE)).to_have_text("1")
    expect(rows).to_have_count(1)
    expect(rows.locator(".level-warning")).to_have_count(1)
    expect(acknowledge).to_have_count(0)
    breach.refresh_from_db()
    assert breach.acknowledged_by == centre.dispatcher
    assert breach.acknowledged_at is not None

    # And "all" shows the breach with who acknowledged it.
    with page.expect_navigation():
        page.locator("nav.tabs a[href='/alerts/?show=all']").click()
    expect(page.locator("nav.tabs a[href='/alerts/?show=all']")).to_have_attribute(
        "aria-current", "page"
    )
    expect(rows).to_have_count(2)
    breach_row = page.locator("table.alerts tbody tr:has(.level-breach)")
    expect(breach_row).to_contain_text(centre.dispatcher.display_name)
    expect(breach_row.locator("form[action$='/acknowledge/']")).to_have_count(0)
    warning_row = page.locator("table.alerts tbody tr:has(.level-warning)")
    expect(warning_row.locator("form[action$='/acknowledge/']")).to_have_count(1)


def test_given_a_human_cause_with_nobody_named_when_recorded_then_it_is_refused_and_once_named_the_supervisor_reads_it(  # noqa: E501
    overdue, centre, new_context, live_server
):
    breach = breach_of(overdue)
    page = new_context().new_page()
    sign_in(page, centre.dispatcher.username)
    page.goto("/alerts/")

    # Only the breach of the ticket's milestone offers to record the cause.
    cause_links = page.locator("main a[href$='/cause/']")
    expect(cause_links).to_have_count(1)
    expect(cause_links).to_have_attribute("href", f"/alerts/{breach.pk}/cause/")
    expect(cause_links).to_have_text(zh("Record the cause"))
    with page.expect_navigation():
        cause_links.click()
    assert page.url == f"{live_server.url}/alerts/{breach.pk}/cause/"
    expect(page.locator("h1")).to_contain_text(overdue.number)

    # When they choose a human cause but name nobody, the page says what is wrong.
    page.locator("input[name=cause][value=human]").check()
    page.locator("#id_note").fill("派单员交接班时漏派")
    refused = submit(page)
    assert refused.status == 400
    assert page.url == f"{live_server.url}/alerts/{breach.pk}/cause/"
    expect(page.locator("main .message-error[role=alert]")).to_have_text(
        zh("Some fields need attention; they are marked below.")
    )
    responsible = page.locator("#id_responsible")
    expect(responsible).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_responsible_error")).to_have_text(
        zh("Name who is responsible for a human cause.")
    )
    # What was chosen and typed is still there, and nothing is saved.
    expect(page.locator("input[name=cause][value=human]")).to_be_checked()
    expect(page.locator("#id_note")).to_have_value("派单员交接班时漏派")
    breach.refresh_from_db()
    assert (breach.delay_cause, breach.delay_recorded_at) == ("", None)
    assert Ticket.objects.get(pk=overdue.pk).delay_responsible == ""

    # Then naming who is responsible saves it, and the list shows it on the breach.
    responsible.fill(RESPONSIBLE)
    saved = submit(page)
    assert saved.status == 200
    assert page.url == f"{live_server.url}/alerts/"
    expect(page.locator(".messages .message-success")).to_have_text(
        zh("Cause of the delay on %(number)s recorded.") % {"number": overdue.number}
    )
    expect(page.locator(f"main a[href='/alerts/{breach.pk}/cause/']")).to_contain_text(RESPONSIBLE)
    breach.refresh_from_db()
    assert (breach.delay_cause, breach.delay_responsible) == (ExtensionCause.HUMAN, RESPONSIBLE)
    assert breach.delay_recorded_by == centre.dispatcher
    assert Ticket.objects.get(pk=overdue.pk).delay_responsible == RESPONSIBLE

    # And the supervisor reads who is responsible in the delays someone caused.
    supervisor = new_context().new_page()
    sign_in(supervisor, centre.supervisor.username)
    supervisor.goto("/alerts/delays/")
    expect(supervisor.locator("h1")).to_have_text(zh("Delays someone caused"))
    delays = supervisor.locator("main table.tickets tbody tr")
    expect(delays).to_have_count(1)
    expect(delays.locator(f"a[href='/tickets/{overdue.number}/']")).to_be_visible()
    expect(delays.locator("td").nth(2)).to_have_text(RESPONSIBLE)
    expect(delays.locator("td").nth(3)).to_have_text("派单员交接班时漏派")
    expect(delays.locator("td").nth(4)).to_contain_text(centre.dispatcher.display_name)


def test_given_a_missed_deadline_when_a_seat_agent_signs_in_then_no_alert_bell_shows(
    overdue, centre, page, live_server
):
    sign_in(page, centre.agent.username)

    assert page.url == f"{live_server.url}/"
    expect(page.locator(".whoami")).to_contain_text(zh(centre.agent.primary_role.label))
    expect(page.locator("a.alert-bell")).to_have_count(0)
    expect(page.locator("a[href='/alerts/']")).to_have_count(0)
