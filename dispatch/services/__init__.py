"""Every write of dispatch that has business meaning: one function per use case."""

from dispatch.services.alerts import alerts_notify
from dispatch.services.assignments import (
    assignment_record,
    assignments_expire,
    ticket_send_to_crew,
    ticket_send_to_department,
)
from dispatch.services.crews import crew_duty_set, crew_position_report
from dispatch.services.messages import message_enqueue, message_send, messages_enqueue
from dispatch.services.notifications import ticket_event_notify
from dispatch.services.unclosed import unclosed_plan_write

__all__ = [
    "alerts_notify",
    "assignment_record",
    "assignments_expire",
    "crew_duty_set",
    "crew_position_report",
    "message_enqueue",
    "message_send",
    "messages_enqueue",
    "ticket_event_notify",
    "ticket_send_to_crew",
    "ticket_send_to_department",
    "unclosed_plan_write",
]
