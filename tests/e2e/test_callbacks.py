"""Callbacks end to end: an agent works the queue in the browser, records a customer who is
not satisfied, and the ticket comes back to the dispatcher's board without a reload.

The pages are in English (the language cookie), so the assertions read English labels.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from followups.models import Accountability, Callback
from followups.services import callbacks_schedule
from tests.e2e.helpers import sign_in, tab_to
from tests.e2e.test_dispatch import english, expect_card_in_lane, expect_not_reloaded, open_board
from tests.followups.helpers import REPAIR_ANSWERS
from tickets.choices import State
from tickets.models import Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_an_unsatisfied_callback_reopens_the_ticket_onto_the_board(
    transactional_db, rules, centre, make_ticket, new_context, live_server
):
    ticket = make_ticket("closed")
    callbacks_schedule(now=timezone.now() + timedelta(minutes=1))
    # The day after dispatch has come.
    Callback.objects.filter(ticket=ticket).update(callable_at=timezone.now())

    board = english(new_context(), live_server).new_page()
    sign_in(board, centre.dispatcher.username)
    open_board(board)
    expect(board.locator(f"#card-{ticket.number}")).to_have_count(0)

    # The agent opens the queue and starts with the first callback, from the keyboard.
    agent = english(new_context(), live_server).new_page()
    sign_in(agent, centre.agent.username)
    agent.goto("/callbacks/")
    row = agent.locator("table.tickets tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(ticket.number)
    tab_to(agent, "a[href='/callbacks/next/']")
    with agent.expect_navigation():
        agent.keyboard.press("Enter")
    expect(agent.locator(".promise")).to_contain_text(ticket.number)
    expect(agent.locator("main")).to_contain_text(ticket.description)

    # They record what the customer said: reached, every question, not satisfied.
    agent.get_by_label("Yes, they answered").check()
    for code, answer in REPAIR_ANSWERS.items():
        agent.locator(f"input[name={code}][value={answer}]").check()
    agent.get_by_label("How the work went").fill("第二天上门更换了接头")
    agent.get_by_label("Result", exact=True).fill("仍然漏水")
    agent.get_by_label("Not satisfied").check()
    agent.get_by_label("Comments").fill("修完第二天又漏了")
    with agent.expect_navigation():
        agent.get_by_role("button", name="Save and go to the next").click()

    expect(agent.locator(".messages")).to_contain_text("The ticket goes back to the dispatcher")
    expect(agent.locator("main")).to_contain_text("No callback is due now.")

    # The ticket is reopened and shows on the board, which did not reload.
    expect_card_in_lane(board, State.VERIFIED, ticket.number)
    expect_not_reloaded(board)
    ticket.refresh_from_db()
    assert ticket.state == State.VERIFIED
    assert Accountability.objects.get(ticket=ticket).crew == centre.crew
    assert Callback.objects.get(follows__ticket=ticket).state == Callback.State.WAITING
    assert Ticket.objects.count() == 1  # reopened, not a new ticket


def test_a_question_left_out_is_marked_and_nothing_is_saved(
    transactional_db, rules, centre, make_ticket, page, live_server
):
    ticket = make_ticket("closed")
    callbacks_schedule(now=timezone.now() + timedelta(minutes=1))
    callback = Callback.objects.get(ticket=ticket)
    Callback.objects.filter(pk=callback.pk).update(callable_at=timezone.now())
    english(page.context, live_server)
    sign_in(page, centre.agent.username)
    page.goto(f"/callbacks/{callback.pk}/")

    page.get_by_label("Yes, they answered").check()
    page.get_by_label("Satisfied", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save and go to the next").click()

    expect(page.locator("[role=alert]").first).to_contain_text("Some answers need attention")
    expect(page.locator("#id_polite + .errorlist, #id_polite .errorlist")).to_have_text(
        "Choose one of the answers."
    )
    callback.refresh_from_db()
    assert (callback.state, callback.attempts) == (Callback.State.PENDING, 0)
