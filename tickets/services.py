"""Every write on a ticket that has business meaning: one function per use case.

Each runs in one transaction, checks the actor's permission, moves the state machine, saves
only the fields it changed and records one event row.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from tickets.choices import (
    Category,
    ExtensionCause,
    ExtensionState,
    Grade,
    Milestone,
    State,
)
from tickets.errors import ApplicationError, invalid, transition_refused
from tickets.milestones import MILESTONES
from tickets.models import ExtensionRequest, FaultType, SlaPolicy, Ticket, TicketEvent
from tickets.numbering import ticket_number_next
from tickets.selectors import ticket_is_visible_to
from tickets.sla import deadlines_compute, deadlines_for_ticket

Action = TicketEvent.Action
_DEADLINE_FIELDS = [spec.due_field for spec in MILESTONES.values()]
# Before the crew has finished, the grade may still change; a consult grade only before dispatch.
_RECLASSIFIABLE = [
    State.NEW,
    State.VERIFIED,
    State.DISPATCHED,
    State.ACCEPTED,
    State.ON_SITE,
    State.MITIGATED,
]


def _require_perm(actor, perm: str) -> None:
    if not actor.has_perm(perm):
        raise ApplicationError(_("Your role may not do this."), code="forbidden")


def _require_access(actor, ticket: Ticket) -> None:
    if not ticket_is_visible_to(ticket=ticket, user=actor):
        raise ApplicationError(_("No ticket with that number."), code="not_found")


def _require_text(**values: str) -> None:
    missing = {name: _("This field is required.") for name, value in values.items() if not value}
    if missing:
        raise invalid(missing)


def _policy(grade: str) -> SlaPolicy:
    policy = SlaPolicy.objects.filter(grade=grade).first()
    if policy is None:
        raise ApplicationError(
            _("There is no SLA policy for this grade; ask the administrator to add one."),
            code="conflict",
        )
    return policy


def _event(
    *,
    ticket: Ticket,
    action: str,
    actor,
    from_state: str,
    at: datetime,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        action=action,
        from_state=from_state,
        to_state=ticket.state,
        actor=actor,
        at=at,
        reason=reason,
        data=data or {},
    )


def _iso(value: datetime | None) -> str | None:
    """Return a time for an event's data, in the centre's time zone as staff read it."""
    return None if value is None else timezone.localtime(value).isoformat()


def _save(ticket: Ticket, fields: list[str]) -> None:
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


def _transition(
    *,
    actor,
    ticket: Ticket,
    name: str,
    action: str,
    fields: list[str],
    reason: str = "",
    data: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Ticket:
    """Run transition ``name`` for ``actor``, save ``fields`` and record the event."""
    _require_perm(actor, Ticket.transition_permission(name))
    _require_access(actor, ticket)
    from_state = ticket.state
    at = timezone.now()
    try:
        getattr(ticket, name)(at=at, **kwargs)
    except TransitionNotAllowed as error:
        raise transition_refused(ticket, error) from error
    _save(ticket, ["state", *fields])
    _event(
        ticket=ticket,
        action=action,
        actor=actor,
        from_state=from_state,
        at=at,
        reason=reason,
        data=data,
    )
    return ticket


@transaction.atomic
def ticket_create(
    *,
    actor,
    channel: str,
    category: str,
    fault_type: FaultType,
    description: str,
    caller_name: str,
    caller_phone: str,
    address: str,
    building: str = "",
    unit: str = "",
    room: str = "",
    district=None,
    community=None,
    external_ref: str = "",
    grade: str | None = None,
) -> Ticket:
    """Create a ticket, number it and start its SLA clock at the time of receipt."""
    _require_perm(actor, "tickets.add_ticket")
    grade = grade or fault_type.default_grade
    errors = {}
    if not fault_type.is_active:
        errors["fault_type"] = _("This fault type is no longer in use.")
    # A burst main on a road has no building; every other repair is found by building and unit.
    if category == Category.REPAIR and grade != Grade.EMERGENCY:
        if not building:
            errors["building"] = _("A repair needs the building.")
        if not unit:
            errors["unit"] = _("A repair needs the unit.")
    if community is not None:
        if district is None:
            district = community.district
        elif community.district_id != district.pk:
            errors["community"] = _("This community is not in the chosen district.")
    if errors:
        raise invalid(errors)

    at = timezone.now()
    policy = _policy(grade)
    ticket = Ticket(
        channel=channel,
        category=category,
        fault_type=fault_type,
        grade=grade,
        description=description,
        caller_name=caller_name,
        caller_phone=caller_phone,
        address=address,
        building=building,
        unit=unit,
        room=room,
        district=district,
        community=community,
        external_ref=external_ref,
        received_at=at,
        sla_started_at=at,
        created_by=actor,
        **deadlines_compute(policy=policy, start=at).as_fields(),
    )
    # Numbered last: the day's counter stays locked only until this transaction commits.
    ticket.number = ticket_number_next(at=at)
    ticket.save()
    _event(ticket=ticket, action=Action.CREATED, actor=actor, from_state=State.NEW, at=at)
    return ticket


@transaction.atomic
def ticket_verify(*, actor, ticket: Ticket) -> Ticket:
    return _transition(
        actor=actor, ticket=ticket, name="verify", action=Action.VERIFIED, fields=["verified_at"]
    )


@transaction.atomic
def ticket_dispatch(*, actor, ticket: Ticket, crew, note: str = "") -> Ticket:
    """Send the ticket to ``crew``."""
    if ticket.grade == Grade.CONSULT:
        raise ApplicationError(
            _("A consult is referred to the responsible department, not sent to a crew."),
            code="conflict",
            extra={"state": ticket.state},
        )
    if not crew.is_active:
        raise invalid({"crew": _("This crew is not in service.")})
    return _transition(
        actor=actor,
        ticket=ticket,
        name="dispatch",
        action=Action.DISPATCHED,
        fields=["crew", "dispatched_at"],
        reason=note,
        data={"crew": crew.pk, "crew_name": str(crew)},
        crew=crew,
    )


@transaction.atomic
def ticket_refer(*, actor, ticket: Ticket, department, note: str = "") -> Ticket:
    """Hand the ticket to the department responsible for it."""
    return _transition(
        actor=actor,
        ticket=ticket,
        name="refer",
        action=Action.REFERRED,
        fields=["department", "dispatched_at"],
        reason=note,
        data={"department": department.pk, "department_name": str(department)},
        department=department,
    )


@transaction.atomic
def ticket_accept(*, actor, ticket: Ticket) -> Ticket:
    return _transition(
        actor=actor, ticket=ticket, name="accept", action=Action.ACCEPTED, fields=["accepted_at"]
    )


@transaction.atomic
def ticket_decline(*, actor, ticket: Ticket, reason: str) -> Ticket:
    """Give the ticket back to the dispatcher, with the crew's reason."""
    _require_text(reason=reason)
    crew = ticket.crew
    return _transition(
        actor=actor,
        ticket=ticket,
        name="decline",
        action=Action.DECLINED,
        fields=["crew", "dispatched_at"],
        reason=reason,
        data={"crew": crew.pk if crew else None, "crew_name": str(crew or "")},
    )


@transaction.atomic
def ticket_arrive(*, actor, ticket: Ticket) -> Ticket:
    return _transition(
        actor=actor, ticket=ticket, name="arrive", action=Action.ARRIVED, fields=["arrived_at"]
    )


@transaction.atomic
def ticket_mitigate(*, actor, ticket: Ticket, note: str = "") -> Ticket:
    """Report the water stopped at an emergency."""
    return _transition(
        actor=actor,
        ticket=ticket,
        name="mitigate",
        action=Action.MITIGATED,
        fields=["mitigated_at"],
        reason=note,
    )


@transaction.atomic
def ticket_resolve(
    *, actor, ticket: Ticket, measures: str, parts: str = "", cost: Decimal | None = None
) -> Ticket:
    """Finish the repair with the crew's report: measures taken, parts replaced, cost."""
    _require_text(measures=measures)
    ticket.repair_measures = measures
    ticket.repair_parts = parts
    ticket.repair_cost = cost
    return _transition(
        actor=actor,
        ticket=ticket,
        name="resolve",
        action=Action.RESOLVED,
        fields=["resolved_at", "repair_measures", "repair_parts", "repair_cost"],
        data={"measures": measures, "parts": parts, "cost": None if cost is None else str(cost)},
    )


@transaction.atomic
def ticket_answer(*, actor, ticket: Ticket, answer: str) -> Ticket:
    """Record the department's answer to a referred ticket."""
    _require_text(answer=answer)
    ticket.resolution = answer
    return _transition(
        actor=actor,
        ticket=ticket,
        name="answer",
        action=Action.ANSWERED,
        fields=["resolved_at", "resolution"],
        data={"answer": answer},
    )


@transaction.atomic
def ticket_close(
    *,
    actor,
    ticket: Ticket,
    measures: str | None = None,
    parts: str | None = None,
    cost: Decimal | None = None,
    result: str | None = None,
) -> Ticket:
    """Close a resolved ticket once its results are backfilled (measures, parts, cost)."""
    backfilled = {
        "repair_measures": measures,
        "repair_parts": parts,
        "repair_cost": cost,
        "resolution": result,
    }
    changed = {field: value for field, value in backfilled.items() if value is not None}
    for field, value in changed.items():
        setattr(ticket, field, value)
    if ticket.state == State.RESOLVED and not ticket.has_results():
        missing = {}
        if ticket.crew_id is None:
            missing["result"] = _("Record the answer or result before closing.")
        else:
            if not ticket.has_repair_report():
                missing["measures"] = _("Record the measures taken before closing.")
            if ticket.repair_cost is None:
                missing["cost"] = _("Record the cost (0 if none) before closing.")
        raise invalid(missing)
    return _transition(
        actor=actor,
        ticket=ticket,
        name="close",
        action=Action.CLOSED,
        fields=["closed_at", *changed],
        data={field: str(value) for field, value in changed.items()},
    )


@transaction.atomic
def ticket_cancel(*, actor, ticket: Ticket, reason: str) -> Ticket:
    """Cancel a ticket that needs no work (a duplicate, a mistaken call); it is kept."""
    _require_text(reason=reason)
    return _transition(
        actor=actor,
        ticket=ticket,
        name="cancel",
        action=Action.CANCELLED,
        fields=["cancelled_at"],
        reason=reason,
    )


@transaction.atomic
def ticket_merge(*, actor, ticket: Ticket, parent: Ticket, reason: str = "") -> Ticket:
    """Make ``ticket`` a child of the incident ``parent``: the same fault, reported again."""
    if parent.pk == ticket.pk or parent.state in (State.MERGED, State.CANCELLED):
        raise invalid({"parent": _("Choose another open ticket as the incident.")})
    return _transition(
        actor=actor,
        ticket=ticket,
        name="merge",
        action=Action.MERGED,
        fields=["parent"],
        reason=reason,
        data={"parent": parent.number},
        parent=parent,
    )


@transaction.atomic
def ticket_reopen(*, actor, ticket: Ticket, reason: str) -> Ticket:
    """Reopen a closed ticket (an unsatisfied callback, a repeat complaint); clocks restart."""
    _require_text(reason=reason)
    ticket = _transition(
        actor=actor,
        ticket=ticket,
        name="reopen",
        action=Action.REOPENED,
        fields=[
            "sla_started_at",
            "verified_at",
            "dispatched_at",
            "accepted_at",
            "arrived_at",
            "mitigated_at",
            "resolved_at",
            "closed_at",
            "crew",
            "department",
        ],
        reason=reason,
    )
    for field, value in deadlines_for_ticket(ticket=ticket, policy=_policy(ticket.grade)).items():
        setattr(ticket, field, value)
    _save(ticket, _DEADLINE_FIELDS)
    return ticket


@transaction.atomic
def ticket_reclassify(*, actor, ticket: Ticket, grade: str, reason: str) -> Ticket:
    """Change the ticket's grade; its deadlines are recomputed from the clock's start."""
    _require_perm(actor, "tickets.reclassify_ticket")
    _require_access(actor, ticket)
    _require_text(reason=reason)
    if grade == ticket.grade:
        raise invalid({"grade": _("The ticket already has this grade.")})
    if ticket.state not in _RECLASSIFIABLE:
        raise transition_refused(ticket, TransitionNotAllowed())
    if grade == Grade.CONSULT and ticket.state not in (State.NEW, State.VERIFIED):
        raise ApplicationError(
            _("The ticket is already with a crew; it cannot become a consult."),
            code="conflict",
            extra={"state": ticket.state},
        )
    before = {field: getattr(ticket, field) for field in _DEADLINE_FIELDS}
    from_grade = ticket.grade
    ticket.grade = grade
    for field, value in deadlines_for_ticket(ticket=ticket, policy=_policy(grade)).items():
        setattr(ticket, field, value)
    _save(ticket, ["grade", *_DEADLINE_FIELDS])
    _event(
        ticket=ticket,
        action=Action.RECLASSIFIED,
        actor=actor,
        from_state=ticket.state,
        at=timezone.now(),
        reason=reason,
        data={
            "from_grade": from_grade,
            "to_grade": grade,
            "deadlines_before": {field: _iso(value) for field, value in before.items()},
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
    _require_perm(actor, "tickets.request_extension")
    _require_access(actor, ticket)
    _require_text(reason=reason)
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
    _event(
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
            "original_due": _iso(current_due),
            "requested_due": _iso(requested_due),
            "responsible_party": responsible_party,
        },
    )
    return extension


def _require_extension_approver(actor, extension: ExtensionRequest) -> None:
    if extension.cause == ExtensionCause.HUMAN:
        # A human-caused delay goes to the supervisor, who records who is responsible.
        _require_perm(actor, "tickets.approve_human_extension")
        return
    _require_perm(actor, "tickets.approve_extension")
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
    _require_access(actor, ticket)
    _require_extension_approver(actor, extension)
    if not approve:
        _require_text(note=note)
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
        _save(ticket, fields)
    _event(
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
            "original_due": _iso(extension.original_due),
            "requested_due": _iso(extension.requested_due),
        },
    )
    return extension
