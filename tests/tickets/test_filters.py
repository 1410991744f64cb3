"""The ticket list's filters that the dashboard's links use: fault type, missed deadlines,
valid requests; and how the list names the filters its form has no field for."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.http import QueryDict

from tests.conftest import T0
from tickets import services
from tickets.choices import State
from tickets.filters import TicketFilter
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def numbers(**query) -> set[str]:
    tickets = TicketFilter(QueryDict(urlencode(query)), queryset=Ticket.objects.all())
    assert tickets.is_valid(), tickets.errors
    return set(tickets.qs.values_list("number", flat=True))


def test_fault_type_is_chosen_by_its_code(centre, make_ticket, clock):
    leak = make_ticket()
    burst = make_ticket(fault_type=centre.burst)

    assert numbers(fault_type="household-leak") == {leak.number}
    assert numbers(fault_type="burst-main") == {burst.number}
    unknown = TicketFilter({"fault_type": "no-such-fault"}, queryset=Ticket.objects.all())
    assert not unknown.is_valid()
    assert "fault_type" in unknown.errors


def test_valid_requests_leave_out_the_cancelled_and_merged(make_ticket, clock):
    closed, waiting = make_ticket(State.CLOSED), make_ticket()
    make_ticket(State.CANCELLED)
    merged = make_ticket(State.MERGED)

    assert numbers(state="valid") == {closed.number, waiting.number, merged.parent.number}


def test_missed_finds_deadlines_met_late_and_past_without_being_met(centre, make_ticket, clock):
    # Given, at 09:00: a general leak closed at once, one dispatched at 09:40 (after its
    # 09:30 deadline), one never dispatched, and an emergency dispatched at once.
    on_time = make_ticket(State.CLOSED)
    late = make_ticket(State.VERIFIED)
    waiting = make_ticket(State.VERIFIED)
    emergency = make_ticket(State.DISPATCHED, fault_type=centre.burst)
    clock.shift(timedelta(minutes=40))
    services.ticket_dispatch(actor=centre.dispatcher, ticket=late, crew=centre.crew)

    # When it is 09:40, then the dispatch deadline was missed by the late one and the one
    # still waiting; the emergency missed its acceptance (09:25), the leaks' is 09:45.
    assert numbers(missed="dispatch") == {late.number, waiting.number}
    assert numbers(missed="accept") == {emergency.number}
    assert numbers(missed="close") == set()
    assert on_time.number not in numbers(missed="arrive")
    # Before the deadline passes, only the ticket done after it has missed it.
    clock.move_to(T0 + timedelta(minutes=20))
    assert numbers(missed="dispatch") == {late.number}


def test_the_list_names_and_keeps_the_filters_its_form_has_no_field_for(
    client, centre, make_ticket, clock
):
    make_ticket()
    client.force_login(centre.supervisor)

    page = client.get(
        "/tickets/?fault_type=household-leak&missed=dispatch&district="
        + centre.community.district.code,
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()

    names = page.split('id="linked-filters"')[1].split("</p>")[0]
    assert "单户漏水" in names  # the fault type by its name, not its code
    assert "Dispatch" in names
    assert centre.community.district.code in names
    for name, value in (
        ("fault_type", "household-leak"),
        ("missed", "dispatch"),
        ("district", centre.community.district.code),
    ):
        assert f'<input type="hidden" name="{name}" value="{value}">' in page
    assert 'id="linked-filters"' not in client.get("/tickets/?grade=general").content.decode()
