"""Reads of the supervisor's dashboard: today or this month at a glance.

Each figure is an aggregate in SQL over an indexed range (calls by ``created_at``, tickets by
``received_at``, callbacks by ``done_at``, the overdue tickets by their partial indexes), so
the page costs the same queries however busy the period was: six, and two more (the holidays
and the calls' history) while a day of the span has no stored forecast. The counting rules
are the reports' own (``reports.selectors``), so the dashboard and the morning meeting agree.
Every figure about tickets carries the address of the ticket list that shows exactly those
tickets.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.db.models.functions import Trunc
from django.urls import reverse
from django.utils import timezone

from callcentre.models import Call
from followups.models import Callback
from reports.periods import Period, day_of, month_of
from reports.selectors import (
    CALL_COUNTS,
    SATISFACTION_COUNTS,
    met_counts,
    satisfaction_of,
    share_of,
    valid_received,
)
from staffing.forecast import forecast_get, slot_sums
from tickets.choices import OPEN_STATES, Grade, Milestone
from tickets.milestones import MILESTONES
from tickets.models import Ticket
from tickets.selectors import any_overdue_filter

TODAY, MONTH = "today", "month"


@dataclass(frozen=True)
class Span:
    """What the dashboard shows: today or this month (``key``), as of ``now``."""

    key: str
    period: Period
    now: datetime

    @property
    def so_far(self) -> Period:
        """The part of the period that has passed: what the figures count."""
        return Period(self.period.start, min(self.now, self.period.end))

    @property
    def slot_kind(self) -> str:
        """How the calls are counted: by the hour of the day, or by the day of the month."""
        return "hour" if self.key == TODAY else "day"

    def slots(self) -> list[Period]:
        """Return the hours of the day, or the days of the month, in local time."""
        step, slots, start = _step(self.slot_kind), [], self.period.start
        while start < self.period.end:
            end = _local_shift(start, step)
            slots.append(Period(start, end))
            start = end
        return slots

    def received_between(self) -> dict[str, str]:
        """Return the ticket list's receipt dates (both inclusive) of the period so far."""
        first = timezone.localdate(self.period.start)
        last = timezone.localdate(self.so_far.end - timedelta(microseconds=1))
        return {"received_after": first.isoformat(), "received_before": last.isoformat()}


def span_of(key: str | None, *, now: datetime) -> Span:
    """Return the span named ``key`` (today unless it names another) that contains ``now``."""
    if key == MONTH:
        return Span(MONTH, month_of(now), now)
    return Span(TODAY, day_of(now), now)


def _step(slot_kind: str) -> timedelta:
    return timedelta(hours=1) if slot_kind == "hour" else timedelta(days=1)


def _local_shift(at: datetime, by: timedelta) -> datetime:
    """Return ``at`` moved by ``by`` on the local clock (a day stays midnight to midnight)."""
    return timezone.make_aware(timezone.localtime(at).replace(tzinfo=None) + by)


def tickets_url(**params: str) -> str:
    """Return the address of the ticket list with the filters ``params``."""
    return f"{reverse('tickets:list')}?{urlencode(params)}"


# What the page shows.


@dataclass(frozen=True)
class Figure:
    """A count of tickets and the ticket list that shows them."""

    count: int
    url: str


@dataclass(frozen=True)
class CallSlot:
    start: datetime
    # None for a slot still to come; the forecast None where there is nothing to go by.
    calls: int | None
    forecast: float | None
    # The tickets received that day (the ticket list filters by day, not by hour).
    tickets_url: str | None


@dataclass(frozen=True)
class Calls:
    slots: list[CallSlot]
    received: int
    answered: int
    abandoned: int
    forecast_so_far: float | None

    @property
    def has_forecast(self) -> bool:
        return any(slot.forecast is not None for slot in self.slots)


@dataclass(frozen=True)
class FaultRow:
    code: str
    name: str
    by_grade: dict[str, Figure]
    total: Figure

    @property
    def grade_cells(self) -> list[Figure | None]:
        """Return the figure of each grade, in the order of ``Grade``; None for none."""
        return [self.by_grade.get(grade) for grade in Grade.values]


@dataclass(frozen=True)
class ComplianceRow:
    milestone: Milestone
    counted: int
    met: int
    missed: Figure

    @property
    def share(self) -> float | None:
        return share_of(self.met, self.counted)


# A heat table's cells are shaded in this many steps, the busiest cell the darkest.
HEAT_LEVELS = 5


@dataclass(frozen=True)
class HeatCell:
    figure: Figure
    # 1 (a few) to HEAT_LEVELS (as many as the busiest cell).
    level: int


@dataclass(frozen=True)
class HeatRow:
    code: str
    name: str
    cells: list[HeatCell | None]
    total: Figure


@dataclass(frozen=True)
class Heat:
    """Valid requests by district (rows) and fault type (columns)."""

    columns: list[tuple[str, str]]
    rows: list[HeatRow]


@dataclass(frozen=True)
class Dashboard:
    span: Span
    calls: Calls
    valid: Figure
    grades: list[tuple[str, str]]
    faults: list[FaultRow]
    compliance: list[ComplianceRow]
    satisfaction: dict
    heat: Heat
    overdue: Figure
    overdue_by_grade: list[tuple[Grade, Figure]]
    # The callbacks behind the satisfaction: today's register (it lists one day at a time).
    register_url: str

    @property
    def compliance_total(self) -> dict | None:
        """Return every milestone's deadlines together; None before any has counted."""
        counted = sum(row.counted for row in self.compliance)
        if not counted:
            return None
        met = sum(row.met for row in self.compliance)
        return {"counted": counted, "met": met, "share": share_of(met, counted)}


def dashboard_figures(*, span: Span) -> Dashboard:
    """Return the dashboard of ``span``: its calls against the forecast, its valid requests
    by fault type, grade and district, its SLA compliance and satisfaction, and the tickets
    overdue now."""
    valid, faults, heat = _tickets(span)
    overdue, overdue_by_grade = _overdue(span.now)
    return Dashboard(
        span=span,
        calls=_calls(span),
        valid=valid,
        grades=list(Grade.choices),
        faults=faults,
        compliance=_compliance(span),
        satisfaction=satisfaction_of(
            Callback.objects.filter(
                done_at__gte=span.so_far.start,
                done_at__lt=span.so_far.end,
                state=Callback.State.DONE,
            ).aggregate(**SATISFACTION_COUNTS)
        ),
        heat=heat,
        overdue=overdue,
        overdue_by_grade=overdue_by_grade,
        register_url=f"{reverse('followups:register')}?"
        + urlencode({"day": timezone.localdate(span.now).isoformat()}),
    )


# Calls and their forecast.


def _inbound_by_slot(ranges: list[tuple[datetime, datetime]], *, slot_kind: str):
    """Return the inbound calls created in any of ``ranges``, grouped by local hour or day."""
    within = Q(pk__in=[])
    for start, end in ranges:
        within |= Q(created_at__gte=start, created_at__lt=end)
    zone = timezone.get_current_timezone()
    return (
        Call.objects.filter(within, direction=Call.Direction.INBOUND)
        .annotate(slot=Trunc("created_at", slot_kind, tzinfo=zone))
        .values("slot")
        .order_by("slot")
    )


def calls_forecast(*, slots: list[Period], now: datetime) -> list[float | None]:
    """Return the inbound calls expected in each of ``slots`` (hours, or days): the staffing
    forecast's half-hours summed, as stored before each day began (else computed from the
    days before it); None for a slot of a day with no forecast."""
    if not slots:
        return []
    days = sorted({timezone.localdate(slot.start) for slot in slots})
    expected = forecast_get(days, now=now)
    sums = slot_sums(expected, [slot.start for slot in slots], [slot.end for slot in slots])
    return [None if calls is None else round(calls, 1) for calls in sums]


def _calls(span: Span) -> Calls:
    so_far = span.so_far
    rows = _inbound_by_slot([(so_far.start, so_far.end)], slot_kind=span.slot_kind).annotate(
        **CALL_COUNTS
    )
    by_slot = {row["slot"]: row for row in rows}
    slots = span.slots()
    forecast = calls_forecast(slots=slots, now=span.now)
    lines = []
    for slot, expected in zip(slots, forecast, strict=True):
        started = slot.start <= span.now
        day = timezone.localdate(slot.start).isoformat()
        lines.append(
            CallSlot(
                start=slot.start,
                calls=by_slot.get(slot.start, {}).get("received", 0) if started else None,
                forecast=expected,
                tickets_url=_valid_url(received_after=day, received_before=day)
                if started
                else None,
            )
        )
    return Calls(
        slots=lines,
        received=sum(row["received"] for row in by_slot.values()),
        answered=sum(row["answered"] for row in by_slot.values()),
        abandoned=sum(row["abandoned"] for row in by_slot.values()),
        forecast_so_far=_expected_by(span.now, slots, forecast),
    )


def _expected_by(now: datetime, slots: list[Period], forecast: list[float | None]):
    """Return the calls the forecast expected by ``now``: the slots gone, and the running
    one in proportion to the time gone of it; None if it expected nothing of them."""
    expected = []
    for slot, calls in zip(slots, forecast, strict=True):
        if calls is None or slot.start >= now:
            continue
        gone = min(1.0, (now - slot.start) / (slot.end - slot.start))
        expected.append(calls * gone)
    return round(sum(expected), 1) if expected else None


# Tickets.


def _valid_url(**params: str) -> str:
    """Return the ticket list of the valid requests (the reports' count) with ``params``."""
    return tickets_url(state="valid", **params)


def _tickets(span: Span) -> tuple[Figure, list[FaultRow], Heat]:
    """Return the valid requests of the span so far: their count, by fault type and grade,
    and by district and fault type; all from one grouped query."""
    rows = list(
        valid_received(span.so_far)
        .values(
            "fault_type__code",
            "fault_type__name",
            "fault_type__sort_order",
            "district__code",
            "district__name",
            "grade",
        )
        .annotate(count=Count("pk"))
        .order_by()
    )
    between = span.received_between()

    def url(**params: str) -> str:
        return _valid_url(**params, **between)

    # Fault types in the order the centre's list of them gives (``FaultType.sort_order``).
    order = {
        row["fault_type__code"]: (row["fault_type__sort_order"], row["fault_type__code"])
        for row in rows
    }
    names = {row["fault_type__code"]: row["fault_type__name"] for row in rows}
    valid = Figure(sum(row["count"] for row in rows), url())
    return valid, _by_fault(rows, names, order, url), _heat(rows, names, order, url)


def _by_fault(rows: list[dict], names: dict, order: dict, url) -> list[FaultRow]:
    """Return a row per fault type with its count of each grade, the busiest first."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        counts[row["fault_type__code"]][row["grade"]] += row["count"]
    faults = [
        FaultRow(
            code=fault,
            name=names[fault],
            by_grade={
                grade: Figure(count, url(fault_type=fault, grade=grade))
                for grade, count in grades.items()
            },
            total=Figure(sum(grades.values()), url(fault_type=fault)),
        )
        for fault, grades in counts.items()
    ]
    return sorted(faults, key=lambda row: (-row.total.count, order[row.code]))


def _heat(rows: list[dict], names: dict, order: dict, url) -> Heat:
    """Return the districts by the fault types they had; tickets of no district left out."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    districts = {}
    for row in rows:
        if row["district__code"] is not None:
            districts[row["district__code"]] = row["district__name"]
            counts[row["district__code"]][row["fault_type__code"]] += row["count"]
    columns = sorted({fault for faults in counts.values() for fault in faults}, key=order.get)
    peak = max((n for faults in counts.values() for n in faults.values()), default=0)

    def cell(district: str, fault: str) -> HeatCell | None:
        count = counts[district].get(fault)
        if not count:
            return None
        level = -(-HEAT_LEVELS * count // peak)  # rounded up: one ticket is never blank
        return HeatCell(Figure(count, url(district=district, fault_type=fault)), level)

    return Heat(
        columns=[(fault, names[fault]) for fault in columns],
        rows=[
            HeatRow(
                code=district,
                name=districts[district],
                cells=[cell(district, fault) for fault in columns],
                total=Figure(sum(counts[district].values()), url(district=district)),
            )
            for district in sorted(districts)
        ],
    )


def _compliance(span: Span) -> list[ComplianceRow]:
    """Return each milestone's deadlines met of those that count so far, as the morning
    meeting counts them, with the ticket list of those missed."""
    counts = valid_received(span.so_far).aggregate(**met_counts(span.so_far))
    between = span.received_between()
    rows = []
    for milestone in MILESTONES:
        counted, met = counts[f"{milestone.value}_counted"], counts[f"{milestone.value}_met"]
        if counted:
            missed = Figure(counted - met, _valid_url(missed=milestone.value, **between))
            rows.append(ComplianceRow(milestone, counted, met, missed))
    return rows


def _overdue(now: datetime) -> tuple[Figure, list[tuple[Grade, Figure]]]:
    """Return the open tickets overdue now, and how many of each grade."""
    by_grade = dict(
        Ticket.objects.filter(any_overdue_filter(now=now), state__in=OPEN_STATES)
        .values_list("grade")
        .annotate(count=Count("pk"))
        .order_by("grade")
    )
    grades = [
        (grade, Figure(by_grade[grade], tickets_url(overdue="true", grade=grade)))
        for grade in Grade
        if by_grade.get(grade)
    ]
    return Figure(sum(by_grade.values()), tickets_url(overdue="true")), grades
