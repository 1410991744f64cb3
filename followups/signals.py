"""Follow-ups follow the tickets: a complaint's reply deadlines, a second callback's release."""

from tickets.hooks import ticket_changed, ticket_closed


def _ticket_changed(ticket, event, **kwargs) -> None:
    from followups.services import complaint_follow

    complaint_follow(ticket=ticket, event=event)


def _ticket_closed(ticket, **kwargs) -> None:
    from followups.services import second_callbacks_release

    second_callbacks_release(ticket=ticket)


def connect() -> None:
    ticket_changed.connect(_ticket_changed, dispatch_uid="followups-complaint-follow")
    ticket_closed.connect(_ticket_closed, dispatch_uid="followups-second-callbacks")
