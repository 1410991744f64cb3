"""The wallboard in a browser: the shift leader watches calls arrive and opens a floating seat.

The telephone switch is played by the test: it signs CTI events and posts them over real
HTTP to the live server, and the wallboard (which refreshes every 3 seconds) shows them.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from staffing import services
from staffing.models import AgentStatus, Seat
from staffing.roles import Role
from tests.e2e.helpers import sign_in, zh
from tests.e2e.test_console import SECRET, send_cti_event
from tests.staffing.factories import user_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

# One refresh of the board (3 s), the request it makes, and room for a busy machine.
BOARD_TIMEOUT_MS = 10_000
CALLER = "+8613812345678"


@pytest.fixture
def floor(transactional_db, centre, settings):
    """Two fixed seats and a floating one switched off; the centre's agent at A-01."""
    settings.CTI_SHARED_SECRET = SECRET
    seats = {
        "A-01": Seat.objects.create(label="A-01", extension="8001"),
        "A-02": Seat.objects.create(label="A-02", extension="8002"),
        "F-01": Seat.objects.create(
            label="F-01", extension="8101", floating=True, switched_on=False
        ),
    }
    services.seat_sign_in(agent=centre.agent, seat=seats["A-01"], at=timezone.now())
    return seats


def _count(page: Page, status: str):
    return page.locator(f"#agents-{status}")


def _today(page: Page, figure: str):
    return page.locator(f"#calls-today [data-figure={figure}]")


def test_the_shift_leader_watches_a_call_cross_the_board(floor, centre, page: Page, live_server):
    sign_in(page, centre.shift_leader.username)
    page.goto("/staffing/wallboard/")
    waiting = page.locator("#tile-waiting .big")
    expect(waiting).to_have_text("0")
    expect(_count(page, AgentStatus.AVAILABLE)).to_have_text("1")
    expect(page.locator("#seat-A-01")).to_contain_text(centre.agent.display_name)

    # The switch rings the queue: one caller waiting.
    ringing = send_cti_event(
        live_server, call_id="pbx-wall-1", event="ringing", caller_number=CALLER
    )
    assert ringing.status_code == 201, ringing.text
    expect(waiting).to_have_text("1", timeout=BOARD_TIMEOUT_MS)
    expect(_today(page, "offered")).to_have_text("1")

    # A-01 answers: the queue empties and the agent is on the call.
    answered = send_cti_event(
        live_server,
        call_id="pbx-wall-1",
        event="answered",
        caller_number=CALLER,
        agent_extension="8001",
    )
    assert answered.status_code == 201, answered.text
    expect(_count(page, AgentStatus.ON_CALL)).to_have_text("1", timeout=BOARD_TIMEOUT_MS)
    expect(waiting).to_have_text("0")
    expect(_count(page, AgentStatus.AVAILABLE)).to_have_text("0")
    expect(page.locator("#seat-A-01 .agent-status")).to_have_text(zh("On a call"))

    # The caller hangs up: the agent is available again and the call is counted answered.
    ended = send_cti_event(live_server, call_id="pbx-wall-1", event="ended", caller_number=CALLER)
    assert ended.status_code == 201, ended.text
    expect(_count(page, AgentStatus.AVAILABLE)).to_have_text("1", timeout=BOARD_TIMEOUT_MS)
    expect(_count(page, AgentStatus.ON_CALL)).to_have_text("0")
    expect(_today(page, "answered")).to_have_text("1")
    expect(_today(page, "answer_rate")).to_have_text("100.0 %")


def test_the_shift_leader_switches_on_a_floating_seat_and_an_agent_takes_it(
    floor, centre, new_context, live_server
):
    leader = new_context().new_page()
    sign_in(leader, centre.shift_leader.username)
    leader.goto("/staffing/wallboard/")
    floating = leader.locator("#seat-F-01")
    expect(floating).to_have_class("seat seat-floating seat-off")

    leader.locator("#switch-F-01").click()
    expect(floating).to_have_class("seat seat-floating")
    expect(leader.locator("#switch-F-01")).to_have_text(
        zh("Switch %(seat)s off") % {"seat": "F-01"}
    )
    assert Seat.objects.get(label="F-01").switched_on

    # A second agent now finds F-01 among the free seats on the console and signs in there.
    second = user_with_role(Role.AGENT, username="agent-2")
    agent = new_context().new_page()
    sign_in(agent, second.username)
    agent.goto("/console/")
    agent.locator("#id_seat").select_option(label="F-01 (8101) · " + zh("floating"))
    agent.locator("#my-status button[type=submit]").click()
    expect(agent.locator("#my-status-badge")).to_have_text(zh("Available"))

    # The board shows who sits there, and one more agent available.
    expect(floating).to_contain_text(second.display_name, timeout=BOARD_TIMEOUT_MS)
    expect(_count(leader, AgentStatus.AVAILABLE)).to_have_text("2")
    # A seat somebody sits at cannot be switched off under them.
    expect(leader.locator("#switch-F-01")).to_have_count(0)


def test_the_service_level_threshold_is_chosen_on_the_board(floor, centre, page: Page):
    sign_in(page, centre.shift_leader.username)
    page.goto("/staffing/wallboard/")
    board = page.locator("#wallboard")
    expect(board).to_have_attribute("hx-get", "/staffing/wallboard/live/?within=15")

    page.locator("#id_within").select_option("20")

    expect(board).to_have_attribute("hx-get", "/staffing/wallboard/live/?within=20")
    # And the refreshes keep the choice.
    page.wait_for_timeout(3_500)
    expect(board).to_have_attribute("hx-get", "/staffing/wallboard/live/?within=20")
