"""Follow-ups over the API: the working-day calendar, the callback queue and its records."""

from datetime import date

import pytest
from django.contrib.auth.models import Permission

from followups.models import WorkingDayOverride
from tests.followups.helpers import REPAIR_ANSWERS

pytestmark = pytest.mark.django_db


def _calendar(client, start: str, end: str):
    return client.get("/api/v1/calendar/", {"start": start, "end": end})


def test_given_a_range_then_each_day_says_whether_it_is_worked_and_who_says_so(api, centre):
    WorkingDayOverride.objects.create(day=date(2026, 10, 9), is_working_day=False, reason="区庆")

    response = api(centre.agent).get(
        "/api/v1/calendar/", {"start": "2026-10-07", "end": "2026-10-10"}
    )

    assert response.status_code == 200
    assert response.json() == [
        {"date": "2026-10-07", "is_working_day": False, "source": "official"},
        {"date": "2026-10-08", "is_working_day": True, "source": "official"},
        {"date": "2026-10-09", "is_working_day": False, "source": "override"},
        {"date": "2026-10-10", "is_working_day": True, "source": "official"},  # worked Saturday
    ]


def test_given_a_year_nobody_knows_then_its_days_are_unknown_not_guessed(api, centre):
    response = api(centre.agent).get(
        "/api/v1/calendar/", {"start": "2027-01-04", "end": "2027-01-04"}
    )

    assert response.json() == [{"date": "2027-01-04", "is_working_day": None, "source": "unknown"}]


@pytest.mark.parametrize(
    ("query", "wrong"),
    [
        ({}, {"start", "end"}),
        ({"start": "2026-13-01", "end": "2026-12-31"}, {"start"}),
        ({"start": "2026-10-10", "end": "2026-10-01"}, {"end"}),
        ({"start": "2026-01-01", "end": "2027-01-02"}, {"end"}),  # 367 days
    ],
)
def test_given_a_range_that_is_missing_wrong_or_too_long_then_it_says_which_field(
    api, centre, query, wrong
):
    response = api(centre.agent).get("/api/v1/calendar/", query)

    assert response.status_code == 400
    assert set(response.json()["fields"]) == wrong


def test_given_no_credentials_then_the_calendar_is_refused(api):
    assert _calendar(api(), "2026-10-07", "2026-10-07").status_code == 401


def test_the_callback_queue_over_the_api(api, scheduled, centre):
    callback = scheduled()

    response = api(centre.agent).get("/api/v1/callbacks/")

    assert response.status_code == 200
    assert response.data["ready"] == 1
    assert response.data["callbacks"][0]["id"] == callback.pk
    assert response.data["callbacks"][0]["ticket"] == callback.ticket.number
    assert api(centre.crew_leader).get("/api/v1/callbacks/").status_code == 403
    assert api().get("/api/v1/callbacks/").status_code == 401


def test_a_callback_recorded_twice_over_the_api_is_a_409(api, scheduled, centre):
    callback = scheduled()
    body = {"reached": True, "answers": REPAIR_ANSWERS, "satisfaction": "basically"}

    first = api(centre.agent).post(f"/api/v1/callbacks/{callback.pk}/record/", body, format="json")
    second = api(centre.agent).post(f"/api/v1/callbacks/{callback.pk}/record/", body, format="json")

    assert first.status_code == 200
    assert first.data["satisfaction"] == "basically"
    assert second.status_code == 409
    assert second.data["state"] == "done"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"reached": True, "satisfaction": "delighted"}, {"satisfaction"}),
        ({"reached": True, "satisfaction": "satisfied", "colour": "red"}, {"colour"}),
        ({"satisfaction": "satisfied"}, {"reached"}),
    ],
)
def test_a_callback_with_bad_input_is_a_400_naming_the_fields(api, scheduled, centre, body, fields):
    callback = scheduled()

    response = api(centre.agent).post(
        f"/api/v1/callbacks/{callback.pk}/record/", body, format="json"
    )

    assert response.status_code == 400
    assert set(response.data["fields"]) == fields
    callback.refresh_from_db()
    assert callback.attempts == 0


def test_a_callback_the_user_may_not_see_is_a_404(api, scheduled, centre):
    callback = scheduled()
    outsider = centre.other_crew_leader
    outsider.user_permissions.add(Permission.objects.get(codename="record_callback"))

    response = api(type(outsider).objects.get(pk=outsider.pk)).post(
        f"/api/v1/callbacks/{callback.pk}/record/", {"reached": False}, format="json"
    )

    assert response.status_code == 404
