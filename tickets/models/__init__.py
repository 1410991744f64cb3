"""The ticket and what hangs off it (``ticket``), and the alerts on its deadlines (``alerts``)."""

from tickets.models.alerts import Alert, AlertCursor, AlertSmsRule
from tickets.models.ticket import (
    LANE_ORDER,
    ActionReceipt,
    ExtensionRequest,
    FaultType,
    RepairCost,
    RepairPart,
    RepairPhoto,
    ServiceAddress,
    Skill,
    SlaPolicy,
    Ticket,
    TicketEvent,
    TicketSequence,
    _photo_path,  # noqa: F401 - migration 0004 names the photos' upload path here
    address_line,
)

__all__ = [
    "LANE_ORDER",
    "ActionReceipt",
    "Alert",
    "AlertCursor",
    "AlertSmsRule",
    "ExtensionRequest",
    "FaultType",
    "RepairCost",
    "RepairPart",
    "RepairPhoto",
    "ServiceAddress",
    "Skill",
    "SlaPolicy",
    "Ticket",
    "TicketEvent",
    "TicketSequence",
    "address_line",
]
