"""An agent logs a call with the new-ticket form, and the form says what is wrong."""

import re

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from tests.e2e.helpers import PASSWORD, choose_with_keys, sign_in, tab_to, zh
from tickets import services
from tickets.choices import Category, Channel
from tickets.errors import ApplicationError
from tickets.models import Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def fill_new_ticket(page: Page, **values: str) -> None:
    """Fill the form's text fields and choose the fault type by its name."""
    fault_type = values.pop("fault_type", "单户漏水")
    fields = {
        "caller_phone": "13812345678",
        "caller_name": "张先生",
        "address": "锦华苑",
        "building": "3",
        "unit": "2",
        "room": "501",
        "description": "厨房水管接头漏水",
        **values,
    }
    for name, value in fields.items():
        page.locator(f"#id_{name}").fill(value)
    page.locator("#id_fault_type").select_option(label=fault_type)


def refusal_of_a_repair_without_building(centre) -> ApplicationError:
    """The service's own refusal, in Chinese, of a general repair with no building or unit."""
    with translation.override("zh-hans"), pytest.raises(ApplicationError) as refused:
        services.ticket_create(
            actor=centre.agent,
            channel=Channel.HOTLINE,
            category=Category.REPAIR,
            fault_type=centre.leak,
            description="厨房水管接头漏水",
            caller_name="张先生",
            caller_phone="+8613812345678",
            address="锦华苑",
        )
    return refused.value


def test_an_agent_logs_a_ticket_with_the_keyboard_only(transactional_db, centre, page, live_server):
    # Sign in: the username field has the focus, Tab to the password, Enter to send.
    page.goto("/accounts/login/")
    expect(page.locator("#id_username")).to_be_focused()
    page.keyboard.type(centre.agent.username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")

    # The first Tab reaches the skip link, which takes the focus past the header.
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    expect(page.locator(".skip-link")).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    # From there, Tab to "New ticket" and open it.
    tab_to(page, "main a[href='/tickets/new/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/tickets/new/")

    tab_to(page, "#id_caller_phone")
    page.keyboard.type("138 1234 5678")
    page.keyboard.press("Tab")
    page.keyboard.type("张先生")
    page.keyboard.press("Tab")
    choose_with_keys(page, "#id_channel", zh("Hotline"))
    page.keyboard.press("Tab")
    expect(page.locator("#id_external_ref")).to_be_focused()
    page.keyboard.press("Tab")
    choose_with_keys(page, "#id_category", zh("Repair"))
    page.keyboard.press("Tab")
    choose_with_keys(page, "#id_fault_type", "单户漏水")
    tab_to(page, "#id_address")
    page.keyboard.type("锦华苑")
    page.keyboard.press("Tab")
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    page.keyboard.type("2")
    page.keyboard.press("Tab")
    page.keyboard.type("501")
    page.keyboard.press("Tab")
    expect(page.locator("#id_pipe_diameter")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#id_description")).to_be_focused()
    page.keyboard.type("厨房水管接头漏水")
    page.keyboard.press("Tab")
    expect(page.locator("button[type=submit].primary")).to_be_focused()
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(rf"{re.escape(live_server.url)}/tickets/(?!new/)[^/]+/$"))
    ticket = Ticket.objects.get()
    assert page.url == f"{live_server.url}/tickets/{ticket.number}/"
    assert ticket.caller_phone == "+8613812345678"
    assert (ticket.building, ticket.unit, ticket.room) == ("3", "2", "501")
    assert ticket.fault_type == centre.leak
    assert ticket.created_by == centre.agent
    expect(page.locator("h1")).to_contain_text(ticket.number)
    expect(page.locator(".messages .message-success")).to_contain_text(ticket.number)
    expect(page.locator("h1 .state")).to_have_class(re.compile(r"\bstate-new\b"))


def test_a_general_repair_without_building_and_unit_is_refused(
    transactional_db, centre, page, live_server
):
    sign_in(page, centre.agent.username)
    page.goto("/tickets/new/")
    fill_new_ticket(page, building="", unit="")

    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    assert page.url == f"{live_server.url}/tickets/new/"
    expect(page.locator("main .message-error[role=alert]")).to_be_visible()
    # Each field shows the message the ticket service gives for it.
    refused = refusal_of_a_repair_without_building(centre)
    for field in ("building", "unit"):
        expect(page.locator(f"#id_{field}")).to_have_attribute("aria-invalid", "true")
        expect(page.locator(f"#id_{field}_error")).to_have_text(refused.fields[field][0])
    # What was typed is still there, so the agent only adds what is missing.
    expect(page.locator("#id_caller_name")).to_have_value("张先生")
    expect(page.locator("#id_description")).to_have_value("厨房水管接头漏水")
    assert Ticket.objects.count() == 0

    # Adding them logs the ticket.
    page.locator("#id_building").fill("3")
    page.locator("#id_unit").fill("2")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert Ticket.objects.count() == 1
    assert page.url == f"{live_server.url}/tickets/{Ticket.objects.get().number}/"


def test_an_emergency_on_a_road_needs_no_building(transactional_db, centre, page, live_server):
    sign_in(page, centre.agent.username)
    page.goto("/tickets/new/")
    fill_new_ticket(page, building="", unit="", room="", address="人民路口", fault_type="爆管")

    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    ticket = Ticket.objects.get()
    assert page.url == f"{live_server.url}/tickets/{ticket.number}/"
    expect(page.locator("h1 .grade")).to_have_class(re.compile(r"\bgrade-emergency\b"))


def test_an_invalid_phone_number_is_refused(transactional_db, centre, page, live_server):
    sign_in(page, centre.agent.username)
    page.goto("/tickets/new/")
    fill_new_ticket(page, caller_phone="12345")

    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()

    assert page.url == f"{live_server.url}/tickets/new/"
    phone = page.locator("#id_caller_phone")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_attribute("aria-describedby", re.compile(r"\bid_caller_phone_error\b"))
    expect(page.locator("#id_caller_phone_error")).not_to_be_empty()
    expect(phone).to_have_value("12345")
    # The fields that were right are not marked.
    expect(page.locator("#id_building")).not_to_have_attribute("aria-invalid", "true")
    assert Ticket.objects.count() == 0


def test_a_crew_member_is_refused_the_form(transactional_db, centre, page, live_server):
    sign_in(page, centre.crew_member.username)
    response = page.goto("/tickets/new/")
    assert response.status == 403
    assert Ticket.objects.count() == 0
