"""The shift leader's re-check of new tickets: corrections and the mark of a check done."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.choices import FINAL_STATES
from tickets.errors import ApplicationError, invalid
from tickets.models import Ticket
from tickets.services._base import Action, event, require_access, require_perm, require_text, save

# What a correction may change: where the fault is and what it is. The grade changes
# through ticket_reclassify, which recomputes the deadlines.
CORRECTABLE = ("fault_type", "community", "address", "building", "unit", "room")


@transaction.atomic
def ticket_correct(*, actor, ticket: Ticket, reason: str, **changes) -> Ticket:
    """Correct what the agent recorded; the event keeps each field before and after."""
    require_perm(actor, "tickets.review_ticket")
    require_access(actor, ticket)
    require_text(reason=reason)
    unknown = set(changes) - set(CORRECTABLE)
    if unknown:
        raise invalid({name: _("This field cannot be corrected here.") for name in unknown})
    if ticket.state in FINAL_STATES:
        raise ApplicationError(
            _("A finished ticket is not corrected; reopen it first."),
            code="conflict",
            extra={"state": ticket.state},
        )
    changed = {name: value for name, value in changes.items() if getattr(ticket, name) != value}
    if not changed:
        raise invalid({"reason": _("Nothing differs from what is recorded.")})
    fault_type = changed.get("fault_type")
    if fault_type is not None and not fault_type.is_active:
        raise invalid({"fault_type": _("This fault type is no longer in use.")})
    before = {name: str(getattr(ticket, name) or "") for name in changed}
    for name, value in changed.items():
        setattr(ticket, name, value)
    fields = list(changed)
    if "community" in changed and ticket.community is not None:
        ticket.district = ticket.community.district
        fields.append("district")
    save(ticket, fields)
    event(
        ticket=ticket,
        action=Action.CORRECTED,
        actor=actor,
        from_state=ticket.state,
        at=timezone.now(),
        reason=reason,
        data={
            name: {"before": before[name], "after": str(getattr(ticket, name) or "")}
            for name in changed
        },
    )
    return ticket


@transaction.atomic
def ticket_review(*, actor, ticket: Ticket) -> Ticket:
    """Mark the ticket re-checked: it leaves the shift leader's queue."""
    require_perm(actor, "tickets.review_ticket")
    require_access(actor, ticket)
    if ticket.reviewed_at is not None:
        raise ApplicationError(
            _("This ticket has already been re-checked."),
            code="conflict",
            extra={"state": ticket.state},
        )
    at = timezone.now()
    ticket.reviewed_at, ticket.reviewed_by = at, actor
    save(ticket, ["reviewed_at", "reviewed_by"])
    event(ticket=ticket, action=Action.REVIEWED, actor=actor, from_state=ticket.state, at=at)
    return ticket
