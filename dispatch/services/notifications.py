"""Who is told what by text message, and when: each message goes through the outbox.

Messages are written in the transaction of the change that causes them and sent once it
commits; each has a key, so no reason sends twice.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from dispatch.models import CrewMembership
from dispatch.services.messages import message_enqueue
from tickets.choices import Milestone
from tickets.milestones import MILESTONES
from tickets.models import Ticket, TicketEvent
from tickets.public import slip_url, status_url
from tickets.selectors import overdue_filter

Action = TicketEvent.Action
# Milestones a crew works towards: missing one tells the crew leader.
CREW_MILESTONES = [Milestone.ACCEPT, Milestone.ARRIVE, Milestone.MITIGATE, Milestone.RESOLVE]
# How far back the breach sweep looks; older breaches have been told already (or, after a
# longer outage, are the overdue sweep's business).
BREACH_LOOKBACK = timedelta(hours=2)
BREACH_BATCH = 500


def _when(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "m-d H:i")


def _customer(ticket: Ticket) -> str | None:
    return ticket.caller_phone.as_e164 if ticket.caller_phone else None


def _leader_phone(crew) -> str | None:
    leader = CrewMembership.objects.filter(crew=crew, is_leader=True).select_related("user").first()
    if leader is None or not leader.user.phone:
        return None
    return leader.user.phone.as_e164


def ticket_event_notify(*, ticket: Ticket, event: TicketEvent) -> None:
    """Queue the messages that this event of the ticket calls for."""
    with translation.override(settings.LANGUAGE_CODE):
        if event.action == Action.DISPATCHED:
            _dispatched(ticket, event)
        elif event.action == Action.EXTENSION_APPROVED:
            _extension_approved(ticket, event)
        elif event.action == Action.CLOSED:
            _closed(ticket, event)


def _dispatched(ticket: Ticket, event: TicketEvent) -> None:
    leader = _leader_phone(ticket.crew)
    if leader:
        message_enqueue(
            to=leader,
            text=_(
                "New ticket %(number)s (%(grade)s): %(fault)s at %(address)s. Accept it "
                "within %(minutes)d minutes."
            )
            % {
                "number": ticket.number,
                "grade": ticket.get_grade_display(),
                "fault": ticket.fault_type,
                "address": ticket.address_line(),
                "minutes": settings.CREW_ACCEPT_MINUTES,
            },
            kind="crew_dispatched",
            dedupe_key=f"crew-dispatched:{event.pk}",
        )
    customer = _customer(ticket)
    if customer:
        promised = ticket.arrive_due or ticket.resolve_due
        text = _("Your report %(number)s has been sent to %(crew)s.") % {
            "number": ticket.number,
            "crew": ticket.crew,
        }
        if promised:
            text += " " + _("They will be with you by %(time)s.") % {"time": _when(promised)}
        message_enqueue(
            to=customer,
            text=f"{text} {status_url(ticket)}",
            kind="customer_dispatched",
            dedupe_key=f"customer-dispatched:{event.pk}",
        )


def _extension_approved(ticket: Ticket, event: TicketEvent) -> None:
    customer = _customer(ticket)
    if not customer:
        return
    new_due = datetime.fromisoformat(event.data["requested_due"])
    message_enqueue(
        to=customer,
        text=_(
            "We are sorry: the work on your report %(number)s needs more time. We now expect "
            "it done by %(time)s. Thank you for your patience."
        )
        % {"number": ticket.number, "time": _when(new_due)},
        kind="customer_extension",
        dedupe_key=f"customer-extension:{event.pk}",
    )


def _closed(ticket: Ticket, event: TicketEvent) -> None:
    customer = _customer(ticket)
    if not customer:
        return
    message_enqueue(
        to=customer,
        text=_("Your report %(number)s is done. The completion slip: %(link)s")
        % {"number": ticket.number, "link": slip_url(ticket)},
        kind="customer_closed",
        dedupe_key=f"customer-closed:{event.pk}",
    )


def breaches_notify(*, now: datetime, batch: int = BREACH_BATCH) -> int:
    """Tell each crew leader of every deadline their crew has just missed; return how many.

    Reads each milestone's partial index over the last ``BREACH_LOOKBACK`` only; the
    message key (ticket, milestone, deadline) makes a rerun harmless, and an extended
    deadline that passes again is a new breach.
    """
    queued = 0
    with translation.override(settings.LANGUAGE_CODE):
        for milestone in CREW_MILESTONES:
            due_field = MILESTONES[milestone].due_field
            missed = (
                Ticket.objects.filter(
                    overdue_filter(milestone=milestone, now=now),
                    crew__isnull=False,
                    **{f"{due_field}__gte": now - BREACH_LOOKBACK},
                )
                .select_related("crew", "fault_type")
                .order_by(due_field)[:batch]
            )
            for ticket in missed:
                due = getattr(ticket, due_field)
                leader = _leader_phone(ticket.crew)
                if leader is None:
                    continue
                sent = message_enqueue(
                    to=leader,
                    text=_("Ticket %(number)s is overdue: %(milestone)s was due at %(time)s.")
                    % {"number": ticket.number, "milestone": milestone.label, "time": _when(due)},
                    kind="crew_breach",
                    dedupe_key=f"crew-breach:{ticket.pk}:{milestone.value}:{due.isoformat()}",
                )
                queued += sent is not None
    return queued
