"""What each milestone means on a ticket row: its deadline, its actual time, when it is pending."""

from dataclasses import dataclass

from tickets.choices import Milestone, State


@dataclass(frozen=True)
class MilestoneSpec:
    due_field: str
    done_field: str
    # The states in which the milestone is still ahead: the overdue query and its partial
    # index use exactly this list, so the planner can match one to the other.
    pending_states: tuple[str, ...]


_BEFORE_DISPATCH = (State.NEW.value, State.VERIFIED.value)
_BEFORE_ACCEPT = (*_BEFORE_DISPATCH, State.DISPATCHED.value)
_BEFORE_ARRIVE = (*_BEFORE_ACCEPT, State.ACCEPTED.value)
_BEFORE_MITIGATE = (*_BEFORE_ARRIVE, State.ON_SITE.value)
_BEFORE_RESOLVE = (*_BEFORE_MITIGATE, State.MITIGATED.value, State.REFERRED.value)
_BEFORE_CLOSE = (*_BEFORE_RESOLVE, State.RESOLVED.value)

MILESTONES: dict[Milestone, MilestoneSpec] = {
    Milestone.DISPATCH: MilestoneSpec("dispatch_due", "dispatched_at", _BEFORE_DISPATCH),
    Milestone.ACCEPT: MilestoneSpec("accept_due", "accepted_at", _BEFORE_ACCEPT),
    Milestone.ARRIVE: MilestoneSpec("arrive_due", "arrived_at", _BEFORE_ARRIVE),
    Milestone.MITIGATE: MilestoneSpec("mitigate_due", "mitigated_at", _BEFORE_MITIGATE),
    Milestone.RESOLVE: MilestoneSpec("resolve_due", "resolved_at", _BEFORE_RESOLVE),
    Milestone.CLOSE: MilestoneSpec("close_due", "closed_at", _BEFORE_CLOSE),
}
