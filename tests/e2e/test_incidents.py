"""A major incident in a browser: the supervisor declares it from the emergency ticket, an
agent taking a call from an address in the area sees the banner and links the call with one
key, and restoring supply tells the caller."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from callcentre.models import Call
from dispatch.models import OutboundMessage
from outages.models import Outage, PlanStep
from outages.tasks import outage_notify
from tests.e2e.helpers import sign_in, zh
from tests.e2e.test_console import choose_community
from tickets.choices import State

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture
def burst(transactional_db, centre, make_ticket, monkeypatch):
    """An open burst main in 锦华苑, the plan of a burst, and the fan-out run at once."""
    monkeypatch.setattr("outages.tasks.outage_notify.delay", outage_notify)
    monkeypatch.setattr("dispatch.tasks.messages_send.delay", lambda batch: None)
    centre.community.name = "锦华苑"
    centre.community.save(update_fields=["name"])
    PlanStep.objects.create(fault_type=centre.burst, order=1, text="关闭上游阀门")
    PlanStep.objects.create(fault_type=None, order=9, text="向分管领导报告")
    return make_ticket(State.DISPATCHED, fault_type=centre.burst, community=centre.community)


def test_declared_seen_in_the_console_linked_by_one_key_and_restored(
    new_context, centre, burst, live_server
):
    supervisor = new_context().new_page()
    sign_in(supervisor, centre.supervisor.username)
    supervisor.goto(f"/tickets/{burst.number}/")
    with supervisor.expect_navigation():
        supervisor.get_by_role("link", name=zh("Declare a major incident")).click()
    eta = timezone.localtime() + timedelta(hours=4)
    supervisor.get_by_label(zh("Expected restoration")).fill(eta.strftime("%Y-%m-%dT%H:%M"))
    supervisor.get_by_label(zh("Text for customers")).fill("爆管抢修中，预计 4 小时内恢复供水。")
    with supervisor.expect_navigation():
        supervisor.get_by_role("button", name=zh("Declare and tell the customers")).click()
    incident = Outage.objects.get()
    expect(supervisor.locator("#plan + ol")).to_contain_text("关闭上游阀门")

    agent = new_context().new_page()
    sign_in(agent, centre.agent.username)
    agent.goto("/console/")
    agent.locator("#id_caller_phone").fill("13912345678")
    agent.locator("#id_caller_name").fill("李先生")
    agent.locator("#id_building").fill("3")
    choose_community(agent, centre.community)
    banner = agent.locator("#place-panel .outage-banner")
    expect(banner).to_contain_text("爆管抢修中")
    with agent.expect_navigation():
        agent.keyboard.press("Alt+i")  # the banner's shortcut
    expect(agent.locator(".messages .message-success")).to_contain_text(burst.number)
    call = Call.objects.get()
    assert (call.outcome, call.ticket) == (Call.Outcome.LINKED, burst)

    supervisor.goto(f"/outages/{incident.pk}/")
    with supervisor.expect_navigation():
        supervisor.get_by_role("button", name=zh("Supply is back")).click()
    expect(supervisor.locator("#what")).to_contain_text(zh("Supply restored"))
    told = OutboundMessage.objects.filter(to_phone="+8613912345678", kind="outage_restored")
    assert told.count() == 1
    call.refresh_from_db()
    assert call.closed_at is not None
