"""The dispatch pages: the board and its poll, the send dialog, the unclosed list, the crew's
phone view and the repair photos."""

import io
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import dateformat, timezone
from PIL import Image

from dispatch.models import Assignment, UnclosedPlan
from staffing.roles import Role
from tests.conftest import T0
from tests.dispatch.factories import CommunityFactory
from tests.staffing.factories import user_with_role
from tickets import services
from tickets.choices import ExtensionCause, ExtensionState, Grade, Milestone, Returned, State
from tickets.models import (
    ActionReceipt,
    ExtensionRequest,
    RepairCost,
    RepairPart,
    RepairPhoto,
    Ticket,
    TicketEvent,
)
from tickets.selectors import ticket_next_deadline

ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture(autouse=True)
def _board_version(settings):
    """Keep the board's version in a cache of this test's own, and start it empty.

    The "shared" cache is a directory every test process (and the running site) shares;
    the test settings clear only the default cache.
    """
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "dispatch-view-tests",
        },
    }
    # Tickets made in a test commit nothing, so the version stays: the lanes are drawn anew
    # on each request, except in the tests of keeping them.
    settings.BOARD_LANES_CACHE_SECONDS = 0
    caches["shared"].clear()
    yield
    caches["shared"].clear()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _english(client):
    client.cookies["django_language"] = "en"
    return client


def _card(page: str, number: str) -> str:
    """Return the HTML of the board card of ticket ``number`` ("" if it is not on the board)."""
    start = page.find(f'id="card-{number}"')
    if start == -1:
        return ""
    return page[page.rfind("<li", 0, start) : page.find("</li>", start)]


def _c(value) -> str:
    """Return a time as the templates' ``date:'c'`` writes it."""
    return dateformat.format(timezone.localtime(value), "c")


def _png(name: str = "site.png", size: tuple[int, int] = (8, 8)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _lines(prefix: str, rows: list[dict]) -> dict:
    """Return a formset's POST data: its management form and ``rows``."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


def _report(measures: str = "更换DN25接头", **extra) -> dict:
    """Return a full completion report: measures, one part line, two cost lines."""
    return {
        "receipt": str(uuid.uuid4()),
        "measures": measures,
        **_lines("part", [{"name": "DN25接头", "quantity": "2", "unit": "个"}]),
        **_lines("cost", [{"item": "材料", "amount": "30.50"}, {"item": "人工", "amount": "100"}]),
        **extra,
    }


def _on_duty(*crews) -> None:
    for crew in crews:
        crew.is_on_duty = True
        crew.save(update_fields=["is_on_duty"])


# The board.


@pytest.mark.django_db
def test_given_tickets_when_a_dispatcher_opens_the_board_then_seven_lanes_show_their_cards(
    client, centre, make_ticket, clock
):
    new = make_ticket()
    dispatched = make_ticket(State.DISPATCHED, fault_type=centre.burst)
    client.force_login(centre.dispatcher)

    response = client.get("/dispatch/")

    assert response.status_code == 200
    page = response.content.decode()
    lanes = re.findall(r'data-lane="([a-z_]+)"', page)
    assert lanes == [
        "new",
        "verified",
        "dispatched",
        "accepted",
        "on_site",
        "mitigated",
        "resolved",
    ]
    card = _card(page, dispatched.number)
    lane_of_card = page.rfind('data-lane="', 0, page.find(card))
    assert page.startswith('data-lane="dispatched"', lane_of_card)
    assert dispatched.get_grade_display() in card
    assert centre.burst.name in card
    assert dispatched.address_line() in card
    assert centre.crew.name in card
    _milestone, due = ticket_next_deadline(dispatched)
    assert f'data-start="{_c(dispatched.sla_started_at)}"' in card
    assert f'data-due="{_c(due)}"' in card
    assert f'hx-get="/dispatch/tickets/{new.number}/send/"' in _card(page, new.number)


@pytest.mark.django_db
@pytest.mark.parametrize("filter_by", ["grade", "district", "crew", "number", "phone"])
def test_given_a_filter_when_the_board_is_read_then_only_matching_tickets_are_on_it(
    filter_by, client, centre, make_ticket, clock
):
    elsewhere = CommunityFactory()
    emergency = make_ticket(fault_type=centre.burst, caller_phone="+8613900001111")
    other_district = make_ticket(community=elsewhere, caller_phone="+8613900002222")
    with_crew = make_ticket(State.DISPATCHED, caller_phone="+8613900003333")
    wanted, query = {
        "grade": (emergency, {"grade": Grade.EMERGENCY}),
        "district": (other_district, {"district": elsewhere.district.pk}),
        "crew": (with_crew, {"crew": centre.crew.pk}),
        "number": (with_crew, {"q": with_crew.number}),
        "phone": (other_district, {"q": "00002222"}),  # the last digits the caller says
    }[filter_by]
    client.force_login(centre.dispatcher)

    page = client.get("/dispatch/", query).content.decode()

    on_board = {t.number for t in (emergency, other_district, with_crew) if _card(page, t.number)}
    assert on_board == {wanted.number}


@pytest.mark.django_db
def test_given_fewer_than_seven_digits_when_searching_then_no_phone_matches(
    client, centre, make_ticket, clock
):
    ticket = make_ticket(caller_phone="+8613900002222")
    client.force_login(centre.dispatcher)
    assert _card(client.get("/dispatch/", {"q": "0002222"}).content.decode(), ticket.number)

    page = client.get("/dispatch/", {"q": "002222"}).content.decode()

    assert not _card(page, ticket.number)


@pytest.mark.django_db
def test_given_a_ticket_past_its_dispatch_time_when_filtering_overdue_then_only_it_shows(
    client, centre, make_ticket, clock
):
    late = make_ticket()
    clock.shift(timedelta(minutes=45))  # a general ticket is dispatched within 30 min
    fresh = make_ticket()
    client.force_login(centre.dispatcher)

    page = client.get("/dispatch/", {"overdue": "on"}).content.decode()

    assert _card(page, late.number)
    assert not _card(page, fresh.number)
    assert 'class="deadline deadline-overdue"' in _card(page, late.number)


@pytest.mark.django_db
def test_given_a_ticket_without_a_district_when_the_board_is_read_in_english_then_it_warns(
    client, centre, make_ticket, clock
):
    nowhere = make_ticket(community=None, address="无名路")
    placed = make_ticket()
    client.force_login(centre.dispatcher)

    page = _english(client).get("/dispatch/", **ENGLISH).content.decode()

    assert "Address outside every district" in _card(page, nowhere.number)
    assert "Address outside every district" not in _card(page, placed.number)


@pytest.mark.django_db
def test_given_a_ticket_the_crew_declined_when_the_board_is_read_then_its_card_is_flagged(
    client, centre, make_ticket, clock
):
    returned = make_ticket(State.DISPATCHED)
    services.ticket_decline(actor=centre.crew_leader, ticket=returned, reason="材料不足")
    untouched = make_ticket(State.VERIFIED)
    client.force_login(centre.dispatcher)

    page = _english(client).get("/dispatch/", **ENGLISH).content.decode()

    card = _card(page, returned.number)
    assert "is-returned" in card
    assert 'class="card-flag"' in card
    assert "Declined by the crew" in card
    assert "card-flag" not in _card(page, untouched.number)


def _tickets_in_three_lanes(make_ticket, count: int) -> None:
    for index in range(count):
        make_ticket([State.NEW, State.VERIFIED, State.DISPATCHED][index % 3])


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/dispatch/", "/dispatch/lanes/"])
def test_given_ten_times_the_tickets_when_the_board_is_read_then_it_takes_the_same_queries(
    url, client, centre, make_ticket, clock, django_assert_num_queries
):
    _tickets_in_three_lanes(make_ticket, 3)
    client.force_login(centre.dispatcher)
    client.get(url)  # remembers the permissions, as every later request finds them
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    expected = len(few)  # read now: the next request clears the connection's query log
    _tickets_in_three_lanes(make_ticket, 27)

    with django_assert_num_queries(expected):
        page = client.get(url).content.decode()

    assert page.count('class="ticket-card') == 30


# The board's poll.


@pytest.mark.django_db
def test_given_nothing_changed_when_the_board_polls_then_it_is_told_304_without_a_ticket_read(
    client, centre, make_ticket, clock, django_assert_max_num_queries
):
    make_ticket()
    client.force_login(centre.dispatcher)
    first = client.get("/dispatch/lanes/")
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag

    with django_assert_max_num_queries(3), CaptureQueriesContext(connection) as queries:
        again = client.get("/dispatch/lanes/", HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert not [q for q in queries.captured_queries if "tickets_ticket" in q["sql"]]


@pytest.mark.django_db
def test_given_a_ticket_changed_when_the_board_polls_then_it_gets_the_lanes_and_a_new_etag(
    client, centre, make_ticket, clock, django_capture_on_commit_callbacks
):
    ticket = make_ticket()
    client.force_login(centre.dispatcher)
    etag = client.get("/dispatch/lanes/")["ETag"]

    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_verify(actor=centre.dispatcher, ticket=ticket)
    response = client.get("/dispatch/lanes/", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response["ETag"] != etag
    page = response.content.decode()
    lane_of_card = page.rfind('data-lane="', 0, page.find(f'id="card-{ticket.number}"'))
    assert page.startswith('data-lane="verified"', lane_of_card)


# The lanes kept for one version of the board.


def _ticket_reads(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if '"tickets_ticket"' in q["sql"]]


@pytest.mark.django_db
def test_given_lanes_drawn_for_a_version_when_another_dispatcher_looks_then_no_ticket_is_read(
    client, centre, make_ticket, clock, settings
):
    settings.BOARD_LANES_CACHE_SECONDS = 60
    ticket = make_ticket()
    other = Client()
    other.force_login(user_with_role(Role.DISPATCHER))
    client.force_login(centre.dispatcher)
    first = client.get("/dispatch/lanes/").content.decode()

    with CaptureQueriesContext(connection) as queries:
        again = other.get("/dispatch/lanes/").content.decode()

    assert again == first
    assert _card(again, ticket.number)
    assert not _ticket_reads(queries)


@pytest.mark.django_db
def test_given_kept_lanes_when_a_ticket_changes_then_the_next_poll_draws_the_change(
    client, centre, make_ticket, clock, settings, django_capture_on_commit_callbacks
):
    settings.BOARD_LANES_CACHE_SECONDS = 60
    ticket = make_ticket()
    client.force_login(centre.dispatcher)
    etag = client.get("/dispatch/lanes/")["ETag"]

    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_verify(actor=centre.dispatcher, ticket=ticket)
    page = client.get("/dispatch/lanes/", HTTP_IF_NONE_MATCH=etag).content.decode()

    lane_of_card = page.rfind('data-lane="', 0, page.find(f'id="card-{ticket.number}"'))
    assert page.startswith('data-lane="verified"', lane_of_card)


@pytest.mark.django_db
def test_given_lanes_kept_in_one_language_when_read_in_another_then_they_are_drawn_in_it(
    client, centre, make_ticket, clock, settings
):
    settings.BOARD_LANES_CACHE_SECONDS = 60
    make_ticket()
    client.force_login(centre.dispatcher)
    chinese = client.get("/dispatch/lanes/").content.decode()

    english = _english(client).get("/dispatch/lanes/", **ENGLISH).content.decode()

    assert "派维修队" in chinese
    assert "Send a crew" in english
    assert "派维修队" not in english


@pytest.mark.django_db
def test_given_the_cache_down_when_the_board_opens_then_it_is_drawn_all_the_same(
    client, centre, make_ticket, clock, settings, monkeypatch
):
    settings.BOARD_LANES_CACHE_SECONDS = 60
    ticket = make_ticket()

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    for method in ("get", "set", "add"):
        monkeypatch.setattr(caches["shared"], method, down)
    client.force_login(centre.dispatcher)

    response = client.get("/dispatch/")

    assert response.status_code == 200
    assert _card(response.content.decode(), ticket.number)


# The send dialog.


@pytest.mark.django_db
def test_given_crews_on_duty_when_the_send_dialog_opens_then_the_best_crew_is_chosen_with_reasons(
    client, centre, make_ticket, clock
):
    centre.crew.skills.add(centre.leak.skill)
    centre.other_crew.skills.add(centre.leak.skill)
    _on_duty(centre.crew, centre.other_crew)
    ticket = make_ticket()
    client.force_login(centre.dispatcher)

    response = _english(client).get(f"/dispatch/tickets/{ticket.number}/send/", **ENGLISH)

    assert response.status_code == 200
    page = response.content.decode()
    radios = re.findall(r'name="crew"\s+value="(\d+)"\s*(checked)?', page)
    assert radios == [(str(centre.crew.pk), "checked"), (str(centre.other_crew.pk), "")]
    assert "same district · 0 open · position unknown" in page
    assert "other district · 0 open · position unknown" in page


@pytest.mark.django_db
def test_given_a_crew_chosen_when_the_dialog_is_sent_then_the_ticket_is_dispatched_and_recorded(
    client, centre, make_ticket, clock
):
    ticket = make_ticket()
    client.force_login(centre.dispatcher)

    response = client.post(
        f"/dispatch/tickets/{ticket.number}/send/", {"crew": centre.crew.pk, "note": "带上切管机"}
    )

    assert response.status_code == 204
    assert response["HX-Trigger"] == "board-changed"
    ticket.refresh_from_db()
    assert ticket.state == State.DISPATCHED
    assert ticket.crew == centre.crew
    assignment = Assignment.objects.get(ticket=ticket)
    assert assignment.crew == centre.crew
    assert assignment.outcome == Assignment.Outcome.WAITING
    assert assignment.dispatched_by == centre.dispatcher


@pytest.mark.django_db
def test_given_no_crew_chosen_when_the_dialog_is_sent_then_it_says_so_and_nothing_changes(
    client, centre, make_ticket, clock
):
    ticket = make_ticket()
    client.force_login(centre.dispatcher)

    response = _english(client).post(
        f"/dispatch/tickets/{ticket.number}/send/", {"note": ""}, **ENGLISH
    )

    assert response.status_code == 400
    assert "Choose the crew to send." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.state == State.NEW
    assert ticket.crew is None
    assert not Assignment.objects.exists()


@pytest.mark.django_db
def test_given_a_ticket_already_dispatched_when_sent_again_then_it_is_refused_409_unchanged(
    client, centre, make_ticket, clock
):
    ticket = make_ticket(State.DISPATCHED)
    client.force_login(centre.dispatcher)

    response = client.post(
        f"/dispatch/tickets/{ticket.number}/send/",
        {"crew": centre.other_crew.pk},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 409
    ticket.refresh_from_db()
    assert ticket.state == State.DISPATCHED
    assert ticket.crew == centre.crew
    assert list(Assignment.objects.values_list("crew", flat=True)) == [centre.crew.pk]


@pytest.mark.django_db
def test_given_a_consult_when_the_dialog_is_used_then_it_lists_departments_and_refers_it(
    client, centre, make_ticket, clock
):
    ticket = make_ticket(fault_type=centre.billing, building="", unit="", room="")
    client.force_login(centre.dispatcher)

    dialog = client.get(f"/dispatch/tickets/{ticket.number}/send/").content.decode()
    response = client.post(
        f"/dispatch/tickets/{ticket.number}/send/", {"department": centre.department.pk}
    )

    assert re.search(rf'name="department"\s+value="{centre.department.pk}"\s+checked', dialog)
    assert centre.department.name in dialog
    assert 'name="crew"' not in dialog
    assert response.status_code == 204
    ticket.refresh_from_db()
    assert ticket.state == State.REFERRED
    assert ticket.department == centre.department


# The unclosed list.


def _plan(ticket: Ticket, *, reason: str = "等待材料", plan: str = "明早补料后复修") -> dict:
    return {
        "day": timezone.localdate().isoformat(),
        f"{ticket.number}-reason": reason,
        f"{ticket.number}-plan": plan,
    }


@pytest.mark.django_db
def test_given_open_and_closed_tickets_when_the_unclosed_list_opens_then_only_open_ones_show(
    client, centre, make_ticket, clock
):
    waiting = make_ticket()
    on_site = make_ticket(State.ON_SITE)
    closed = make_ticket(State.CLOSED)
    client.force_login(centre.dispatcher)

    response = client.get("/dispatch/unclosed/")

    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="unclosed-{waiting.number}"' in page
    assert f'id="unclosed-{on_site.number}"' in page
    assert f'id="unclosed-{closed.number}"' not in page
    assert f'name="{waiting.number}-plan"' in page


@pytest.mark.django_db
def test_given_a_plan_when_it_is_saved_then_the_row_comes_back_with_it(
    client, centre, make_ticket, clock
):
    ticket = make_ticket(State.ACCEPTED)
    client.force_login(centre.dispatcher)

    response = client.post(f"/dispatch/unclosed/{ticket.number}/", _plan(ticket))

    assert response.status_code == 200
    row = response.content.decode()
    assert row.strip().startswith(f'<tr id="unclosed-{ticket.number}">')
    assert "明早补料后复修" in row
    note = UnclosedPlan.objects.get(ticket=ticket)
    assert (note.day, note.reason, note.plan) == (T0.date(), "等待材料", "明早补料后复修")
    assert note.written_by == centre.dispatcher


@pytest.mark.django_db
def test_given_an_empty_plan_when_it_is_saved_then_the_row_shows_the_error_and_nothing_is_kept(
    client, centre, make_ticket, clock
):
    ticket = make_ticket(State.ACCEPTED)
    client.force_login(centre.dispatcher)

    response = client.post(f"/dispatch/unclosed/{ticket.number}/", _plan(ticket, plan=""))

    assert response.status_code == 400
    row = response.content.decode()
    assert 'class="errorlist"' in row
    assert f'name="{ticket.number}-plan"' in row
    assert not UnclosedPlan.objects.exists()


@pytest.mark.django_db
def test_given_ten_times_the_tickets_when_the_unclosed_list_opens_then_it_takes_the_same_queries(
    client, centre, make_ticket, clock, django_assert_num_queries
):
    def open_tickets_with_plans(count: int) -> None:
        for index in range(count):
            ticket = make_ticket([State.NEW, State.DISPATCHED, State.REFERRED][index % 3])
            client.post(f"/dispatch/unclosed/{ticket.number}/", _plan(ticket))

    client.force_login(centre.dispatcher)
    open_tickets_with_plans(3)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/dispatch/unclosed/").status_code == 200
    expected = len(few)  # read now: the next request clears the connection's query log
    open_tickets_with_plans(27)

    with django_assert_num_queries(expected):
        page = client.get("/dispatch/unclosed/").content.decode()

    assert page.count('<tr id="unclosed-') == 30
    assert page.count("明早补料后复修") == 30


# The crew's phone: the list and the ticket page.


@pytest.mark.django_db
def test_given_tickets_of_two_crews_when_a_crew_opens_its_list_then_it_sees_its_own_urgent_first(
    client, centre, make_ticket, clock
):
    older = make_ticket(State.ACCEPTED)
    clock.shift(timedelta(minutes=5))
    emergency = make_ticket(State.DISPATCHED, fault_type=centre.burst)
    clock.shift(timedelta(minutes=5))
    newer = make_ticket(State.DISPATCHED)
    theirs = make_ticket(State.VERIFIED)
    services.ticket_dispatch(actor=centre.dispatcher, ticket=theirs, crew=centre.other_crew)
    client.force_login(centre.crew_member)

    response = client.get("/crew/")

    assert response.status_code == 200
    page = response.content.decode()
    shown = re.findall(r'href="/crew/([0-9-]+)/"', page)
    assert shown == [emergency.number, newer.number, older.number]


@pytest.mark.django_db
def test_given_ten_times_the_tickets_when_a_crew_opens_its_list_then_it_takes_the_same_queries(
    client, centre, make_ticket, clock, django_assert_num_queries
):
    for _index in range(3):
        make_ticket(State.DISPATCHED)
    client.force_login(centre.crew_leader)
    client.get("/crew/")
    with CaptureQueriesContext(connection) as few:
        client.get("/crew/")
    expected = len(few)  # read now: the next request clears the connection's query log
    for _index in range(27):
        make_ticket(State.DISPATCHED)

    with django_assert_num_queries(expected):
        page = client.get("/crew/").content.decode()

    assert page.count('class="crew-item"') == 30


@pytest.mark.django_db
def test_given_a_dispatched_ticket_when_the_crew_opens_it_then_it_can_call_find_and_see_deadlines(
    client, centre, make_ticket, clock
):
    ticket = make_ticket(State.DISPATCHED)
    client.force_login(centre.crew_leader)

    response = client.get(f"/crew/{ticket.number}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert ticket.address_line() in page
    assert 'href="tel:+8613812345678"' in page
    community = centre.community
    assert (
        f"https://uri.amap.com/marker?position={community.longitude},{community.latitude}" in page
    )
    deadlines = page[page.find('class="crew-deadlines"') : page.find("</table>")]
    assert timezone.localtime(ticket.accept_due).strftime("%m-%d %H:%M") in deadlines
    assert timezone.localtime(ticket.resolve_due).strftime("%m-%d %H:%M") in deadlines
    assert f'action="/crew/{ticket.number}/accept/"' in page
    assert re.search(r'name="receipt" value="[0-9a-f-]{36}"', page)


# The crew's actions.


def _act(client, ticket: Ticket, action: str, data: dict | None = None, **extra):
    data = {"receipt": str(uuid.uuid4()), **(data or {})}
    return client.post(f"/crew/{ticket.number}/{action}/", data, **extra)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "action", "fault", "end", "event"),
    [
        (State.DISPATCHED, "accept", "leak", State.ACCEPTED, TicketEvent.Action.ACCEPTED),
        (State.ACCEPTED, "arrive", "leak", State.ON_SITE, TicketEvent.Action.ARRIVED),
        (State.ON_SITE, "mitigate", "burst", State.MITIGATED, TicketEvent.Action.MITIGATED),
    ],
)
def test_given_the_crew_on_the_ticket_when_it_acts_then_the_ticket_moves_and_the_page_returns(
    start, action, fault, end, event, client, centre, make_ticket, clock
):
    ticket = make_ticket(start, fault_type=getattr(centre, fault))
    client.force_login(centre.crew_leader)

    response = _act(client, ticket, action)

    assert response.status_code == 302
    assert response.url == f"/crew/{ticket.number}/"
    ticket.refresh_from_db()
    assert ticket.state == end
    assert ticket.events.filter(action=event, actor=centre.crew_leader).count() == 1


@pytest.mark.django_db
def test_given_an_accept_the_phone_sent_twice_when_both_arrive_then_it_acts_once_and_says_done(
    client, centre, make_ticket, clock
):
    ticket = make_ticket(State.DISPATCHED)
    client.force_login(centre.crew_leader)
    data = {"receipt": str(uuid.uuid4())}

    first = client.post(f"/crew/{ticket.number}/accept/", data)
    client.get(first.url)  # the phone shows the page, and the first message with it
    second = client.post(f"/crew/{ticket.number}/accept/", data)

    assert first.status_code == second.status_code == 302
    assert second.url == f"/crew/{ticket.number}/"
    assert [m.level_tag for m in get_messages(second.wsgi_request)] == ["success"]
    assert ticket.events.filter(action=TicketEvent.Action.ACCEPTED).count() == 1
    assert ActionReceipt.objects.filter(ticket=ticket, action="accept").count() == 1


@pytest.mark.django_db
def test_given_photos_the_phone_sent_twice_when_both_arrive_then_one_photo_is_kept(
    client, centre, make_ticket, clock, media
):
    ticket = make_ticket(State.ON_SITE)
    client.force_login(centre.crew_leader)
    receipt = str(uuid.uuid4())

    first = client.post(f"/crew/{ticket.number}/photos/", {"receipt": receipt, "photos": _png()})
    client.get(first.url)  # the phone shows the page, and the first message with it
    second = client.post(f"/crew/{ticket.number}/photos/", {"receipt": receipt, "photos": _png()})

    assert first.status_code == second.status_code == 302
    assert second.url == f"/crew/{ticket.number}/"
    assert [m.level_tag for m in get_messages(second.wsgi_request)] == ["success"]
    assert RepairPhoto.objects.filter(ticket=ticket).count() == 1
    assert ticket.events.filter(action=TicketEvent.Action.PHOTO_ADDED).count() == 1


@pytest.mark.django_db
def test_given_the_crew_on_site_when_it_completes_with_its_report_then_everything_is_kept(
    client, centre, make_ticket, clock, media
):
    ticket = make_ticket(State.ON_SITE)
    client.force_login(centre.crew_leader)

    response = client.post(f"/crew/{ticket.number}/complete/", _report(photos=_png()))

    assert response.status_code == 302
    assert response.url == f"/crew/{ticket.number}/"
    ticket.refresh_from_db()
    assert ticket.state == State.RESOLVED
    assert ticket.repair_measures == "更换DN25接头"
    assert ticket.repair_cost == Decimal("130.50")
    assert list(ticket.parts.values_list("name", "quantity", "unit")) == [
        ("DN25接头", Decimal("2.00"), "个")
    ]
    assert list(ticket.costs.values_list("item", "amount")) == [
        ("材料", Decimal("30.50")),
        ("人工", Decimal("100.00")),
    ]
    photo = ticket.photos.get()
    assert photo.content_type == "image/png"
    assert (media / photo.image.name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.django_db
def test_given_no_measures_when_the_crew_completes_then_it_is_told_and_nothing_is_kept(
    client, centre, make_ticket, clock, media
):
    ticket = make_ticket(State.ON_SITE)
    client.force_login(centre.crew_leader)

    response = client.post(f"/crew/{ticket.number}/complete/", _report(measures="", photos=_png()))

    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).state == State.ON_SITE
    assert not RepairPart.objects.exists()
    assert not RepairCost.objects.exists()
    assert not RepairPhoto.objects.exists()
    assert not list(media.rglob("*.png"))
    assert not ActionReceipt.objects.exists()


@pytest.mark.django_db
def test_given_a_file_not_a_photo_when_the_crew_completes_then_it_names_it_and_keeps_nothing(
    client, centre, make_ticket, clock, media
):
    ticket = make_ticket(State.ON_SITE)
    fake = SimpleUploadedFile("photo.jpg", b"MZ\x90\x00 not a picture", content_type="image/jpeg")
    client.force_login(centre.crew_leader)

    response = _english(client).post(
        f"/crew/{ticket.number}/complete/", _report(photos=fake), **ENGLISH
    )

    assert response.status_code == 400
    assert "photo.jpg is not a photo (JPEG, PNG or WebP)." in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).state == State.ON_SITE
    assert not RepairPart.objects.exists()
    assert not RepairCost.objects.exists()
    assert not RepairPhoto.objects.exists()
    assert not ActionReceipt.objects.exists()


@pytest.mark.django_db
def test_given_a_photo_over_the_limit_when_the_crew_completes_then_it_is_refused(
    client, centre, make_ticket, clock, media, settings
):
    settings.PHOTO_MAX_BYTES = 100
    ticket = make_ticket(State.ON_SITE)
    large = _png("large.png", size=(64, 64))
    assert large.size > 100
    client.force_login(centre.crew_leader)

    response = _english(client).post(
        f"/crew/{ticket.number}/complete/", _report(photos=large), **ENGLISH
    )

    assert response.status_code == 400
    assert "large.png is larger than" in response.content.decode()
    assert Ticket.objects.get(pk=ticket.pk).state == State.ON_SITE
    assert not RepairPhoto.objects.exists()


@pytest.mark.django_db
def test_given_a_file_name_with_a_path_when_a_photo_is_kept_then_it_is_stored_under_its_key(
    client, centre, make_ticket, clock, media
):
    ticket = make_ticket(State.ON_SITE)
    client.force_login(centre.crew_leader)

    response = _act(client, ticket, "photos", {"photos": _png("../../x.png")})

    assert response.status_code == 302
    photo = RepairPhoto.objects.get(ticket=ticket)
    assert photo.image.name == f"photos/{T0:%Y/%m}/{photo.key}.png"
    assert [p.relative_to(media).as_posix() for p in media.rglob("*.png")] == [photo.image.name]
    assert not (media.parent / "x.png").exists()


@pytest.mark.django_db
def test_given_a_reason_when_the_crew_declines_then_it_goes_back_to_its_list_without_the_ticket(
    client, centre, make_ticket, clock
):
    ticket = make_ticket(State.DISPATCHED)
    client.force_login(centre.crew_leader)

    response = _act(client, ticket, "decline", {"reason": "本队无切管设备"})

    assert response.status_code == 302
    assert response.url == "/crew/"
    ticket.refresh_from_db()
    assert ticket.state == State.VERIFIED
    assert ticket.returned == Returned.DECLINED
    assert Assignment.objects.get(ticket=ticket).outcome == Assignment.Outcome.DECLINED
    assert ticket.number not in client.get("/crew/").content.decode()


@pytest.mark.django_db
def test_given_no_reason_when_the_crew_declines_then_it_is_told_and_nothing_changes(
    client, centre, make_ticket, clock
):
    ticket = make_ticket(State.DISPATCHED)
    client.force_login(centre.crew_leader)

    response = _act(client, ticket, "decline", {"reason": ""})

    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.state == State.DISPATCHED
    assert ticket.crew == centre.crew
    assert Assignment.objects.get(ticket=ticket).outcome == Assignment.Outcome.WAITING


@pytest.mark.django_db
def test_given_a_pending_extension_when_the_crew_leader_approves_it_then_the_deadline_moves(
    client, centre, make_ticket, clock
):
    ticket = make_ticket(State.ON_SITE)
    later = ticket.resolve_due + timedelta(hours=24)
    extension = services.extension_request(
        actor=centre.crew_member,
        ticket=ticket,
        milestone=Milestone.RESOLVE,
        requested_due=later,
        cause=ExtensionCause.OBJECTIVE,
        reason="阀门缺货",
    )
    client.force_login(centre.crew_leader)
    page = client.get(f"/crew/{ticket.number}/").content.decode()
    assert f'action="/crew/{ticket.number}/decide-extension/"' in page
    assert f'name="extension" value="{extension.pk}"' in page

    response = _act(client, ticket, "decide-extension", {"extension": extension.pk, "approve": "1"})

    assert response.status_code == 302
    extension.refresh_from_db()
    assert extension.state == ExtensionState.APPROVED
    assert extension.decided_by == centre.crew_leader
    assert Ticket.objects.get(pk=ticket.pk).resolve_due == later


@pytest.mark.django_db
def test_given_a_pending_extension_when_a_crew_member_opens_the_ticket_then_there_is_none_to_sign(
    client, centre, make_ticket, clock
):
    ticket = make_ticket(State.ON_SITE)
    services.extension_request(
        actor=centre.crew_member,
        ticket=ticket,
        milestone=Milestone.RESOLVE,
        requested_due=ticket.resolve_due + timedelta(hours=24),
        cause=ExtensionCause.OBJECTIVE,
        reason="阀门缺货",
    )
    client.force_login(centre.crew_member)

    page = client.get(f"/crew/{ticket.number}/").content.decode()

    assert "decide-extension" not in page
    assert ExtensionRequest.objects.get().state == ExtensionState.PENDING


@pytest.mark.django_db
def test_given_a_crew_off_duty_when_it_starts_and_ends_its_shift_then_its_duty_follows(
    client, centre, clock
):
    client.force_login(centre.crew_leader)

    started = client.post("/crew/duty/", {"on_duty": "1"})
    centre.crew.refresh_from_db()
    on_duty_after_start = centre.crew.is_on_duty
    ended = client.post("/crew/duty/", {"on_duty": "0"})
    centre.crew.refresh_from_db()

    assert started.status_code == ended.status_code == 302
    assert started.url == "/crew/"
    assert on_duty_after_start is True
    assert centre.crew.is_on_duty is False
    centre.other_crew.refresh_from_db()
    assert centre.other_crew.is_on_duty is False


# Repair photos.


@pytest.fixture
def photo(centre, make_ticket, media) -> RepairPhoto:
    ticket = make_ticket(State.ON_SITE)
    (stored,) = services.repair_photos_add(actor=centre.crew_leader, ticket=ticket, photos=[_png()])
    return stored


def _photo_url(photo: RepairPhoto) -> str:
    return f"/tickets/{photo.ticket.number}/photos/{photo.key}/"


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["crew_member", "crew_leader", "dispatcher"])
def test_given_a_repair_photo_when_its_crew_or_a_dispatcher_asks_then_it_is_served_as_an_image(
    who, client, centre, photo, clock
):
    client.force_login(getattr(centre, who))

    response = client.get(_photo_url(photo))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.django_db
def test_given_a_repair_photo_when_another_crew_asks_then_it_does_not_exist(
    client, centre, photo, clock
):
    client.force_login(centre.other_crew_leader)

    response = client.get(_photo_url(photo))

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_given_a_repair_photo_when_someone_signed_out_asks_then_they_are_sent_to_sign_in(
    client, photo, clock
):
    response = client.get(_photo_url(photo))

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
