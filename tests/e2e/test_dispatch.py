"""Dispatch end to end: the board sends a crew by keyboard, the crew works the ticket on a
phone, the board follows every step without a reload, and the customer reads the outcome.

Every page here is in English (the language cookie), so the assertions read English labels.
Set ``E2E_SHOTS`` to a folder to keep screenshots of the board, the send dialog, the crew's
ticket on the phone, the status page and the completion slip.
"""

import os
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import BrowserContext, Page, expect

from dispatch.models import Assignment
from tests.e2e.helpers import PHONE, sign_in, tab_to
from tickets.choices import Returned, State
from tickets.models import Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

# The board polls every 3 s: a change shows within one poll and a request.
BOARD_TIMEOUT_MS = 8_000
SHOTS = os.environ.get("E2E_SHOTS", "")


def english(context: BrowserContext, live_server) -> BrowserContext:
    """Show the context's pages in English, whatever the browser's own language."""
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    return context


def shoot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def card_in_lane(board: Page, lane: str, number: str):
    return board.locator(f'[data-lane="{lane}"] #card-{number}')


def expect_card_in_lane(board: Page, lane: str, number: str) -> None:
    expect(card_in_lane(board, lane, number)).to_be_visible(timeout=BOARD_TIMEOUT_MS)
    # One card per ticket: the lane it left no longer shows it.
    expect(board.locator(f"#card-{number}")).to_have_count(1)


def open_board(board: Page) -> None:
    """Open the board and mark the window, so that a reload would show."""
    board.goto("/dispatch/")
    expect(board.locator("h1")).to_have_text("Dispatch board")
    board.evaluate("window.__marker = 1")


def expect_not_reloaded(board: Page) -> None:
    assert board.evaluate("window.__marker") == 1, "the board reloaded"


def expect_done(phone: Page, message: str) -> None:
    expect(phone.locator(".messages .message-success")).to_have_text(message)


def crew_tap(phone: Page, action: str, message: str) -> None:
    """Tap the button of a crew action that needs no input and wait for its answer."""
    button = phone.locator(f"form[action$='/{action}/'] button[type=submit]")
    with phone.expect_navigation():
        button.tap()
    expect_done(phone, message)


def write_png(path: Path) -> Path:
    Image.new("RGB", (64, 48), (40, 120, 200)).save(path, format="PNG")
    return path


@pytest.fixture
def crews_on_duty(centre):
    """Put the ticket's crew on duty with the skill and district it needs, and another crew
    on duty that lacks both, so that the recommendation has a choice to make."""
    centre.crew.skills.add(centre.burst.skill)
    centre.crew.is_on_duty = True
    centre.crew.save(update_fields=["is_on_duty"])
    centre.other_crew.is_on_duty = True
    centre.other_crew.save(update_fields=["is_on_duty"])
    return centre


def test_a_ticket_goes_from_the_board_to_the_crew_and_the_board_follows_it_live(
    transactional_db, crews_on_duty, make_ticket, new_context, live_server, settings, tmp_path
):
    centre = crews_on_duty
    settings.MEDIA_ROOT = tmp_path / "media"
    ticket = make_ticket(fault_type=centre.burst, caller_phone="+8613812345678")
    number = ticket.number

    # Given the dispatcher's board with the new ticket in the "new" lane.
    dispatcher = english(new_context(), live_server)
    board = dispatcher.new_page()
    sign_in(board, centre.dispatcher.username)
    open_board(board)
    expect(card_in_lane(board, State.NEW, number)).to_be_visible()
    shoot(board, "board")

    # When they reach the card with Tab and press Enter, the send dialog opens with the
    # recommended crew (skilled, same district) chosen and focused.
    tab_to(board, f"#card-{number}")
    board.keyboard.press("Enter")
    dialog = board.locator("#send-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text(f"Send {number} to a crew")
    chosen = dialog.locator("input[name=crew]:checked")
    expect(chosen).to_have_value(str(centre.crew.pk))
    expect(chosen).to_be_focused()
    expect(dialog.locator(".choice-row").first).to_contain_text(centre.crew.name)
    expect(dialog.locator(".choice-row").first).to_contain_text("same district")
    expect(dialog.locator(".choice-row")).to_have_count(2)
    shoot(board, "send-dialog")

    # And press Enter again: the dialog closes and the card moves without a reload.
    board.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect_card_in_lane(board, State.DISPATCHED, number)
    ticket.refresh_from_db()
    assert (ticket.state, ticket.crew) == (State.DISPATCHED, centre.crew)

    # The crew leader works the ticket on a phone; the board follows each step.
    phone = english(
        new_context(viewport=PHONE, is_mobile=True, has_touch=True), live_server
    ).new_page()
    sign_in(phone, centre.crew_leader.username)
    phone.goto("/crew/")
    with phone.expect_navigation():
        phone.locator(f"a.crew-item[href='/crew/{number}/']").tap()
    shoot(phone, "crew-ticket-dispatched")

    crew_tap(phone, "accept", "Accepted. Go safely.")
    expect_card_in_lane(board, State.ACCEPTED, number)

    crew_tap(phone, "arrive", "Arrival recorded.")
    expect_card_in_lane(board, State.ON_SITE, number)

    crew_tap(phone, "mitigate", "Water stop recorded.")
    expect_card_in_lane(board, State.MITIGATED, number)
    shoot(phone, "crew-ticket-mitigated")

    complete = phone.locator("details:has(form[action$='/complete/'])")
    complete.locator("summary").tap()
    report = complete.locator("form")
    expect(report).to_be_visible()
    report.locator("[name=measures]").fill("Replaced the burst section of DN100 pipe")
    report.locator("[name=part-0-name]").fill("DN100 coupling")
    report.locator("[name=part-0-quantity]").fill("2")
    report.locator("[name=part-0-unit]").fill("pcs")
    report.locator("[name=cost-0-item]").fill("Excavation")
    report.locator("[name=cost-0-amount]").fill("350")
    report.locator("[name=photos]").set_input_files(write_png(tmp_path / "repair.png"))
    shoot(phone, "crew-report")
    with phone.expect_navigation():
        report.locator("button[type=submit]").tap()
    expect_done(phone, "Completed; the dispatcher will review the report.")
    expect(phone.locator(".photo-grid img")).to_have_count(1)
    expect_card_in_lane(board, State.RESOLVED, number)
    expect_not_reloaded(board)
    shoot(board, "board-resolved")

    # The dispatcher closes the ticket from its page; the card leaves the board.
    detail = dispatcher.new_page()
    detail.goto(f"/tickets/{number}/")
    close = detail.locator("details.action:has(form[action$='/close/'])")
    close.locator("summary").click()
    with detail.expect_navigation():
        close.locator("button[type=submit]").click()
    expect(detail.locator(".messages .message-success")).to_be_visible()
    expect(detail.locator("h1 .state")).to_have_text("Closed")
    expect(board.locator(f"#card-{number}")).to_have_count(0, timeout=BOARD_TIMEOUT_MS)
    expect_not_reloaded(board)

    ticket.refresh_from_db()
    assert ticket.state == State.CLOSED
    assert ticket.photos.count() == 1
    assignment = Assignment.objects.get(ticket=ticket)
    assert (assignment.crew, assignment.outcome) == (centre.crew, Assignment.Outcome.ACCEPTED)

    # Then the customer, on their phone, looks the ticket up and reads the slip.
    customer = english(
        new_context(viewport=PHONE, is_mobile=True, has_touch=True), live_server
    ).new_page()
    customer.goto("/status/")
    customer.locator("[name=number]").fill(number)
    customer.locator("[name=digits]").fill("5678")
    with customer.expect_navigation():
        customer.locator("main form button[type=submit]").tap()
    expect(customer.locator(".status-state .state")).to_have_text("Closed")
    expect(customer.locator("ol.timeline > li")).to_contain_text(
        [
            "Your report was received.",
            f"Sent to the repair crew {centre.crew.name}.",
            "The repair crew accepted the job.",
            "The repair crew arrived on site.",
            "The water was stopped.",
            "The repair was completed.",
            "The ticket was closed; the completion slip is ready.",
        ]
    )
    shoot(customer, "status")

    with customer.expect_navigation():
        customer.get_by_role("link", name="See the completion slip").tap()
    slip = customer.locator("article.slip")
    expect(slip).to_contain_text("Replaced the burst section of DN100 pipe")
    expect(slip.locator(".slip-parts tbody tr")).to_have_text(["DN100 coupling 2 pcs"])
    expect(slip.locator(".slip-costs tbody tr")).to_have_text(["Excavation 350.00"])
    expect(slip.locator(".slip-costs tfoot td")).to_have_text("350.00")
    shoot(customer, "slip")


def test_a_crew_that_declines_on_the_phone_sends_the_card_back_to_the_board_flagged(
    transactional_db, crews_on_duty, make_ticket, new_context, live_server
):
    centre = crews_on_duty
    ticket = make_ticket(State.DISPATCHED)
    number = ticket.number

    # Given the dispatcher's board with the ticket in the "dispatched" lane.
    board = english(new_context(), live_server).new_page()
    sign_in(board, centre.dispatcher.username)
    open_board(board)
    expect(card_in_lane(board, State.DISPATCHED, number)).to_be_visible()

    # When the crew leader declines it on a phone, with a reason.
    phone = english(
        new_context(viewport=PHONE, is_mobile=True, has_touch=True), live_server
    ).new_page()
    sign_in(phone, centre.crew_leader.username)
    phone.goto(f"/crew/{number}/")
    decline = phone.locator("details:has(form[action$='/decline/'])")
    decline.locator("summary").tap()
    decline.locator("[name=reason]").fill("Our van is stuck at another burst")
    with phone.expect_navigation():
        decline.locator("button[type=submit]").tap()
    expect_done(phone, "Declined; the ticket is back with the dispatcher.")
    assert phone.url == f"{live_server.url}/crew/"
    expect(phone.locator(f"a.crew-item[href='/crew/{number}/']")).to_have_count(0)

    # Then the board shows the card back in "verified", flagged, without a reload.
    expect_card_in_lane(board, State.VERIFIED, number)
    card = card_in_lane(board, State.VERIFIED, number)
    expect(card.locator(".card-flag")).to_have_text("Declined by the crew")
    expect(card.locator("[data-send]")).to_be_visible()
    expect_not_reloaded(board)
    shoot(board, "board-declined")

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert (ticket.state, ticket.returned, ticket.crew) == (
        State.VERIFIED,
        Returned.DECLINED,
        None,
    )
    assignment = Assignment.objects.get(ticket=ticket)
    assert assignment.outcome == Assignment.Outcome.DECLINED
    assert assignment.reason == "Our van is stuck at another burst"
