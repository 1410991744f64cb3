"""The calendar's month view in the admin, and the warning of a year nobody has entered."""

from datetime import date

import pytest

from followups.models import WorkingDayOverride

pytestmark = pytest.mark.django_db

MONTH_VIEW = "/admin/followups/workingdayoverride/calendar/"


def _cell(page: str, day: str) -> str:
    start = page.find(f'data-day="{day}"')
    return page[page.rfind("<td", 0, start) : page.find("</td>", start)]


def test_the_month_view_shows_each_day_as_deadlines_count_it(client, centre):
    WorkingDayOverride.objects.create(day=date(2026, 10, 9), is_working_day=False, reason="区庆")
    client.force_login(centre.supervisor)

    page = client.get(MONTH_VIEW, {"month": "2026-10"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'class="rest"' in _cell(page, "2026-10-01")  # National Day
    worked_saturday = _cell(page, "2026-10-10")
    assert 'class="working"' in worked_saturday
    assert "official calendar" in worked_saturday
    entered = _cell(page, "2026-10-09")
    assert "the centre&#x27;s override" in entered
    assert "?day=2026-10-09" in entered
    assert "/add/?day=2026-10-12" in _cell(page, "2026-10-12")
    assert "?month=2026-09" in page
    assert "?month=2026-11" in page


def test_a_month_nobody_knows_shows_its_days_as_not_known(client, centre, clock):
    client.force_login(centre.supervisor)

    page = client.get(MONTH_VIEW, {"month": "2027-01"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'class="unknown"' in _cell(page, "2027-01-04")
    assert "cannot be counted" in page


def test_a_month_that_is_not_one_shows_the_current_month(client, centre, clock):
    client.force_login(centre.supervisor)

    response = client.get(MONTH_VIEW, {"month": "2026-13"})

    assert response.status_code == 200
    assert 'data-day="2026-11-16"' in response.content.decode()


def test_a_seat_agent_cannot_open_the_month_view(client, centre):
    client.force_login(centre.agent)

    response = client.get(MONTH_VIEW)

    assert response.status_code in (302, 403)


def test_the_supervisor_is_warned_of_the_coming_year_nobody_has_entered(client, centre, clock):
    client.force_login(centre.supervisor)

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "does not know 2027" in page
    assert f"{MONTH_VIEW}?month=2027-01" in page


def test_once_days_are_entered_the_warning_says_how_the_year_is_counted(client, centre, clock):
    WorkingDayOverride.objects.create(day=date(2027, 1, 1), is_working_day=False, reason="元旦")
    client.force_login(centre.supervisor)

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "counted from the 1 day entered by hand" in page


def test_a_seat_agent_is_not_shown_the_calendar_warning(client, centre, clock):
    client.force_login(centre.agent)

    page = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "calendar-gap" not in page
