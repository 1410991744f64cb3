"""A ticket's way from the dispatcher to the crew, through the actions on the ticket page."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import sign_in, zh
from tickets.choices import State
from tickets.models import Ticket, TicketEvent

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

Action = TicketEvent.Action


def run_action(page: Page, slug: str, **choices: str) -> None:
    """Open the action's <details> on the ticket page, fill it in and confirm it."""
    action = page.locator(f"details.action:has(form[action$='/{slug}/'])")
    expect(action).not_to_have_attribute("open", "")
    action.locator("summary").click()
    form = action.locator("form")
    expect(form).to_be_visible()
    for name, label in choices.items():
        form.locator(f"[name={name}]").select_option(label=label)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def expect_state(page: Page, state: str) -> None:
    expect(page.locator("h1 .state")).to_have_class(re.compile(rf"\bstate-{state}\b"))


def test_a_ticket_goes_from_the_dispatcher_to_the_crew(
    transactional_db, centre, make_ticket, new_context, live_server
):
    ticket = make_ticket()
    ticket_url = f"/tickets/{ticket.number}/"

    # The dispatcher finds the ticket in the list and opens it.
    dispatcher = new_context().new_page()
    sign_in(dispatcher, centre.dispatcher.username)
    dispatcher.goto("/tickets/")
    dispatcher.locator(f"#ticket-rows a[href='{ticket_url}']").click()
    dispatcher.wait_for_url(f"{live_server.url}{ticket_url}")
    expect_state(dispatcher, State.NEW)
    # The crew's actions are not the dispatcher's to take.
    expect(dispatcher.locator("form[action$='/accept/']")).to_have_count(0)

    run_action(dispatcher, "verify")
    expect_state(dispatcher, State.VERIFIED)
    expect(dispatcher.locator(".messages .message-success")).to_be_visible()

    run_action(dispatcher, "dispatch", crew=centre.crew.name)
    expect_state(dispatcher, State.DISPATCHED)
    facts = dispatcher.locator("dl.facts")
    expect(facts).to_contain_text(centre.crew.name)

    timeline = dispatcher.locator("ol.timeline > li")
    expect(timeline).to_have_count(3)
    for row, action in zip(
        timeline.all(), [Action.CREATED, Action.VERIFIED, Action.DISPATCHED], strict=True
    ):
        expect(row.locator("strong")).to_have_text(zh(action.label))
    expect(timeline.nth(2)).to_contain_text(str(centre.dispatcher))
    expect(timeline.nth(2).locator("time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))

    # The crew leader opens the ticket's page (a link in a message, say), accepts it and
    # reports arrival. (The crew's phone view has its own tests in test_dispatch.py.)
    leader = new_context().new_page()
    sign_in(leader, centre.crew_leader.username)
    leader.goto(ticket_url)
    expect(leader.locator("form[action$='/dispatch/']")).to_have_count(0)

    run_action(leader, "accept")
    expect_state(leader, State.ACCEPTED)
    run_action(leader, "arrive")
    expect_state(leader, State.ON_SITE)
    expect(leader.locator("ol.timeline > li")).to_have_count(5)
    expect(leader.locator("ol.timeline > li").nth(4).locator("strong")).to_have_text(
        zh(Action.ARRIVED.label)
    )

    ticket.refresh_from_db()
    assert ticket.state == State.ON_SITE
    assert ticket.crew == centre.crew
    assert ticket.accepted_at is not None
    assert ticket.arrived_at is not None


def test_the_crew_members_of_another_crew_get_not_found(
    transactional_db, centre, make_ticket, page
):
    ticket = make_ticket(State.DISPATCHED)
    sign_in(page, centre.other_crew_leader.username)

    expect(page.locator(f"a[href='/tickets/{ticket.number}/']")).to_have_count(0)
    response = page.goto(f"/tickets/{ticket.number}/")
    assert response.status == 404
    expect(page.locator("main [role=alert]")).to_be_visible()
    # Nor can they act on it, with a valid CSRF token.
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    response = page.request.post(
        f"/tickets/{ticket.number}/accept/",
        headers={"X-CSRFToken": csrf, "Referer": page.url},
    )
    assert response.status == 404
    assert Ticket.objects.get(pk=ticket.pk).state == State.DISPATCHED


def test_an_action_with_a_missing_input_keeps_its_form_open(
    transactional_db, centre, make_ticket, page
):
    ticket = make_ticket(State.VERIFIED)
    sign_in(page, centre.dispatcher.username)
    page.goto(f"/tickets/{ticket.number}/")

    # Confirm the dispatch without choosing a crew (the browser's own check is off).
    action = page.locator("details.action:has(form[action$='/dispatch/'])")
    action.locator("summary").click()
    action.locator("form").evaluate("form => { form.noValidate = true; }")
    with page.expect_navigation():
        action.locator("button[type=submit]").click()

    expect(action).to_have_attribute("open", "")
    expect(action.locator("select[name=crew]")).to_have_attribute("aria-invalid", "true")
    assert Ticket.objects.get(pk=ticket.pk).state == State.VERIFIED
