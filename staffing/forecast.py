"""The call volume forecast: the inbound calls expected in each 30-minute interval of a day,
from the centre's own history of the calls that rang (counted by ``ringing_at``).

A day's type is its weekday, or ``HOLIDAY`` for an official holiday (the calendar the
followups app registers through ``callcentre.hooks``). A day of type T is forecast as

    calls(interval) = level(T) × trend × profile(T, interval)

- level: the average daily total of the history days of type T: the last ``SAME_WEEKDAYS``
  days of its weekday that were not holidays, within ``WEEKDAY_LOOKBACK``; for a holiday,
  the holidays of the last ``HOLIDAY_LOOKBACK``, and with none of them, Sunday's days (level
  and profile).
- trend: the weekday history days' totals, each divided by the average of its weekday, fitted
  to a straight line by least squares within each weekday and pooled: a relative slope per
  day. It is projected from the middle of T's days to the day and held within
  1 ± ``TREND_CAP``; over less than ``TREND_MIN_SPAN`` of history there is no trend.
- profile: the share of T's days' calls that fell in each interval, smoothed lightly (each
  interval passes ``PROFILE_NEIGHBOUR_SHARE`` of its share to each neighbour, round the
  clock).

A forecast reads only whole days that ended before it was made: before ``now``, and for a
day that has already begun, before that day began, so a day is never forecast from itself.
It reads them from the day of the centre's first call that rang on: the days before its
records began would pull every average down. A day whose type has no such day gets no
forecast. The centre's time zone (Asia/Shanghai) keeps no daylight saving: every local day
has 48 intervals.

A day's forecast is stored (``IntervalForecast``) until the day begins and frozen then, so
its accuracy is measured against what was expected before it.
"""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Count, Q, Subquery, Value, When
from django.db.models.functions import Trunc
from django.utils import timezone

from callcentre import hooks
from callcentre.models import Call
from staffing.models import ForecastAccuracy, IntervalForecast

INTERVAL = timedelta(minutes=30)
INTERVALS_PER_DAY = 48
HOLIDAY = "holiday"
SUNDAY = 6
SAME_WEEKDAYS = 8
# Far enough back to find SAME_WEEKDAYS of a weekday when holidays took some of them.
WEEKDAY_LOOKBACK = timedelta(weeks=10)
HOLIDAY_LOOKBACK = timedelta(days=365)
TREND_MIN_SPAN = timedelta(weeks=3)
TREND_CAP = 0.25
PROFILE_NEIGHBOUR_SHARE = 0.125
DAYS_AHEAD = 14


def day_start(day: date) -> datetime:
    """Return the local midnight that starts ``day``."""
    return timezone.make_aware(datetime.combine(day, time.min))


def interval_starts(day: date) -> list[datetime]:
    """Return the starts of the 30-minute intervals of ``day``, in local time."""
    start = day_start(day)
    return [start + INTERVAL * n for n in range(INTERVALS_PER_DAY)]


def interval_index(at: datetime) -> int:
    """Return which of its day's intervals ``at`` falls in (0 for 00:00–00:30)."""
    local = timezone.localtime(at)
    return local.hour * 2 + local.minute // 30


def calls_by_interval(within: Q) -> tuple[dict[datetime, int], datetime | None]:
    """Return the inbound calls that rang in ``within`` (a filter on ``ringing_at``) by the
    start of their local interval, and when the centre's first call rang: one grouped read
    of the ringing index."""
    zone = timezone.get_current_timezone()
    first = (
        Call.objects.filter(direction=Call.Direction.INBOUND, ringing_at__isnull=False)
        .order_by("ringing_at")
        .values("ringing_at")[:1]
    )
    rows = (
        Call.objects.filter(within, direction=Call.Direction.INBOUND, ringing_at__isnull=False)
        .values(
            hour=Trunc("ringing_at", "hour", tzinfo=zone),
            late=Case(When(ringing_at__minute__gte=30, then=Value(1)), default=Value(0)),
        )
        .annotate(calls=Count("ringing_at"), first=Subquery(first))
        .order_by()
    )
    counts: dict[datetime, int] = defaultdict(int)
    first_call = None
    for row in rows:
        counts[row["hour"] + INTERVAL * row["late"]] += row["calls"]
        first_call = row["first"]
    return dict(counts), first_call


def calls_of_day(day: date) -> dict[datetime, int]:
    """Return the inbound calls that rang in each interval of ``day`` that had any."""
    counts, _first = calls_by_interval(
        Q(ringing_at__gte=day_start(day), ringing_at__lt=day_start(day + timedelta(days=1)))
    )
    return counts


@dataclass(frozen=True)
class _History:
    """The calls of the history days by day and interval, and what each day was."""

    counts: dict[date, list[int]]
    first_day: date | None
    holidays: set[date]

    def of(self, day: date) -> list[int]:
        return self.counts.get(day) or [0] * INTERVALS_PER_DAY

    def total(self, day: date) -> int:
        return sum(self.of(day))

    def days_of(self, kind: int | str, *, last: date) -> list[date]:
        """Return the days of ``kind`` (a weekday, or HOLIDAY) the forecast of a day reads
        when ``last`` is the latest day that has ended, the latest first."""
        if self.first_day is None or last < self.first_day:
            return []
        if kind == HOLIDAY:
            since = max(self.first_day, last - HOLIDAY_LOOKBACK + timedelta(days=1))
            return sorted((d for d in self.holidays if since <= d <= last), reverse=True)
        since = max(self.first_day, last - WEEKDAY_LOOKBACK + timedelta(days=1))
        day, days = last - timedelta(days=(last.weekday() - kind) % 7), []
        while day >= since and len(days) < SAME_WEEKDAYS:
            if day not in self.holidays:
                days.append(day)
            day -= timedelta(weeks=1)
        return days


def _last_ended(day: date, now: datetime) -> date:
    """Return the latest day that had ended when ``day``'s forecast is made: before ``now``,
    or before ``day`` began if it has."""
    return min(day, timezone.localdate(now)) - timedelta(days=1)


def _history(*, since: date, holidays_since: date, last: date, holidays: set[date]) -> _History:
    """Return the calls of every day from ``since`` to ``last``, and of the holidays from
    ``holidays_since`` on, in one query: one index range for the days, one per run of
    holidays before them."""
    one_day = timedelta(days=1)
    ranges = [(since, last)]
    for day in sorted(d for d in holidays if holidays_since <= d < since):
        if len(ranges) > 1 and ranges[-1][1] + one_day == day:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    within = Q(pk__in=[])
    for first, final in ranges:
        within |= Q(ringing_at__gte=day_start(first), ringing_at__lt=day_start(final + one_day))
    counts, first_call = calls_by_interval(within)
    by_day: dict[date, list[int]] = defaultdict(lambda: [0] * INTERVALS_PER_DAY)
    for start, calls in counts.items():
        by_day[timezone.localdate(start)][interval_index(start)] += calls
    first_day = None if first_call is None else timezone.localdate(first_call)
    return _History(dict(by_day), first_day, holidays)


def _trend_rate(history: _History, *, last: date) -> float:
    """Return the relative change of the daily calls per day: the least-squares slope of
    the weekday days' totals, each over its weekday's average, fitted within each weekday
    and pooled; nothing over less than ``TREND_MIN_SPAN`` of history."""
    groups = [history.days_of(weekday, last=last) for weekday in range(7)]
    days = [day for group in groups for day in group]
    if not days or max(days) - min(days) < TREND_MIN_SPAN:
        return 0.0
    covariance = variance = 0.0
    for group in groups:
        totals = [history.total(day) for day in group]
        if len(group) < 2 or not sum(totals):
            continue
        mean_total = sum(totals) / len(totals)
        mean_day = sum(day.toordinal() for day in group) / len(group)
        for day, total in zip(group, totals, strict=True):
            covariance += (day.toordinal() - mean_day) * (total / mean_total - 1)
            variance += (day.toordinal() - mean_day) ** 2
    return covariance / variance if variance else 0.0


def _profile(history: _History, days: list[date]) -> list[float]:
    """Return the share of ``days``' calls in each interval, lightly smoothed."""
    sums = [sum(column) for column in zip(*(history.of(day) for day in days), strict=True)]
    total = sum(sums)
    if not total:
        return [1 / INTERVALS_PER_DAY] * INTERVALS_PER_DAY
    shares = [calls / total for calls in sums]
    keep, n = 1 - 2 * PROFILE_NEIGHBOUR_SHARE, INTERVALS_PER_DAY
    return [
        keep * shares[i] + PROFILE_NEIGHBOUR_SHARE * (shares[i - 1] + shares[(i + 1) % n])
        for i in range(n)
    ]


def _day_forecast(
    day: date, history: _History, *, last: date, rate: float
) -> dict[datetime, float]:
    kind = HOLIDAY if day in history.holidays else day.weekday()
    days = history.days_of(kind, last=last)
    if not days and kind == HOLIDAY:
        days = history.days_of(SUNDAY, last=last)
    if not days:
        return {}
    level = sum(history.total(d) for d in days) / len(days)
    middle = sum(d.toordinal() for d in days) / len(days)
    trend = min(1 + TREND_CAP, max(1 - TREND_CAP, 1 + rate * (day.toordinal() - middle)))
    return {
        start: level * trend * share
        for start, share in zip(interval_starts(day), _profile(history, days), strict=True)
    }


def forecast(days: list[date], *, now: datetime) -> dict[datetime, float]:
    """Return the calls expected in each 30-minute interval of ``days`` (by its start), as
    forecast at ``now`` (for a day already begun, as at its start); a day with no history
    of its type is left out. Two queries: the holidays, and the history (with the centre's
    first call).
    """
    if not days:
        return {}
    last = {day: _last_ended(day, now) for day in days}
    earliest, latest = min(last.values()), max(last.values())
    holidays_since = earliest - HOLIDAY_LOOKBACK + timedelta(days=1)
    history = _history(
        since=earliest - WEEKDAY_LOOKBACK + timedelta(days=1),
        holidays_since=holidays_since,
        last=latest,
        holidays=hooks.official_holidays(holidays_since, max(days)),
    )
    rates: dict[date, float] = {}
    expected: dict[datetime, float] = {}
    for day in sorted(set(days)):
        if last[day] not in rates:
            rates[last[day]] = _trend_rate(history, last=last[day])
        expected |= _day_forecast(day, history, last=last[day], rate=rates[last[day]])
    return expected


def forecast_get(days: list[date], *, now: datetime) -> dict[datetime, float]:
    """Return the calls expected in each interval of ``days``: the stored forecast of a day
    that has one (for a day begun, what was expected before it began), else ``forecast``.
    """
    if not days:
        return {}
    wanted = set(days)
    stored: dict[date, dict[datetime, float]] = defaultdict(dict)
    rows = IntervalForecast.objects.filter(
        starts_at__gte=day_start(min(days)), starts_at__lt=day_start(max(days) + timedelta(days=1))
    ).values_list("starts_at", "calls")
    for starts_at, calls in rows:
        day = timezone.localdate(starts_at)
        if day in wanted:
            stored[day][starts_at] = calls
    computed = forecast(sorted(wanted - stored.keys()), now=now)
    expected = {}
    for day in sorted(wanted):
        expected |= (
            stored[day]
            if day in stored
            else {start: computed[start] for start in interval_starts(day) if start in computed}
        )
    return expected


def slot_sums(expected: dict[datetime, float], starts: list[datetime], ends: list[datetime]):
    """Return the calls ``expected`` in each slot from ``starts[i]`` to ``ends[i]`` (in
    order, not overlapping); None for a slot no interval of the forecast falls in."""
    sums: list[float | None] = [None] * len(starts)
    for start, calls in expected.items():
        slot = bisect_right(starts, start) - 1
        if slot >= 0 and start < ends[slot]:
            sums[slot] = (sums[slot] or 0.0) + calls
    return sums


def forecast_store(*, now: datetime, days_ahead: int = DAYS_AHEAD) -> int:
    """Store the forecast of the days after today up to ``days_ahead`` days ahead, and return
    how many intervals it wrote. Today has begun, so its forecast stays as it was."""
    today = timezone.localdate(now)
    days = [today + timedelta(days=ahead) for ahead in range(1, days_ahead + 1)]
    rows = [
        IntervalForecast(starts_at=start, calls=calls, made_at=now)
        for start, calls in forecast(days, now=now).items()
    ]
    IntervalForecast.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["starts_at"], update_fields=["calls", "made_at"]
    )
    return len(rows)


def accuracy_record(*, day: date, now: datetime) -> ForecastAccuracy | None:
    """Record how well ``day`` (over by ``now``) was forecast, and return the record; None
    if it had no forecast or no call.

    MAPE is the mean of |actual − forecast| / actual over the day's intervals that had calls;
    the forecast is the stored one (made before the day began), else as computed from the
    days before it. A second run rewrites the same figures.
    """
    if day_start(day + timedelta(days=1)) > now:
        raise ValueError(f"{day} has not ended")
    expected = forecast_get([day], now=now)
    actual = calls_of_day(day)
    errors = [abs(calls - expected.get(start, 0.0)) / calls for start, calls in actual.items()]
    if not expected or not errors:
        return None
    record, _created = ForecastAccuracy.objects.update_or_create(
        day=day,
        defaults={
            "forecast_calls": sum(expected.values()),
            "actual_calls": sum(actual.values()),
            "mape": sum(errors) / len(errors),
            "intervals": len(errors),
            "recorded_at": now,
        },
    )
    return record
