"""What the app does when Redis or PostgreSQL is not there: a cache that reads as empty, a
task sent to a dead broker that gives up at once, and a clear 503 with nothing half-saved.

The faults themselves, for real and under load, are in ``tests/faults/`` (scripts/faults.sh).
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import closing

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError
from django.test import Client
from redis.exceptions import ConnectionError as RedisConnectionError

from callcentre import cache as degrading
from callcentre.cache import DegradingRedisCache
from tests.tickets.factories import ticket_api_body
from tests.workers import ROOT
from tickets.models import Ticket

# A cache call or a task sent to a Redis that is not there gives up within this many seconds.
GIVES_UP_WITHIN = 2.5
TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


@pytest.fixture(autouse=True)
def _fresh_outages(monkeypatch):
    """Each test starts with every Redis thought reachable."""
    monkeypatch.setattr(degrading, "_outages", {})


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on: connections are refused."""
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A local port that takes connections and never answers, like a frozen Redis."""
    with closing(socket.socket()) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield listener.getsockname()[1]


def _cache(location: str) -> DegradingRedisCache:
    return DegradingRedisCache(location, {"OPTIONS": TIMEOUTS, "KEY_PREFIX": uuid.uuid4().hex})


def _real_redis() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("needs the tests' Redis (CELERY_BROKER_URL=redis://…)")
    return url


@pytest.mark.parametrize("port_kind", ["closed_port", "silent_port"])
def test_given_redis_unreachable_when_the_cache_is_used_then_it_reads_as_an_empty_cache(
    request, port_kind
):
    cache = _cache(f"redis://127.0.0.1:{request.getfixturevalue(port_kind)}/0")
    started = time.monotonic()

    assert cache.get("board", "fallback") == "fallback"
    cache.set("board", "v2")
    assert cache.add("count", 0) is True
    with pytest.raises(ValueError, match="not found"):
        cache.incr("count")
    assert cache.get_many(["a", "b"]) == {}
    assert cache.get_or_set("version", lambda: 7) == 7
    assert cache.has_key("board") is False

    # One short timeout at most; after it the process leaves Redis alone for a while.
    assert time.monotonic() - started < GIVES_UP_WITHIN


def test_given_a_write_lost_in_an_outage_when_redis_answers_again_then_the_old_value_is_gone(
    monkeypatch,
):
    """The board's version bumped while Redis was down must not leave the old version
    standing: a poll with it would be told that nothing changed."""
    monkeypatch.setattr(degrading, "RETRY_AFTER_SECONDS", 0)  # tried again at once
    cache = _cache(_real_redis())
    cache.set("dispatch:board-version", "before")

    def refused(*args, **kwargs):
        raise RedisConnectionError("Connection refused.")

    with monkeypatch.context() as outage:
        outage.setattr(cache._cache, "set", refused)
        cache.set("dispatch:board-version", "during")  # lost
    assert cache._outage.down

    assert cache.get("dispatch:board-version") is None
    assert not cache._outage.down
    cache.set("dispatch:board-version", "after")
    assert cache.get("dispatch:board-version") == "after"


def test_given_redis_unreachable_when_pages_use_the_cache_then_they_are_still_shown(
    settings, client, centre, closed_port
):
    # Every cache the app has, the shared one (board, rate limits) too, on a dead Redis.
    dead = {"BACKEND": "callcentre.cache.DegradingRedisCache"}
    dead["LOCATION"] = f"redis://127.0.0.1:{closed_port}/0"
    dead["OPTIONS"] = TIMEOUTS
    settings.CACHES = {"default": dead, "shared": dead}
    client.force_login(centre.dispatcher)

    for path in ("/", "/dispatch/", "/dispatch/lanes/", "/tickets/", "/alerts/"):
        assert client.get(path).status_code == 200, path


def _publish_seconds(broker_url: str, *, sends: int = 1) -> list[tuple[float, str]]:
    """Send ``sends`` tasks one after the other from a fresh process on ``broker_url``, the
    process's back-off after a failed send cut to 1 s and the last send made after it has
    passed; return how long each took and what happened."""
    script = (
        "import time, django; django.setup()\n"
        "from callcentre import celery\n"
        "from dispatch.tasks import message_send\n"
        "celery.PUBLISH_RETRY_AFTER_SECONDS = 1.0\n"
        f"for n in range({sends}):\n"
        f"    if n == {sends - 1} > 0: time.sleep(1.2)\n"
        "    started = time.monotonic()\n"
        "    try:\n"
        "        message_send.delay(1); outcome = 'sent'\n"
        "    except Exception as error:\n"
        "        outcome = type(error).__name__\n"
        "    print(time.monotonic() - started, outcome)\n"
    )
    env = {
        **os.environ,
        "CELERY_BROKER_URL": broker_url,
        "DJANGO_SETTINGS_MODULE": "callcentre.settings",
    }
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = done.stdout.strip().splitlines()[-sends:]
    return [(float(seconds), outcome) for seconds, outcome in map(str.split, lines)]


@pytest.mark.parametrize("port_kind", ["closed_port", "silent_port"])
def test_given_the_broker_unreachable_when_a_task_is_sent_then_it_gives_up_at_once(
    request, port_kind
):
    port = request.getfixturevalue(port_kind)

    [(seconds, outcome)] = _publish_seconds(f"redis://127.0.0.1:{port}/0")

    # It fails (on_commit(robust=True) logs it, beat's jobs send the work again) and fast.
    assert outcome == "OperationalError"
    assert seconds < GIVES_UP_WITHIN


def test_given_a_send_just_failed_when_more_are_sent_then_they_give_up_without_waiting(
    silent_port,
):
    first, second, third, after_backoff = _publish_seconds(
        f"redis://127.0.0.1:{silent_port}/0", sends=4
    )

    # A dispatch sends two texts: a frozen broker costs it one timeout, not two.
    assert [outcome for _seconds, outcome in (first, second, third, after_backoff)] == [
        "OperationalError"
    ] * 4
    assert 0.5 < first[0] < GIVES_UP_WITHIN
    assert second[0] < 0.1
    assert third[0] < 0.1
    # Once the back-off has passed the broker is tried again (and waited for again).
    assert after_backoff[0] > 0.5


def _lost_connection(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.django_db
def test_given_the_database_gone_when_a_page_is_asked_then_a_503_page_says_so(
    client, centre, monkeypatch
):
    client.force_login(centre.dispatcher)
    monkeypatch.setattr("tickets.views.ticket_list_for_user", _lost_connection)

    response = client.get("/tickets/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 503
    assert response["Retry-After"]
    assert response["Content-Type"].startswith("text/html")
    assert "Try again in a minute" in response.content.decode()


@pytest.mark.django_db
def test_given_the_database_gone_before_the_view_when_a_page_is_asked_then_it_is_a_503(
    centre, monkeypatch
):
    # A middleware reads the session (who is signed in) before any view runs.
    signed_in = Client(raise_request_exception=False)
    signed_in.force_login(centre.dispatcher)
    monkeypatch.setattr(SessionStore, "load", _lost_connection)

    page = signed_in.get("/dispatch/", HTTP_ACCEPT_LANGUAGE="en")
    api = signed_in.get("/api/v1/tickets/")

    assert page.status_code == 503
    assert "Try again in a minute" in page.content.decode()
    assert api.status_code == 503
    assert api.json()["code"] == "unavailable"


@pytest.mark.django_db
def test_given_the_database_gone_when_the_api_is_asked_then_a_503_in_json_says_so(
    api, centre, monkeypatch
):
    monkeypatch.setattr("tickets.api.ticket_list_for_user", _lost_connection)

    response = api(centre.agent).get("/api/v1/tickets/")

    assert response.status_code == 503
    assert response["Retry-After"]
    assert response.json()["code"] == "unavailable"


@pytest.mark.django_db
def test_given_the_database_lost_mid_create_when_the_ticket_is_posted_then_nothing_is_saved(
    api, centre, monkeypatch
):
    # The connection goes after the ticket's row is written, before its event.
    monkeypatch.setattr("tickets.services.lifecycle.event", _lost_connection)

    response = api(centre.agent).post("/api/v1/tickets/", ticket_api_body(centre), format="json")

    assert response.status_code == 503
    assert not Ticket.objects.exists()
