"""What the overdue sweep watches: every stored deadline, where it lives and when it warns.

A ticket's own milestones are watched here. Other apps register theirs (a callback, a
complaint's replies) with ``watch_register`` as they start, so the core imports none of them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import models
from django.db.models import Q

from tickets.choices import AlertLevel, AlertMilestone, Milestone
from tickets.milestones import MILESTONES
from tickets.models import SlaPolicy, Ticket

# A warning comes once the grade's share of the time is gone; ``windows`` names how long
# that time is for the rows a filter picks (a ticket's by its grade, a referral's by its
# department), so the sweep can read each group's warnings as one range of deadlines.
Window = tuple[Q, timedelta, SlaPolicy]


@dataclass(frozen=True)
class Watch:
    milestone: AlertMilestone
    model: type[models.Model]
    due_field: str
    # The ticket's id on the watched row.
    ticket_field: str
    # The row still works towards the deadline: the condition of the deadline's partial
    # index, so each range of deadlines is read from it.
    pending: Q
    # The path from the row to its ticket's grade, whose policy sets the share and the
    # escalation interval.
    grade_field: str
    windows: Callable[[dict[str, SlaPolicy]], list[Window]]
    levels: tuple[AlertLevel, ...] = (AlertLevel.WARNING, AlertLevel.BREACH, AlertLevel.ESCALATED)


# The working day a callback or a reply to a complaint is counted in (08:30 to 17:30).
WORKING_DAY = timedelta(hours=9)

_WATCHES: dict[AlertMilestone, Watch] = {}


def watch_register(watch: Watch) -> None:
    _WATCHES[watch.milestone] = watch


def watches() -> list[Watch]:
    """Return every registered watch, in the order of the milestones."""
    return [_WATCHES[milestone] for milestone in AlertMilestone if milestone in _WATCHES]


def fixed_window(length: timedelta) -> Callable[[dict[str, SlaPolicy]], list[Window]]:
    """Return the windows of a deadline that is always ``length`` after its start."""

    def windows(policies: dict[str, SlaPolicy]) -> list[Window]:
        return [(Q(ticket__grade=grade), length, policy) for grade, policy in policies.items()]

    return windows


def _policy_windows(milestone: Milestone) -> Callable[[dict[str, SlaPolicy]], list[Window]]:
    def windows(policies: dict[str, SlaPolicy]) -> list[Window]:
        found = []
        for grade, policy in policies.items():
            minutes = policy.minutes_for(milestone)
            if minutes:
                rows = Q(grade=grade)
                if milestone == Milestone.RESOLVE:
                    rows &= Q(department__isnull=True)
                found.append((rows, timedelta(minutes=minutes), policy))
        if milestone == Milestone.RESOLVE:
            found += _referral_windows(policies)
        return found

    return windows


def _referral_windows(policies: dict[str, SlaPolicy]) -> list[Window]:
    """Return the windows of referred tickets: each department's time limit."""
    from django.apps import apps

    Department = apps.get_model("dispatch", "Department")
    found = []
    for department in Department.objects.all():
        if department.time_limit_working_days is not None:
            length = department.time_limit_working_days * WORKING_DAY
        else:
            length = timedelta(hours=department.time_limit_hours)
        for grade, policy in policies.items():
            found.append((Q(department=department, grade=grade), length, policy))
    return found


def _ticket_watch(milestone: Milestone) -> Watch:
    spec = MILESTONES[milestone]
    levels = (AlertLevel.WARNING, AlertLevel.BREACH, AlertLevel.ESCALATED)
    if milestone == Milestone.CLOSE:
        # Past the close deadline is the overdue alarm (emergency 4 h, general 24 h).
        levels += (AlertLevel.ALARM,)
    return Watch(
        milestone=AlertMilestone(milestone.value),
        model=Ticket,
        due_field=spec.due_field,
        ticket_field="id",
        pending=Q(state__in=spec.pending_states, **{f"{spec.due_field}__isnull": False}),
        grade_field="grade",
        windows=_policy_windows(milestone),
        levels=levels,
    )


for _milestone in Milestone:
    watch_register(_ticket_watch(_milestone))
