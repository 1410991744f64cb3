"""No browser or proxy stores an answer that may carry personal data (callcentre.middleware):
every answer to a signed-in person, every API answer, the customer's status pages; static
files stay cacheable, and the board's poll keeps its cheap 304."""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import Client
from django.utils.cache import patch_cache_control

from callcentre.middleware import PrivateNoStoreMiddleware
from tickets.choices import State
from tickets.public import slip_url, status_url


def _no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


@pytest.mark.django_db
def test_given_a_signed_in_person_then_no_page_of_theirs_is_stored(client, centre, make_ticket):
    ticket = make_ticket()
    client.force_login(centre.dispatcher)

    for url in ("/", f"/tickets/{ticket.number}/", "/tickets/", "/notices/", "/no-such-page/"):
        response = client.get(url)
        assert _no_store(response), url
        assert "private" in response["Cache-Control"], url


@pytest.mark.django_db
def test_given_the_api_then_no_answer_is_stored_whoever_asks(client, centre, api):
    client.force_login(centre.agent)
    answers = [
        api(centre.agent).get("/api/v1/tickets/"),  # a token, not the session
        client.get("/api/v1/faq/"),
        Client().get("/api/v1/tickets/"),  # refused: 401
        Client().get("/open311/v2/services.json"),
    ]
    for response in answers:
        assert _no_store(response), (response.request["PATH_INFO"], response.status_code)


@pytest.mark.django_db
def test_given_the_customers_status_pages_then_they_are_not_stored(centre, make_ticket):
    ticket = make_ticket(State.CLOSED)
    for url in ("/status/", status_url(ticket), slip_url(ticket)):
        response = Client().get(url.removeprefix(settings.PUBLIC_BASE_URL))
        assert response.status_code == 200, url
        assert _no_store(response), url


def test_given_an_anonymous_visitor_outside_the_private_paths_then_caching_is_the_views(rf):
    def view(request):
        response = HttpResponse("outages in force")
        patch_cache_control(response, public=True, max_age=60)
        return response

    request = rf.get("/notices/")
    request.user = AnonymousUser()

    response = PrivateNoStoreMiddleware(view)(request)

    assert response["Cache-Control"] == "public, max-age=60"


@pytest.mark.django_db
def test_given_a_view_that_sets_its_own_cache_control_then_no_store_is_added_to_it(
    client, centre, rf
):
    def view(request):
        response = HttpResponse("figures")
        patch_cache_control(response, public=True, max_age=300)
        return response

    request = rf.get("/reports/")
    request.user = centre.supervisor

    response = PrivateNoStoreMiddleware(view)(request)

    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private", "max-age=300"} <= directives
    assert "public" not in directives


@pytest.mark.django_db
def test_given_static_files_then_they_stay_cacheable(client, centre, settings):
    # WhiteNoise serves them before any view, found in the apps as in development.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    client.force_login(centre.dispatcher)
    for url in ("/static/css/app.css", "/static/js/board.js", "/static/django_htmx/htmx-2.min.js"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert not _no_store(response), url
        b"".join(response.streaming_content)


@pytest.mark.django_db
def test_given_nothing_changed_when_the_board_polls_then_it_is_still_told_304_cheaply(
    client, centre, make_ticket, django_assert_max_num_queries
):
    make_ticket()
    client.force_login(centre.dispatcher)
    first = client.get("/dispatch/lanes/")
    assert first.status_code == 200
    assert _no_store(first)
    etag = first["ETag"]

    # The board sends the version it holds itself (static/js/board.js), not from the
    # browser's cache: no-store takes nothing from it.
    with django_assert_max_num_queries(3):  # the session, the user, nothing of the tickets
        again = client.get("/dispatch/lanes/", HTTP_IF_NONE_MATCH=etag)

    assert again.status_code == 304
    assert again["ETag"] == etag
    assert _no_store(again)
    assert again.content == b""


def test_given_the_board_script_then_it_sends_its_version_itself():
    script = (Path(settings.BASE_DIR) / "static" / "js" / "board.js").read_text()
    assert '"If-None-Match": etag' in script
    assert 'cache: "no-store"' in script
