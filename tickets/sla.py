"""SLA arithmetic: every ticket deadline is computed here, from the policy of its grade.

Repair clocks run around the clock, so a deadline is the clock start plus the policy's
minutes. Working-day clocks (complaints, callbacks) use the working-day calendar instead.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from followups.workdays import working_day_deadline
from tickets.choices import ExtensionState, Milestone
from tickets.milestones import MILESTONES
from tickets.models import SlaPolicy, Ticket


@dataclass(frozen=True)
class Deadlines:
    dispatch_due: datetime | None
    accept_due: datetime | None
    arrive_due: datetime | None
    mitigate_due: datetime | None
    resolve_due: datetime | None
    close_due: datetime | None

    def as_fields(self) -> dict[str, datetime | None]:
        return {spec.due_field: getattr(self, spec.due_field) for spec in MILESTONES.values()}


def deadlines_compute(*, policy: SlaPolicy, start: datetime) -> Deadlines:
    """Return the deadlines of a ticket whose clock started at ``start`` under ``policy``."""

    def due(milestone: Milestone) -> datetime | None:
        minutes = policy.minutes_for(milestone)
        return None if minutes is None else start + timedelta(minutes=minutes)

    return Deadlines(
        dispatch_due=due(Milestone.DISPATCH),
        accept_due=due(Milestone.ACCEPT),
        arrive_due=due(Milestone.ARRIVE),
        mitigate_due=due(Milestone.MITIGATE),
        resolve_due=due(Milestone.RESOLVE),
        close_due=due(Milestone.CLOSE),
    )


def deadlines_for_ticket(*, ticket: Ticket, policy: SlaPolicy) -> dict[str, datetime | None]:
    """Return the ticket's deadlines: the policy's, moved by every approved extension.

    Extensions approved since the clock last started keep applying when the grade changes.
    """
    fields = deadlines_compute(policy=policy, start=ticket.sla_started_at).as_fields()
    if ticket.pk is None:
        return fields
    approved = ticket.extensions.filter(
        state=ExtensionState.APPROVED, decided_at__gte=ticket.sla_started_at
    ).order_by("decided_at", "id")
    for extension in approved:
        due_field = MILESTONES[Milestone(extension.milestone)].due_field
        if fields[due_field] is not None:
            fields[due_field] = max(fields[due_field], extension.requested_due)
    return fields


def referral_due(*, department, referred_at: datetime) -> datetime:
    """Return when a department must answer a ticket referred to it at ``referred_at``: at
    the end of a working day when its limit is in working days (raising ``CalendarUnknown``
    for a year the calendar does not know), else so many hours later."""
    if department.time_limit_working_days is not None:
        return working_day_deadline(referred_at, department.time_limit_working_days)
    return referred_at + timedelta(hours=department.time_limit_hours)


def close_due_after_completion(
    *, policy: SlaPolicy, resolved_at: datetime, close_due: datetime | None
) -> datetime | None:
    """Return the close deadline once the crew has completed: the backfill time, if sooner."""
    if policy.backfill_minutes is None:
        return close_due
    backfill_due = resolved_at + timedelta(minutes=policy.backfill_minutes)
    return backfill_due if close_due is None else min(close_due, backfill_due)
