"""The periods reports cover: shifts (between the shift changes of ``SHIFT_CHANGES``) and
calendar days."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.utils import timezone


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def _changes_around(at: datetime) -> list[datetime]:
    """Return the shift changes from the day before ``at`` to the day after, in order."""
    changes = sorted(time.fromisoformat(value.strip()) for value in settings.SHIFT_CHANGES)
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
    ended = []
    shift = shift_of(until - timedelta(microseconds=1))
    shift = shift_of(shift.start - timedelta(microseconds=1)) if shift.end > until else shift
    while shift.end > since:
        ended.append(shift)
        shift = shift_of(shift.start - timedelta(microseconds=1))
    return ended[::-1]


def day_of(at: datetime) -> Period:
    """Return the calendar day (local midnight to midnight) that contains ``at``."""
    day = timezone.localtime(at).date()
    start = timezone.make_aware(datetime.combine(day, time.min))
    return Period(start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min)))


def days_ended(*, since: datetime, until: datetime) -> list[Period]:
    """Return the days that ended in (since, until], the earliest first."""
    ended = []
    day = day_of(until - timedelta(microseconds=1))
    day = day_of(day.start - timedelta(microseconds=1)) if day.end > until else day
    while day.end > since:
        ended.append(day)
        day = day_of(day.start - timedelta(microseconds=1))
    return ended[::-1]
