"""Working days by the official calendar, the centre's overrides, and years nobody knows."""

from datetime import date, datetime

import pytest

from followups.models import WorkingDayOverride
from followups.workdays import (
    CalendarUnknown,
    Source,
    add_working_days,
    calendar_days,
    calendar_gaps,
    is_working_day,
    working_day_deadline,
    working_days_between,
)
from tests.conftest import SHANGHAI

pytestmark = pytest.mark.django_db

# The State Council's notices: the weekends worked in lieu (调休) and the holidays.
WORKED_WEEKENDS = {
    2025: ["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"],
    2026: ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
}
HOLIDAYS = {
    2025: ["2025-01-01", "2025-01-28", "2025-02-04", "2025-04-04", "2025-05-05", "2025-10-08"],
    2026: ["2026-01-01", "2026-02-16", "2026-02-23", "2026-04-06", "2026-10-07"],
}


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_weekends_worked_in_lieu_are_working_days(year):
    for day in WORKED_WEEKENDS[year]:
        assert date.fromisoformat(day).weekday() >= 5
        assert is_working_day(date.fromisoformat(day)), day


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_official_holidays_are_not_working_days(year):
    for day in HOLIDAYS[year]:
        assert date.fromisoformat(day).weekday() < 5
        assert not is_working_day(date.fromisoformat(day)), day


def test_an_override_wins_over_the_official_calendar():
    WorkingDayOverride.objects.create(day=date(2026, 11, 18), is_working_day=False, reason="区庆")

    (day,) = calendar_days(start=date(2026, 11, 18), end=date(2026, 11, 18))

    assert (day.is_working_day, day.source) == (False, Source.OVERRIDE)
    assert not is_working_day(date(2026, 11, 18))


def test_a_year_neither_the_package_nor_an_override_knows_raises_a_clear_error():
    with pytest.raises(CalendarUnknown) as raised:
        is_working_day(date(2027, 1, 4))

    assert "2027" in raised.value.message
    assert raised.value.code == "conflict"
    (day,) = calendar_days(start=date(2027, 1, 4), end=date(2027, 1, 4))
    assert (day.is_working_day, day.source) == (None, Source.UNKNOWN)


def test_given_next_years_notice_entered_as_overrides_then_its_days_are_known():
    WorkingDayOverride.objects.create(day=date(2027, 1, 4), is_working_day=True, reason="通知")

    assert is_working_day(date(2027, 1, 4))


def test_adding_working_days_skips_the_national_day_holiday_and_counts_the_worked_saturday():
    # 2026-09-30 (Wed) + 1: the holiday runs 10-01 to 10-07, 10-08 (Thu) is back at work.
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    # 10-09 (Fri), then Saturday 10-10 is worked in lieu.
    assert add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 8)


def test_working_days_between_counts_the_days_after_the_first_up_to_the_last():
    assert working_days_between(date(2026, 11, 13), date(2026, 11, 16)) == 1  # Fri → Mon
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert working_days_between(date(2026, 11, 16), date(2026, 11, 16)) == 0


def test_a_working_day_deadline_ends_at_the_close_of_that_day_in_the_centres_time():
    received = datetime(2026, 11, 13, 16, 0, tzinfo=SHANGHAI)  # a Friday afternoon

    due = working_day_deadline(received, 3)

    assert due == datetime(2026, 11, 18, 17, 30, tzinfo=SHANGHAI)


def test_a_count_running_into_an_unknown_year_raises_the_clear_error():
    with pytest.raises(CalendarUnknown):
        add_working_days(date(2026, 12, 30), 5)


def test_in_a_year_known_only_by_the_centres_entries_other_days_follow_the_week():
    WorkingDayOverride.objects.create(day=date(2027, 1, 1), is_working_day=False, reason="元旦")

    days = {d.day: d for d in calendar_days(start=date(2027, 1, 1), end=date(2027, 1, 4))}

    assert days[date(2027, 1, 1)].is_working_day is False  # entered: a Friday off
    assert days[date(2027, 1, 2)].is_working_day is False  # Saturday
    assert days[date(2027, 1, 4)].is_working_day is True  # Monday
    assert {d.source for d in days.values()} == {Source.OVERRIDE}


@pytest.mark.parametrize(
    ("today", "years"),
    [
        (date(2026, 6, 1), []),  # the package knows 2026
        (date(2026, 10, 1), [2027]),  # the coming year's notice is due
        (date(2027, 3, 1), [2027]),
    ],
)
def test_the_years_to_enter_are_this_one_and_from_october_the_next(today, years):
    assert [gap.year for gap in calendar_gaps(today=today)] == years


def test_a_year_to_enter_says_how_many_days_the_centre_has_entered():
    WorkingDayOverride.objects.create(day=date(2027, 1, 1), is_working_day=False, reason="元旦")

    (gap,) = calendar_gaps(today=date(2026, 11, 16))

    assert (gap.year, gap.entered) == (2027, 1)
