"""Reads that pages and the API share; each applies who may see what."""

import uuid
from datetime import datetime, timedelta

from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from tickets.choices import (
    CREW_ALERT_MILESTONES,
    FINAL_STATES,
    TICKET_ALERT_MILESTONES,
    AlertLevel,
    AlertMilestone,
    Category,
    ExtensionCause,
    ExtensionState,
    Grade,
    Milestone,
)
from tickets.errors import ApplicationError
from tickets.milestones import MILESTONES
from tickets.models import Alert, ExtensionRequest, FaultType, RepairPhoto, Ticket
from tickets.watches import watches

_LIST_RELATED = ("fault_type", "district", "community", "crew", "department")


def ticket_visibility_filter(*, user) -> Q | None:
    """Return the filter of the tickets ``user`` may see; None for every ticket."""
    if user.has_perm("tickets.view_all_tickets"):
        return None
    visible = Q(pk__in=[])
    if user.has_perm("tickets.view_crew_tickets"):
        visible |= Q(crew__memberships__user=user)
    if user.has_perm("tickets.view_department_tickets"):
        visible |= Q(department__members=user)
    return visible


def ticket_list_for_user(*, user) -> QuerySet[Ticket]:
    tickets = Ticket.objects.select_related(*_LIST_RELATED)
    visible = ticket_visibility_filter(user=user)
    return tickets if visible is None else tickets.filter(visible)


def ticket_get_for_user(*, user, number: str) -> Ticket:
    """Return the ticket numbered ``number`` if ``user`` may see it, else raise not found."""
    ticket = ticket_list_for_user(user=user).filter(number=number).first()
    if ticket is None:
        raise ApplicationError(_("No ticket with that number."), code="not_found")
    return ticket


def repair_photo_get_for_user(*, user, number: str, key) -> RepairPhoto:
    """Return the ticket's photo with ``key`` if ``user`` may see the ticket, else not found."""
    ticket = ticket_get_for_user(user=user, number=number)
    try:
        photo = ticket.photos.filter(key=uuid.UUID(str(key))).first()
    except ValueError:
        photo = None
    if photo is None:
        raise ApplicationError(_("No such photo."), code="not_found")
    return photo


def ticket_is_visible_to(*, ticket: Ticket, user) -> bool:
    visible = ticket_visibility_filter(user=user)
    return visible is None or Ticket.objects.filter(visible, pk=ticket.pk).exists()


def ticket_with_history(ticket: Ticket) -> Ticket:
    """Load the ticket's timeline, extension requests and repair report onto it."""
    ticket.timeline = list(ticket.events.select_related("actor"))
    ticket.extension_list = list(ticket.extensions.select_related("requested_by", "decided_by"))
    ticket.part_list = list(ticket.parts.all())
    ticket.cost_list = list(ticket.costs.all())
    ticket.photo_list = list(ticket.photos.all())
    for photo in ticket.photo_list:
        photo.ticket = ticket
    return ticket


def ticket_detail_for_user(*, user, number: str) -> Ticket:
    """Return the ticket with its timeline and extensions, if ``user`` may see it."""
    return ticket_with_history(ticket_get_for_user(user=user, number=number))


def overdue_filter(*, milestone: Milestone, now: datetime) -> Q:
    """Return the filter of tickets whose ``milestone`` is still ahead of them but past due.

    The state list matches the milestone's partial index, so the query is an index range
    scan on the deadline column.
    """
    spec = MILESTONES[milestone]
    return Q(state__in=spec.pending_states, **{f"{spec.due_field}__lt": now})


def any_overdue_filter(*, now: datetime) -> Q:
    combined = Q(pk__in=[])
    for milestone in Milestone:
        combined |= overdue_filter(milestone=milestone, now=now)
    return combined


def deadline_missed_filter(*, milestone: Milestone, now: datetime) -> Q:
    """Return the filter of tickets that missed their ``milestone`` deadline by ``now``:
    done after it, or not done and past it.

    The reports count a deadline once it is met or past, and met when done by it; this is
    the rest of what they count.
    """
    spec = MILESTONES[milestone]
    due, done = spec.due_field, spec.done_field
    return Q(**{f"{due}__isnull": False}) & (
        Q(**{f"{done}__gt": F(due)}) | Q(**{f"{done}__isnull": True, f"{due}__lt": now})
    )


def tickets_overdue(*, milestone: Milestone, now: datetime) -> QuerySet[Ticket]:
    due_field = MILESTONES[milestone].due_field
    return Ticket.objects.filter(overdue_filter(milestone=milestone, now=now)).order_by(due_field)


def ticket_next_deadline(ticket: Ticket) -> tuple[Milestone, datetime] | None:
    """Return the earliest milestone still ahead of the ticket, with its deadline."""
    pending = [
        (getattr(ticket, spec.due_field), milestone)
        for milestone, spec in MILESTONES.items()
        if ticket.state in spec.pending_states and getattr(ticket, spec.due_field) is not None
    ]
    if not pending:
        return None
    # On a tie the earlier milestone comes first: repair before close.
    due, milestone = min(pending, key=lambda item: item[0])
    return milestone, due


def deadline_level(*, start: datetime, due: datetime, now: datetime) -> str:
    """Return how much of a deadline's time is left: ample (over half), short, or overdue."""
    left = (due - now).total_seconds()
    if left < 0:
        return "overdue"
    total = (due - start).total_seconds()
    return "short" if total > 0 and left / total < 0.5 else "ample"


def tickets_with_original_deadlines(queryset: QuerySet[Ticket] | None = None) -> QuerySet[Ticket]:
    """Annotate ``original_<milestone>_due``: the deadline before any approved extension."""
    queryset = Ticket.objects.all() if queryset is None else queryset
    annotations = {}
    for milestone, spec in MILESTONES.items():
        first_approved = ExtensionRequest.objects.filter(
            ticket=OuterRef("pk"),
            milestone=milestone,
            state=ExtensionState.APPROVED,
            decided_at__gte=OuterRef("sla_started_at"),
        ).order_by("decided_at", "id")
        annotations[f"original_{milestone.value}_due"] = Coalesce(
            Subquery(first_approved.values("original_due")[:1]), F(spec.due_field)
        )
    return queryset.annotate(**annotations)


def tickets_with_pending_extension(queryset: QuerySet[Ticket]) -> QuerySet[Ticket]:
    return queryset.annotate(
        has_pending_extension=Exists(
            ExtensionRequest.objects.filter(ticket=OuterRef("pk"), state=ExtensionState.PENDING)
        )
    )


def fault_types_active() -> QuerySet[FaultType]:
    return FaultType.objects.filter(is_active=True).select_related("skill")


def ticket_milestone_rows(*, ticket: Ticket, now: datetime) -> list[dict]:
    """Return one row per milestone the ticket has: deadline, actual time and standing.

    ``ticket`` comes from ``ticket_detail_for_user`` (its extensions are loaded); the
    original deadline is shown where an approved extension moved it.
    """
    originals = {}
    for extension in ticket.extension_list:
        if extension.state == ExtensionState.APPROVED:
            originals.setdefault(extension.milestone, extension.original_due)
    rows = []
    for milestone, spec in MILESTONES.items():
        due = getattr(ticket, spec.due_field)
        done = getattr(ticket, spec.done_field)
        if due is None:
            continue
        if done is not None:
            standing = "met" if done <= due else "late"
        elif ticket.state in spec.pending_states:
            standing = "overdue" if due < now else "pending"
        else:
            standing = "skipped"
        rows.append(
            {
                "milestone": milestone,
                "due": due,
                "done": done,
                "standing": standing,
                "original_due": originals.get(milestone.value),
            }
        )
    return rows


def tickets_to_review(*, user, now: datetime, hours: int = 12) -> list[Ticket]:
    """Return recent tickets not yet re-checked, each with ``checks``: what to look at."""
    tickets = list(
        ticket_list_for_user(user=user)
        .filter(received_at__gte=now - timedelta(hours=hours), reviewed_at__isnull=True)
        .exclude(state__in=FINAL_STATES)
        .order_by("-received_at")[:200]
    )
    for ticket in tickets:
        ticket.checks = ticket_review_checks(ticket)
    return tickets


def ticket_review_checks(ticket: Ticket) -> list[str]:
    """Return what a shift leader should look at again on this ticket."""
    checks = []
    if ticket.category == Category.REPAIR and not (
        ticket.community_id and ticket.building and ticket.unit
    ):
        checks.append(_("Address not down to community, building and unit"))
    if ticket.grade != ticket.fault_type.default_grade:
        checks.append(_("Grade differs from the fault grading standard"))
    if ticket.grade == Grade.EMERGENCY:
        checks.append(_("Emergency"))
    if ticket.is_special:
        checks.append(_("Special ticket"))
    return checks


# Alerts: who receives which, and whether each is still standing.

# The notification area counts this many at most: past it, "99+" says enough.
ALERT_COUNT_CAP = 99


def alert_audience_filter(*, user) -> Q:
    """Return the filter of the alerts meant for ``user``, of the tickets they may open.

    The dispatcher hears first of a ticket's deadlines, with the crew leader (of their crew's)
    and the department (of its referrals); the shift leader of those still missed after the
    escalation interval, and first of the follow-up desk's; the supervisor of the overdue
    alarms and of the follow-up desk's escalations.
    """
    first = Q(level__in=[AlertLevel.WARNING, AlertLevel.BREACH])
    of_ticket = Q(milestone__in=TICKET_ALERT_MILESTONES)
    meant = Q(pk__in=[])
    if user.has_perm("tickets.receive_ticket_alerts"):
        meant |= first & of_ticket
    if user.has_perm("tickets.receive_escalations"):
        meant |= (Q(level=AlertLevel.ESCALATED) & of_ticket) | (first & ~of_ticket)
    if user.has_perm("tickets.receive_alarms"):
        meant |= Q(level=AlertLevel.ALARM) | (Q(level=AlertLevel.ESCALATED) & ~of_ticket)
    if user.has_perm("tickets.view_crew_tickets"):
        meant |= (
            first
            & Q(milestone__in=CREW_ALERT_MILESTONES)
            & Q(
                ticket__crew__memberships__user=user,
                ticket__crew__memberships__is_leader=True,
            )
        )
    if user.has_perm("tickets.view_department_tickets"):
        meant |= first & Q(milestone=AlertMilestone.RESOLVE, ticket__department__members=user)
    visible = ticket_visibility_filter(user=user)
    if visible is not None:
        meant &= Q(ticket__in=Ticket.objects.filter(visible))
    return meant


def user_receives_alerts(user) -> bool:
    """Return whether any alert can be meant for ``user`` (a seat agent's never is)."""
    return any(
        user.has_perm(f"tickets.{codename}")
        for codename in (
            "receive_ticket_alerts",
            "receive_escalations",
            "receive_alarms",
            "view_crew_tickets",
            "view_department_tickets",
        )
    )


def alerts_standing(alerts: QuerySet[Alert]) -> QuerySet[Alert]:
    """Annotate ``is_standing``: the deadline the alert is about is still ahead of its row
    (not met, not moved, the ticket not closed)."""
    cases = [
        When(
            milestone=watch.milestone,
            then=Exists(
                watch.model.objects.filter(
                    watch.pending,
                    **{
                        watch.ticket_field: OuterRef("ticket_id"),
                        watch.due_field: OuterRef("due_at"),
                    },
                )
            ),
        )
        for watch in watches()
    ]
    return alerts.annotate(is_standing=Case(*cases, default=Value(False)))


def alerts_for_user(*, user, waiting: bool = False) -> QuerySet[Alert]:
    """Return the alerts meant for ``user``, newest first, with ``is_standing``; only those
    still waiting (not acknowledged, their deadline standing) when ``waiting``."""
    alerts = alerts_standing(
        Alert.objects.filter(alert_audience_filter(user=user)).select_related(
            "ticket", "ticket__fault_type", "acknowledged_by"
        )
    )
    if waiting:
        alerts = alerts.filter(acknowledged_at__isnull=True, is_standing=True)
    return alerts.order_by("-raised_at", "-id")


def alert_get_for_user(*, user, pk: int) -> Alert:
    alert = alerts_for_user(user=user).filter(pk=pk).first()
    if alert is None:
        raise ApplicationError(_("No such alert."), code="not_found")
    return alert


def alerts_waiting_count(*, user) -> int:
    """Return how many alerts wait for ``user``: not acknowledged, their deadline standing.

    Counted up to ``ALERT_COUNT_CAP`` + 1, so a storm's thousands cost no more than a few.
    """
    waiting = alerts_for_user(user=user, waiting=True)
    return waiting.values("pk")[: ALERT_COUNT_CAP + 1].count()


def delays_with_human_cause(*, since: datetime | None = None) -> QuerySet[Alert]:
    """Return the missed deadlines someone caused, the latest recorded first."""
    delays = Alert.objects.filter(delay_cause=ExtensionCause.HUMAN)
    if since is not None:
        delays = delays.filter(delay_recorded_at__gte=since)
    return delays.select_related("ticket", "ticket__crew", "delay_recorded_by").order_by(
        "-delay_recorded_at"
    )
