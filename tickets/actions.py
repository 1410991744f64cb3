"""The actions a person can take on a ticket, shared by the API and the pages."""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tickets.choices import OPEN_STATES, RECLASSIFIABLE_STATES, ExtensionState
from tickets.models import Ticket


@dataclass(frozen=True)
class TicketAction:
    slug: str
    label: str | Promise
    permission: str
    # The state-machine transition it runs; None for actions that keep the state.
    transition: str | None
    danger: bool = False


_ALL = [
    TicketAction("verify", _("Verify"), "tickets.verify_ticket", "verify"),
    TicketAction("dispatch", _("Dispatch to a crew"), "tickets.dispatch_ticket", "dispatch"),
    TicketAction("refer", _("Refer to a department"), "tickets.refer_ticket", "refer"),
    TicketAction("accept", _("Accept"), "tickets.accept_ticket", "accept"),
    TicketAction("decline", _("Decline"), "tickets.decline_ticket", "decline", danger=True),
    TicketAction("arrive", _("Arrived on site"), "tickets.arrive_ticket", "arrive"),
    TicketAction("mitigate", _("Water stopped"), "tickets.mitigate_ticket", "mitigate"),
    TicketAction("resolve", _("Resolve with a repair report"), "tickets.resolve_ticket", "resolve"),
    TicketAction("answer", _("Answer"), "tickets.answer_ticket", "answer"),
    TicketAction("close", _("Close"), "tickets.close_ticket", "close"),
    TicketAction("reopen", _("Reopen"), "tickets.reopen_ticket", "reopen", danger=True),
    TicketAction("merge", _("Merge into an incident"), "tickets.merge_ticket", "merge"),
    TicketAction("reclassify", _("Change grade"), "tickets.reclassify_ticket", None),
    TicketAction("correct", _("Correct the record"), "tickets.review_ticket", None),
    TicketAction("review", _("Mark re-checked"), "tickets.review_ticket", None),
    TicketAction("request-extension", _("Request an extension"), "tickets.request_extension", None),
    TicketAction("approve-extension", _("Decide an extension"), "tickets.approve_extension", None),
    TicketAction("cancel", _("Cancel"), "tickets.cancel_ticket", "cancel", danger=True),
]
ACTIONS: dict[str, TicketAction] = {action.slug: action for action in _ALL}

# Transitions whose condition is met by the action's own form (the report, the answer, the
# results): offered in every source state, and the service says what is missing.
_FILLED_BY_FORM = {"resolve", "answer", "close"}

_KEEPS_STATE_WHILE = {
    "reclassify": RECLASSIFIABLE_STATES,
    "request-extension": OPEN_STATES,
    "correct": OPEN_STATES,
    "review": OPEN_STATES,
}


def ticket_actions_for_user(
    *, ticket: Ticket, user, exclude: set[str] = frozenset()
) -> list[TicketAction]:
    """Return the actions ``user`` may take on ``ticket`` in its current state."""
    possible = {t.name for t in ticket.get_available_state_transitions()}
    possible |= {
        t.name
        for t in ticket.get_all_state_transitions()
        if t.name in _FILLED_BY_FORM and t.source == ticket.state
    }
    allowed = []
    for action in _ALL:
        if action.slug in exclude or not user.has_perm(action.permission):
            continue
        if action.transition is not None:
            if action.transition in possible:
                allowed.append(action)
        elif action.slug == "approve-extension":
            if any(e.state == ExtensionState.PENDING for e in ticket.extension_list):
                allowed.append(action)
        elif action.slug == "review" and ticket.reviewed_at is not None:
            continue
        elif ticket.state in _KEEPS_STATE_WHILE[action.slug]:
            allowed.append(action)
    return allowed
