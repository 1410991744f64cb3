"""Ticket numbers: the local date and a per-day sequence, e.g. 261122-0007."""

from datetime import datetime

from django.db import connection
from django.utils import timezone

from tickets.models import TicketSequence


def ticket_number_next(*, at: datetime) -> str:
    """Return the next number for a ticket received at ``at``.

    One upsert both creates the day's counter and increments it; the row lock it takes
    serialises concurrent callers, so numbers are unique without a retry loop.
    """
    day = timezone.localdate(at)
    table = connection.ops.quote_name(TicketSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 - table name only
            "ON CONFLICT (day) DO UPDATE SET last = "
            f"{table}.last + 1 RETURNING last",
            [day],
        )
        (sequence,) = cursor.fetchone()
    return f"{day:%y%m%d}-{sequence:04d}"
