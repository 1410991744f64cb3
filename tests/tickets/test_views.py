"""The ticket pages: the form, the list, the ticket page and its actions."""

import pytest

from tests.conftest import T0
from tickets.choices import State
from tickets.models import Ticket


def _form(centre, **changes):
    data = {
        "caller_phone": "13812345678",
        "caller_name": "王女士",
        "channel": "hotline",
        "category": "repair",
        "fault_type": centre.leak.pk,
        "grade": "",
        "district": centre.community.district.pk,
        "address": "锦华苑",
        "building": "5",
        "unit": "1",
        "room": "302",
        "description": "卫生间墙内渗水",
        "external_ref": "",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_an_agent_logs_a_ticket_with_the_form(client, centre, clock):
    client.force_login(centre.agent)
    response = client.post("/tickets/new/", _form(centre))
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == f"/tickets/{ticket.number}/"
    assert ticket.received_at == T0
    page = client.get(response.url).content.decode()
    assert ticket.number in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"building": "", "unit": ""}, "id_building"),
        ({"caller_phone": "123"}, "id_caller_phone"),
        ({"caller_name": ""}, "id_caller_name"),
        ({"description": "x" * 5000}, "id_description"),
    ],
)
def test_the_form_shows_what_is_wrong_and_saves_nothing(changes, field, client, centre, clock):
    client.force_login(centre.agent)
    response = client.post("/tickets/new/", _form(centre, **changes))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page
    assert 'aria-invalid="true"' in page or "errorlist" in page
    assert field in page
    assert Ticket.objects.count() == 0


@pytest.mark.django_db
def test_signed_out_people_are_asked_to_sign_in_before_the_form(client):
    response = client.get("/tickets/new/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_crew_member_cannot_open_the_form(client, centre):
    client.force_login(centre.crew_leader)
    assert client.get("/tickets/new/").status_code == 403


@pytest.mark.django_db
def test_a_dispatcher_verifies_and_dispatches_from_the_ticket_page(
    client, centre, make_ticket, clock
):
    ticket = make_ticket()
    client.force_login(centre.dispatcher)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert f"/tickets/{ticket.number}/verify/" in page
    assert client.post(f"/tickets/{ticket.number}/verify/").status_code == 302
    response = client.post(f"/tickets/{ticket.number}/dispatch/", {"crew": centre.crew.pk})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.state == State.DISPATCHED
    assert ticket.crew == centre.crew


@pytest.mark.django_db
def test_an_action_with_bad_input_redraws_the_page_with_the_error(
    client, centre, make_ticket, clock
):
    ticket = make_ticket()
    client.force_login(centre.dispatcher)
    response = client.post(f"/tickets/{ticket.number}/cancel/", {"reason": ""})
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).state == State.NEW


@pytest.mark.django_db
def test_an_action_the_state_does_not_allow_comes_back_with_a_message(
    client, centre, make_ticket, clock
):
    ticket = make_ticket(State.CLOSED)
    client.force_login(centre.dispatcher)
    response = client.post(
        f"/tickets/{ticket.number}/cancel/",
        {"reason": "重复"},
        HTTP_REFERER=f"http://testserver/tickets/{ticket.number}/",
        follow=True,
    )
    assert response.status_code == 200
    assert 'class="message message-error"' in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).state == State.CLOSED


@pytest.mark.django_db
def test_another_crews_ticket_is_not_found_and_unknown_actions_404(
    client, centre, make_ticket, clock
):
    ticket = make_ticket(State.DISPATCHED)
    client.force_login(centre.other_crew_leader)
    assert client.get(f"/tickets/{ticket.number}/").status_code == 404
    assert client.post(f"/tickets/{ticket.number}/accept/").status_code == 404
    client.force_login(centre.dispatcher)
    assert client.post(f"/tickets/{ticket.number}/explode/").status_code == 404
    assert client.get(f"/tickets/{ticket.number}/verify/").status_code == 405


@pytest.mark.django_db
def test_a_crew_that_declines_goes_home_with_a_message(client, centre, make_ticket, clock):
    ticket = make_ticket(State.DISPATCHED)
    client.force_login(centre.crew_leader)
    response = client.post(f"/tickets/{ticket.number}/decline/", {"reason": "不在片区"})
    assert response.status_code == 302
    assert response.url == "/"


@pytest.mark.django_db
def test_the_list_filters_and_answers_htmx_with_only_the_results(
    client, centre, make_ticket, clock, django_assert_max_num_queries
):
    dispatched = make_ticket(State.DISPATCHED)
    new = make_ticket()
    client.force_login(centre.dispatcher)
    page = client.get("/tickets/?state=dispatched").content.decode()
    assert dispatched.number in page
    assert new.number not in page
    with django_assert_max_num_queries(10):
        partial = client.get("/tickets/?q=" + new.number, HTTP_HX_REQUEST="true")
    assert "<html" not in partial.content.decode()
    assert new.number in partial.content.decode()
    empty = client.get("/tickets/?q=000000-0000").content.decode()
    assert 'class="empty"' in empty


@pytest.mark.django_db
def test_filters_left_at_any_are_no_filter(client, centre, make_ticket, clock):
    ticket = make_ticket()
    client.force_login(centre.dispatcher)
    response = client.get("/tickets/?q=&state=&grade=&overdue=&received_after=")
    assert response.status_code == 200
    page = response.content.decode()
    assert ticket.number in page
    assert 'role="alert"' not in page


@pytest.mark.django_db
def test_refusing_an_extension_without_a_note_says_the_note_is_needed(
    client, centre, make_ticket, clock
):
    from datetime import timedelta

    from tickets import services

    ticket = make_ticket(State.ACCEPTED)
    extension = services.extension_request(
        actor=centre.crew_member,
        ticket=ticket,
        milestone="arrive",
        requested_due=ticket.arrive_due + timedelta(hours=1),
        cause="objective",
        reason="材料短缺",
    )
    client.force_login(centre.dispatcher)
    client.cookies["django_language"] = "en"
    response = client.post(
        f"/tickets/{ticket.number}/approve-extension/",
        {"extension": extension.pk, "approve": "0", "note": ""},
        HTTP_REFERER=f"http://testserver/tickets/{ticket.number}/",
        follow=True,
    )
    assert "This field is required." in response.content.decode()
    extension.refresh_from_db()
    assert extension.state == "pending"


@pytest.mark.django_db
def test_an_address_that_starts_with_the_community_does_not_repeat_it(centre, make_ticket, clock):
    ticket = make_ticket(address=f"{centre.community.name}东门")
    assert ticket.address_line().count(centre.community.name) == 1
