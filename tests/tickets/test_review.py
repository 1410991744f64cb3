"""The shift leader's re-check: the queue, corrections kept as events, the check mark."""

from datetime import timedelta

import pytest

from tests.conftest import T0
from tickets import services
from tickets.choices import State
from tickets.errors import ApplicationError
from tickets.selectors import tickets_to_review


@pytest.mark.django_db
def test_the_queue_lists_recent_unchecked_tickets_with_what_to_look_at(centre, make_ticket, clock):
    vague = make_ticket(fault_type=centre.burst, building="", unit="")
    make_ticket(State.CLOSED)
    clock.shift(timedelta(hours=1))
    queue = tickets_to_review(user=centre.shift_leader, now=T0 + timedelta(hours=1))
    assert [ticket.number for ticket in queue] == [vague.number]
    assert len(queue[0].checks) == 2  # address imprecise, emergency
    later = tickets_to_review(user=centre.shift_leader, now=T0 + timedelta(hours=13))
    assert later == []


@pytest.mark.django_db
def test_a_correction_is_an_event_with_each_field_before_and_after(centre, make_ticket, clock):
    from tests.dispatch.factories import CommunityFactory

    ticket = make_ticket()
    elsewhere = CommunityFactory()
    services.ticket_correct(
        actor=centre.shift_leader,
        ticket=ticket,
        reason="来电人说错了楼栋",
        building="7",
        unit="2",
        community=elsewhere,
    )
    ticket.refresh_from_db()
    assert (ticket.building, ticket.community, ticket.district) == (
        "7",
        elsewhere,
        elsewhere.district,
    )
    event = ticket.events.get(action="corrected")
    assert event.data["building"] == {"before": "3", "after": "7"}
    assert "unit" not in event.data  # unchanged fields are not logged
    assert event.reason == "来电人说错了楼栋"


@pytest.mark.django_db
def test_corrections_need_a_role_a_reason_and_a_change(centre, make_ticket, clock):
    ticket = make_ticket()
    with pytest.raises(ApplicationError) as agent:
        services.ticket_correct(actor=centre.agent, ticket=ticket, reason="x", building="9")
    assert agent.value.code == "forbidden"
    with pytest.raises(ApplicationError) as no_reason:
        services.ticket_correct(actor=centre.shift_leader, ticket=ticket, reason="", unit="9")
    assert set(no_reason.value.fields) == {"reason"}
    with pytest.raises(ApplicationError) as same:
        services.ticket_correct(
            actor=centre.shift_leader, ticket=ticket, reason="核对", building="3"
        )
    assert same.value.code == "invalid"
    closed = make_ticket(State.CLOSED)
    with pytest.raises(ApplicationError) as finished:
        services.ticket_correct(actor=centre.shift_leader, ticket=closed, reason="x", building="9")
    assert finished.value.code == "conflict"


@pytest.mark.django_db
def test_a_re_checked_ticket_leaves_the_queue_once(centre, make_ticket, clock):
    ticket = make_ticket()
    services.ticket_review(actor=centre.shift_leader, ticket=ticket)
    assert tickets_to_review(user=centre.shift_leader, now=T0) == []
    assert ticket.events.filter(action="reviewed").count() == 1
    with pytest.raises(ApplicationError) as twice:
        services.ticket_review(actor=centre.supervisor, ticket=ticket)
    assert twice.value.code == "conflict"


@pytest.mark.django_db
def test_the_queue_and_the_ticket_page_offer_the_re_check(client, centre, make_ticket, clock):
    ticket = make_ticket()
    client.force_login(centre.shift_leader)
    assert ticket.number in client.get("/tickets/review/").content.decode()
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert f"/tickets/{ticket.number}/correct/" in page
    assert 'value="3"' in page  # the correction form starts from what is recorded
    response = client.post(f"/tickets/{ticket.number}/review/")
    assert response.status_code == 302
    client.force_login(centre.agent)
    assert client.get("/tickets/review/").status_code == 403
