"""Working days by the official Chinese calendar, with the swapped weekends (调休).

Every working-day deadline in the product counts through here. The official days come from
the ``chinese_calendar`` package, which knows each year once the State Council has published
its notice and refuses years it does not know; the centre's overrides (entered in the admin,
say from next year's notice before the package has it) win over it. A day of a year that
neither knows raises ``CalendarUnknown``: counting every weekday as a working day would
quietly move deadlines.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import chinese_calendar
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from followups.models import WorkingDayOverride
from tickets.errors import ApplicationError

# The working day, as the centre's offices keep it.
START_OF_WORKING_DAY = time(8, 30)
END_OF_WORKING_DAY = time(17, 30)
# The furthest a count of working days may run before it gives up: a year and a half.
_MAX_DAYS = 550


class Source(models.TextChoices):
    OFFICIAL = "official", gettext_lazy("official calendar")
    OVERRIDE = "override", gettext_lazy("the centre's override")
    UNKNOWN = "unknown", gettext_lazy("not known")


class CalendarUnknown(ApplicationError):
    """A day that neither the official calendar nor an override knows."""

    def __init__(self, day: date) -> None:
        super().__init__(
            _(
                "The working-day calendar has no data for %(year)s: enter that year's official "
                "holidays as overrides in the administration."
            )
            % {"year": day.year},
            code="conflict",
            extra={"day": day.isoformat()},
        )
        self.day = day


@dataclass(frozen=True)
class CalendarDay:
    day: date
    is_working_day: bool | None  # None: not known
    source: Source


def calendar_days(*, start: date, end: date) -> list[CalendarDay]:
    """Return every day from ``start`` to ``end`` (both included), each with its source.

    In a year the package does not know but the centre has entered days for (next year's
    notice), the days it did not enter follow the week: Monday to Friday worked.
    """
    overrides = dict(
        WorkingDayOverride.objects.filter(day__range=(start, end)).values_list(
            "day", "is_working_day"
        )
    )
    entered_years = set(
        WorkingDayOverride.objects.filter(day__year__gte=start.year, day__year__lte=end.year)
        .values_list("day__year", flat=True)
        .distinct()
    )
    official_years = {y for y in range(start.year, end.year + 1) if official_year_known(y)}
    days = []
    day = start
    while day <= end:
        if day in overrides:
            days.append(CalendarDay(day, overrides[day], Source.OVERRIDE))
        elif day.year in official_years:
            days.append(CalendarDay(day, chinese_calendar.is_workday(day), Source.OFFICIAL))
        elif day.year in entered_years:
            days.append(CalendarDay(day, day.weekday() < 5, Source.OVERRIDE))
        else:
            days.append(CalendarDay(day, None, Source.UNKNOWN))
        day += timedelta(days=1)
    return days


def official_year_known(year: int) -> bool:
    """Return whether the calendar package has the State Council's notice for ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:  # the package's answer for a year it does not know
        return False
    return True


@dataclass(frozen=True)
class CalendarGap:
    year: int
    entered: int  # days the centre has entered for it


def calendar_gaps(*, today: date) -> list[CalendarGap]:
    """Return the years the product will count working days in soon that the package does
    not know: this year, and from October (when the State Council publishes the coming
    year's notice) the next one too."""
    years = [today.year, today.year + 1] if today.month >= 10 else [today.year]
    gaps = []
    for year in years:
        if not official_year_known(year):
            entered = WorkingDayOverride.objects.filter(day__year=year).count()
            gaps.append(CalendarGap(year=year, entered=entered))
    return gaps


class WorkingCalendar:
    """Working days read in runs of a month, for counts that walk many days.

    A batch that computes many deadlines keeps one of these, so it reads the overrides once
    per month it touches rather than once per deadline.
    """

    def __init__(self) -> None:
        self._known: dict[date, CalendarDay] = {}

    def is_working_day(self, day: date) -> bool:
        if day not in self._known:
            for known in calendar_days(start=day, end=day + timedelta(days=31)):
                self._known[known.day] = known
        found = self._known[day]
        if found.is_working_day is None:
            raise CalendarUnknown(day)
        return found.is_working_day

    def add_working_days(self, start: date, days: int) -> date:
        """Return the working day ``days`` working days after ``start`` (``start`` not
        counted). Zero days gives ``start`` itself if it is a working day, else the next one.
        """
        if days < 0:
            raise ValueError("days must not be negative")
        day, left = start, days
        if left == 0:
            while not self.is_working_day(day):
                day = _next(day, start)
            return day
        while left:
            day = _next(day, start)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Return how many working days lie after ``start`` up to ``end`` (included)."""
        day, count = start, 0
        while day < end:
            day = _next(day, start)
            count += self.is_working_day(day)
        return count

    def deadline(self, received: datetime, days: int) -> datetime:
        """Return the end of the working day ``days`` working days after ``received``, in
        the centre's time zone: "within 3 working days of receipt"."""
        due_day = self.add_working_days(timezone.localtime(received).date(), days)
        return end_of_working_day(due_day)


def start_of_working_day(day: date) -> datetime:
    """Return the start of the working day on ``day``, in the centre's time zone."""
    return timezone.make_aware(datetime.combine(day, START_OF_WORKING_DAY))


def end_of_working_day(day: date) -> datetime:
    """Return the end of the working day on ``day``, in the centre's time zone."""
    return timezone.make_aware(datetime.combine(day, END_OF_WORKING_DAY))


def is_working_day(day: date) -> bool:
    """Return whether ``day`` is a working day; raise ``CalendarUnknown`` if nobody knows."""
    return WorkingCalendar().is_working_day(day)


def add_working_days(start: date, days: int) -> date:
    """Return the working day ``days`` working days after ``start``; see ``WorkingCalendar``."""
    return WorkingCalendar().add_working_days(start, days)


def working_days_between(start: date, end: date) -> int:
    """Return how many working days lie after ``start`` up to ``end`` (included)."""
    return WorkingCalendar().working_days_between(start, end)


def working_day_deadline(received: datetime, days: int) -> datetime:
    """Return the end of the working day ``days`` working days after ``received``."""
    return WorkingCalendar().deadline(received, days)


def _next(day: date, start: date) -> date:
    day += timedelta(days=1)
    if (day - start).days > _MAX_DAYS:
        raise CalendarUnknown(day)
    return day
