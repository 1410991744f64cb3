"""Signing in through the real form: every role lands on its own home, with its own menu."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.helpers import sign_in, zh

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

NEW_TICKET = "nav a[href='/tickets/new/']"


@pytest.mark.parametrize(
    ("role", "may_log_tickets"),
    [
        ("agent", True),
        ("shift_leader", True),
        ("dispatcher", True),
        ("supervisor", True),
    ],
)
def test_each_role_lands_on_its_home_with_its_menu(
    transactional_db, centre, page, live_server, role, may_log_tickets
):
    user = centre.by_role()[role]
    sign_in(page, user.username)

    assert page.url == f"{live_server.url}/"
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text(zh(user.primary_role.label))
    expect(page.locator(".whoami")).to_contain_text(zh(user.primary_role.label))
    expect(page.locator("nav a[href='/tickets/']")).to_be_visible()
    expect(page.locator("nav a[href='/'][aria-current=page]")).to_be_visible()
    if may_log_tickets:
        expect(page.locator(NEW_TICKET)).to_be_visible()
        expect(page.locator("main a.button[href='/tickets/new/']")).to_be_visible()
    else:
        expect(page.locator(NEW_TICKET)).to_have_count(0)
        expect(page.locator("a[href='/tickets/new/']")).to_have_count(0)


@pytest.mark.parametrize("role", ["crew_member", "crew_leader"])
def test_crews_land_on_their_phone_view_of_the_crew_work(
    transactional_db, centre, page, live_server, role
):
    sign_in(page, centre.by_role()[role].username)

    assert page.url == f"{live_server.url}/crew/"
    expect(page.locator("h1")).to_have_text(centre.crew.name)
    expect(page.locator("nav a[href='/crew/'][aria-current=page]")).to_be_visible()
    expect(page.locator("a[href='/tickets/new/']")).to_have_count(0)


def test_admin_lands_on_the_admin_site(transactional_db, centre, page, live_server):
    sign_in(page, centre.admin.username)

    assert page.url == f"{live_server.url}/admin/"
    expect(page.locator("#user-tools")).to_be_visible()


def test_a_wrong_password_shows_an_error_and_stays_on_the_form(
    transactional_db, centre, page, live_server
):
    sign_in(page, centre.agent.username, password="not-the-password")

    assert re.fullmatch(rf"{live_server.url}/accounts/login/(\?.*)?", page.url)
    alert = page.locator("main .message-error[role=alert]")
    expect(alert).to_be_visible()
    expect(alert).not_to_be_empty()
    # The username stays filled in; the password does not.
    expect(page.locator("#id_username")).to_have_value(centre.agent.username)
    expect(page.locator("#id_password")).to_have_value("")


def test_signing_in_is_required_for_the_pages(transactional_db, centre, page, live_server):
    page.goto("/tickets/")
    assert page.url == f"{live_server.url}/accounts/login/?next=/tickets/"

    page.locator("#id_username").fill(centre.dispatcher.username)
    page.locator("#id_password").fill("pw-for-tests-1")
    page.locator("#id_password").press("Enter")
    page.wait_for_url(f"{live_server.url}/tickets/")
    expect(page.locator("nav a[href='/tickets/'][aria-current=page]")).to_be_visible()
