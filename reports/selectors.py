"""Reads of the reports: the figures each kind is computed from, and the reports themselves.

Every figure is an aggregate in SQL over an indexed range of one period, so a report costs
the same few queries however many tickets the period had.
"""

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from callcentre.models import Call
from dispatch.models import UnclosedPlan
from reports.models import Report
from reports.periods import Period
from tickets.choices import OPEN_STATES, State
from tickets.errors import ApplicationError
from tickets.milestones import MILESTONES
from tickets.models import Ticket

# A shift report lists this many of its unclosed tickets by name; the count covers them all.
UNCLOSED_LISTED = 500


def _share(count: int, total: int) -> float:
    return round(100 * count / total, 1) if total else 0.0


def shift_figures(*, period: Period) -> dict:
    """Return the figures of the shift report (工单处理日报) for ``period``.

    Calls received, valid requests (tickets neither cancelled nor merged into another), the
    share of each fault type, and the tickets received in the shift still open at its end,
    each with why.
    """
    in_period = {"created_at__gte": period.start, "created_at__lt": period.end}
    calls = Call.objects.filter(direction=Call.Direction.INBOUND, **in_period).aggregate(
        received=Count("pk"),
        answered=Count("pk", filter=Q(answered_at__isnull=False)),
        abandoned=Count("pk", filter=Q(abandoned=True)),
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
        row["share"] = _share(row["count"], counts["valid"])
    return {
        "calls": calls,
        "tickets": counts,
        "by_fault": by_fault,
        "unclosed": _unclosed_at_end(valid, period),
    }


def _unclosed_at_end(valid: QuerySet[Ticket], period: Period) -> dict:
    still_open = Q(state__in=OPEN_STATES) | Q(closed_at__gte=period.end)
    unclosed = valid.filter(still_open)
    reason = UnclosedPlan.objects.filter(
        ticket=OuterRef("pk"), day__lte=timezone.localtime(period.end).date()
    ).order_by("-day")
    rows = []
    listed = (
        unclosed.select_related("fault_type", "crew", "department", "community")
        .annotate(plan_reason=Subquery(reason.values("reason")[:1]))
        .order_by("received_at", "id")[:UNCLOSED_LISTED]
    )
    for ticket in listed:
        rows.append(
            {
                "number": ticket.number,
                "received_at": ticket.received_at.isoformat(),
                "grade": ticket.get_grade_display(),
                "fault_type": str(ticket.fault_type),
                "address": ticket.address_line(),
                "state": ticket.get_state_display(),
                "with": str(ticket.crew or ticket.department or ""),
                "reason": ticket.plan_reason or _open_because(ticket, period),
            }
        )
    return {"count": unclosed.count(), "rows": rows}


def _open_because(ticket: Ticket, period: Period) -> str:
    """Return why a ticket is still open when the dispatcher has not said: what it waits
    for, and whether that is overdue."""
    for milestone, spec in MILESTONES.items():
        due = getattr(ticket, spec.due_field)
        if ticket.state in spec.pending_states and due is not None:
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


FIGURES = {Report.Kind.SHIFT: shift_figures}


def reports_of_kind(*, kind: str) -> QuerySet[Report]:
    return Report.objects.filter(kind=kind).select_related("submitted_by", "approved_by")


def report_get(*, pk: int) -> Report:
    report = Report.objects.select_related("submitted_by", "approved_by").filter(pk=pk).first()
    if report is None:
        raise ApplicationError(_("No such report."), code="not_found")
    return report
