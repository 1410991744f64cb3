from datetime import datetime, time

from django.db.models import Count, Q
from django.utils import timezone

from staffing.models import SeatSession, User
from tickets.choices import OPEN_STATES, WITH_CREW_STATES, State
from tickets.models import Ticket
from tickets.selectors import any_overdue_filter, ticket_list_for_user


def home_summary_for_user(*, user) -> dict[str, int]:
    """Return the ticket counts a person's home page shows, in one query.

    Only open tickets and today's are read, through their indexes, so the cost does not grow
    with the years of closed tickets behind them.
    """
    now = timezone.now()
    today = timezone.make_aware(datetime.combine(timezone.localdate(now), time.min))
    open_ = Q(state__in=OPEN_STATES)
    received_today = Q(received_at__gte=today)
    closed_today = Q(state=State.CLOSED, closed_at__gte=today)
    return (
        ticket_list_for_user(user=user)
        .filter(open_ | received_today | closed_today)
        .aggregate(
            open=Count("pk", filter=open_),
            new=Count("pk", filter=Q(state=State.NEW)),
            to_dispatch=Count("pk", filter=Q(state=State.VERIFIED)),
            in_the_field=Count("pk", filter=Q(state__in=WITH_CREW_STATES)),
            overdue=Count("pk", filter=any_overdue_filter(now=now)),
            received_today=Count("pk", filter=received_today),
            closed_today=Count("pk", filter=closed_today),
        )
    )


def home_tickets_for_user(*, user, limit: int = 10) -> list[Ticket]:
    """Return the open tickets that have waited longest, for a person's home page.

    A crew sees only the work still in its hands: a resolved ticket waits for the
    dispatcher, not for them.
    """
    states = OPEN_STATES
    if not user.has_perm("tickets.view_all_tickets"):
        states = [*WITH_CREW_STATES, State.REFERRED]
    return list(
        ticket_list_for_user(user=user)
        .filter(state__in=states)
        .order_by("received_at", "id")[:limit]
    )


def seat_agent(extension: str) -> User | None:
    """Return the active agent signed into the seat with ``extension``, if any."""
    session = (
        SeatSession.objects.filter(
            seat__extension=extension, signed_out_at__isnull=True, agent__is_active=True
        )
        .select_related("agent")
        .first()
    )
    return None if session is None else session.agent
