"""Reads of the reports: the figures each kind is computed from, and the reports themselves.

Every figure is an aggregate in SQL over an indexed range of one period, so a report costs
the same few queries however many tickets the period had.
"""

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.http import QueryDict
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from callcentre.models import Call
from dispatch.models import Crew, UnclosedPlan
from followups.models import Callback
from outages.selectors import outage_rows
from reports.models import Export, Report
from reports.periods import Period
from tickets.choices import OPEN_STATES, State
from tickets.errors import ApplicationError, invalid
from tickets.filters import TicketFilter, ticket_filter_query
from tickets.milestones import MILESTONES
from tickets.models import Ticket
from tickets.selectors import any_overdue_filter, ticket_list_for_user

# A report lists this many tickets of a kind (unclosed, overdue) by name; its count covers
# them all.
LISTED = 500


def share_of(count: int, total: int) -> float | None:
    """Return ``count`` as a percentage of ``total``, to one decimal; None of nothing."""
    return round(100 * count / total, 1) if total else None


def shift_figures(*, period: Period) -> dict:
    """Return the figures of the shift report (工单处理日报) for ``period``.

    Calls received, valid requests (tickets neither cancelled nor merged into another), the
    share of each fault type, and the tickets received in the shift still open at its end,
    each with why.
    """
    in_period = {"created_at__gte": period.start, "created_at__lt": period.end}
    calls = Call.objects.filter(direction=Call.Direction.INBOUND, **in_period).aggregate(
        **CALL_COUNTS
    )
    tickets = Ticket.objects.filter(received_at__gte=period.start, received_at__lt=period.end)
    counts = tickets.aggregate(
        received=Count("pk"),
        cancelled=Count("pk", filter=Q(state=State.CANCELLED)),
        merged=Count("pk", filter=Q(state=State.MERGED)),
    )
    valid = tickets.exclude(state__in=[State.CANCELLED, State.MERGED])
    counts["valid"] = counts["received"] - counts["cancelled"] - counts["merged"]
    by_fault = [
        {"fault_type": row["fault_type__name"], "count": row["count"]}
        for row in valid.values("fault_type__name")
        .annotate(count=Count("pk"))
        .order_by("-count", "fault_type__name")
    ]
    for row in by_fault:
        row["share"] = share_of(row["count"], counts["valid"])
    return {
        "calls": calls,
        "tickets": counts,
        "by_fault": by_fault,
        "unclosed": _unclosed_at_end(valid, period),
    }


def _unclosed_at_end(valid: QuerySet[Ticket], period: Period) -> dict:
    still_open = Q(state__in=OPEN_STATES) | Q(closed_at__gte=period.end)
    unclosed = valid.filter(still_open)
    return {
        "count": unclosed.count(),
        "rows": [ticket_row(ticket, period) for ticket in listed(unclosed, period)],
    }


def listed(tickets: QuerySet[Ticket], period: Period) -> QuerySet[Ticket]:
    """Return the first ``LISTED`` of ``tickets``, the oldest first, each with the
    dispatcher's latest note on why it is open (``plan_reason``)."""
    reason = UnclosedPlan.objects.filter(
        ticket=OuterRef("pk"), day__lte=timezone.localtime(period.end).date()
    ).order_by("-day")
    return (
        tickets.select_related("fault_type", "crew", "department", "community")
        .annotate(plan_reason=Subquery(reason.values("reason")[:1]))
        .order_by("received_at", "id")[:LISTED]
    )


def ticket_row(ticket: Ticket, period: Period) -> dict:
    return {
        "number": ticket.number,
        "external_ref": ticket.external_ref,
        "received_at": ticket.received_at.isoformat(),
        "grade": ticket.get_grade_display(),
        "fault_type": str(ticket.fault_type),
        "address": ticket.address_line(),
        "state": ticket.get_state_display(),
        "with": str(ticket.crew or ticket.department or ""),
        "reason": ticket.plan_reason or _open_because(ticket, period),
    }


def _open_because(ticket: Ticket, period: Period) -> str:
    """Return why a ticket was still open at the end of ``period`` when the dispatcher has
    not said: the first milestone not done by then, and whether it was overdue."""
    for milestone, spec in MILESTONES.items():
        due, done = getattr(ticket, spec.due_field), getattr(ticket, spec.done_field)
        if due is None or (done is not None and done < period.end):
            continue
        if done is None and ticket.state not in spec.pending_states:
            continue  # a step this ticket skips (a referral is never accepted by a crew)
        when = formats.date_format(timezone.localtime(due), "m-d H:i")
        if due < period.end:
            return _("%(milestone)s overdue since %(time)s") % {
                "milestone": milestone.label,
                "time": when,
            }
        return _("waiting: %(milestone)s by %(time)s") % {
            "milestone": milestone.label,
            "time": when,
        }
    return _("waiting: %(state)s") % {"state": ticket.get_state_display()}


# What a callback's answers count: the callbacks done, and each answer to "satisfied?".
SATISFACTION_COUNTS = {
    "done": Count("pk"),
    **{
        choice.value: Count("pk", filter=Q(satisfaction=choice.value))
        for choice in Callback.Satisfaction
    },
}


def satisfaction_of(counts: dict) -> dict:
    """Return ``counts`` (of SATISFACTION_COUNTS) with the share satisfied or basically so."""
    satisfied = counts[Callback.Satisfaction.SATISFIED] + counts[Callback.Satisfaction.BASICALLY]
    return {**counts, "share": share_of(satisfied, counts["done"])}


def valid_received(period: Period) -> QuerySet[Ticket]:
    """Return the valid requests received in ``period``: neither cancelled nor merged."""
    return Ticket.objects.filter(received_at__gte=period.start, received_at__lt=period.end).exclude(
        state__in=[State.CANCELLED, State.MERGED]
    )


# What the calls of a period count: those received, answered and abandoned.
CALL_COUNTS = {
    "received": Count("pk"),
    "answered": Count("pk", filter=Q(answered_at__isnull=False)),
    "abandoned": Count("pk", filter=Q(abandoned=True)),
}


def deadline_filters(*, due: str, done: str, period: Period) -> tuple[Q, Q]:
    """Return the filters of the deadlines in field ``due`` that count by the end of
    ``period`` (met, or past), and of those that were met (done by the deadline)."""
    counted = Q(**{f"{due}__isnull": False}) & (
        Q(**{f"{done}__isnull": False}) | Q(**{f"{due}__lt": period.end})
    )
    return counted, counted & Q(**{f"{done}__lte": F(due)})


def met_counts(period: Period) -> dict:
    """Aggregates of every milestone's deadlines that count by the end of ``period``
    (``<milestone>_counted``), and of those met (``<milestone>_met``)."""
    aggregates = {}
    for milestone, spec in MILESTONES.items():
        counted, met = deadline_filters(due=spec.due_field, done=spec.done_field, period=period)
        aggregates[f"{milestone.value}_counted"] = Count("pk", filter=counted)
        aggregates[f"{milestone.value}_met"] = Count("pk", filter=met)
    return aggregates


def crews_on_duty() -> list:
    """Return the crews on duty now, by name: today's staffing until the rosters come."""
    return list(Crew.objects.filter(is_active=True, is_on_duty=True).order_by("name"))


def reports_of_kind(*, kind: str) -> QuerySet[Report]:
    return Report.objects.filter(kind=kind).select_related("submitted_by", "approved_by")


def report_get(*, pk: int) -> Report:
    report = Report.objects.select_related("submitted_by", "approved_by").filter(pk=pk).first()
    if report is None:
        raise ApplicationError(_("No such report."), code="not_found")
    return report


def daily_figures(*, period: Period) -> dict:
    """Return the figures of the morning meeting for the day ``period``.

    The day's completion rate, its SLA compliance per milestone and grade (a deadline counts
    once it is met or past), satisfaction from the day's callbacks, the tickets overdue at
    the day's end, and the day's special tickets.
    """
    valid = valid_received(period)
    done = valid.aggregate(
        valid=Count("pk"), closed=Count("pk", filter=Q(closed_at__lt=period.end))
    )
    compliance = []
    for row in valid.values("grade").annotate(**met_counts(period)).order_by("grade"):
        for milestone in MILESTONES:
            counted = row[f"{milestone.value}_counted"]
            if counted:
                met = row[f"{milestone.value}_met"]
                compliance.append(
                    {
                        "grade": row["grade"],
                        "milestone": milestone.value,
                        "counted": counted,
                        "met": met,
                        "share": share_of(met, counted),
                    }
                )
    callbacks = Callback.objects.filter(
        done_at__gte=period.start, done_at__lt=period.end, state=Callback.State.DONE
    ).aggregate(**SATISFACTION_COUNTS)
    overdue = Ticket.objects.filter(any_overdue_filter(now=period.end), state__in=OPEN_STATES)
    return {
        # The outages and incidents of the day, each with its calls and texts.
        "outages": outage_rows(start=period.start, end=period.end),
        "completion": {**done, "share": share_of(done["closed"], done["valid"])},
        "compliance": compliance,
        "satisfaction": satisfaction_of(callbacks),
        "overdue": {
            "count": overdue.count(),
            "by_grade": dict(
                overdue.values_list("grade").annotate(count=Count("pk")).order_by("grade")
            ),
            "rows": [ticket_row(ticket, period) for ticket in listed(overdue, period)],
        },
        "special": [
            ticket_row(ticket, period) for ticket in listed(valid.filter(is_special=True), period)
        ],
    }


def export_tickets(*, export: Export) -> QuerySet[Ticket]:
    """Return the tickets an export holds: the list's filters over what its requester may
    see, read when the export runs."""
    filters = TicketFilter(
        ticket_filter_query(QueryDict(export.query)),
        queryset=ticket_list_for_user(user=export.requested_by),
    )
    if not filters.is_valid():
        raise invalid({name: " ".join(errors) for name, errors in filters.errors.items()})
    return filters.qs


def exports_for_user(*, user) -> QuerySet[Export]:
    return Export.objects.filter(requested_by=user)


def export_get_for_user(*, user, pk: int) -> Export:
    export = exports_for_user(user=user).filter(pk=pk).first()
    if export is None:
        raise ApplicationError(_("No such export."), code="not_found")
    return export
