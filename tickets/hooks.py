"""Signals other apps listen to, so the core never imports them (DESIGN: imports point one way).

Sent inside the transaction of the change, so a listener's writes commit or roll back with it.
"""

from django.dispatch import Signal

# A ticket has been closed: ``ticket``, ``actor``.
ticket_closed = Signal()

# Something happened to a ticket and was written to its event log: ``ticket``, ``event``
# (the ``TicketEvent`` row, with its action, actor and data).
ticket_changed = Signal()

# The overdue sweep has raised alerts: ``alert_ids``. Whoever sends them on (a text message)
# listens here; the sweep commits the alerts with what the listeners wrote.
alerts_raised = Signal()
