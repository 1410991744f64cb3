"""Sending tickets to crews and departments, and the record of every crew's answer."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from dispatch.models import Assignment, Crew, Department
from tickets import services as ticket_services
from tickets.choices import State
from tickets.errors import ApplicationError
from tickets.models import Ticket, TicketEvent

Action = TicketEvent.Action
# Waiting assignments read by one run of the sweep.
EXPIRE_BATCH = 200


@transaction.atomic
def ticket_send_to_crew(*, actor, ticket: Ticket, crew: Crew, note: str = "") -> Ticket:
    """Dispatch the ticket to ``crew`` in one action, verifying it first if it is new."""
    if ticket.state == State.NEW:
        ticket = ticket_services.ticket_verify(actor=actor, ticket=ticket)
    return ticket_services.ticket_dispatch(actor=actor, ticket=ticket, crew=crew, note=note)


@transaction.atomic
def ticket_send_to_department(
    *, actor, ticket: Ticket, department: Department, note: str = ""
) -> Ticket:
    """Refer the ticket (a consult) to ``department`` in one action, verifying it first."""
    if ticket.state == State.NEW:
        ticket = ticket_services.ticket_verify(actor=actor, ticket=ticket)
    return ticket_services.ticket_refer(
        actor=actor, ticket=ticket, department=department, note=note
    )


def assignment_record(*, ticket: Ticket, event: TicketEvent) -> Assignment | None:
    """Keep the ticket's assignments in step with the event just written to its log.

    Called for every ticket event, inside its transaction: a dispatch opens an assignment;
    the crew's answer, or the ticket leaving the crew's hands first, ends it.
    """
    if event.action == Action.DISPATCHED:
        return Assignment.objects.create(
            ticket=ticket,
            crew=ticket.crew,
            is_redispatch=Assignment.objects.filter(ticket=ticket).exists(),
            dispatched_by=event.actor,
            dispatched_at=event.at,
            respond_by=event.at + timedelta(minutes=settings.CREW_ACCEPT_MINUTES),
        )
    outcome = _OUTCOMES.get(event.action)
    if outcome is None:
        return None
    waiting = Assignment.objects.filter(ticket=ticket, outcome=Assignment.Outcome.WAITING).first()
    if waiting is None:
        return None
    waiting.outcome = outcome
    waiting.answered_by = event.actor
    waiting.answered_at = event.at
    waiting.reason = event.reason
    waiting.save(update_fields=["outcome", "answered_by", "answered_at", "reason"])
    return waiting


_OUTCOMES = {
    Action.ACCEPTED: Assignment.Outcome.ACCEPTED,
    Action.DECLINED: Assignment.Outcome.DECLINED,
    Action.NOT_ACCEPTED: Assignment.Outcome.NOT_ACCEPTED,
    Action.CANCELLED: Assignment.Outcome.WITHDRAWN,
}


def assignments_expire(*, now: datetime, batch: int = EXPIRE_BATCH) -> int:
    """Give back to the board every ticket whose crew has not accepted in time.

    Reads only the waiting assignments past their time (a partial index), so a rerun or a
    second worker finds nothing left to do; a crew accepting at the same moment wins.
    """
    overdue = list(
        Assignment.objects.filter(outcome=Assignment.Outcome.WAITING, respond_by__lt=now)
        .order_by("respond_by")
        .values_list("ticket_id", "crew_id")[:batch]
    )
    returned = 0
    for ticket_id, crew_id in overdue:
        with transaction.atomic():
            ticket = Ticket.objects.select_for_update(skip_locked=True).filter(pk=ticket_id).first()
            if ticket is None:
                continue  # another worker has it now
            if ticket.state != State.DISPATCHED or ticket.crew_id != crew_id:
                # The ticket moved on without an answer being recorded: close the record.
                Assignment.objects.filter(
                    ticket_id=ticket_id, outcome=Assignment.Outcome.WAITING
                ).update(outcome=Assignment.Outcome.WITHDRAWN, answered_at=now)
                continue
            try:
                ticket_services.ticket_return_unaccepted(ticket=ticket)
            except ApplicationError:
                continue  # the crew accepted just now
            returned += 1
    return returned
