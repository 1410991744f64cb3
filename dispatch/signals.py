"""Dispatch follows every ticket change: the assignment record, the messages, the board."""

from dispatch.board import board_changed
from tickets.hooks import ticket_changed


def _ticket_changed(ticket, event, **kwargs) -> None:
    from dispatch.services import assignment_record, ticket_event_notify

    assignment_record(ticket=ticket, event=event)
    ticket_event_notify(ticket=ticket, event=event)
    board_changed()


def connect() -> None:
    ticket_changed.connect(_ticket_changed, dispatch_uid="dispatch-ticket-changed")
