"""Deadlines that move: a changed grade, and extension requests with their decisions."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from audit.services import audit_extension_decided
from tickets.choices import (
    RECLASSIFIABLE_STATES,
    ExtensionCause,
    ExtensionState,
    Grade,
    Milestone,
    State,
)
from tickets.errors import ApplicationError, invalid, transition_refused
from tickets.milestones import MILESTONES
from tickets.models import ExtensionRequest, Ticket
from tickets.services._base import (
    DEADLINE_FIELDS,
    Action,
    event,
    iso,
    policy_for,
    require_access,
    require_perm,
    require_text,
    save,
)
from tickets.sla import deadlines_for_ticket


@transaction.atomic
def ticket_reclassify(*, actor, ticket: Ticket, grade: str, reason: str) -> Ticket:
    """Change the ticket's grade; its deadlines are recomputed from the clock's start."""
    require_perm(actor, "tickets.reclassify_ticket")
    require_access(actor, ticket)
    require_text(reason=reason)
    if grade == ticket.grade:
        raise invalid({"grade": _("The ticket already has this grade.")})
    if ticket.state not in RECLASSIFIABLE_STATES:
        raise transition_refused(ticket, TransitionNotAllowed())
    if grade == Grade.CONSULT and ticket.state not in (State.NEW, State.VERIFIED):
        raise ApplicationError(
            _("The ticket is already with a crew; it cannot become a consult."),
            code="conflict",
            extra={"state": ticket.state},
        )
    before = {field: getattr(ticket, field) for field in DEADLINE_FIELDS}
    from_grade = ticket.grade
    ticket.grade = grade
    for field, value in deadlines_for_ticket(ticket=ticket, policy=policy_for(grade)).items():
        setattr(ticket, field, value)
    save(ticket, ["grade", *DEADLINE_FIELDS])
    event(
        ticket=ticket,
        action=Action.RECLASSIFIED,
        actor=actor,
        from_state=ticket.state,
        at=timezone.now(),
        reason=reason,
        data={
            "from_grade": from_grade,
            "to_grade": grade,
            "deadlines_before": {field: iso(value) for field, value in before.items()},
        },
    )
    return ticket


@transaction.atomic
def extension_request(
    *,
    actor,
    ticket: Ticket,
    milestone: str,
    requested_due: datetime,
    cause: str,
    reason: str,
    responsible_party: str = "",
) -> ExtensionRequest:
    """Ask to move one deadline; nothing moves until the request is approved."""
    require_perm(actor, "tickets.request_extension")
    require_access(actor, ticket)
    require_text(reason=reason)
    spec = MILESTONES[Milestone(milestone)]
    current_due = getattr(ticket, spec.due_field)
    if current_due is None:
        raise invalid({"milestone": _("This ticket has no such deadline.")})
    if ticket.state not in spec.pending_states:
        raise ApplicationError(
            _("This milestone is already done; its deadline can no longer change."),
            code="conflict",
            extra={"state": ticket.state},
        )
    errors = {}
    if requested_due <= current_due:
        errors["requested_due"] = _("The new deadline must be later than the current one.")
    if cause == ExtensionCause.HUMAN and not responsible_party:
        errors["responsible_party"] = _("Name who is responsible for a human-caused delay.")
    if errors:
        raise invalid(errors)
    if ticket.extensions.filter(milestone=milestone, state=ExtensionState.PENDING).exists():
        raise ApplicationError(
            _("A request for this deadline is already waiting for a decision."),
            code="conflict",
            extra={"state": ticket.state},
        )
    at = timezone.now()
    extension = ExtensionRequest.objects.create(
        ticket=ticket,
        milestone=milestone,
        cause=cause,
        reason=reason,
        responsible_party=responsible_party,
        original_due=current_due,
        requested_due=requested_due,
        requested_by=actor,
        requested_at=at,
    )
    event(
        ticket=ticket,
        action=Action.EXTENSION_REQUESTED,
        actor=actor,
        from_state=ticket.state,
        at=at,
        reason=reason,
        data={
            "extension": extension.pk,
            "milestone": milestone,
            "cause": cause,
            "original_due": iso(current_due),
            "requested_due": iso(requested_due),
            "responsible_party": responsible_party,
        },
    )
    return extension


def _require_extension_approver(actor, extension: ExtensionRequest) -> None:
    if extension.cause == ExtensionCause.HUMAN:
        # A human-caused delay goes to the supervisor, who records who is responsible.
        require_perm(actor, "tickets.approve_human_extension")
        return
    require_perm(actor, "tickets.approve_extension")
    crew = extension.ticket.crew
    # Crew members see only their own crew's work; of them, only the leader signs.
    if not actor.has_perm("tickets.view_all_tickets") and not (crew and crew.is_led_by(actor)):
        raise ApplicationError(
            _("Only the leader of the ticket's crew may sign this request."), code="forbidden"
        )


@transaction.atomic
def extension_decide(
    *, actor, extension: ExtensionRequest, approve: bool, note: str = ""
) -> ExtensionRequest:
    """Approve (the deadline moves) or refuse a pending extension request."""
    ticket = extension.ticket
    require_access(actor, ticket)
    _require_extension_approver(actor, extension)
    if not approve:
        require_text(note=note)
    # Lock the request so two approvers cannot both decide it.
    extension = ExtensionRequest.objects.select_for_update().get(pk=extension.pk)
    if extension.state != ExtensionState.PENDING:
        raise ApplicationError(
            _("This request has already been decided."),
            code="conflict",
            extra={"state": ticket.state},
        )
    spec = MILESTONES[Milestone(extension.milestone)]
    if approve and ticket.state not in spec.pending_states:
        raise ApplicationError(
            _("This milestone is already done; its deadline can no longer change."),
            code="conflict",
            extra={"state": ticket.state},
        )
    at = timezone.now()
    extension.state = ExtensionState.APPROVED if approve else ExtensionState.REFUSED
    extension.decided_by = actor
    extension.decided_at = at
    extension.decision_note = note
    extension.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    if approve:
        setattr(ticket, spec.due_field, extension.requested_due)
        fields = [spec.due_field]
        if extension.cause == ExtensionCause.HUMAN:
            ticket.delay_responsible = extension.responsible_party
            fields.append("delay_responsible")
        save(ticket, fields)
    event(
        ticket=ticket,
        action=Action.EXTENSION_APPROVED if approve else Action.EXTENSION_REFUSED,
        actor=actor,
        from_state=ticket.state,
        at=at,
        reason=note,
        data={
            "extension": extension.pk,
            "milestone": extension.milestone,
            "cause": extension.cause,
            "original_due": iso(extension.original_due),
            "requested_due": iso(extension.requested_due),
        },
    )
    audit_extension_decided(actor=actor, extension=extension)
    return extension
