"""The agent console pages: the form, its panels, the outcomes and the screen pop."""

import pytest

from callcentre.models import Call, FaqEntry
from tests.conftest import T0
from tickets.choices import State
from tickets.models import Ticket


def _form(centre, **changes):
    data = {
        "caller_phone": "13812345678",
        "caller_name": "王女士",
        "channel": "hotline",
        "external_ref": "",
        "category": "repair",
        "fault_type": centre.leak.pk,
        "grade": "",
        "grade_reason": "",
        "community": centre.community.pk,
        "address": "人民南路 5 号",
        "building": "5",
        "unit": "1",
        "room": "302",
        "description": "卫生间墙内渗水",
        "notes": "",
        "department": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def agent_client(client, centre):
    client.force_login(centre.agent)
    client.cookies["django_language"] = "en"
    return client


@pytest.mark.django_db
def test_an_agent_logs_a_call_and_reads_the_promise(agent_client, centre, clock):
    response = agent_client.post("/console/", _form(centre))
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == f"/console/done/{ticket.number}/"
    assert ticket.district == centre.community.district  # filled from the community
    done = agent_client.get(response.url).content.decode()
    assert ticket.number in done
    assert "30 分钟" in done  # the caller's language, Chinese by default
    assert Call.objects.get().outcome == Call.Outcome.TICKET_CREATED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"building": "", "unit": ""}, "building"),
        ({"caller_phone": "12345"}, "caller_phone"),
        ({"notes": "x" * (1024 * 1024)}, "notes"),
        ({"grade": "emergency"}, "grade_reason"),
    ],
)
def test_the_console_says_what_is_wrong_and_saves_nothing(
    changes, field, agent_client, centre, clock
):
    response = agent_client.post("/console/", _form(centre, **changes))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page
    assert f"id_{field}" in page
    assert not Ticket.objects.exists()
    assert not Call.objects.exists()


@pytest.mark.django_db
def test_a_grade_override_with_a_reason_is_taken(agent_client, centre, clock):
    agent_client.post("/console/", _form(centre, grade="emergency", grade_reason="整栋楼无水"))
    assert Ticket.objects.get().grade == "emergency"


@pytest.mark.django_db
def test_scripts_in_what_callers_say_are_shown_as_text(agent_client, centre, make_ticket, clock):
    payload = '<script>alert(1)</script><img src=x onerror="alert(2)">'
    make_ticket(description=payload, caller_name=payload[:60])
    panel = agent_client.get("/console/caller/", {"caller_phone": "13812345678"})
    page = panel.content.decode()
    assert "<script>alert(1)" not in page
    ticket = Ticket.objects.get()
    detail = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "<script>alert(1)" not in detail
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in detail
    assert "<img src=x" not in detail


@pytest.mark.django_db
def test_the_caller_panel_shows_history_in_fixed_queries(
    agent_client, centre, make_ticket, clock, django_assert_max_num_queries
):
    make_ticket()
    with django_assert_max_num_queries(12) as few:
        page = agent_client.get("/console/caller/", {"caller_phone": "138 1234 5678"})
    assert Ticket.objects.get().number in page.content.decode()
    for _ in range(5):
        make_ticket()
    with django_assert_max_num_queries(len(few.captured_queries)):
        agent_client.get("/console/caller/", {"caller_phone": "13812345678"})


@pytest.mark.django_db
def test_the_place_panel_flags_a_repeat_fault_and_offers_linking(
    agent_client, centre, make_ticket, clock
):
    for state in (State.CLOSED, State.CLOSED, State.DISPATCHED):
        make_ticket(state, building="5", unit="1")
    open_ticket = Ticket.objects.get(state=State.DISPATCHED)
    page = agent_client.get("/console/place/", _form(centre)).content.decode()
    assert "Repeat fault" in page
    assert f"/console/link/{open_ticket.number}/" in page


@pytest.mark.django_db
def test_linking_the_call_makes_no_ticket(agent_client, centre, make_ticket, clock):
    incident = make_ticket(State.DISPATCHED)
    response = agent_client.post(f"/console/link/{incident.number}/", _form(centre))
    assert response.status_code == 302
    assert Ticket.objects.count() == 1
    call = Call.objects.get()
    assert (call.outcome, call.ticket) == (Call.Outcome.LINKED, incident)


@pytest.mark.django_db
def test_a_question_answered_from_the_faq_is_recorded(agent_client, centre, clock):
    faq = FaqEntry.objects.create(question="为什么水压低", answer="高峰用水", keywords="水压")
    results = agent_client.get("/console/faq/", {"faq_query": "水压"}).content.decode()
    assert "为什么水压低" in results
    response = agent_client.post(
        "/console/answered/", {**_form(centre), "faq_entries": [faq.pk]}, follow=True
    )
    assert response.status_code == 200
    call = Call.objects.get()
    assert (call.outcome, list(call.faq_entries.all())) == (Call.Outcome.ANSWERED, [faq])
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_the_screen_pop_opens_an_empty_console_and_only_announces_a_busy_one(
    agent_client, centre, clock
):
    assert agent_client.get("/console/pop/").status_code == 204
    call = Call.objects.create(
        cti_call_id="pbx-9", caller_number="+8613812345678", agent=centre.agent, answered_at=T0
    )
    empty = agent_client.get("/console/pop/", {"caller_phone": ""}, HTTP_HX_REQUEST="true")
    assert empty.headers["HX-Redirect"] == f"/console/?call={call.pk}"
    busy = agent_client.get("/console/pop/", {"caller_phone": "139"}, HTTP_HX_REQUEST="true")
    assert "+8613812345678" in busy.content.decode()
    shown = agent_client.get("/console/pop/", {"call": call.pk, "caller_phone": "x"})
    assert shown.status_code == 204
    console = agent_client.get("/console/", {"call": call.pk}).content.decode()
    assert 'value="+8613812345678"' in console


@pytest.mark.django_db
def test_only_front_desk_roles_open_the_console(client, centre):
    client.force_login(centre.crew_leader)
    assert client.get("/console/").status_code == 403
    client.logout()
    assert client.get("/console/").status_code == 302


@pytest.mark.django_db
def test_the_caller_panel_offers_the_name_and_earlier_addresses_to_reuse(
    agent_client, centre, clock
):
    agent_client.post("/console/", _form(centre))
    panel = agent_client.get("/console/caller/", {"caller_phone": "13812345678"})
    page = panel.content.decode()
    assert "data-fill" in page
    assert "人民南路 5 号" in page
    assert f"?community={centre.community.pk}" in page
    choices = agent_client.get("/console/communities/", {"community": centre.community.pk})
    assert "checked" in choices.content.decode()
    assert centre.community.name in choices.content.decode()


@pytest.mark.django_db
def test_the_console_refers_a_consult_to_the_chosen_department(agent_client, centre, clock):
    response = agent_client.post(
        "/console/",
        _form(
            centre,
            category="consult",
            fault_type=centre.billing.pk,
            building="",
            unit="",
            department=centre.department.pk,
        ),
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.state, ticket.department) == (State.REFERRED, centre.department)


@pytest.mark.django_db
def test_a_refused_answer_shows_the_console_again_as_typed(agent_client, centre, clock):
    response = agent_client.post("/console/answered/", _form(centre, notes=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'value="王女士"' in page  # what was typed is still there
    assert "FAQ" in page
    assert not Call.objects.exists()
