"""The alerts in the page and over the API: the count, the list, acknowledging, the cause."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import T0
from tickets.choices import State
from tickets.models import Alert, Ticket
from tickets.services import alerts_sweep

pytestmark = pytest.mark.django_db


@pytest.fixture
def overdue(centre, make_ticket, clock):
    """A general ticket left unverified past its dispatch deadline: a warning and a breach."""
    ticket = make_ticket(State.NEW)
    for minutes in (25, 31):
        clock.move_to(T0 + timedelta(minutes=minutes))
        alerts_sweep(now=timezone.now())
    return ticket


def test_the_top_bar_shows_the_bell_to_those_who_receive_alerts_only(client, centre):
    client.force_login(centre.dispatcher)
    assert 'class="alert-bell"' in client.get("/").content.decode()
    client.force_login(centre.agent)
    assert 'class="alert-bell"' not in client.get("/").content.decode()


def test_the_badge_counts_what_waits_in_one_query(
    client, centre, overdue, django_assert_max_num_queries
):
    client.force_login(centre.dispatcher)
    client.get("/")  # the session and the permissions, read once
    with django_assert_max_num_queries(4):
        badge = client.get("/alerts/badge/")

    assert "no-cache" in badge["Cache-Control"]
    body = badge.content.decode()
    assert 'class="badge badge-alert"' in body
    assert re.search(r">\s*2\s*</span>", body)


def test_the_list_shows_each_alert_with_its_ticket_and_acknowledging_takes_it_off(
    client, centre, overdue
):
    client.force_login(centre.dispatcher)
    page = client.get("/alerts/").content.decode()
    assert overdue.number in page
    assert page.count('action="/alerts/') >= 3  # two acknowledge buttons and the all-button
    breach = Alert.objects.get(level="breach")

    response = client.post(f"/alerts/{breach.pk}/acknowledge/")

    assert response.status_code == 302
    breach.refresh_from_db()
    assert breach.acknowledged_by == centre.dispatcher
    waiting = client.get("/alerts/").content.decode()
    assert f"/alerts/{breach.pk}/acknowledge/" not in waiting
    assert f"/alerts/{breach.pk}/cause/" in client.get("/alerts/?show=all").content.decode()


def test_acknowledge_all_takes_the_listed_alerts_and_ignores_unknown_ids(client, centre, overdue):
    client.force_login(centre.dispatcher)
    ids = list(Alert.objects.values_list("pk", flat=True))

    client.post("/alerts/acknowledge/", {"alert": [*ids, "999999", "x"]})

    assert not Alert.objects.filter(acknowledged_at__isnull=True).exists()
    assert 'class="empty"' in client.get("/alerts/").content.decode()


def test_someone_elses_alert_is_not_found(client, centre, overdue):
    client.force_login(centre.crew_leader)  # the ticket is not their crew's
    breach = Alert.objects.get(level="breach")

    assert client.post(f"/alerts/{breach.pk}/acknowledge/").status_code == 404
    assert Alert.objects.get(pk=breach.pk).acknowledged_at is None


def test_the_cause_form_names_what_is_missing_and_saves_nothing_half(client, centre, overdue):
    client.force_login(centre.dispatcher)
    breach = Alert.objects.get(level="breach")

    refused = client.post(f"/alerts/{breach.pk}/cause/", {"cause": "human", "responsible": ""})

    assert refused.status_code == 400
    assert 'class="errorlist' in refused.content.decode()
    assert Alert.objects.get(pk=breach.pk).delay_cause == ""
    saved = client.post(
        f"/alerts/{breach.pk}/cause/", {"cause": "human", "responsible": "调度员陈某"}
    )
    assert saved.status_code == 302
    assert Ticket.objects.get(pk=overdue.pk).delay_responsible == "调度员陈某"


def test_the_supervisor_reads_the_delays_someone_caused_and_an_agent_may_not(
    client, centre, overdue
):
    client.force_login(centre.dispatcher)
    breach = Alert.objects.get(level="breach")
    client.post(f"/alerts/{breach.pk}/cause/", {"cause": "human", "responsible": "调度员陈某"})

    client.force_login(centre.supervisor)
    page = client.get("/alerts/delays/")
    assert page.status_code == 200
    assert "调度员陈某" in page.content.decode()
    client.force_login(centre.dispatcher)
    assert client.get("/alerts/delays/").status_code == 403


# Over the API.


def test_the_api_lists_my_waiting_alerts_and_acknowledges_one(api, centre, overdue):
    listed = api(centre.dispatcher).get("/api/v1/alerts/", {"waiting": "true"})

    assert listed.status_code == 200
    rows = listed.json()["results"]
    assert {(row["milestone"], row["level"]) for row in rows} == {
        ("dispatch", "warning"),
        ("dispatch", "breach"),
    }
    assert all(row["ticket"] == overdue.number and row["is_standing"] for row in rows)
    acknowledged = api(centre.dispatcher).post(f"/api/v1/alerts/{rows[0]['id']}/acknowledge/")
    assert acknowledged.status_code == 200
    assert acknowledged.json()["acknowledged_by"] == centre.dispatcher.username
    again = api(centre.dispatcher).get("/api/v1/alerts/", {"waiting": "true"}).json()
    assert len(again["results"]) == 1


def test_the_api_refuses_bad_input_with_the_fields_named(api, centre, overdue):
    breach = Alert.objects.get(level="breach")
    warning = Alert.objects.get(level="warning")
    dispatcher = api(centre.dispatcher)

    assert dispatcher.get("/api/v1/alerts/", {"waiting": "maybe"}).status_code == 400
    missing = dispatcher.post(f"/api/v1/alerts/{breach.pk}/cause/", {"cause": "human"})
    assert missing.status_code == 400
    assert set(missing.json()["fields"]) == {"responsible"}
    unknown = dispatcher.post(f"/api/v1/alerts/{breach.pk}/cause/", {"cause": "weather"})
    assert set(unknown.json()["fields"]) == {"cause"}
    extra = dispatcher.post(
        f"/api/v1/alerts/{breach.pk}/cause/", {"cause": "objective", "level": "alarm"}
    )
    assert extra.status_code == 400
    on_warning = dispatcher.post(f"/api/v1/alerts/{warning.pk}/cause/", {"cause": "objective"})
    assert on_warning.status_code == 409
    by_agent = api(centre.agent).post(f"/api/v1/alerts/{breach.pk}/cause/", {"cause": "objective"})
    assert by_agent.status_code == 404  # no alert is meant for an agent
    assert api().get("/api/v1/alerts/").status_code in (401, 403)
    assert not Alert.objects.exclude(delay_cause="").exists()
