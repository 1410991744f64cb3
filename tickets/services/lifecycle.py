"""The ticket's life: logging it and every move of its state machine."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.choices import Category, Grade, Returned, State
from tickets.errors import ApplicationError, invalid
from tickets.hooks import ticket_closed
from tickets.models import FaultType, RepairCost, RepairPart, RepairPhoto, Ticket
from tickets.numbering import ticket_number_next
from tickets.photos import CheckedPhoto, photo_check
from tickets.services._base import (
    DEADLINE_FIELDS,
    Action,
    event,
    policy_for,
    require_access,
    require_perm,
    require_text,
    save,
    transition,
)
from tickets.sla import (
    close_due_after_completion,
    deadlines_compute,
    deadlines_for_ticket,
    referral_due,
)

# A second complaint from the same caller within this window makes the ticket special.
REPEAT_COMPLAINT_WINDOW = timedelta(days=30)


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
    pipe_diameter: int | None = None,
    grade: str | None = None,
    grade_reason: str = "",
) -> Ticket:
    """Create a ticket, number it and start its SLA clock at the time of receipt.

    The grade follows the fault grading standard unless the agent gives another, with its
    reason. A complaint from a caller who complained in the last 30 days is special.
    """
    require_perm(actor, "tickets.add_ticket")
    suggested = fault_type.default_grade
    grade = grade or suggested
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
    policy = policy_for(grade)
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
        pipe_diameter=pipe_diameter,
        received_at=at,
        sla_started_at=at,
        created_by=actor,
        is_special=category == Category.COMPLAINT
        and Ticket.objects.filter(
            caller_phone=caller_phone,
            category=Category.COMPLAINT,
            received_at__gte=at - REPEAT_COMPLAINT_WINDOW,
        ).exists(),
        **deadlines_compute(policy=policy, start=at).as_fields(),
    )
    # Numbered last: the day's counter stays locked only until this transaction commits.
    ticket.number = ticket_number_next(at=at)
    ticket.save()
    overridden = {"grade_suggested": suggested, "grade_reason": grade_reason}
    created = event(
        ticket=ticket,
        action=Action.CREATED,
        actor=actor,
        from_state=State.NEW,
        at=at,
        reason=grade_reason,
        data=overridden if grade != suggested else {},
    )
    # A new ticket's whole history is this one event; it comes back ready to show.
    ticket.timeline = [created]
    ticket.extension_list = ticket.part_list = ticket.cost_list = ticket.photo_list = []
    return ticket


@transaction.atomic
def ticket_verify(*, actor, ticket: Ticket) -> Ticket:
    return transition(
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
    return transition(
        actor=actor,
        ticket=ticket,
        name="dispatch",
        action=Action.DISPATCHED,
        # The transition clears ``returned`` (declined, not accepted): save that too.
        fields=["crew", "dispatched_at", "returned"],
        reason=note,
        data={"crew": crew.pk, "crew_name": str(crew)},
        crew=crew,
    )


@transaction.atomic
def ticket_refer(*, actor, ticket: Ticket, department, note: str = "") -> Ticket:
    """Hand the ticket to the department responsible for it, which answers in its time limit."""
    ticket = transition(
        actor=actor,
        ticket=ticket,
        name="refer",
        action=Action.REFERRED,
        fields=["department", "dispatched_at"],
        reason=note,
        data={"department": department.pk, "department_name": str(department)},
        department=department,
    )
    return _start_department_clock(ticket, department)


def _start_department_clock(ticket: Ticket, department) -> Ticket:
    ticket.resolve_due = referral_due(department=department, referred_at=ticket.dispatched_at)
    save(ticket, ["resolve_due"])
    return ticket


@transaction.atomic
def ticket_refer_on_intake(*, actor, ticket: Ticket, department) -> Ticket:
    """Hand a new consult or complaint to its department straight from the call."""
    ticket = transition(
        actor=actor,
        ticket=ticket,
        name="refer_on_intake",
        action=Action.REFERRED,
        fields=["verified_at", "department", "dispatched_at"],
        data={"department": department.pk, "department_name": str(department)},
        department=department,
    )
    return _start_department_clock(ticket, department)


@transaction.atomic
def ticket_accept(*, actor, ticket: Ticket) -> Ticket:
    return transition(
        actor=actor, ticket=ticket, name="accept", action=Action.ACCEPTED, fields=["accepted_at"]
    )


@transaction.atomic
def ticket_decline(*, actor, ticket: Ticket, reason: str) -> Ticket:
    """Give the ticket back to the dispatcher, with the crew's reason."""
    require_text(reason=reason)
    crew = ticket.crew
    return transition(
        actor=actor,
        ticket=ticket,
        name="decline",
        action=Action.DECLINED,
        fields=["crew", "dispatched_at", "returned"],
        reason=reason,
        data={"crew": crew.pk if crew else None, "crew_name": str(crew or "")},
    )


@transaction.atomic
def ticket_return_unaccepted(*, ticket: Ticket) -> Ticket:
    """Give the ticket back to the dispatcher: its crew did not accept it in time."""
    crew = ticket.crew
    return transition(
        actor=None,
        ticket=ticket,
        name="decline",
        action=Action.NOT_ACCEPTED,
        fields=["crew", "dispatched_at", "returned"],
        data={"crew": crew.pk if crew else None, "crew_name": str(crew or "")},
        returned=Returned.NOT_ACCEPTED,
    )


@transaction.atomic
def ticket_arrive(*, actor, ticket: Ticket) -> Ticket:
    return transition(
        actor=actor, ticket=ticket, name="arrive", action=Action.ARRIVED, fields=["arrived_at"]
    )


@transaction.atomic
def ticket_mitigate(*, actor, ticket: Ticket, note: str = "") -> Ticket:
    """Report the water stopped at an emergency."""
    return transition(
        actor=actor,
        ticket=ticket,
        name="mitigate",
        action=Action.MITIGATED,
        fields=["mitigated_at"],
        reason=note,
    )


@dataclass(frozen=True)
class PartLine:
    name: str
    quantity: Decimal
    unit: str = ""


@dataclass(frozen=True)
class CostLine:
    item: str
    amount: Decimal


@transaction.atomic
def ticket_resolve(
    *,
    actor,
    ticket: Ticket,
    measures: str,
    parts: str = "",
    cost: Decimal | None = None,
    part_lines: Sequence[PartLine] = (),
    cost_lines: Sequence[CostLine] = (),
    photos: Sequence = (),
) -> Ticket:
    """Finish the repair with the crew's report: measures, parts fitted, costs and photos.

    The cost is the sum of its lines when lines are given. The dispatcher then has the
    policy's backfill time to review the report and close the ticket.
    """
    require_text(measures=measures)
    checked = _photos_checked(ticket, photos)
    if cost_lines:
        if cost is not None and cost != sum(line.amount for line in cost_lines):
            raise invalid({"cost": _("The cost is the sum of its lines; leave it empty.")})
        cost = sum((line.amount for line in cost_lines), Decimal(0))
    ticket.repair_measures = measures
    ticket.repair_parts = parts
    ticket.repair_cost = cost
    ticket = transition(
        actor=actor,
        ticket=ticket,
        name="resolve",
        action=Action.RESOLVED,
        fields=["resolved_at", "repair_measures", "repair_parts", "repair_cost"],
        data={
            "measures": measures,
            "parts": parts,
            "cost": None if cost is None else str(cost),
            "part_lines": [[line.name, str(line.quantity), line.unit] for line in part_lines],
            "cost_lines": [[line.item, str(line.amount)] for line in cost_lines],
            "photos": len(checked),
        },
    )
    RepairPart.objects.bulk_create(
        RepairPart(ticket=ticket, name=line.name, quantity=line.quantity, unit=line.unit)
        for line in part_lines
    )
    RepairCost.objects.bulk_create(
        RepairCost(ticket=ticket, item=line.item, amount=line.amount) for line in cost_lines
    )
    _photos_store(ticket, checked, actor=actor, at=ticket.resolved_at)
    close_due = close_due_after_completion(
        policy=policy_for(ticket.grade), resolved_at=ticket.resolved_at, close_due=ticket.close_due
    )
    if close_due != ticket.close_due:
        ticket.close_due = close_due
        save(ticket, ["close_due"])
    return ticket


@transaction.atomic
def repair_photos_add(*, actor, ticket: Ticket, photos: Sequence) -> list[RepairPhoto]:
    """Add photos taken on site to a ticket the crew is working."""
    require_perm(actor, "tickets.resolve_ticket")
    require_access(actor, ticket)
    if ticket.state not in (State.ACCEPTED, State.ON_SITE, State.MITIGATED, State.RESOLVED):
        raise ApplicationError(
            _("Photos are added while the crew works the ticket."),
            code="conflict",
            extra={"state": ticket.state},
        )
    if not photos:
        raise invalid({"photos": _("Choose at least one photo.")})
    checked = _photos_checked(ticket, photos)
    at = timezone.now()
    stored = _photos_store(ticket, checked, actor=actor, at=at)
    event(
        ticket=ticket,
        action=Action.PHOTO_ADDED,
        actor=actor,
        from_state=ticket.state,
        at=at,
        data={"photos": [str(photo.key) for photo in stored]},
    )
    return stored


def _photos_checked(ticket: Ticket, photos: Sequence) -> list[CheckedPhoto]:
    """Check every photo before anything is written, so a bad one saves nothing."""
    already = ticket.photos.count() if ticket.pk else 0
    if already + len(photos) > settings.PHOTOS_PER_TICKET:
        raise invalid(
            {
                "photos": _("A ticket keeps at most %(limit)d photos.")
                % {"limit": settings.PHOTOS_PER_TICKET}
            }
        )
    return [photo_check(photo) for photo in photos]


def _photos_store(ticket: Ticket, checked: list[CheckedPhoto], *, actor, at) -> list[RepairPhoto]:
    stored = []
    for photo in checked:
        row = RepairPhoto(
            ticket=ticket,
            key=uuid.uuid4(),
            extension=photo.extension,
            content_type=photo.content_type,
            size=photo.file.size,
            uploaded_by=actor,
            uploaded_at=at,
        )
        # The stored name comes from the key and the checked type (see _photo_path).
        row.image.save("photo", photo.file, save=False)
        row.save()
        stored.append(row)
    return stored


@transaction.atomic
def ticket_answer(*, actor, ticket: Ticket, answer: str) -> Ticket:
    """Record the department's answer to a referred ticket."""
    require_text(answer=answer)
    ticket.resolution = answer
    return transition(
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
    if cost is not None and ticket.costs.exists():
        raise invalid({"cost": _("The cost is the sum of the crew's cost lines.")})
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
    ticket = transition(
        actor=actor,
        ticket=ticket,
        name="close",
        action=Action.CLOSED,
        fields=["closed_at", *changed],
        data={field: str(value) for field, value in changed.items()},
    )
    ticket_closed.send(sender=Ticket, ticket=ticket, actor=actor)
    return ticket


@transaction.atomic
def ticket_cancel(*, actor, ticket: Ticket, reason: str) -> Ticket:
    """Cancel a ticket that needs no work (a duplicate, a mistaken call); it is kept."""
    require_text(reason=reason)
    return transition(
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
    return transition(
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
def ticket_reopen(
    *, actor, ticket: Ticket, reason: str, by_rule: bool = False, data: dict | None = None
) -> Ticket:
    """Reopen a closed ticket (an unsatisfied callback, a repeat complaint); clocks restart.

    ``by_rule``: reopened by the callback rule on what ``actor`` recorded, not by their role.
    """
    require_text(reason=reason)
    ticket = transition(
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
        data=data,
        by_rule=by_rule,
    )
    for field, value in deadlines_for_ticket(
        ticket=ticket, policy=policy_for(ticket.grade)
    ).items():
        setattr(ticket, field, value)
    save(ticket, DEADLINE_FIELDS)
    return ticket
