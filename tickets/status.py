"""The customer's side of a ticket: its signed link, the look-up, the timeline and the slip.

The public status page shows a ticket to whoever gives its number and the last four digits
of the caller's phone, or holds the signed link the closing SMS carries. Nothing here needs
a login, so nothing here may show who at the centre did what, or why.
"""

import hmac
import time
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.cache import caches
from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from tickets.choices import Milestone, State
from tickets.models import Ticket, TicketEvent

STATUS_SALT = "ticket-status"
# Look-ups are counted per client address in windows of this many seconds.
LOOKUP_WINDOW_SECONDS = 3600

Action = TicketEvent.Action

# The slip's times, in the order the work happened; those not set are left out. A context
# of their own: as a time on the slip they read differently from the state of the same name.
SLIP_TIMES = [
    ("received_at", pgettext_lazy("time on the slip", "Received")),
    ("dispatched_at", pgettext_lazy("time on the slip", "Dispatched")),
    ("accepted_at", pgettext_lazy("time on the slip", "Accepted by the crew")),
    ("arrived_at", pgettext_lazy("time on the slip", "Crew on site")),
    ("mitigated_at", pgettext_lazy("time on the slip", "Water stopped")),
    ("resolved_at", pgettext_lazy("time on the slip", "Completed")),
    ("closed_at", pgettext_lazy("time on the slip", "Closed")),
]


# Signed links.


def status_token(ticket: Ticket) -> str:
    """Return the signed token that opens ``ticket``'s status page without the phone digits."""
    return signing.Signer(salt=STATUS_SALT).sign(ticket.number)


def number_from_token(token: str) -> str | None:
    """Return the ticket number a token was signed for, or None if it is not our signature."""
    try:
        return signing.Signer(salt=STATUS_SALT).unsign(token)
    except signing.BadSignature:
        return None


def status_url(ticket: Ticket) -> str:
    """Return the absolute address of ``ticket``'s public status page, for an SMS."""
    return settings.PUBLIC_BASE_URL + reverse("status:show", args=[status_token(ticket)])


def slip_url(ticket: Ticket) -> str:
    """Return the absolute address of ``ticket``'s public completion slip, for an SMS."""
    return settings.PUBLIC_BASE_URL + reverse("status:slip", args=[status_token(ticket)])


# The look-up and its rate limit.


def lookup_rate_check(*, address: str) -> int:
    """Count one look-up from ``address``; return the seconds to wait, 0 if it may go ahead.

    A fixed window per hour, in the shared cache so every web process counts together.
    """
    now = int(time.time())
    window = now // LOOKUP_WINDOW_SECONDS
    key = f"status-lookups:{window}:{address}"
    cache = caches["shared"]
    cache.add(key, 0, timeout=LOOKUP_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:
        # The window's key expired between add and incr: this look-up starts a new count.
        cache.set(key, 1, timeout=LOOKUP_WINDOW_SECONDS)
        count = 1
    # Some backends' incr (the file cache's) starts the key's default timeout again, which
    # could end the count before the hour does.
    cache.touch(key, LOOKUP_WINDOW_SECONDS)
    if count <= settings.STATUS_LOOKUPS_PER_HOUR:
        return 0
    return (window + 1) * LOOKUP_WINDOW_SECONDS - now


def _phone_tail(ticket: Ticket | None) -> str:
    if ticket is None or not ticket.caller_phone:
        return ""
    return str(ticket.caller_phone.national_number)[-4:]


def ticket_lookup(*, number: str, digits: str) -> Ticket | None:
    """Return the ticket numbered ``number`` if its caller's phone ends in ``digits``.

    An unknown number and wrong digits both give None, after the same comparison, so
    neither the answer nor its timing tells a guesser that the number exists.
    """
    ticket = Ticket.objects.only("number", "caller_phone").filter(number=number).first()
    tail = _phone_tail(ticket) or "----"
    matches = hmac.compare_digest(tail.encode(), digits.encode())
    return ticket if matches and ticket is not None else None


# What the customer sees.


def ticket_for_token(token: str) -> Ticket | None:
    """Return the ticket a valid token names, with what its status page shows."""
    number = number_from_token(token)
    if number is None:
        return None
    return Ticket.objects.select_related("fault_type").filter(number=number).first()


def mask_name(name: str) -> str:
    """Return the first character of a name and a star: 张先生 → 张*."""
    name = name.strip()
    return f"{name[0]}*" if name else ""


def mask_phone(ticket: Ticket) -> str:
    """Return the caller's phone with its middle hidden: 138****5678."""
    return phone_masked(ticket.caller_phone)


def phone_masked(phone) -> str:
    """Return a phone (a ``PhoneNumber`` or its E.164 text) with its middle hidden, as
    reports and files show it to whoever does not need to call: +8613812345678 → 138****5678."""
    if not phone:
        return ""
    if hasattr(phone, "national_number"):
        national = str(phone.national_number)
    else:
        national = "".join(char for char in str(phone) if char.isdigit())
        if str(phone).startswith("+86"):
            national = national[2:]
    if len(national) <= 4:
        return "*" * len(national)
    head = national[:3] if len(national) > 7 else ""
    return head + "*" * (len(national) - len(head) - 4) + national[-4:]


@dataclass(frozen=True)
class PublicEvent:
    at: datetime
    text: str


_EXTENDED = {
    Milestone.ARRIVE.value: gettext_lazy("The crew is now expected on site by %(time)s."),
    Milestone.MITIGATE.value: gettext_lazy("The water is now expected to be stopped by %(time)s."),
    Milestone.RESOLVE.value: gettext_lazy("The work is now expected to be completed by %(time)s."),
}


def _extension_text(data: dict) -> str | None:
    try:
        due = datetime.fromisoformat(data["requested_due"])
    except (KeyError, TypeError, ValueError):
        return None
    shown = formats.date_format(timezone.localtime(due), "Y-m-d H:i")
    text = _EXTENDED.get(data.get("milestone"))
    if text is None:
        return _("A time limit was extended to %(time)s.") % {"time": shown}
    return str(text) % {"time": shown}


def _event_text(action: str, data: dict) -> str | None:
    """Return what the customer reads for an event, or None for work that is internal."""
    texts = {
        Action.CREATED: lambda: _("Your report was received."),
        Action.DISPATCHED: lambda: (
            _("Sent to the repair crew %(crew)s.") % {"crew": data["crew_name"]}
            if data.get("crew_name")
            else _("Sent to a repair crew.")
        ),
        Action.ACCEPTED: lambda: _("The repair crew accepted the job."),
        Action.ARRIVED: lambda: _("The repair crew arrived on site."),
        Action.MITIGATED: lambda: _("The water was stopped."),
        Action.RESOLVED: lambda: _("The repair was completed."),
        Action.ANSWERED: lambda: _("Your question was answered."),
        Action.CLOSED: lambda: _("The ticket was closed; the completion slip is ready."),
        Action.EXTENSION_APPROVED: lambda: _extension_text(data),
        Action.CANCELLED: lambda: _("The ticket was cancelled."),
        Action.REOPENED: lambda: _("The ticket was reopened for more work."),
    }
    text = texts.get(action)
    return None if text is None else text()


def public_timeline(ticket: Ticket) -> list[PublicEvent]:
    """Return the ticket's history as the customer reads it, oldest first.

    Only the action, its time and the crew's name are read: never the actor, the reason
    or the notes, which name people and say things meant for the staff.
    """
    events = TicketEvent.objects.filter(ticket=ticket).order_by("at", "id")
    shown = []
    for action, at, data in events.values_list("action", "at", "data"):
        text = _event_text(action, data or {})
        if text:
            shown.append(PublicEvent(at=at, text=text))
    return shown


def expected_times(ticket: Ticket) -> list[tuple[str, datetime]]:
    """Return the deadlines still ahead of an open ticket that the customer waits for."""
    if ticket.state in (State.CLOSED, State.CANCELLED, State.MERGED):
        return []
    expected = []
    if ticket.arrive_due and ticket.arrived_at is None and ticket.crew_id is not None:
        expected.append((_("Crew expected on site by"), ticket.arrive_due))
    if ticket.resolve_due and ticket.resolved_at is None:
        expected.append((_("Expected to be completed by"), ticket.resolve_due))
    return expected


# The completion slip (《工单完成确认单》).


def slip_ticket_for_token(token: str) -> Ticket | None:
    """Return the closed ticket a valid token names, with everything its slip shows."""
    number = number_from_token(token)
    if number is None:
        return None
    ticket = (
        Ticket.objects.select_related("fault_type", "community", "crew", "department")
        .filter(number=number, state=State.CLOSED)
        .first()
    )
    if ticket is not None:
        prefetch_related_objects([ticket], "parts", "costs")
    return ticket


def slip_context(ticket: Ticket) -> dict:
    """Return what the completion slip shows; the ticket must be closed.

    ``ticket`` carries its fault type, community, crew and department; parts and costs are
    fetched here unless they were prefetched.
    """
    prefetch_related_objects([ticket], "parts", "costs")
    costs = list(ticket.costs.all())
    total = ticket.repair_cost
    if total is None and costs:
        total = sum((line.amount for line in costs), Decimal(0))
    return {
        "ticket": ticket,
        "times": [
            (label, getattr(ticket, field))
            for field, label in SLIP_TIMES
            if getattr(ticket, field) is not None
        ],
        # 2.00 个 reads as 2 个, and 1.50 米 as 1.5 米.
        "parts": [
            {"name": part.name, "quantity": f"{part.quantity.normalize():f}", "unit": part.unit}
            for part in ticket.parts.all()
        ],
        "costs": costs,
        "total": total,
    }
