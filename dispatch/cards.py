"""What a card on the board (or a row of the crew's list) shows, worked out once in Python.

Two hundred cards through template includes and inclusion tags cost most of the board's
time; plain values cost little.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext as _

from dispatch.selectors import ticket_dispatch_warnings
from tickets.choices import State
from tickets.models import Ticket
from tickets.selectors import deadline_level, ticket_next_deadline
from tickets.templatetags.ticket_tags import duration

_SENDABLE = {State.NEW, State.VERIFIED}


@dataclass(frozen=True)
class Countdown:
    label: str
    start: datetime
    due: datetime
    level: str  # ample (over half the time left), short, overdue
    text: str


def countdown_for(ticket: Ticket, *, now: datetime) -> Countdown | None:
    """Return the countdown to the ticket's next deadline, coloured by the share left."""
    upcoming = ticket_next_deadline(ticket)
    if upcoming is None:
        return None
    milestone, due = upcoming
    level = deadline_level(start=ticket.sla_started_at, due=due, now=now)
    left = {"left": duration(int(abs((due - now).total_seconds()) // 60))}
    text = _("%(left)s overdue") % left if level == "overdue" else _("%(left)s left") % left
    return Countdown(
        label=str(milestone.label), start=ticket.sla_started_at, due=due, level=level, text=text
    )


@dataclass(frozen=True)
class Card:
    ticket: Ticket
    grade_label: str
    fault: str
    address: str
    where: str  # the crew, or the district before one is sent
    countdown: Countdown | None
    returned: str
    warnings: list[str]
    sendable: bool


def card_for(ticket: Ticket, *, now: datetime, skills_on_duty: set[int]) -> Card:
    sendable = ticket.state in _SENDABLE
    return Card(
        ticket=ticket,
        grade_label=ticket.get_grade_display(),
        fault=str(ticket.fault_type),
        address=ticket.address_line(),
        where=str(ticket.crew or ticket.district or ""),
        countdown=countdown_for(ticket, now=now),
        returned=ticket.get_returned_display() if ticket.returned else "",
        warnings=ticket_dispatch_warnings(ticket=ticket, skills_on_duty=skills_on_duty)
        if sendable
        else [],
        sendable=sendable,
    )
