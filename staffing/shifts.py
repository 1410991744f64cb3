"""The shift templates read as times: the centre's shift changes, and when a shift of a
given day starts and ends."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.cache import cache
from django.utils import timezone

from staffing.models import RosterEntry, ShiftTemplate

_HANDOVERS_KEY = "staffing:handover-shifts"
# Every process reads the templates again this often at most; an edit here clears it at once.
_HANDOVERS_TTL = 60


def handover_shifts() -> list[ShiftTemplate]:
    """Return the active handover shifts, earliest start first."""
    shifts = cache.get(_HANDOVERS_KEY)
    if shifts is None:
        shifts = list(
            ShiftTemplate.objects.filter(active=True, handover=True).order_by("starts_at")
        )
        cache.set(_HANDOVERS_KEY, shifts, timeout=_HANDOVERS_TTL)
    return shifts


def handover_times() -> list[time]:
    """Return the starts of the active handover shifts: the centre's shift changes."""
    return [shift.starts_at for shift in handover_shifts()]


def handovers_forget(**kwargs) -> None:
    cache.delete(_HANDOVERS_KEY)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end

    def overlap(self, start: datetime, end: datetime) -> timedelta:
        return max(timedelta(0), min(self.end, end) - max(self.start, start))


def shift_window(shift: ShiftTemplate, day: date) -> Window:
    """Return when ``shift`` of ``day`` runs; one ending at or before its start ends the
    next day."""
    start = timezone.make_aware(datetime.combine(day, shift.starts_at))
    end_day = day if shift.ends_at > shift.starts_at else day + timedelta(days=1)
    return Window(start, timezone.make_aware(datetime.combine(end_day, shift.ends_at)))


def entry_window(entry: RosterEntry) -> Window:
    return shift_window(entry.shift, entry.day)


def break_window(entry: RosterEntry) -> Window | None:
    """Return when the entry's break runs, within its shift; None without a break."""
    if entry.break_starts_at is None or not entry.break_minutes:
        return None
    shift = entry_window(entry)
    start = timezone.make_aware(datetime.combine(entry.day, entry.break_starts_at))
    if start < shift.start:  # a night shift's break after midnight
        start += timedelta(days=1)
    return Window(start, start + timedelta(minutes=entry.break_minutes))


def shift_now(at: datetime) -> tuple[ShiftTemplate, date] | None:
    """Return the handover shift working at ``at`` and the day it started on."""
    local = timezone.localtime(at).date()
    found = None
    for shift in handover_shifts():
        for day in (local - timedelta(days=1), local):
            window = shift_window(shift, day)
            if window.contains(at) and (found is None or window.start > found[2]):
                found = (shift, day, window.start)
    return None if found is None else (found[0], found[1])
