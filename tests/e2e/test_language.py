"""The language switcher in the header: Chinese by default, English on request, and back."""

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import en, sign_in, zh

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def switch_language(page: Page, code: str) -> None:
    """Choose a language in the header; the select sends its form by itself."""
    with page.expect_navigation():
        page.locator("select#language-select").select_option(code)


def expect_language(page: Page, code: str, translate) -> None:
    expect(page.locator("html")).to_have_attribute("lang", code)
    expect(page.locator("select#language-select")).to_have_value(code)
    expect(page.locator("nav a[href='/tickets/']")).to_have_text(translate("Tickets"))
    expect(page.locator("h1")).to_have_text(translate("Tickets"))
    expect(page.locator("label[for=id_q]")).to_have_text(translate("Number or phone"))


def test_the_switcher_changes_the_language_of_the_pages(
    transactional_db, centre, page, live_server
):
    sign_in(page, centre.dispatcher.username)
    page.goto("/tickets/?state=new")
    expect_language(page, "zh-hans", zh)
    # The select has a name for screen readers, and the submit button is for no-JS only.
    expect(page.locator("label[for=language-select]")).to_have_text(zh("Language"))
    expect(page.locator(".lang-form button[type=submit]")).to_be_hidden()

    switch_language(page, "en")
    # The switch comes back to the same page, filters and all.
    assert page.url == f"{live_server.url}/tickets/?state=new"
    expect_language(page, "en", en)
    expect(page.locator(".whoami")).to_contain_text(en("Dispatcher"))

    # The choice sticks for the next pages.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text(en("Dispatcher"))

    page.goto("/tickets/")
    switch_language(page, "zh-hans")
    expect_language(page, "zh-hans", zh)


def test_the_sign_in_page_can_be_switched_before_signing_in(
    transactional_db, centre, page, live_server
):
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("main h1")).to_have_text(zh("Sign in"))

    switch_language(page, "en")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("main h1")).to_have_text("Sign in")
    expect(page.locator("label[for=id_username]")).to_have_text("Username")
    sign_in(page, centre.agent.username)
    expect(page.locator("h1")).to_have_text(en("Seat agent"))
