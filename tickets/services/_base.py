"""Helpers every ticket service shares: permission, access, saving and the event row."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from tickets.errors import ApplicationError, invalid, transition_refused
from tickets.hooks import ticket_changed
from tickets.milestones import MILESTONES
from tickets.models import SlaPolicy, Ticket, TicketEvent
from tickets.reference import reference_get
from tickets.selectors import ticket_is_visible_to

Action = TicketEvent.Action
DEADLINE_FIELDS = [spec.due_field for spec in MILESTONES.values()]


def require_perm(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise ApplicationError(_("Your role may not do this."), code="forbidden")


def require_access(actor, ticket: Ticket) -> None:
    if not ticket_is_visible_to(ticket=ticket, user=actor):
        raise ApplicationError(_("No ticket with that number."), code="not_found")


def require_text(**values: str) -> None:
    missing = {name: _("This field is required.") for name, value in values.items() if not value}
    if missing:
        raise invalid(missing)


def policy_for(grade: str) -> SlaPolicy:
    policy = reference_get(SlaPolicy.objects.all(), grade)
    if policy is None:
        raise ApplicationError(
            _("There is no SLA policy for this grade; ask the administrator to add one."),
            code="conflict",
        )
    return policy


def event(
    *,
    ticket: Ticket,
    action: str,
    actor,
    from_state: str,
    at: datetime,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    row = TicketEvent.objects.create(
        ticket=ticket,
        action=action,
        from_state=from_state,
        to_state=ticket.state,
        actor=actor,
        at=at,
        reason=reason,
        data=data or {},
    )
    ticket_changed.send(sender=Ticket, ticket=ticket, event=row)
    return row


def iso(value: datetime | None) -> str | None:
    """Return a time for an event's data, in the centre's time zone as staff read it."""
    return None if value is None else timezone.localtime(value).isoformat()


def save(ticket: Ticket, fields: list[str]) -> None:
    try:
        # In a savepoint, so that a lost race leaves the transaction usable to read the
        # state the winner left.
        with transaction.atomic():
            ticket.save(update_fields=[*fields, "updated_at"])
    except ConcurrentTransition as error:
        state_now = Ticket.objects.filter(pk=ticket.pk).values_list("state", flat=True).first()
        raise ApplicationError(
            _("Someone else changed this ticket just now; reload it and try again."),
            code="conflict",
            extra={"state": state_now},
        ) from error


def transition(
    *,
    actor,
    ticket: Ticket,
    name: str,
    action: str,
    fields: list[str],
    reason: str = "",
    data: dict[str, Any] | None = None,
    by_rule: bool = False,
    **kwargs: Any,
) -> Ticket:
    """Run transition ``name`` for ``actor``, save ``fields`` and record the event.

    ``actor`` None is the system itself (a periodic job): no person's permission applies.
    ``by_rule``: a rule of the centre makes the move on what ``actor`` recorded (an
    unsatisfied callback reopens its ticket), so the actor need only see the ticket.
    """
    if actor is not None:
        if not by_rule:
            require_perm(actor, Ticket.transition_permission(name))
        require_access(actor, ticket)
    from_state = ticket.state
    at = timezone.now()
    try:
        getattr(ticket, name)(at=at, **kwargs)
    except TransitionNotAllowed as error:
        raise transition_refused(ticket, error) from error
    save(ticket, ["state", *fields])
    event(
        ticket=ticket,
        action=action,
        actor=actor,
        from_state=from_state,
        at=at,
        reason=reason,
        data=data,
    )
    return ticket
