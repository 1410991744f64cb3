"""The ticket list: "/" to search, and filters that refresh the results in place (htmx)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_in
from tickets.choices import State

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def expect_rows(page: Page, *tickets) -> None:
    """The results show exactly ``tickets``, in any order."""
    rows = page.locator("#results #ticket-rows > tr")
    expect(rows).to_have_count(len(tickets))
    for ticket in tickets:
        expect(page.locator(f"#ticket-rows a[href='/tickets/{ticket.number}/']")).to_have_count(1)


def expect_same_document(page: Page) -> None:
    """The marker set on the first load is still there: no full page load happened."""
    assert page.evaluate("window.__e2eSameDocument === true")


@pytest.fixture
def tickets(transactional_db, centre, make_ticket):
    # Received two days ago and never dispatched: past its dispatch deadline.
    with time_machine.travel(timezone.now() - timedelta(days=2), tick=False):
        late = make_ticket(caller_phone="+8613700000001")
    return {
        "new": make_ticket(caller_phone="+8613700000002"),
        "emergency": make_ticket(fault_type=centre.burst, caller_phone="+8613700000003"),
        "dispatched": make_ticket(State.DISPATCHED, caller_phone="+8613700000004"),
        "late": late,
    }


def test_search_and_filters_refresh_the_results_in_place(tickets, centre, page, live_server):
    new, emergency, dispatched, late = (
        tickets["new"],
        tickets["emergency"],
        tickets["dispatched"],
        tickets["late"],
    )
    sign_in(page, centre.dispatcher.username)
    page.goto("/tickets/")
    expect_rows(page, new, emergency, dispatched, late)
    page.evaluate("window.__e2eSameDocument = true")

    # "/" puts the cursor in the search box, from anywhere on the page but a field.
    page.locator("h1").click()
    page.keyboard.press("/")
    expect(page.locator("#id_q")).to_be_focused()
    expect(page.locator("#id_q")).to_have_value("")
    page.keyboard.type(dispatched.number)
    page.keyboard.press("Enter")
    expect_rows(page, dispatched)
    # The filters left at "any" stay out of the address.
    assert page.url == f"{live_server.url}/tickets/?q={dispatched.number}"

    # A phone number as the caller said it finds the caller's ticket.
    page.locator("#id_q").fill("137 0000 0003")
    page.keyboard.press("Enter")
    expect_rows(page, emergency)

    page.locator("#id_q").fill("")
    page.keyboard.press("Enter")
    expect_rows(page, new, emergency, dispatched, late)

    page.locator("#id_state").select_option(State.NEW)
    expect_rows(page, new, emergency, late)
    assert "state=new" in page.url

    page.locator("#id_grade").select_option("emergency")
    expect_rows(page, emergency)
    assert "grade=emergency" in page.url

    page.locator("#id_grade").select_option("")
    page.locator("#id_state").select_option("")
    expect_rows(page, new, emergency, dispatched, late)
    page.locator("#id_overdue").select_option("true")
    expect_rows(page, late)
    expect(page.locator("#ticket-rows .deadline-overdue")).to_have_count(1)
    page.locator("#id_overdue").select_option("false")
    expect_rows(page, new, emergency, dispatched)

    expect_same_document(page)

    # The address bar holds the filters, so a reload or a shared link shows the same.
    page.reload()
    expect(page.locator("#id_overdue")).to_have_value("false")
    expect_rows(page, new, emergency, dispatched)
    page.goto("/tickets/?overdue=true&state=new&grade=general")
    expect(page.locator("#id_overdue")).to_have_value("true")
    expect(page.locator("#id_state")).to_have_value("new")
    expect(page.locator("#id_grade")).to_have_value("general")
    expect_rows(page, late)


def test_slash_types_into_a_field_when_a_field_has_the_focus(tickets, centre, page):
    sign_in(page, centre.dispatcher.username)
    page.goto("/tickets/")
    page.locator("#id_received_after").focus()
    page.keyboard.press("/")
    expect(page.locator("#id_q")).not_to_be_focused()

    page.locator("#id_q").focus()
    page.keyboard.type("a/b")
    expect(page.locator("#id_q")).to_have_value("a/b")


def test_a_crew_sees_only_its_own_tickets(tickets, centre, page):
    sign_in(page, centre.crew_leader.username)
    page.goto("/tickets/")
    expect_rows(page, tickets["dispatched"])
