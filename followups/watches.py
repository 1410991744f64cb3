"""The follow-up deadlines the overdue sweep watches: callbacks and complaints' replies."""

from datetime import timedelta

from django.db.models import Q

from followups.models import Callback, Complaint
from tickets.choices import AlertMilestone
from tickets.watches import WORKING_DAY, Watch, fixed_window, watch_register


def register() -> None:
    # A callback is due by the end of a working day: it warns late on that day. Callbacks of
    # key accounts have no ticket, and are on the workbench's list instead.
    watch_register(
        Watch(
            milestone=AlertMilestone.CALLBACK,
            model=Callback,
            due_field="due_at",
            ticket_field="ticket_id",
            pending=Q(state=Callback.State.PENDING, ticket__isnull=False),
            grade_field="ticket__grade",
            windows=fixed_window(WORKING_DAY),
        )
    )
    # The first answer within the hour; the final one within a working day of the
    # department's answer.
    watch_register(
        Watch(
            milestone=AlertMilestone.COMPLAINT_FIRST_REPLY,
            model=Complaint,
            due_field="first_reply_due",
            ticket_field="ticket_id",
            pending=Q(first_replied_at__isnull=True),
            grade_field="ticket__grade",
            windows=fixed_window(timedelta(hours=1)),
        )
    )
    watch_register(
        Watch(
            milestone=AlertMilestone.COMPLAINT_FINAL_REPLY,
            model=Complaint,
            due_field="final_reply_due",
            ticket_field="ticket_id",
            pending=Q(final_replied_at__isnull=True, final_reply_due__isnull=False),
            grade_field="ticket__grade",
            windows=fixed_window(WORKING_DAY),
        )
    )
