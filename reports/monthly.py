"""The monthly service-quality improvement report (服务质量改进报告).

What the supervisor reads to find the centre's frequent problems and to set the next month's
targets: problems ranked by fault type, district and time of day, SLA compliance by crew and
district against the deadlines as first set and as extended, extensions by cause, the
satisfaction trend, the addresses with repeated faults, and who was held accountable.
"""

from datetime import timedelta

from django.db.models import Case, Count, Exists, F, Max, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.functions import ExtractHour, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from callcentre.selectors import REPEAT_FAULT_COUNT
from followups.models import Accountability, Callback
from reports.models import Report, Target
from reports.periods import Period, month_of
from reports.selectors import (
    SATISFACTION_COUNTS,
    deadline_filters,
    satisfaction_of,
    share_of,
    valid_received,
)
from reports.weekly import complaints_by_cause
from tickets.choices import Category, ExtensionState, Milestone
from tickets.milestones import MILESTONES
from tickets.models import ExtensionRequest, Ticket
from tickets.selectors import deadline_missed_filter, tickets_with_original_deadlines

# The frequent problems the report ranks, and the repeat-fault addresses it lists.
RANKED = 30
# The months the satisfaction trend covers, this one included.
TREND_MONTHS = 6


class DayPart:
    """The parts of the day a problem is ranked in: the hour each starts."""

    NIGHT, MORNING, AFTERNOON, EVENING = "night", "morning", "afternoon", "evening"
    STARTS = ((0, NIGHT), (6, MORNING), (12, AFTERNOON), (18, EVENING))
    LABELS = {
        NIGHT: _("Night (00–06)"),
        MORNING: _("Morning (06–12)"),
        AFTERNOON: _("Afternoon (12–18)"),
        EVENING: _("Evening (18–24)"),
    }


def monthly_figures(*, period: Period) -> dict:
    """Return the figures of the monthly service-quality report for the month ``period``."""
    valid = valid_received(period)
    compliance = {
        "crew": _compliance_by(valid.filter(crew__isnull=False), "crew__name", period),
        "district": _compliance_by(valid, "district__name", period),
    }
    satisfaction = _satisfaction_trend(period)
    completion = valid.aggregate(
        valid=Count("pk"), closed=Count("pk", filter=Q(closed_at__lt=period.end))
    )
    overall_counted = sum(row["counted"] for row in compliance["district"])
    overall_met = sum(row["met"] for row in compliance["district"])
    return {
        "frequent": _frequent_problems(valid, period),
        "day_parts": _day_parts(valid, period),
        "compliance": compliance,
        "extensions": _extensions(period),
        "satisfaction": satisfaction,
        "complaints": complaints_by_cause(valid.filter(category=Category.COMPLAINT), period),
        "repeat_addresses": _repeat_addresses(valid),
        "accountability": _accountability(period),
        "actual": {
            Target.COMPLETION.value: share_of(completion["closed"], completion["valid"]),
            Target.SLA.value: share_of(overall_met, overall_counted),
            Target.SATISFACTION.value: satisfaction[-1]["share"],
        },
        # The targets the supervisor set in last month's report, as they were then.
        "targets": _previous_targets(period),
    }


def _with_day_part(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """Annotate ``day_part``: the part of the day, in local time, the ticket came in."""
    hour = ExtractHour("received_at", tzinfo=timezone.get_current_timezone())
    return tickets.annotate(received_hour=hour).annotate(
        day_part=Case(
            *(
                When(received_hour__gte=start, then=Value(part))
                for start, part in reversed(DayPart.STARTS[1:])
            ),
            default=Value(DayPart.NIGHT),
        )
    )


def _response_counts(period: Period) -> dict:
    """Aggregates of the response deadlines (dispatch, arrival): those that count, and those
    missed; a slow response shows as a high share missed."""
    aggregates = {"tickets": Count("pk")}
    for milestone in (Milestone.DISPATCH, Milestone.ARRIVE):
        spec = MILESTONES[milestone]
        counted, _met = deadline_filters(due=spec.due_field, done=spec.done_field, period=period)
        missed = deadline_missed_filter(milestone=milestone, now=period.end)
        aggregates[f"{milestone.value}_counted"] = Count("pk", filter=counted)
        aggregates[f"{milestone.value}_missed"] = Count("pk", filter=missed)
    return aggregates


def _with_response(row: dict) -> dict:
    counted = row["dispatch_counted"] + row["arrive_counted"]
    missed = row["dispatch_missed"] + row["arrive_missed"]
    share = share_of(missed, counted)
    return {**row, "responses": counted, "missed": missed, "missed_share": share}


def _frequent_problems(valid: QuerySet[Ticket], period: Period) -> list[dict]:
    """Return the most frequent (fault type, district, part of day) combinations, each with
    how many of its response deadlines were missed."""
    rows = (
        _with_day_part(valid)
        .values("day_part", fault=F("fault_type__name"), district_name=F("district__name"))
        .annotate(**_response_counts(period))
        .order_by("-tickets", "fault", "district_name", "day_part")[:RANKED]
    )
    return [_with_response(row) for row in rows]


def _day_parts(valid: QuerySet[Ticket], period: Period) -> list[dict]:
    """Return each part of the day with its tickets and missed response deadlines."""
    found = {
        row["day_part"]: row
        for row in _with_day_part(valid).values("day_part").annotate(**_response_counts(period))
    }
    empty = dict.fromkeys(_response_counts(period), 0)
    return [
        _with_response({**empty, **found.get(part, {}), "day_part": part})
        for _start, part in DayPart.STARTS
    ]


def _met_counts(tickets: QuerySet[Ticket], key: str, period: Period, *, original: bool) -> dict:
    """Return, per value of ``key``, the deadlines of every milestone that count and those
    met, against the deadlines as extended (the ticket's) or as first set (``original``)."""
    aggregates = {}
    for milestone, spec in MILESTONES.items():
        due = f"original_{milestone.value}_due" if original else spec.due_field
        counted, met = deadline_filters(due=due, done=spec.done_field, period=period)
        aggregates[f"{milestone.value}_counted"] = Count("pk", filter=counted)
        aggregates[f"{milestone.value}_met"] = Count("pk", filter=met)
    totals = {}
    for row in tickets.values(name=F(key)).annotate(**aggregates).order_by():
        totals[row["name"]] = tuple(
            sum(row[f"{milestone.value}_{part}"] for milestone in MILESTONES)
            for part in ("counted", "met")
        )
    return totals


def _compliance_by(tickets: QuerySet[Ticket], key: str, period: Period) -> list[dict]:
    """Return SLA compliance per value of ``key`` (a crew's or a district's name), against
    the deadlines as extended and as first set.

    Only the tickets with an approved extension have a first deadline other than their
    own; those alone are read again with their original deadlines, so the month is read
    once in full.
    """
    extended = tickets_with_original_deadlines(
        tickets.filter(
            Exists(
                ExtensionRequest.objects.filter(
                    ticket=OuterRef("pk"), state=ExtensionState.APPROVED
                )
            )
        )
    )
    every = _met_counts(tickets, key, period, original=False)
    extended_own = _met_counts(extended, key, period, original=False)
    extended_original = _met_counts(extended, key, period, original=True)
    rows = []
    for name, (counted, met) in every.items():
        own_counted, own_met = extended_own.get(name, (0, 0))
        first_counted, first_met = extended_original.get(name, (0, 0))
        original_counted = counted - own_counted + first_counted
        original_met = met - own_met + first_met
        rows.append(
            {
                "name": name,
                "counted": counted,
                "met": met,
                "share": share_of(met, counted),
                "original_counted": original_counted,
                "original_met": original_met,
                "original_share": share_of(original_met, original_counted),
            }
        )
    # The worst first: what the supervisor has to act on.
    return sorted(
        rows, key=lambda row: (row["share"] is None, row["share"] or 0, row["name"] or "")
    )


def _extensions(period: Period) -> list[dict]:
    """Return the extensions asked for in ``period`` by cause, and how they were decided."""
    return list(
        ExtensionRequest.objects.filter(requested_at__gte=period.start, requested_at__lt=period.end)
        .values("cause")
        .annotate(
            requested=Count("pk"),
            **{state.value: Count("pk", filter=Q(state=state)) for state in ExtensionState},
        )
        .order_by("cause")
    )


def _satisfaction_trend(period: Period) -> list[dict]:
    """Return the satisfaction of each of the last TREND_MONTHS months, this one last."""
    months = [period]
    while len(months) < TREND_MONTHS:
        months.insert(0, month_of(months[0].start - timedelta(days=1)))
    local = timezone.get_current_timezone()
    found = {
        timezone.localtime(row["month"]).date(): row
        for row in Callback.objects.filter(
            state=Callback.State.DONE, done_at__gte=months[0].start, done_at__lt=period.end
        )
        .annotate(month=TruncMonth("done_at", tzinfo=local))
        .values("month")
        .annotate(**SATISFACTION_COUNTS)
    }
    empty = dict.fromkeys(SATISFACTION_COUNTS, 0)
    trend = []
    for month in months:
        day = timezone.localtime(month.start).date()
        row = {key: found.get(day, empty)[key] for key in SATISFACTION_COUNTS}
        trend.append({"month": day.strftime("%Y-%m"), **satisfaction_of(row)})
    return trend


def _repeat_addresses(valid: QuerySet[Ticket]) -> list[dict]:
    """Return the addresses (community, building, unit) with repeated repairs in the month."""
    return list(
        valid.filter(category=Category.REPAIR, community__isnull=False)
        .values("building", "unit", community_name=F("community__name"))
        .annotate(repairs=Count("pk"), last=Max("number"))
        .filter(repairs__gte=REPEAT_FAULT_COUNT)
        .order_by("-repairs", "community_name", "building", "unit")[:RANKED]
    )


def _accountability(period: Period) -> dict:
    """Return the accountability records of ``period``, and the deductions per party."""
    records = Accountability.objects.filter(
        recorded_at__gte=period.start, recorded_at__lt=period.end
    )
    rows = [
        {
            "recorded_at": record.recorded_at.isoformat(),
            "ticket": record.ticket.number if record.ticket else "",
            "party": str(record.crew or record.department or ""),
            "person": record.person,
            "points": float(record.deduction_points),
            "reason": record.reason,
        }
        for record in records.select_related("ticket", "crew", "department").order_by(
            "recorded_at", "id"
        )[:500]
    ]
    totals = records.aggregate(records=Count("pk"), points=Sum("deduction_points"))
    return {"count": totals["records"], "points": float(totals["points"] or 0), "rows": rows}


def _previous_targets(period: Period) -> dict:
    previous = month_of(period.start - timedelta(days=1))
    report = Report.objects.filter(kind=Report.Kind.MONTHLY, period_start=previous.start).first()
    return report.targets if report is not None else {}
