"""Counts in the database that say whether a fault lost or doubled anything."""

from collections import Counter
from datetime import datetime

from django.db import connection, transaction
from django.db.models import CharField, Count, Exists, OuterRef, Value
from django.db.models.functions import Cast, Concat

from dispatch.models import Assignment, OutboundMessage, SmsRecord
from reports.models import Report
from reports.services import CATCH_UP, PERIODS_ENDED
from tickets.models import Alert, AlertCursor, Ticket, TicketEvent
from tickets.services import alerts_sweep


def fresh() -> None:
    """Drop the runner's own connection: the server may have been restarted under it."""
    connection.close()


def alerts_found(ticket_ids: list[int]) -> Counter:
    """The alerts raised for these tickets, by (milestone, level)."""
    rows = Alert.objects.filter(ticket_id__in=ticket_ids).values_list("milestone", "level")
    return Counter(rows)


def alerts_expected(ticket_ids: list[int], *, now: datetime) -> Counter:
    """The alerts these tickets should have by ``now``, by (milestone, level): what a first
    sweep, from no watermark and none of their alerts, raises. Worked out in a transaction
    that is rolled back, so it changes nothing (and sends no message)."""
    with transaction.atomic():
        Alert.objects.filter(ticket_id__in=ticket_ids).delete()
        AlertCursor.objects.all().delete()
        alerts_sweep(now=now)
        expected = alerts_found(ticket_ids)
        transaction.set_rollback(True)
    return expected


def alert_duplicates() -> int:
    """Alerts raised twice for one (ticket, milestone, level, deadline)."""
    return (
        Alert.objects.values("ticket_id", "milestone", "level", "due_at")
        .annotate(times=Count("pk"))
        .filter(times__gt=1)
        .count()
    )


def reports_missing(*, now: datetime) -> tuple[int, int]:
    """Return how many reports beat should have made by ``now`` (the periods ended in its
    catch-up window) and how many of them are missing."""
    expected = {
        (kind, period.start)
        for kind, ended in PERIODS_ENDED.items()
        for period in ended(since=now - CATCH_UP, until=now)
    }
    found = set(Report.objects.values_list("kind", "period_start"))
    return len(expected), len(expected - found)


def report_duplicates() -> int:
    return (
        Report.objects.values("kind", "period_start")
        .annotate(times=Count("pk"))
        .filter(times__gt=1)
        .count()
    )


def messages() -> dict[str, int]:
    """The outbox by status, and what reached the gateway (the table the demo's gateway
    writes), with any text that reached it twice."""
    by_status = dict(
        OutboundMessage.objects.values_list("status").annotate(n=Count("pk")).order_by()
    )
    twice = (
        SmsRecord.objects.values("to_phone", "body")
        .annotate(times=Count("pk"))
        .filter(times__gt=1)
        .count()
    )
    return {
        "queued": sum(by_status.values()),
        "pending": by_status.get(OutboundMessage.Status.PENDING, 0),
        "failed": by_status.get(OutboundMessage.Status.FAILED, 0),
        "sent": by_status.get(OutboundMessage.Status.SENT, 0),
        "delivered": SmsRecord.objects.count(),
        "delivered_twice": twice,
    }


def tickets_half_written() -> int:
    """Tickets without the event that records their creation: a write cut in the middle."""
    return Ticket.objects.filter(~Exists(TicketEvent.objects.filter(ticket=OuterRef("pk")))).count()


def dispatches_half_written() -> int:
    """Dispatches (their event) without what the same transaction writes with them: the
    crew's assignment and the crew leader's text message."""
    dispatches = TicketEvent.objects.filter(action=TicketEvent.Action.DISPATCHED)
    assignment = Assignment.objects.filter(ticket=OuterRef("ticket"), dispatched_at=OuterRef("at"))
    key = Concat(Value("crew-dispatched:"), Cast(OuterRef("pk"), CharField()))
    text = OutboundMessage.objects.filter(dedupe_key=key)
    return dispatches.filter(~Exists(assignment) | ~Exists(text)).count()


def writing_backends() -> int:
    """Other sessions of our database inside a transaction that has written something."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
        )
        return cursor.fetchone()[0]
