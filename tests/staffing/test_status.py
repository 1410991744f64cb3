"""Seats and agent status: sign-in and out, the console's choices, and the switch's calls."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from callcentre.cti import cti_signature
from callcentre.models import Call
from staffing import services
from staffing.models import AgentStatus, Seat, SeatSession, StatusSpell
from staffing.roles import Role
from tests.conftest import T0
from tests.staffing.factories import user_with_role
from tickets.errors import ApplicationError

SECRET = "switch-secret-for-tests"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.CTI_SHARED_SECRET = SECRET


@pytest.fixture
def seats(db):
    return {
        "A-01": Seat.objects.create(label="A-01", extension="8001"),
        "A-02": Seat.objects.create(label="A-02", extension="8002"),
        "F-01": Seat.objects.create(
            label="F-01", extension="8101", floating=True, switched_on=False
        ),
    }


def _send(kind: str, *, at, call_id: str = "pbx-1", **extra):
    body = {"call_id": call_id, "event": kind, "occurred_at": at.isoformat(), **extra}
    raw = json.dumps(body).encode()
    stamp = str(int(timezone.now().timestamp()))
    return APIClient().post(
        "/api/v1/cti/events/",
        raw,
        content_type="application/json",
        HTTP_X_CTI_TIMESTAMP=stamp,
        HTTP_X_CTI_SIGNATURE=cti_signature(secret=SECRET, timestamp=stamp, body=raw),
    )


def _status(agent) -> str:
    return StatusSpell.objects.get(agent=agent, ended_at__isnull=True).status


def _history(agent) -> list[tuple[str, str]]:
    return [
        (spell.status, spell.source)
        for spell in StatusSpell.objects.filter(agent=agent).order_by("started_at", "id")
    ]


def test_signing_in_at_a_seat_makes_the_agent_available_and_out_offline(centre, seats, clock):
    agent = centre.agent
    services.seat_sign_in(agent=agent, seat=seats["A-01"], at=T0)
    assert _status(agent) == AgentStatus.AVAILABLE

    services.seat_sign_out(agent=agent, at=T0 + timedelta(hours=1))

    assert _status(agent) == AgentStatus.OFFLINE
    session = SeatSession.objects.get(agent=agent)
    assert session.signed_out_at == T0 + timedelta(hours=1)
    first, last = StatusSpell.objects.filter(agent=agent).order_by("started_at")
    assert first.ended_at == last.started_at  # the history has no gap


def test_an_agent_moving_seats_leaves_the_first_one_free(centre, seats, clock):
    services.seat_sign_in(agent=centre.agent, seat=seats["A-01"], at=T0)
    services.seat_sign_in(agent=centre.agent, seat=seats["A-02"], at=T0 + timedelta(minutes=5))

    open_sessions = SeatSession.objects.filter(signed_out_at__isnull=True)
    assert [session.seat.label for session in open_sessions] == ["A-02"]


def test_a_taken_or_switched_off_seat_is_refused_with_a_conflict(centre, seats, clock):
    other = user_with_role(Role.AGENT)
    services.seat_sign_in(agent=other, seat=seats["A-01"], at=T0)

    with translation.override("en"), pytest.raises(ApplicationError) as taken:
        services.seat_sign_in(agent=centre.agent, seat=seats["A-01"], at=T0)
    with translation.override("en"), pytest.raises(ApplicationError) as off:
        services.seat_sign_in(agent=centre.agent, seat=seats["F-01"], at=T0)

    assert taken.value.code == off.value.code == "conflict"
    assert "is signed in at seat A-01" in str(taken.value.message)
    assert "switched off" in str(off.value.message)
    assert not SeatSession.objects.filter(agent=centre.agent).exists()


def test_the_console_changes_the_status_and_refuses_what_the_switch_decides(centre, seats, clock):
    agent = centre.agent
    with pytest.raises(ApplicationError) as not_seated:
        services.status_set(agent=agent, status=AgentStatus.BREAK, at=T0)
    assert not_seated.value.code == "conflict"

    services.seat_sign_in(agent=agent, seat=seats["A-01"], at=T0)
    for minutes, status in enumerate([AgentStatus.BREAK, AgentStatus.TRAINING], start=1):
        services.status_set(agent=agent, status=status, at=T0 + timedelta(minutes=minutes))
    services.status_set(agent=agent, status=AgentStatus.TRAINING, at=T0 + timedelta(minutes=3))

    assert _history(agent) == [
        (AgentStatus.AVAILABLE, "seat"),
        (AgentStatus.BREAK, "console"),
        (AgentStatus.TRAINING, "console"),  # choosing it again opens no new spell
    ]
    for refused in (AgentStatus.ON_CALL, AgentStatus.OFFLINE, "asleep"):
        with pytest.raises(ApplicationError) as error:
            services.status_set(agent=agent, status=refused, at=T0)
        assert error.value.fields.keys() == {"status"}


def test_cti_events_put_the_agent_on_a_call_and_back(centre, seats, clock):
    agent = centre.agent
    services.seat_sign_in(agent=agent, seat=seats["A-01"], at=T0)

    assert _send("ringing", at=T0 + timedelta(seconds=10)).status_code == 201
    assert _status(agent) == AgentStatus.AVAILABLE
    _send("answered", at=T0 + timedelta(seconds=20), agent_extension="8001")
    spell = StatusSpell.objects.get(agent=agent, ended_at__isnull=True)
    assert (spell.status, spell.source) == (AgentStatus.ON_CALL, "cti")
    assert spell.call == Call.objects.get(cti_call_id="pbx-1")
    assert spell.started_at == T0 + timedelta(seconds=20)

    _send("ended", at=T0 + timedelta(minutes=3))

    assert _status(agent) == AgentStatus.AVAILABLE
    assert _history(agent)[-2:] == [(AgentStatus.ON_CALL, "cti"), (AgentStatus.AVAILABLE, "cti")]


def test_a_status_picked_during_a_call_starts_when_it_ends(centre, seats, clock):
    agent = centre.agent
    services.seat_sign_in(agent=agent, seat=seats["A-01"], at=T0)
    _send("answered", at=T0 + timedelta(seconds=5), agent_extension="8001")

    services.status_set(agent=agent, status=AgentStatus.AFTER_CALL_WORK, at=T0)
    assert _status(agent) == AgentStatus.ON_CALL
    _send("ended", at=T0 + timedelta(minutes=2))

    assert _status(agent) == AgentStatus.AFTER_CALL_WORK


def test_a_call_to_an_agent_on_break_returns_them_to_their_break(centre, seats, clock):
    agent = centre.agent
    services.seat_sign_in(agent=agent, seat=seats["A-01"], at=T0)
    services.status_set(agent=agent, status=AgentStatus.BREAK, at=T0 + timedelta(minutes=1))
    _send("answered", at=T0 + timedelta(minutes=2), agent_extension="8001")
    _send("ended", at=T0 + timedelta(minutes=4))

    assert _status(agent) == AgentStatus.BREAK


def test_the_agent_at_a_seat_is_whoever_signed_in_there(centre, seats, clock):
    """The switch names the seat's extension; a hot-desking agent takes its calls."""
    other = user_with_role(Role.AGENT)
    other.extension = "8001"  # their own extension, from before seats
    other.save()
    services.seat_sign_in(agent=centre.agent, seat=seats["A-01"], at=T0)

    _send("answered", at=T0 + timedelta(seconds=5), agent_extension="8001")

    assert Call.objects.get().agent == centre.agent
    assert _status(centre.agent) == AgentStatus.ON_CALL
    assert not StatusSpell.objects.filter(agent=other).exists()


def test_an_end_reported_before_the_answer_leaves_the_agent_free(centre, seats, clock):
    agent = centre.agent
    services.seat_sign_in(agent=agent, seat=seats["A-01"], at=T0)
    _send("ended", at=T0 + timedelta(minutes=3))
    _send("answered", at=T0 + timedelta(seconds=20), agent_extension="8001")

    assert _status(agent) == AgentStatus.AVAILABLE


def test_the_same_event_twice_moves_the_status_once(centre, seats, clock):
    agent = centre.agent
    services.seat_sign_in(agent=agent, seat=seats["A-01"], at=T0)
    for _ in range(2):
        _send("answered", at=T0 + timedelta(seconds=5), agent_extension="8001")
        _send("ended", at=T0 + timedelta(minutes=2))

    assert [status for status, _source in _history(agent)].count(AgentStatus.ON_CALL) == 1


def test_an_agent_on_a_call_cannot_sign_out_or_change_seats(centre, seats, clock):
    agent = centre.agent
    services.seat_sign_in(agent=agent, seat=seats["A-01"], at=T0)
    _send("answered", at=T0 + timedelta(seconds=5), agent_extension="8001")

    for attempt in (
        lambda: services.seat_sign_out(agent=agent, at=T0 + timedelta(minutes=1)),
        lambda: services.seat_sign_in(agent=agent, seat=seats["A-02"], at=T0),
    ):
        with pytest.raises(ApplicationError) as error:
            attempt()
        assert error.value.code == "conflict"
    assert SeatSession.objects.get(signed_out_at__isnull=True).seat == seats["A-01"]


def test_only_an_empty_floating_seat_is_switched_off(centre, seats, clock):
    floating = services.seat_switch(seat=seats["F-01"], on=True)
    assert floating.switched_on
    services.seat_sign_in(agent=centre.agent, seat=floating, at=T0)

    with pytest.raises(ApplicationError) as occupied:
        services.seat_switch(seat=floating, on=False)
    with pytest.raises(ApplicationError) as fixed:
        services.seat_switch(seat=seats["A-01"], on=False)

    assert (occupied.value.code, fixed.value.code) == ("conflict", "invalid")
    seats["A-01"].refresh_from_db()
    assert seats["A-01"].switched_on


class TestConsolePanel:
    def test_an_agent_signs_in_changes_status_and_signs_out_from_the_panel(
        self, client, centre, seats, clock
    ):
        client.force_login(centre.agent)
        panel = client.get("/staffing/me/")
        assert 'name="seat"' in panel.text  # the free seats to choose from
        assert "F-01" not in panel.text  # switched off

        signed_in = client.post(
            "/staffing/me/change/",
            {"action": "sign_in", "seat": seats["A-01"].pk},
            HTTP_HX_REQUEST="true",
        )
        assert signed_in.status_code == 200
        assert 'id="status-break"' in signed_in.text
        client.post("/staffing/me/change/", {"status": "break"}, HTTP_HX_REQUEST="true")
        assert _status(centre.agent) == AgentStatus.BREAK
        client.post("/staffing/me/change/", {"action": "sign_out"}, HTTP_HX_REQUEST="true")
        assert _status(centre.agent) == AgentStatus.OFFLINE

    def test_a_refused_change_shows_why_in_the_panel(self, client, centre, seats, clock):
        client.force_login(centre.agent)
        client.cookies["django_language"] = "en"
        response = client.post("/staffing/me/change/", {"status": "break"}, HTTP_HX_REQUEST="true")
        bad = client.post(
            "/staffing/me/change/", {"action": "sign_in", "seat": "999"}, HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 409
        assert "Sign in at a seat first." in response.text
        assert bad.status_code == 400
        assert "Choose a free seat." in bad.text
        assert not StatusSpell.objects.exists()

    def test_crews_have_no_seat(self, client, centre):
        client.force_login(centre.crew_member)
        assert client.get("/staffing/me/").status_code == 403
