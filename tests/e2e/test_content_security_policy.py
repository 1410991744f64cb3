"""The strict Content-Security-Policy in a real browser: every page of each role's menu,
the administration and the API documentation open without a violation, and what htmx and
the static scripts do still works under it (the board follows a change, the send dialog
opens, the console's community search answers, the charts keep their colours).

Every browser test watches for violations (tests/e2e/conftest.py); these walk the pages no
other test opens and look at what a refused style would have broken without a sound.
"""

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from callcentre.middleware import CSP_HEADER
from tests.e2e.helpers import sign_in
from tickets import services
from tickets.choices import State

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

BOARD_TIMEOUT_MS = 8_000


def english(context: BrowserContext, live_server) -> BrowserContext:
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    return context


def open_every_page_of_the_menu(page: Page) -> list[str]:
    """Open each page the menu links to and let it settle; return their addresses."""
    page.goto("/")
    urls = page.locator("header.topbar nav a").evaluate_all("links => links.map(a => a.href)")
    assert urls
    for url in urls:
        response = page.goto(url)
        assert response is not None, url
        assert response.status < 400, url
        assert "script-src 'self'" in response.headers[CSP_HEADER.lower()], url
        page.wait_for_load_state("networkidle")
    return urls


def no_style_element_added(page: Page) -> None:
    """htmx adds no <style> of its own (base.html's htmx-config), nor does anything else."""
    assert page.evaluate("document.querySelectorAll('style').length") == 0, page.url
    assert page.evaluate("window.htmx.config.includeIndicatorStyles") is False


@pytest.mark.parametrize("role", ["agent", "dispatcher", "supervisor", "shift_leader"])
def test_every_page_of_a_roles_menu_opens_without_a_violation(
    role, transactional_db, centre, make_ticket, page, live_server
):
    make_ticket()
    make_ticket(State.DISPATCHED, fault_type=centre.burst)
    sign_in(page, centre.by_role()[role].username)

    urls = open_every_page_of_the_menu(page)

    assert len(urls) >= 3
    # The conftest's watch fails the test on any violation these pages reported.


def test_the_board_follows_a_change_and_the_send_dialog_opens_under_the_policy(
    transactional_db, centre, make_ticket, new_context, live_server
):
    board = english(new_context(), live_server).new_page()
    sign_in(board, centre.dispatcher.username)
    board.goto("/dispatch/")
    expect(board.locator("h1")).to_have_text("Dispatch board")
    no_style_element_added(board)

    # A ticket logged elsewhere appears without a reload (the poll and its 304s).
    ticket = make_ticket()
    expect(board.locator(f'[data-lane="{State.NEW}"] #card-{ticket.number}')).to_be_visible(
        timeout=BOARD_TIMEOUT_MS
    )
    # And a change to it moves its card (a 200 after the 304s).
    services.ticket_verify(actor=centre.dispatcher, ticket=ticket)
    expect(board.locator(f'[data-lane="{State.VERIFIED}"] #card-{ticket.number}')).to_be_visible(
        timeout=BOARD_TIMEOUT_MS
    )

    # htmx fetches the send dialog into the page.
    board.locator(f"#card-{ticket.number} [data-send]").click()
    dialog = board.locator("#send-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_contain_text(ticket.number)
    no_style_element_added(board)


def test_the_console_searches_communities_with_htmx_under_the_policy(
    transactional_db, centre, page, live_server
):
    centre.community.name = "锦华苑"
    centre.community.save(update_fields=["name"])
    sign_in(page, centre.agent.username)
    page.goto("/console/")
    no_style_element_added(page)

    page.locator("#id_community_query").fill("锦华")

    radio = page.locator(f"#community-choices input[name=community][value='{centre.community.pk}']")
    expect(radio).to_be_visible()
    radio.check()
    expect(radio).to_be_checked()


def test_the_dashboards_charts_keep_their_colours_under_the_policy(
    transactional_db, centre, make_ticket, page, live_server
):
    make_ticket()
    make_ticket(fault_type=centre.burst)
    sign_in(page, centre.supervisor.username)
    page.goto("/reports/dashboard/")

    series = page.locator(".chart svg .series.color-0").first
    expect(series).to_be_attached()
    # Drawn in the product's colours, from attributes: a refused style would leave black.
    fill = series.evaluate("node => getComputedStyle(node).fill")
    assert fill not in ("rgb(0, 0, 0)", "none"), fill
    # pygal's stylesheet applies from the static file: the plot's background is white.
    background = page.locator(".chart svg .plot > .background").first
    assert background.evaluate("node => getComputedStyle(node).fill") == "rgb(255, 255, 255)"


def test_the_api_documentation_draws_under_the_policy(transactional_db, centre, page, live_server):
    sign_in(page, centre.supervisor.username)

    page.goto("/api/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Repair call centre API")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()


def test_the_administration_opens_its_forms_under_the_policy(
    transactional_db, centre, page, live_server
):
    sign_in(page, centre.admin.username)
    for url in (
        "/admin/",
        "/admin/staffing/user/",
        f"/admin/staffing/user/{centre.agent.pk}/change/",
        "/admin/followups/workingdayoverride/calendar/",
        "/admin/django_celery_beat/periodictask/add/",
    ):
        response = page.goto(url)
        assert response is not None, url
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
    # The periodic task form's script, now a file, still runs: it hides the crontab's
    # reading, which it writes under the crontab's field instead.
    expect(page.locator("#id_crontab")).to_be_attached()
    expect(page.locator(".field-crontab_translation")).to_be_hidden()
