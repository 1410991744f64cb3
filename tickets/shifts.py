"""When the shifts change over, for whoever counts to the end of a shift (a complaint's
first reply, the shift report).

The staffing app keeps the shift templates and registers them here as it starts, so the
core imports none of it. With nothing registered the day is one shift from midnight.
"""

from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.utils import timezone

_provider: Callable[[], list[time]] | None = None


def shift_changes_register(provider: Callable[[], list[time]]) -> None:
    """Name the function that returns the times of day the shifts change over."""
    global _provider
    _provider = provider


def shift_changes() -> list[time]:
    """Return the times of day the shifts change over, in order; at least one."""
    changes = sorted(set(_provider())) if _provider is not None else []
    return changes or [time.min]


def shift_end(at: datetime) -> datetime:
    """Return the end of the shift working at ``at``: the next shift change."""
    local = timezone.localtime(at)
    changes = shift_changes()
    for day in (local.date(), local.date() + timedelta(days=1)):
        for change in changes:
            candidate = timezone.make_aware(datetime.combine(day, change))
            if candidate > at:
                return candidate
    raise AssertionError("a shift change within a day")  # pragma: no cover
