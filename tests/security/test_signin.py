"""Signing in: guessing is slowed without locking the real user out, the session is new at
sign-in, and a user switched off or demoted loses access on the next request."""

import pytest
from django.core.cache import caches
from django.test import Client

from staffing import signin

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"


@pytest.fixture(autouse=True)
def _counts_cleared():
    caches["shared"].clear()


def _sign_in(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_guessing_from_one_address_waits_while_the_user_elsewhere_signs_in(centre):
    guesser = Client(REMOTE_ADDR="198.51.100.7", HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(signin.PER_USERNAME):
        assert _sign_in(guesser, centre.agent.username, "guess").status_code == 200
    refused = _sign_in(guesser, centre.agent.username, PASSWORD)  # right, but too late
    assert refused.status_code == 429
    assert "Too many failed sign-ins" in refused.content.decode()
    assert "_auth_user_id" not in guesser.session

    at_the_seat = Client(REMOTE_ADDR="10.0.0.21")
    assert _sign_in(at_the_seat, centre.agent.username, PASSWORD).status_code == 302


def test_guessing_across_usernames_from_one_address_waits_too(centre):
    guesser = Client(REMOTE_ADDR="198.51.100.8")
    for n in range(signin.PER_ADDRESS):
        _sign_in(guesser, f"user-{n}", "guess")
    assert _sign_in(guesser, centre.agent.username, PASSWORD).status_code == 429


def test_a_right_password_clears_the_count(centre):
    person = Client(REMOTE_ADDR="10.0.0.22")
    for _ in range(signin.PER_USERNAME - 1):
        _sign_in(person, centre.agent.username, "typo")
    assert _sign_in(person, centre.agent.username, PASSWORD).status_code == 302
    person.logout()
    for _ in range(signin.PER_USERNAME - 1):
        _sign_in(person, centre.agent.username, "typo")
    assert _sign_in(person, centre.agent.username, PASSWORD).status_code == 302


def test_the_session_is_new_at_sign_in(centre):
    client = Client()
    client.get("/accounts/login/")
    session = client.session
    session["seen"] = True
    session.save()
    before = session.session_key
    assert _sign_in(client, centre.agent.username, PASSWORD).status_code == 302
    assert client.session.session_key != before


def test_a_user_switched_off_or_demoted_loses_access_on_the_next_request(centre):
    client = Client()
    assert _sign_in(client, centre.agent.username, PASSWORD).status_code == 302
    assert client.get("/console/").status_code == 200
    centre.agent.groups.clear()  # no longer a seat agent
    assert client.get("/console/").status_code == 403
    centre.agent.is_active = False
    centre.agent.save(update_fields=["is_active"])
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
