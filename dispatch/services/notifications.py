"""Who is told what by text message, and when: each message goes through the outbox.

Messages are written in the transaction of the change that causes them and sent once it
commits; each has a key, so no reason sends twice.
"""

from datetime import datetime

from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from dispatch.models import CrewMembership
from dispatch.services.messages import message_enqueue
from tickets.models import Ticket, TicketEvent
from tickets.public import slip_url, status_url

Action = TicketEvent.Action


def when(value: datetime) -> str:
    """Return a time as a text message gives it: month, day, hour and minute."""
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
            text += " " + _("They will be with you by %(time)s.") % {"time": when(promised)}
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
        % {"number": ticket.number, "time": when(new_due)},
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
