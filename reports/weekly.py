"""The weekly report: 12345 transfers, complaints by cause, repair and consult volumes."""

from datetime import timedelta

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from followups.models import Callback
from reports.periods import Period
from reports.selectors import listed, share_of, ticket_row, valid_received
from tickets.choices import Category, Channel
from tickets.models import Ticket


def weekly_figures(*, period: Period) -> dict:
    """Return the figures of the weekly report for the week ``period``.

    The tickets transferred from the 12345 government hotline (how many were closed, their
    callbacks on time), the complaints by cause with their replies on time, and the repair
    and consult tickets of each day against the week before.
    """
    valid = valid_received(period)
    return {
        "transfers": _transfers(valid.filter(channel=Channel.GOV_12345), period),
        "complaints": complaints_by_cause(valid.filter(category=Category.COMPLAINT), period),
        "volumes": _volumes(valid, period),
    }


def _transfers(transfers: QuerySet[Ticket], period: Period) -> dict:
    counts = transfers.aggregate(
        received=Count("pk"), closed=Count("pk", filter=Q(closed_at__lt=period.end))
    )
    # Each transfer is called back within 3 working days; those due by the week's end count.
    callbacks = Callback.objects.filter(ticket__in=transfers, due_at__lt=period.end).aggregate(
        due=Count("pk"),
        on_time=Count("pk", filter=Q(state=Callback.State.DONE, done_at__lte=F("due_at"))),
    )
    return {
        **counts,
        "callbacks": {**callbacks, "share": share_of(callbacks["on_time"], callbacks["due"])},
        "by_category": list(
            transfers.values("category").annotate(count=Count("pk")).order_by("-count", "category")
        ),
        "rows": [ticket_row(ticket, period) for ticket in listed(transfers, period)],
    }


def complaints_by_cause(complaints: QuerySet[Ticket], period: Period) -> dict:
    """Return the complaints received in ``period`` by cause (their fault type), with how
    many had their first and their final reply in time.

    A reply deadline counts once it is met or past by the end of the period.
    """
    first_counted = Q(complaint__first_replied_at__isnull=False) | Q(
        complaint__first_reply_due__lt=period.end
    )
    final_counted = Q(complaint__final_reply_due__isnull=False) & (
        Q(complaint__final_replied_at__isnull=False) | Q(complaint__final_reply_due__lt=period.end)
    )
    aggregates = {
        "count": Count("pk"),
        "closed": Count("pk", filter=Q(closed_at__lt=period.end)),
        "first_counted": Count("pk", filter=Q(complaint__isnull=False) & first_counted),
        "first_met": Count(
            "pk",
            filter=first_counted
            & Q(complaint__first_replied_at__lte=F("complaint__first_reply_due")),
        ),
        "final_counted": Count("pk", filter=final_counted),
        "final_met": Count(
            "pk",
            filter=final_counted
            & Q(complaint__final_replied_at__lte=F("complaint__final_reply_due")),
        ),
    }
    by_cause = list(
        complaints.values(cause=F("fault_type__name"))
        .annotate(**aggregates)
        .order_by("-count", "cause")
    )
    total = {name: sum(row[name] for row in by_cause) for name in aggregates}
    for row in by_cause:
        row["share"] = share_of(row["count"], total["count"])
    return {
        **total,
        "first_share": share_of(total["first_met"], total["first_counted"]),
        "final_share": share_of(total["final_met"], total["final_counted"]),
        "by_cause": by_cause,
    }


def _volumes(valid: QuerySet[Ticket], period: Period) -> dict:
    """Return the repair and consult tickets of each day of the week, and of the week before."""
    kinds = [Category.REPAIR.value, Category.CONSULT.value]
    counted = {kind: Count("pk", filter=Q(category=kind)) for kind in kinds}
    per_day = {
        row["day"]: row
        for row in valid.filter(category__in=kinds)
        .annotate(day=TruncDate("received_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(**counted)
    }
    days = []
    day = timezone.localtime(period.start).date()
    while day < timezone.localtime(period.end).date():
        row = per_day.get(day, {})
        days.append({"day": day.isoformat(), **{kind: row.get(kind, 0) for kind in kinds}})
        day += timedelta(days=1)
    length = period.end - period.start
    previous = valid_received(Period(period.start - length, period.start)).aggregate(**counted)
    return {
        "days": days,
        **{kind: sum(row[kind] for row in days) for kind in kinds},
        "previous": previous,
    }
