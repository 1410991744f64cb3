"""Events from the telephone switch: signed, fresh, received once, in any order."""

import json
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from callcentre.cti import cti_signature
from callcentre.models import Call, Caller, CtiEvent
from callcentre.selectors import call_current_for_agent
from tests.conftest import T0

URL = "/api/v1/cti/events/"
SECRET = "switch-secret-for-tests"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.CTI_SHARED_SECRET = SECRET


@pytest.fixture
def agent(centre):
    centre.agent.extension = "8001"
    centre.agent.save()
    return centre.agent


def _send(body: dict, *, timestamp: int | None = None, secret: str = SECRET, signature=None):
    raw = json.dumps(body).encode()
    stamp = str(int(T0.timestamp()) if timestamp is None else timestamp)
    headers = {"HTTP_X_CTI_TIMESTAMP": stamp}
    signed = (
        signature
        if signature is not None
        else cti_signature(secret=secret, timestamp=stamp, body=raw)
    )
    if signed:
        headers["HTTP_X_CTI_SIGNATURE"] = signed
    return APIClient().post(URL, raw, content_type="application/json", **headers)


def _event(kind: str, *, minutes: int = 0, **extra) -> dict:
    return {
        "call_id": "pbx-1001",
        "event": kind,
        "occurred_at": (T0 + timedelta(minutes=minutes)).isoformat(),
        "caller_number": "13812345678",
        **extra,
    }


@pytest.mark.django_db
def test_given_a_signed_answered_event_then_the_agent_gets_the_screen_pop(agent, clock):
    assert _send(_event("ringing")).status_code == 201
    response = _send(_event("answered", minutes=1, agent_extension="8001"))

    assert response.status_code == 201
    assert response.json()["duplicate"] is False
    call = call_current_for_agent(agent=agent)
    assert call is not None
    assert call.caller.phone == "+8613812345678"
    assert (call.ringing_at, call.answered_at) == (T0, T0 + timedelta(minutes=1))
    assert Caller.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("case", "kwargs"),
    [
        ("missing signature", {"signature": ""}),
        ("wrong secret", {"secret": "guess"}),
        ("garbage signature", {"signature": "sha256=00"}),
        ("stale timestamp", {"timestamp": int(T0.timestamp()) - 301}),
        ("future timestamp", {"timestamp": int(T0.timestamp()) + 301}),
    ],
)
def test_unsigned_forged_or_stale_events_are_refused_with_403(case, kwargs, agent, clock):
    response = _send(_event("ringing"), **kwargs)
    assert response.status_code == 403, case
    assert response.json()["code"] == "forbidden"
    assert not Call.objects.exists()
    assert not CtiEvent.objects.exists()


@pytest.mark.django_db
def test_without_a_configured_secret_every_event_is_refused(agent, clock, settings):
    settings.CTI_SHARED_SECRET = ""
    assert _send(_event("ringing"), secret="").status_code == 403


@pytest.mark.django_db
def test_a_repeated_event_changes_nothing(agent, clock):
    assert _send(_event("answered", agent_extension="8001")).status_code == 201
    again = _send(_event("answered", minutes=5, agent_extension="8001"))
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert CtiEvent.objects.count() == 1
    assert Call.objects.get().answered_at == T0


@pytest.mark.django_db
def test_events_out_of_order_end_in_the_same_call(agent, clock):
    for kind, minutes in [("ended", 6), ("answered", 1), ("ringing", 0)]:
        extra = {"agent_extension": "8001"} if kind == "answered" else {}
        assert _send(_event(kind, minutes=minutes, **extra)).status_code == 201
    call = Call.objects.get()
    assert (call.ringing_at, call.answered_at, call.ended_at) == (
        T0,
        T0 + timedelta(minutes=1),
        T0 + timedelta(minutes=6),
    )
    assert call.agent == agent
    assert not call.abandoned
    assert call_current_for_agent(agent=agent) is None  # it has ended


@pytest.mark.django_db
def test_an_abandoned_call_is_marked_unless_it_was_answered(agent, clock):
    _send(_event("ringing"))
    _send(_event("abandoned", minutes=1))
    call = Call.objects.get()
    assert call.abandoned
    assert call.outcome == Call.Outcome.ABANDONED
    # The answer arrives late: the caller had not given up after all.
    _send(_event("answered", minutes=0, agent_extension="8001"))
    call.refresh_from_db()
    assert not call.abandoned
    assert call.outcome == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (_event("answered", agent_extension="9999"), {"agent_extension"}),
        (_event("answered"), {"agent_extension"}),
        ({"call_id": "x", "event": "exploded"}, {"event"}),
        ({"event": "ringing"}, {"call_id"}),
        ({**_event("ringing"), "state": "hacked"}, {"state"}),
    ],
)
def test_bad_events_get_400_naming_the_fields(body, fields, agent, clock):
    response = _send(body)
    assert response.status_code == 400
    assert set(response.json()["fields"]) == fields
    assert not CtiEvent.objects.exists()


@pytest.mark.django_db
def test_a_withheld_number_is_kept_as_sent_without_a_caller(agent, clock):
    _send(_event("ringing", caller_number="anonymous"))
    call = Call.objects.get()
    assert call.caller_number == "anonymous"
    assert call.caller is None
