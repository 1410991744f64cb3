"""The periods reports cover: shifts (between the shift changes of the shift templates),
calendar days, weeks (Monday to Sunday) and months, all in the centre's time zone."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.utils import timezone

from tickets.shifts import shift_changes


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def _changes_around(at: datetime) -> list[datetime]:
    """Return the shift changes from the day before ``at`` to the day after, in order."""
    changes = shift_changes()
    day = timezone.localtime(at).date()
    return [
        timezone.make_aware(datetime.combine(day + timedelta(days=offset), change))
        for offset in (-1, 0, 1)
        for change in changes
    ]


def shift_of(at: datetime) -> Period:
    """Return the shift working at ``at``: from the last shift change to the next."""
    changes = _changes_around(at)
    start = max(change for change in changes if change <= at)
    end = min(change for change in changes if change > at)
    return Period(start, end)


def shifts_ended(*, since: datetime, until: datetime) -> list[Period]:
    """Return the shifts that ended in (since, until], the earliest first."""
    return _ended(shift_of, since=since, until=until)


def day_of(at: datetime) -> Period:
    """Return the calendar day (local midnight to midnight) that contains ``at``."""
    day = timezone.localtime(at).date()
    start = timezone.make_aware(datetime.combine(day, time.min))
    return Period(start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min)))


def days_ended(*, since: datetime, until: datetime) -> list[Period]:
    """Return the days that ended in (since, until], the earliest first."""
    return _ended(day_of, since=since, until=until)


def week_of(at: datetime) -> Period:
    """Return the week (from Monday's local midnight to the next) that contains ``at``."""
    day = timezone.localtime(at).date()
    monday = day - timedelta(days=day.weekday())
    start = timezone.make_aware(datetime.combine(monday, time.min))
    end = timezone.make_aware(datetime.combine(monday + timedelta(days=7), time.min))
    return Period(start, end)


def weeks_ended(*, since: datetime, until: datetime) -> list[Period]:
    """Return the weeks that ended in (since, until], the earliest first."""
    return _ended(week_of, since=since, until=until)


def month_of(at: datetime) -> Period:
    """Return the calendar month (local midnight of the 1st to the next 1st) of ``at``."""
    first = timezone.localtime(at).date().replace(day=1)
    following = (first + timedelta(days=31)).replace(day=1)
    start = timezone.make_aware(datetime.combine(first, time.min))
    return Period(start, timezone.make_aware(datetime.combine(following, time.min)))


def months_ended(*, since: datetime, until: datetime) -> list[Period]:
    """Return the months that ended in (since, until], the earliest first."""
    return _ended(month_of, since=since, until=until)


def _ended(period_of, *, since: datetime, until: datetime) -> list[Period]:
    # Walk back from the period that was running just before ``until`` (if it has not
    # ended by then, from the one before it) to the first that ended after ``since``.
    just_before = timedelta(microseconds=1)
    period = period_of(until - just_before)
    if period.end > until:
        period = period_of(period.start - just_before)
    ended = []
    while period.end > since:
        ended.append(period)
        period = period_of(period.start - just_before)
    return ended[::-1]
