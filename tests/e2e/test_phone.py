"""The crew's pages on a phone (390×844): nothing wider than the screen, actions in reach."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import no_horizontal_scroll, sign_in
from tickets.choices import State

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def overflowing(page: Page) -> list[str]:
    """Describe the elements that stick out to the right of the screen (for the message)."""
    return page.evaluate(
        """() => [...document.querySelectorAll("body *")]
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 10)
            .map((e) => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(
                e.getBoundingClientRect().right)}px`)"""
    )


def test_the_crew_leader_works_a_ticket_on_a_phone(
    transactional_db, centre, make_ticket, phone_page, live_server
):
    page = phone_page
    ticket = make_ticket(
        State.DISPATCHED,
        address="锦华苑小区东门进入后右转第二个路口",
        description="卫生间墙内渗水，楼下反映天花板滴水，" * 4,
    )
    make_ticket(State.ACCEPTED)
    sign_in(page, centre.crew_leader.username)

    # The crew's phone opens on the crew's own work.
    page.wait_for_url(f"{live_server.url}/crew/")
    assert page.evaluate("window.innerWidth") == 390
    link = page.locator(f".crew-item[href='/crew/{ticket.number}/']")
    expect(link).to_be_visible()
    assert no_horizontal_scroll(page), overflowing(page)

    link.tap()
    page.wait_for_url(f"{live_server.url}/crew/{ticket.number}/")
    assert no_horizontal_scroll(page), overflowing(page)

    accept = page.locator("form[action$='/accept/'] button[type=submit]")
    expect(accept).to_be_in_viewport()
    with page.expect_navigation():
        accept.tap()
    assert no_horizontal_scroll(page), overflowing(page)

    # The next action is in easy reach: a tap target at least 44 px high.
    arrive = page.locator("form[action$='/arrive/'] button[type=submit]")
    box = arrive.bounding_box()
    assert box is not None
    assert box["height"] >= 44, box

    page.goto("/tickets/")
    assert no_horizontal_scroll(page), overflowing(page)
