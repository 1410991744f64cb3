"""Dispatch follows every ticket change (the assignment record, the messages, the board) and
texts the alerts the rules send by SMS."""

from dispatch.board import board_changed
from tickets.hooks import alerts_raised, ticket_changed


def _ticket_changed(ticket, event, **kwargs) -> None:
    from dispatch.services import assignment_record, ticket_event_notify

    assignment_record(ticket=ticket, event=event)
    ticket_event_notify(ticket=ticket, event=event)
    board_changed()


def _alerts_raised(alert_ids, **kwargs) -> None:
    from dispatch.services import alerts_notify

    alerts_notify(alert_ids=alert_ids)


def connect() -> None:
    ticket_changed.connect(_ticket_changed, dispatch_uid="dispatch-ticket-changed")
    alerts_raised.connect(_alerts_raised, dispatch_uid="dispatch-alerts-raised")
