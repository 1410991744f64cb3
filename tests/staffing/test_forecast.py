"""The call volume forecast on synthetic histories with a known pattern, the official
holidays it reads, what it stores and freezes, and how its accuracy is recorded."""

from datetime import date, datetime, time, timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from callcentre.hooks import official_holidays
from callcentre.models import Call
from followups.models import WorkingDayOverride
from staffing import forecast as fc
from staffing import tasks
from staffing.models import ForecastAccuracy, IntervalForecast
from tests.conftest import SHANGHAI, T0

pytestmark = pytest.mark.django_db

TODAY = T0.date()  # Monday 16 November 2026
# Weekdays (Monday to Saturday): 10 calls in each half-hour from 08:00 to 20:00, 240 a day;
# Sundays half as many; holidays 3 in each half-hour from 10:00 to 16:00, 36 a day.
WEEKDAY = dict.fromkeys(range(16, 40), 10)
SUNDAY = dict.fromkeys(range(16, 40), 5)
HOLIDAY = dict.fromkeys(range(20, 32), 3)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def ring(day: date, counts: dict[int, int]) -> list[Call]:
    """Return unsaved inbound calls that rang on ``day``: ``counts[i]`` in interval ``i``."""
    start = at(day, 0)
    return [
        Call(
            direction=Call.Direction.INBOUND,
            ringing_at=start + fc.INTERVAL * i + timedelta(minutes=n % 30),
        )
        for i, calls in counts.items()
        for n in range(calls)
    ]


def history(first: date, last: date, *, holidays=frozenset()) -> None:
    """Give the centre the known pattern from ``first`` to ``last``."""
    calls = []
    day = first
    while day <= last:
        pattern = HOLIDAY if day in holidays else SUNDAY if day.weekday() == 6 else WEEKDAY
        calls += ring(day, pattern)
        day += timedelta(days=1)
    Call.objects.bulk_create(calls, batch_size=2000)


def day_of(expected: dict[datetime, float], day: date) -> list[float]:
    return [expected[start] for start in fc.interval_starts(day)]


@pytest.fixture
def five_weeks(db):
    """The centre's records begin on Monday 12 October: five weeks of the pattern."""
    history(date(2026, 10, 12), TODAY - timedelta(days=1))


def test_the_weekly_pattern_comes_back_smoothed_at_its_edges(five_weeks):
    # Given five weeks of the pattern and a busy morning today, which has not ended
    Call.objects.bulk_create(ring(TODAY, {16: 90}))

    # When next week's Tuesday and Sunday and today are forecast
    tuesday, sunday = TODAY + timedelta(days=1), TODAY + timedelta(days=6)
    expected = fc.forecast([tuesday, sunday, TODAY], now=T0)

    # Then each reads its own weekday: 240 and 120 a day, and today as at its start
    assert sum(day_of(expected, tuesday)) == pytest.approx(240)
    assert sum(day_of(expected, sunday)) == pytest.approx(120)
    assert sum(day_of(expected, TODAY)) == pytest.approx(240)
    # Each half-hour keeps 3/4 of its share and passes 1/8 to each neighbour: inside the
    # plateau 10, at its first and last half-hour 10 × 7/8, just outside it 10 × 1/8.
    tue = day_of(expected, tuesday)
    assert tue[15:18] == pytest.approx([1.25, 8.75, 10.0])
    assert tue[38:41] == pytest.approx([10.0, 8.75, 1.25])
    assert tue[0] == 0
    assert day_of(expected, sunday)[24] == pytest.approx(5.0)


def test_the_days_before_the_records_began_do_not_drag_it_down(five_weeks):
    # Given five Mondays of 240 calls, and eight weeks asked for
    expected = fc.forecast([TODAY + timedelta(days=7)], now=T0)

    # Then the three Mondays before the first call are not counted as noughts (150)
    assert sum(expected.values()) == pytest.approx(240)


def test_no_history_gives_no_forecast(db):
    assert fc.forecast([TODAY + timedelta(days=1)], now=T0) == {}
    assert fc.forecast([], now=T0) == {}


def test_holidays_are_their_own_day_type():
    # Given six weeks of the pattern to the morning of Monday 5 October, with Mid-Autumn
    # (25–27 September) and the first days of National Day as holidays
    national_day = {date(2026, 10, 1) + timedelta(days=n) for n in range(7)}
    holidays = {date(2026, 9, 25), date(2026, 9, 26), date(2026, 9, 27), *national_day}
    history(date(2026, 8, 24), date(2026, 10, 4), holidays=holidays)
    now = at(date(2026, 10, 5), 0, 10)

    # When the rest of National Day and the Thursday after it are forecast
    monday, thursday = date(2026, 10, 5), date(2026, 10, 8)
    expected = fc.forecast([monday, thursday], now=now)

    # Then the holiday reads the seven holidays (36 a day, 10:00–16:00)
    assert sum(day_of(expected, monday)) == pytest.approx(36)
    assert day_of(expected, monday)[19:22] == pytest.approx([0.375, 2.625, 3.0])
    # and the Thursday its five Thursdays, 1 October (a holiday) not among them
    assert sum(day_of(expected, thursday)) == pytest.approx(240)


def test_a_holiday_without_holiday_history_is_forecast_as_a_sunday(five_weeks):
    # Given a local holiday the centre entered for Friday 20 November, and no holiday since
    # its records began
    WorkingDayOverride.objects.create(day=date(2026, 11, 20), is_working_day=False, reason="本地")

    expected = fc.forecast([date(2026, 11, 20)], now=T0)

    assert sum(expected.values()) == pytest.approx(120)


@pytest.fixture
def rising_mondays(db):
    """Mondays only, 12 half-hours from 08:00, with 20 + w calls in each, w the weeks since
    14 September; 5 October (National Day) had none. The other days had none either."""
    calls = []
    for week in range(9):
        monday = date(2026, 9, 14) + timedelta(weeks=week)
        if monday != date(2026, 10, 5):
            calls += ring(monday, dict.fromkeys(range(16, 28), 20 + week))
    Call.objects.bulk_create(calls)


def test_a_linear_trend_is_followed_and_bounded(rising_mondays):
    # Given the eight Mondays read (w = 0, 1, 2, 4 … 8: 24.125 calls a half-hour on
    # average, at w = 4.125), the relative slope is 1/24.125 a week
    mondays = [TODAY + timedelta(weeks=n) for n in range(3)]

    expected = fc.forecast(mondays, now=T0)

    totals = [sum(day_of(expected, monday)) for monday in mondays]
    # Today (w = 9): 12 × 29, next Monday 12 × 30; the Monday after would be 12 × 31, more
    # than 1.25 times the level of 12 × 24.125, so it stops there.
    assert totals == pytest.approx([348, 360, 12 * 24.125 * 1.25])
    assert day_of(expected, mondays[0])[20] == pytest.approx(29)
    # A Tuesday had no call since records began: a real nought
    assert sum(fc.forecast([TODAY + timedelta(days=1)], now=T0).values()) == 0


def test_the_forecast_costs_two_queries(five_weeks, django_assert_num_queries):
    days = [TODAY + timedelta(days=n) for n in range(1, 31)]
    with django_assert_num_queries(2):
        fc.forecast(days, now=T0)


def test_the_official_holidays_are_the_days_off_of_the_notice(db):
    # Mid-Autumn and National Day 2026; 20 September and 10 October are working weekends,
    # 19 September and 11 October ordinary ones
    assert official_holidays(date(2026, 9, 19), date(2026, 10, 11)) == {
        date(2026, 9, 25),
        date(2026, 9, 26),
        date(2026, 9, 27),
        *(date(2026, 10, 1) + timedelta(days=n) for n in range(7)),
    }
    # A year the package does not know has none, unless the centre entered it
    assert official_holidays(date(2027, 1, 1), date(2027, 12, 31)) == set()
    WorkingDayOverride.objects.create(day=date(2027, 1, 1), is_working_day=False, reason="元旦")
    WorkingDayOverride.objects.create(day=date(2026, 10, 7), is_working_day=True, reason="调整")
    assert official_holidays(date(2026, 12, 30), date(2027, 1, 2)) == {date(2027, 1, 1)}
    assert date(2026, 10, 7) not in official_holidays(date(2026, 10, 1), date(2026, 10, 7))


def test_the_stored_forecast_is_frozen_once_its_day_begins(five_weeks):
    # Given the forecast stored on Monday morning: Tuesday to Monday 30th, not today
    assert fc.forecast_store(now=T0) == 14 * 48
    assert not IntervalForecast.objects.filter(starts_at__lt=at(TODAY + timedelta(days=1), 0))
    tuesday = TODAY + timedelta(days=1)
    before = list(
        IntervalForecast.objects.filter(starts_at__date=tuesday).values_list("calls", "made_at")
    )

    # When Monday turns out twice as busy and the job runs again after midnight
    Call.objects.bulk_create(ring(TODAY, dict.fromkeys(range(16, 40), 20)))
    later = at(tuesday, 0, 25)
    assert fc.forecast_store(now=later) == 14 * 48

    # Then Tuesday, which has begun, keeps what was expected of it; next Monday reads today
    after = list(
        IntervalForecast.objects.filter(starts_at__date=tuesday).values_list("calls", "made_at")
    )
    assert after == before
    monday = IntervalForecast.objects.filter(starts_at__date=TODAY + timedelta(days=7))
    assert {row.made_at for row in monday} == {later}
    assert sum(row.calls for row in monday) > 240
    # and what is read for Tuesday is what was stored, not what would be computed now
    assert sum(fc.forecast_get([tuesday], now=later).values()) == pytest.approx(240)
    assert IntervalForecast.objects.count() == 15 * 48


def test_accuracy_is_one_minus_the_mean_error_of_the_intervals_with_calls(db):
    # Given Sunday's stored forecast (10 at 10:00, 4 at 10:30, 3 at 11:00, none else) and its
    # calls (8 at 10:00, 5 at 10:30, none at 11:00, 2 at 15:00)
    sunday = TODAY - timedelta(days=1)
    forecast = {20: 10.0, 21: 4.0, 22: 3.0}
    IntervalForecast.objects.bulk_create(
        IntervalForecast(
            starts_at=start, calls=forecast.get(i, 0.0), made_at=at(sunday, 0) - timedelta(hours=1)
        )
        for i, start in enumerate(fc.interval_starts(sunday))
    )
    Call.objects.bulk_create(ring(sunday, {20: 8, 21: 5, 30: 2}))

    # When it is recorded, twice
    first = fc.accuracy_record(day=sunday, now=T0)
    second = fc.accuracy_record(day=sunday, now=T0 + timedelta(hours=1))

    # Then the errors 2/8, 1/5 and 2/2 average 0.48333; 11:00 had no call, so no error
    assert ForecastAccuracy.objects.count() == 1
    record = ForecastAccuracy.objects.get()
    assert (record.forecast_calls, record.actual_calls, record.intervals) == (17.0, 15, 3)
    assert record.mape == pytest.approx((0.25 + 0.2 + 1.0) / 3)
    assert record.accuracy == pytest.approx(1 - 1.45 / 3)
    assert (first.mape, second.mape) == (record.mape, record.mape)
    assert record.recorded_at == T0 + timedelta(hours=1)


def test_accuracy_waits_for_the_day_to_end_and_needs_a_call(five_weeks):
    with pytest.raises(ValueError, match="has not ended"):
        fc.accuracy_record(day=TODAY, now=T0)
    quiet = date(2026, 10, 11)  # before the records began: no forecast and no call
    assert fc.accuracy_record(day=quiet, now=T0) is None
    assert not ForecastAccuracy.objects.exists()


def test_the_nightly_jobs_are_scheduled_and_store_the_coming_fortnight(five_weeks, clock):
    schedule = settings.CELERY_BEAT_SCHEDULE
    for name in ("staffing-forecast-store", "staffing-accuracy-record"):
        assert import_string(schedule[name]["task"])

    assert tasks.forecast_store() == 14 * 48
    # Yesterday (Sunday) and the six days before it, none recorded yet
    assert tasks.accuracy_catch_up() == 7
    # Each day as forecast from the days before it: only the plateau's first and last
    # half-hour miss, by 1.25 of 10; nobody was rostered, so the schedule met none of it.
    records = ForecastAccuracy.objects.all()
    assert [record.mape for record in records] == pytest.approx([0.25 / 24] * 7)
    assert {record.schedule_accuracy for record in records} == {0.0}
    assert {timezone.localdate(record.recorded_at) for record in records} == {TODAY}
