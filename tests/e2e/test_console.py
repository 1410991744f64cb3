"""The agent console in a browser: the screen pop, logging a call, linking it, the FAQ.

The telephone switch is played by the test itself: it signs a CTI event and posts it over
real HTTP to the live server, and the console (which polls for a call every 2 seconds)
opens the call on its own.
"""

import json
import os
import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from callcentre.cti import cti_signature
from callcentre.models import Call, Caller, FaqEntry
from tests.dispatch.factories import CommunityFactory
from tests.e2e.helpers import choose_with_keys, sign_in, tab_to, zh
from tickets.choices import Grade, State
from tickets.models import Ticket

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

SECRET = "switch-secret-for-e2e"
PHONE = "+8613812345678"
# Set E2E_SCREENSHOTS to a folder to save the console mid-call there (docs/screenshots).
SCREENSHOTS = os.environ.get("E2E_SCREENSHOTS")
# The screen pop waits for the console's next poll (every 2 s) and the page it opens.
POP_TIMEOUT_MS = 8_000


@pytest.fixture
def console(transactional_db, centre, settings, page: Page) -> Page:
    """The agent, at extension 8001, signed in on an empty console; communities to choose."""
    settings.CTI_SHARED_SECRET = SECRET
    centre.agent.extension = "8001"
    centre.agent.save(update_fields=["extension"])
    centre.community.name = "锦华苑"
    centre.community.save(update_fields=["name"])
    CommunityFactory(name="锦华苑二期", district=centre.community.district)
    sign_in(page, centre.agent.username)
    page.goto("/console/")
    return page


def send_cti_event(live_server, **fields) -> httpx.Response:
    """Post one event as the switch does: the raw JSON body, signed with the shared secret."""
    raw = json.dumps(fields).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-CTI-Timestamp": stamp,
        "X-CTI-Signature": cti_signature(secret=SECRET, timestamp=stamp, body=raw),
    }
    with httpx.Client(trust_env=False, timeout=10) as client:
        return client.post(f"{live_server.url}/api/v1/cti/events/", content=raw, headers=headers)


def choose_community(page: Page, community, *, typed: str = "锦华") -> None:
    """Type part of the name in the community box, then check the community's radio."""
    page.locator("#id_community_query").fill(typed)
    radio = page.locator(f"#community-choices input[name=community][value='{community.pk}']")
    radio.check()
    expect(radio).to_be_checked()


def fill_console(page: Page, centre, **values: str) -> None:
    """Fill the console's form with a general repair in the centre's community."""
    fault_type = values.pop("fault_type", centre.leak.name)
    fields = {
        "caller_phone": "13812345678",
        "caller_name": "王女士",
        "address": "锦华苑",
        "building": "5",
        "unit": "1",
        "room": "302",
        "description": "卫生间墙内渗水",
        **values,
    }
    for name, value in fields.items():
        page.locator(f"#id_{name}").fill(value)
    page.locator("#id_fault_type").select_option(label=fault_type)
    choose_community(page, centre.community)


def log_the_ticket(page: Page) -> None:
    with page.expect_navigation():
        page.locator("#console-form button[type=submit].primary").click()


def assert_nothing_injected(page: Page) -> None:
    """No markup a caller typed became an element, and none of its scripts ran."""
    injected = page.evaluate(
        """() => ({
            handlers: document.querySelectorAll('[onerror]').length,
            scripts: [...document.scripts].filter(s => s.text.includes('__xss')).length,
            ran: typeof window.__xss,
        })"""
    )
    assert injected == {"handlers": 0, "scripts": 0, "ran": "undefined"}, page.url


def test_an_answered_call_pops_up_and_is_logged_by_keyboard(
    console: Page, centre, make_ticket, live_server
):
    page = console
    earlier = make_ticket()  # the same number called before
    expect(page.locator("#id_caller_phone")).to_have_value("")

    answered = send_cti_event(
        live_server,
        call_id="pbx-e2e-1",
        event="answered",
        caller_number=PHONE,
        agent_extension="8001",
    )
    assert answered.status_code == 201, answered.text
    call = Call.objects.get(cti_call_id="pbx-e2e-1")

    # The console opens the call on its own: the number, and what this caller had before.
    page.wait_for_url(f"{live_server.url}/console/?call={call.pk}", timeout=POP_TIMEOUT_MS)
    expect(page.locator("#id_call")).to_have_value(str(call.pk))
    phone = page.locator("#id_caller_phone")
    expect(phone).to_have_value(PHONE)
    expect(phone).to_be_focused()
    expect(page.locator("#caller-panel")).to_contain_text(earlier.number)

    # The agent fills in the rest with the keyboard alone.
    page.keyboard.press("Tab")
    page.keyboard.type("王女士")
    tab_to(page, "#id_category")
    choose_with_keys(page, "#id_category", zh("Repair"))
    page.keyboard.press("Tab")
    choose_with_keys(page, "#id_fault_type", centre.burst.name)
    tab_to(page, "#id_community_query")
    page.keyboard.type("锦华")
    radios = page.locator("#community-choices input[name=community]")
    expect(radios).to_have_count(2)
    page.keyboard.press("Tab")  # into the group of radios, at its first: 锦华苑
    chosen = page.locator(f"#community-choices input[value='{centre.community.pk}']")
    expect(chosen).to_be_focused()
    page.keyboard.press("Space")
    expect(chosen).to_be_checked()
    tab_to(page, "#id_address")
    page.keyboard.type("锦华苑南门主干道")
    tab_to(page, "#id_description")
    page.keyboard.type("小区南门主水管爆裂，水往路上涌")

    # The standard's grade for the fault is shown beside the form.
    expect(page.locator("#place-panel")).to_contain_text(zh("Emergency"))
    if SCREENSHOTS:
        page.wait_for_load_state("networkidle")
        path = Path(SCREENSHOTS) / "10-agent-console.png"
        page.screenshot(path=str(path), caret="hide")  # what the agent sees

    tab_to(page, "#console-form button[type=submit].primary")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    ticket = Ticket.objects.exclude(pk=earlier.pk).get()
    assert page.url == f"{live_server.url}/console/done/{ticket.number}/"
    assert (ticket.fault_type, ticket.grade) == (centre.burst, Grade.EMERGENCY)
    assert (ticket.community, ticket.caller_name) == (centre.community, "王女士")
    assert ticket.caller_phone == PHONE
    expect(page.locator(".ticket-number")).to_have_text(ticket.number)
    promise = page.locator(".promise")
    expect(promise).to_contain_text("10 分钟")  # an emergency: a crew within 10 minutes
    expect(promise).to_contain_text(ticket.number)
    call.refresh_from_db()
    assert (call.outcome, call.ticket, call.agent) == (
        Call.Outcome.TICKET_CREATED,
        ticket,
        centre.agent,
    )

    # The promise is read in the caller's language; an English speaker hears it in English.
    Caller.objects.filter(phone=PHONE).update(language="en")
    page.reload()
    expect(promise).to_contain_text("within 10 minutes")
    expect(promise).to_contain_text(ticket.number)

    # The call is dealt with: the next poll opens nothing, "Next call" opens an empty form.
    with page.expect_navigation():
        page.locator("main a.button.primary").click()
    assert page.url == f"{live_server.url}/console/"
    expect(page.locator("#id_caller_phone")).to_have_value("")


def test_a_call_through_to_a_busy_console_is_only_announced(console: Page, live_server):
    page = console
    page.locator("#id_caller_phone").fill("13912345678")
    answered = send_cti_event(
        live_server,
        call_id="pbx-e2e-2",
        event="answered",
        caller_number=PHONE,
        agent_extension="8001",
    )
    assert answered.status_code == 201, answered.text

    banner = page.locator("#pop [role=status]")
    expect(banner).to_contain_text(PHONE, timeout=POP_TIMEOUT_MS)
    # Nothing typed is lost; the banner's link opens the call in a fresh form.
    assert page.url == f"{live_server.url}/console/"
    expect(page.locator("#id_caller_phone")).to_have_value("13912345678")
    with page.expect_navigation():
        banner.locator("a").click()
    expect(page.locator("#id_caller_phone")).to_have_value(PHONE)


def test_what_callers_say_is_shown_as_text_everywhere(console: Page, centre, live_server):
    page = console
    script = "<script>window.__xss=1</script>"
    image = '<img src=x onerror="window.__xss=2">'
    name = '<img src=x onerror="window.__xss=3">'
    address = '锦华苑<img src=x onerror="window.__xss=4">'
    description = f"{script} {image} 厨房水管接头漏水"
    fill_console(page, centre, caller_name=name, address=address, description=description)
    log_the_ticket(page)

    ticket = Ticket.objects.get()
    assert (ticket.caller_name, ticket.description) == (name, description)
    assert page.url == f"{live_server.url}/console/done/{ticket.number}/"
    assert_nothing_injected(page)

    with page.expect_navigation():
        page.locator("main a", has_text=zh("Open the ticket")).click()
    main = page.locator("main")
    for text in (script, image, name, address):
        expect(main).to_contain_text(text)
    assert_nothing_injected(page)

    page.goto("/tickets/")
    expect(page.locator("main")).to_contain_text(address)
    assert_nothing_injected(page)

    # The caller's panel of their next call shows their name and address as typed.
    page.goto("/console/?phone=13812345678")
    panel = page.locator("#caller-panel")
    expect(panel).to_contain_text(ticket.number)
    expect(panel).to_contain_text(name)
    expect(panel).to_contain_text(address)
    # The panel is drawn by the page, then again by htmx when the number loads.
    page.wait_for_load_state("networkidle")
    assert_nothing_injected(page)
    # Reused from the panel, the name and the address come back as they were typed.
    panel.get_by_role("button", name=zh("Use this name")).click()
    expect(page.locator("#id_caller_name")).to_have_value(name)
    panel.get_by_role("button", name=zh("Use this address")).click()
    expect(page.locator("#id_address")).to_have_value(address)
    assert_nothing_injected(page)


def test_bad_input_is_marked_beside_its_field_and_nothing_is_saved(
    console: Page, centre, live_server
):
    page = console
    # A household repair needs the building and the unit.
    fill_console(page, centre, building="", unit="")
    log_the_ticket(page)

    assert page.url == f"{live_server.url}/console/"
    expect(page.locator("main .message-error[role=alert]")).to_be_visible()
    for field in ("building", "unit"):
        expect(page.locator(f"#id_{field}")).to_have_attribute("aria-invalid", "true")
        expect(page.locator(f"#id_{field}_error")).not_to_be_empty()
    # What was typed is kept, the community chosen too.
    expect(page.locator("#id_description")).to_have_value("卫生间墙内渗水")
    expect(page.locator(f"input[name=community][value='{centre.community.pk}']")).to_be_checked()
    assert not Ticket.objects.exists()
    assert not Call.objects.exists()

    # A number that is no phone number.
    page.locator("#id_building").fill("5")
    page.locator("#id_unit").fill("1")
    page.locator("#id_caller_phone").fill("12345")
    log_the_ticket(page)

    phone = page.locator("#id_caller_phone")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_value("12345")
    expect(phone).to_have_attribute("aria-describedby", re.compile(r"\bid_caller_phone_error\b"))
    expect(page.locator("#id_caller_phone_error")).not_to_be_empty()
    expect(page.locator("#caller-panel")).to_contain_text(zh("Not a valid phone number yet."))
    expect(page.locator("#id_building")).not_to_have_attribute("aria-invalid", "true")
    assert not Ticket.objects.exists()
    assert not Call.objects.exists()

    # Put right, the call is logged.
    phone.fill("13812345678")
    log_the_ticket(page)
    assert page.url == f"{live_server.url}/console/done/{Ticket.objects.get().number}/"


def test_a_call_about_an_open_incident_is_linked_to_it(
    console: Page, centre, make_ticket, live_server
):
    page = console
    incident = make_ticket(
        State.DISPATCHED,
        fault_type=centre.burst,
        caller_phone="+8613912345678",
        address="锦华苑南门",
        building="",
        unit="",
        room="",
    )
    page.locator("#id_caller_phone").fill("13812345678")
    page.locator("#id_caller_name").fill("王女士")
    page.locator("#id_fault_type").select_option(label=centre.burst.name)
    choose_community(page, centre.community)

    place = page.locator("#place-panel")
    expect(place.locator("h3")).to_have_text(zh("Maybe the same incident"))
    expect(place).to_contain_text(incident.number)
    with page.expect_navigation():
        place.locator("li", has_text=incident.number).locator("button").click()

    assert page.url == f"{live_server.url}/console/"
    expect(page.locator(".messages .message-success")).to_contain_text(incident.number)
    assert Ticket.objects.count() == 1
    call = Call.objects.get()
    assert (call.outcome, call.ticket) == (Call.Outcome.LINKED, incident)
    assert call.caller_number == PHONE


def test_the_faq_finds_low_water_pressure_and_the_call_is_recorded(console: Page, live_server):
    page = console
    low_pressure = FaqEntry.objects.create(
        question="为什么我家水压低",
        answer="用水高峰时水压会降低；全天都低，请报修。",
        category="供水",
        keywords="水压 水小",
    )
    FaqEntry.objects.create(question="如何办理过户", answer="带身份证到营业厅。", category="业务")

    page.locator("#id_faq_query").press_sequentially("水压")
    results = page.locator("#faq-results article.faq")
    expect(results).to_have_count(1)
    expect(results.locator("h3")).to_have_text("为什么我家水压低")

    # Answered from the FAQ: the call is recorded with the entry, and no ticket is made.
    page.locator("#id_caller_phone").fill("13812345678")
    results.get_by_label(zh("Used on this call")).check()
    with page.expect_navigation():
        page.locator("#console-form button", has_text=zh("Answered on the call")).click()

    expect(page.locator(".messages .message-success")).to_be_visible()
    call = Call.objects.get()
    assert call.outcome == Call.Outcome.ANSWERED
    assert list(call.faq_entries.all()) == [low_pressure]
    assert not Ticket.objects.exists()
