from django.db.models import Count, Q
from django.utils import timezone

from tickets.choices import FINAL_STATES, State
from tickets.models import Ticket
from tickets.selectors import any_overdue_filter, ticket_list_for_user


def home_summary_for_user(*, user) -> dict[str, int]:
    """Return the ticket counts a person's home page shows, in one query."""
    now = timezone.now()
    today = timezone.localdate(now)
    open_ = ~Q(state__in=FINAL_STATES)
    return ticket_list_for_user(user=user).aggregate(
        open=Count("pk", filter=open_),
        new=Count("pk", filter=Q(state=State.NEW)),
        to_dispatch=Count("pk", filter=Q(state=State.VERIFIED)),
        in_the_field=Count(
            "pk", filter=Q(state__in=[State.DISPATCHED, State.ACCEPTED, State.ON_SITE])
        ),
        overdue=Count("pk", filter=any_overdue_filter(now=now)),
        received_today=Count("pk", filter=Q(received_at__date=today)),
        closed_today=Count("pk", filter=Q(state=State.CLOSED, closed_at__date=today)),
    )


def home_tickets_for_user(*, user, limit: int = 10) -> list[Ticket]:
    """Return the open tickets that have waited longest, for a person's home page."""
    return list(
        ticket_list_for_user(user=user)
        .exclude(state__in=FINAL_STATES)
        .order_by("sla_started_at", "id")[:limit]
    )
