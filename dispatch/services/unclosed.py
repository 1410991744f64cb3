"""The dispatcher's daily list of unclosed tickets: why each is open, and what happens next."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.models import UnclosedPlan
from tickets.choices import FINAL_STATES
from tickets.errors import ApplicationError
from tickets.models import Ticket
from tickets.services._base import require_access, require_perm, require_text


@transaction.atomic
def unclosed_plan_write(
    *, actor, ticket: Ticket, day: date, reason: str, plan: str
) -> UnclosedPlan:
    """Write (or rewrite) the day's note on an open ticket."""
    require_perm(actor, "tickets.dispatch_ticket")
    require_access(actor, ticket)
    require_text(reason=reason, plan=plan)
    if ticket.state in FINAL_STATES and day >= timezone.localdate():
        raise ApplicationError(
            _("This ticket is closed; it needs no plan."),
            code="conflict",
            extra={"state": ticket.state},
        )
    note, _created = UnclosedPlan.objects.update_or_create(
        ticket=ticket,
        day=day,
        defaults={
            "reason": reason,
            "plan": plan,
            "written_by": actor,
            "written_at": timezone.now(),
        },
    )
    return note
