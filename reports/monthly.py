"""The monthly service-quality improvement report (服务质量改进报告).

What the supervisor reads to find the centre's frequent problems and to set the next month's
targets: problems ranked by fault type, district and time of day, SLA compliance by crew and
district against the deadlines as first set and as extended, extensions by cause, the
satisfaction trend, the addresses with repeated faults, and who was held accountable.
"""

from datetime import timedelta

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import ExtractHour, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from callcentre.selectors import REPEAT_FAULT_COUNT
from followups.models import Accountability, Callback
from outages.selectors import outage_rows
from reports.models import Report, Target
from reports.periods import Period, month_of
from reports.selectors import (
    SATISFACTION_COUNTS,
    deadline_filters,
    met_counts,
    satisfaction_of,
    share_of,
    valid_received,
)
from reports.weekly import complaints_by_cause
from tickets.choices import Category, ExtensionState, Milestone
from tickets.milestones import MILESTONES
from tickets.models import ExtensionRequest, Ticket
from tickets.selectors import deadline_missed_filter

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
    """Return the figures of the monthly service-quality report for the month ``period``.

    The month's tickets are read in full three times, each in one query: by crew and district
    (compliance and completion), by fault type, district and part of the day (the frequent
    problems and the parts of the day), and by address (the repeat faults). The rest reads
    the month's complaints, extensions, callbacks and accountability records.
    """
    valid = valid_received(period)
    compliance, completion = _compliance(valid, period)
    frequent, day_parts = _problems(valid, period)
    satisfaction = _satisfaction_trend(period)
    overall_counted = sum(row["counted"] for row in compliance["district"])
    overall_met = sum(row["met"] for row in compliance["district"])
    return {
        "outages": outage_rows(start=period.start, end=period.end),
        "frequent": frequent,
        "day_parts": day_parts,
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


def _problems(valid: QuerySet[Ticket], period: Period) -> tuple[list[dict], list[dict]]:
    """Return the most frequent (fault type, district, part of day) combinations, each with
    how many of its response deadlines were missed, and each part of the day with its
    tickets and missed deadlines.

    One query groups the month by all three; the parts of the day are the sums of its rows,
    which come ranked (a few thousand: fault types × districts × four).
    """
    counts = _response_counts(period)
    rows = list(
        _with_day_part(valid)
        .values("day_part", fault=F("fault_type__name"), district_name=F("district__name"))
        .annotate(**counts)
        .order_by("-tickets", "fault", "district_name", "day_part")
    )
    parts = {part: dict.fromkeys(counts, 0) for _start, part in DayPart.STARTS}
    for row in rows:
        for name in counts:
            parts[row["day_part"]][name] += row[name]
    frequent = [_with_response(row) for row in rows[:RANKED]]
    return frequent, [_with_response({**parts[part], "day_part": part}) for part in parts]


def _compliance(valid: QuerySet[Ticket], period: Period) -> tuple[dict, dict]:
    """Return SLA compliance per crew and per district, against the deadlines as extended
    and as first set, and the month's completion (valid requests, closed by its end).

    The month is read once, grouped by crew and district together. Only a deadline an
    approved extension moved has a first deadline other than its own: those are read from
    the first such extension of each, and the difference is added to the month's counts.
    """
    cells = (
        valid.values(crew_name=F("crew__name"), district_name=F("district__name"))
        .annotate(
            valid=Count("pk"),
            closed=Count("pk", filter=Q(closed_at__lt=period.end)),
            **met_counts(period),
        )
        .order_by()
    )
    totals: dict[str, dict] = {"crew": {}, "district": {}}

    def add(row: dict, **counts: int) -> None:
        for key in ("crew", "district"):
            name = row[f"{key}_name"]
            if key == "crew" and name is None:
                continue  # compliance per crew is of the tickets a crew had
            total = totals[key].setdefault(name, dict.fromkeys(_COMPLIANCE_COUNTS, 0))
            for count, value in counts.items():
                total[count] += value

    completion = {"valid": 0, "closed": 0}
    for row in cells:
        completion["valid"] += row["valid"]
        completion["closed"] += row["closed"]
        counted = sum(row[f"{milestone.value}_counted"] for milestone in MILESTONES)
        met = sum(row[f"{milestone.value}_met"] for milestone in MILESTONES)
        add(row, counted=counted, met=met, original_counted=counted, original_met=met)
    for row in _first_extensions(valid, period):
        add(
            row,
            original_counted=row["first_counted"] - row["own_counted"],
            original_met=row["first_met"] - row["own_met"],
        )
    compliance = {}
    for key, by_name in totals.items():
        rows = [
            {
                "name": name,
                "counted": total["counted"],
                "met": total["met"],
                "share": share_of(total["met"], total["counted"]),
                "original_counted": total["original_counted"],
                "original_met": total["original_met"],
                "original_share": share_of(total["original_met"], total["original_counted"]),
            }
            for name, total in by_name.items()
        ]
        # The worst first: what the supervisor has to act on.
        compliance[key] = sorted(
            rows, key=lambda row: (row["share"] is None, row["share"] or 0, row["name"] or "")
        )
    return compliance, completion


_COMPLIANCE_COUNTS = ("counted", "met", "original_counted", "original_met")


def _of_milestone(field: str) -> Case:
    """The extension's ticket's ``field`` (of ``MilestoneSpec``) for its milestone: the
    deadline it moved, or when that milestone was done."""
    return Case(
        *(
            When(milestone=milestone, then=F(f"ticket__{getattr(spec, field)}"))
            for milestone, spec in MILESTONES.items()
        ),
        output_field=DateTimeField(),
    )


def _first_extensions(valid: QuerySet[Ticket], period: Period) -> list[dict]:
    """Return, per crew and district, the deadlines the first approved extension of each
    moved (since the ticket's SLA clock started, as ``tickets_with_original_deadlines``
    reads them), that count and that were met: as extended (``own_``) and as first set
    (``first_``)."""
    approved = ExtensionRequest.objects.filter(
        state=ExtensionState.APPROVED, decided_at__gte=F("ticket__sla_started_at")
    )
    earlier = approved.filter(ticket=OuterRef("ticket"), milestone=OuterRef("milestone")).filter(
        Q(decided_at__lt=OuterRef("decided_at"))
        | Q(decided_at=OuterRef("decided_at"), pk__lt=OuterRef("pk"))
    )
    # A ticket's SLA clock starts at its receipt (or later, when reopened), so none of the
    # month's tickets has one decided before the month: the index reads only those after.
    firsts = (
        approved.filter(decided_at__gte=period.start, ticket__in=valid)
        .exclude(Exists(earlier))
        .alias(own_due=_of_milestone("due_field"), done=_of_milestone("done_field"))
    )
    own_counted, own_met = deadline_filters(due="own_due", done="done", period=period)
    first_counted, first_met = deadline_filters(due="original_due", done="done", period=period)
    return list(
        firsts.values(crew_name=F("ticket__crew__name"), district_name=F("ticket__district__name"))
        .annotate(
            own_counted=Count("pk", filter=own_counted),
            own_met=Count("pk", filter=own_met),
            first_counted=Count("pk", filter=first_counted),
            first_met=Count("pk", filter=first_met),
        )
        .order_by()
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
