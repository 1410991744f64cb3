"""A caller's phone is shown where someone has to call them: a crew has it for its own
tickets only, and loses it when the ticket goes back to the dispatcher."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tickets import services
from tickets.choices import State

pytestmark = pytest.mark.django_db
PHONE = "+8613812345678"


def _crew_views(user, number: str) -> tuple[int, str, list[str]]:
    page_client = Client()
    page_client.force_login(user)
    page = page_client.get(f"/crew/{number}/")
    api = APIClient()
    api.force_authenticate(user)
    listed = api.get("/api/v1/tickets/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    return page.status_code, page.content.decode(), [row.get("caller_phone") for row in rows]


def test_the_crew_has_the_callers_phone_for_its_own_ticket_only(centre, make_ticket):
    ticket = make_ticket(State.DISPATCHED)
    assert ticket.crew == centre.crew

    own_status, own_page, own_phones = _crew_views(centre.crew_member, ticket.number)
    other_status, other_page, other_phones = _crew_views(centre.other_crew_leader, ticket.number)

    assert own_status == 200
    assert f'href="tel:{PHONE}"' in own_page
    assert PHONE in own_phones
    assert other_status == 404
    assert PHONE not in other_page
    assert PHONE not in other_phones


def test_a_crew_loses_the_phone_when_it_gives_the_ticket_back(centre, make_ticket):
    ticket = make_ticket(State.DISPATCHED)

    services.ticket_decline(actor=centre.crew_leader, ticket=ticket, reason="不在片区")

    status, page, phones = _crew_views(centre.crew_member, ticket.number)
    assert status == 404
    assert PHONE not in page
    assert PHONE not in phones
