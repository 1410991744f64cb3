"""Every write on a ticket that has business meaning: one function per use case.

Each runs in one transaction, checks the actor's permission, moves the state machine, saves
only the fields it changed and records one event row.
"""

from tickets.services.alerts import (
    alert_acknowledge,
    alert_delay_record,
    alerts_acknowledge,
    alerts_sweep,
)
from tickets.services.deadlines import extension_decide, extension_request, ticket_reclassify
from tickets.services.lifecycle import (
    CostLine,
    PartLine,
    repair_photos_add,
    ticket_accept,
    ticket_answer,
    ticket_arrive,
    ticket_cancel,
    ticket_close,
    ticket_create,
    ticket_decline,
    ticket_dispatch,
    ticket_merge,
    ticket_mitigate,
    ticket_refer,
    ticket_refer_on_intake,
    ticket_reopen,
    ticket_resolve,
    ticket_return_unaccepted,
    ticket_verify,
)
from tickets.services.review import ticket_correct, ticket_review

__all__ = [
    "CostLine",
    "PartLine",
    "alert_acknowledge",
    "alert_delay_record",
    "alerts_acknowledge",
    "alerts_sweep",
    "extension_decide",
    "extension_request",
    "repair_photos_add",
    "ticket_accept",
    "ticket_answer",
    "ticket_arrive",
    "ticket_cancel",
    "ticket_close",
    "ticket_correct",
    "ticket_create",
    "ticket_decline",
    "ticket_dispatch",
    "ticket_merge",
    "ticket_mitigate",
    "ticket_reclassify",
    "ticket_refer",
    "ticket_refer_on_intake",
    "ticket_reopen",
    "ticket_resolve",
    "ticket_return_unaccepted",
    "ticket_review",
    "ticket_verify",
]
