"""What call intake tells the other apps, and asks of them, without importing them.

The staffing app keeps the seats: it registers who is signed in at an extension, and
listens to the switch's events to move an agent's status. The followups app keeps the
working-day calendar: it registers the official holidays, which the call forecast reads.
"""

from collections.abc import Callable
from datetime import date

from django.contrib.auth import get_user_model
from django.dispatch import Signal

# The switch reported a new event on a call: ``call``, ``event`` (a ``CtiEvent.Kind``),
# ``at``, ``agent`` (the user at the extension it named, or None) and ``payload`` (what
# the event carried beside: ``{"outage": id}`` for a notice played). Sent inside the
# transaction that records it; a receiver may refuse the event with ``ApplicationError``.
call_event = Signal()

_seat_agent: Callable[[str], object | None] | None = None


def seat_agent_register(lookup: Callable[[str], object | None]) -> None:
    """Name the function that returns the agent signed in at a seat's extension."""
    global _seat_agent
    _seat_agent = lookup


def agent_at_extension(extension: str):
    """Return the active user at ``extension``: whoever is signed into the seat with that
    extension, else the user whose own extension it is; None if nobody."""
    agent = _seat_agent(extension) if _seat_agent is not None else None
    if agent is None:
        agent = get_user_model().objects.filter(extension=extension, is_active=True).first()
    return agent


_holidays: Callable[[date, date], set[date]] | None = None


def holidays_register(provider: Callable[[date, date], set[date]]) -> None:
    """Name the function that returns the official holidays from one day to another."""
    global _holidays
    _holidays = provider


def official_holidays(start: date, end: date) -> set[date]:
    """Return the official holidays from ``start`` to ``end`` (both included); none when no
    calendar is registered."""
    return set(_holidays(start, end)) if _holidays is not None else set()
