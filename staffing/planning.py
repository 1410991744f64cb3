"""The staffing plan of a day: per 30-minute interval, the calls forecast, the agents they
need (Erlang, to the centre's targets), the agents the roster puts on seats, the gap, and
what the shift leader can do about a shortfall.

- Required: ``staffing.erlang.required`` on the interval's calls with the settings' target
  service level, answer time, maximum occupancy and shrinkage (Erlang A, callers hanging
  up, when the settings give a patience), and the average handle time (answered to ended)
  of the inbound calls of the ``AHT_WINDOW`` before the day began (or before now, if that is
  earlier), or the settings' planned handle time with fewer than ``AHT_MIN_CALLS`` of them.
  ``agents`` are the agents on seats, ``scheduled_agents`` the heads to roster for them.
- Rostered: the seat agents (``RosterRole.AGENT``) whose shift covers the interval, each
  counted by the share of the interval it covers, less the share of it their break takes.
  Floating agents are counted the same way but apart: they take a floating seat only once
  it is switched on.
- Gap: scheduled agents − rostered; above nought the interval is short, and from a whole
  agent below it the interval has a surplus.
- Suggestion, for a short interval, as data the page words: switch on floating seats (no
  more than the floating agents on shift then), then move breaks out of it to the nearest
  start in the same shift where every interval the break would cover keeps enough agents
  without them.
- For a day that has ended, the requirement of the calls that came, by the same method.
- Schedule accuracy: max(0, 1 − Σ|rostered − required| / Σ required), summed over the
  intervals that require agents, where required is the scheduled agents of the calls that
  came for a day that has ended, and of the forecast otherwise; None if no interval
  requires any.

A plan costs the same few queries however many intervals and roster entries it has.
"""

import inspect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F
from django.utils import timezone

from callcentre.models import Call
from staffing import erlang
from staffing.forecast import (
    INTERVAL,
    calls_of_day,
    day_start,
    forecast_get,
    interval_starts,
)
from staffing.forecast import (
    accuracy_record as forecast_accuracy_record,
)
from staffing.models import ForecastAccuracy, RosterEntry, RosterRole, StaffingSettings
from staffing.shifts import Window, break_window, entry_window

AHT_WINDOW = timedelta(days=28)
AHT_MIN_CALLS = 100
# The recent days whose accuracy the nightly job records if it is missing.
ACCURACY_CATCH_UP_DAYS = 7
_EPSILON = 1e-9


@dataclass(frozen=True)
class BreakMove:
    """Move ``count`` breaks of the shift ``shift_code`` out of the interval, to start at
    ``to``."""

    count: int
    shift_code: str
    shift_name: str
    to: datetime


@dataclass(frozen=True)
class Suggestion:
    """What would cover a short interval: floating seats to switch on, breaks to move, and
    the agents it would still be short after both."""

    floating_seats: int
    break_moves: list[BreakMove]
    short_after: float


@dataclass(frozen=True)
class IntervalPlan:
    start: datetime
    end: datetime
    calls: float | None  # forecast; None where there is no forecast
    agents: int
    scheduled_agents: int
    rostered: float
    floating: float
    # A day that has ended: the calls that came and the agents they required.
    actual_calls: int | None = None
    actual_agents: int | None = None
    actual_scheduled_agents: int | None = None
    suggestion: Suggestion | None = None

    @property
    def gap(self) -> float:
        """Scheduled agents − rostered: the agents missing (below nought, spare)."""
        return self.scheduled_agents - self.rostered

    @property
    def short(self) -> bool:
        return self.gap > _EPSILON

    @property
    def surplus(self) -> bool:
        """At least one whole agent more than required."""
        return self.gap <= -1 + _EPSILON


@dataclass(frozen=True)
class DayPlan:
    day: date
    ended: bool
    aht_seconds: float
    # False: too few answered calls, so the settings' planned handle time.
    aht_measured: bool
    intervals: list[IntervalPlan] = field(default_factory=list)
    schedule_accuracy: float | None = None

    @property
    def forecast_calls(self) -> float | None:
        forecast = [plan.calls for plan in self.intervals if plan.calls is not None]
        return sum(forecast) if forecast else None

    @property
    def actual_calls(self) -> int | None:
        return sum(plan.actual_calls or 0 for plan in self.intervals) if self.ended else None

    @property
    def short_intervals(self) -> list[IntervalPlan]:
        return [plan for plan in self.intervals if plan.short]


@dataclass(frozen=True)
class _Targets:
    aht_seconds: float
    target_seconds: int
    service_level: float
    max_occupancy: float
    shrinkage: float
    patience_seconds: int | None


def handle_time(*, until: datetime) -> tuple[float | None, int]:
    """Return the average handle time (seconds) of the inbound calls answered and ended that
    rang in the ``AHT_WINDOW`` before ``until``, and how many there were."""
    talk = ExpressionWrapper(F("ended_at") - F("answered_at"), output_field=DurationField())
    row = Call.objects.filter(
        direction=Call.Direction.INBOUND,
        ringing_at__isnull=False,
        ringing_at__gte=until - AHT_WINDOW,
        ringing_at__lt=until,
        answered_at__isnull=False,
        ended_at__isnull=False,
    ).aggregate(calls=Count("ringing_at"), aht=Avg(talk))
    aht = row["aht"]
    return (None if aht is None else aht.total_seconds()), row["calls"]


def _targets(*, until: datetime) -> tuple[_Targets, bool]:
    """Return the targets the plan sizes to, and whether its handle time was measured."""
    settings = StaffingSettings.objects.get_or_create(pk=1)[0]
    aht, calls = handle_time(until=until)
    measured = aht is not None and calls >= AHT_MIN_CALLS
    targets = _Targets(
        aht_seconds=aht if measured else settings.aht_seconds,
        target_seconds=settings.target_seconds,
        service_level=float(settings.target_service_level),
        max_occupancy=float(settings.max_occupancy),
        shrinkage=float(settings.shrinkage),
        patience_seconds=settings.patience_seconds,
    )
    return targets, measured


def _required(calls: float, targets: _Targets) -> erlang.Staffing:
    """Return the agents ``calls`` in an interval require: the plan's one call of Erlang."""
    arguments = {
        "calls": calls,
        "interval_minutes": INTERVAL.total_seconds() / 60,
        "aht_seconds": targets.aht_seconds,
        "target_seconds": targets.target_seconds,
        "service_level": targets.service_level,
        "max_occupancy": targets.max_occupancy,
        "shrinkage": targets.shrinkage,
    }
    # ERLANG A: callers who hang up after ``patience_seconds`` on average. Passed as soon as
    # ``erlang.required`` takes the argument (it is being added); until then, Erlang C.
    accepts = inspect.signature(erlang.required).parameters
    if targets.patience_seconds is not None and "patience_seconds" in accepts:
        arguments["patience_seconds"] = targets.patience_seconds
    return erlang.required(**arguments)


@dataclass
class _Seat:
    """A roster entry's presence on seat in each interval of the day, as shares of it."""

    entry: RosterEntry
    shift: Window
    on_shift: list[float]
    on_break: list[float]

    @property
    def on_seat(self) -> list[float]:
        return [shift - rest for shift, rest in zip(self.on_shift, self.on_break, strict=True)]


def _shares(window: Window | None, starts: list[datetime]) -> list[float]:
    if window is None:
        return [0.0] * len(starts)
    return [window.overlap(start, start + INTERVAL) / INTERVAL for start in starts]


def _within(window: Window | None, shift: Window) -> Window | None:
    """Return the part of ``window`` inside ``shift``; None if none."""
    if window is None or window.end <= shift.start or window.start >= shift.end:
        return None
    return Window(max(window.start, shift.start), min(window.end, shift.end))


def _seats(day: date, starts: list[datetime]) -> tuple[list[_Seat], list[_Seat]]:
    """Return the seat agents and the floating agents on shift in ``day``, the night shift
    of the day before included, in one query."""
    entries = (
        RosterEntry.objects.filter(
            day__in=[day - timedelta(days=1), day],
            role__in=[RosterRole.AGENT, RosterRole.FLOATING_AGENT],
        )
        .select_related("shift")
        .order_by("day", "shift__starts_at", "pk")
    )
    agents, floating = [], []
    for entry in entries:
        shift = entry_window(entry)
        on_shift = _shares(shift, starts)
        if not any(on_shift):
            continue
        seat = _Seat(entry, shift, on_shift, _shares(_within(break_window(entry), shift), starts))
        (agents if entry.role == RosterRole.AGENT else floating).append(seat)
    return agents, floating


def _sum(rows: list[list[float]], n: int) -> list[float]:
    return [sum(row[i] for row in rows) for i in range(n)]


def _suggest(
    need: list[int], agents: list[_Seat], floating: list[_Seat], starts: list[datetime]
) -> dict[int, Suggestion]:
    """Return a suggestion for each short interval: floating seats first, then breaks moved
    to the nearest start of the same shift that keeps every interval the break then covers
    at or above its requirement (each break moved once)."""
    n = len(starts)
    cover = _sum([seat.on_seat for seat in agents], n)
    moved: set[int] = set()
    suggestions = {}
    for i in range(n):
        short = need[i] - cover[i]
        if short <= _EPSILON:
            continue
        present = sorted(
            (seat.on_seat[i] for seat in floating if seat.on_seat[i] > 0), reverse=True
        )
        seats = 0
        while seats < len(present) and short > _EPSILON:
            short -= present[seats]
            seats += 1
        moves: dict[tuple[str, str, datetime], int] = defaultdict(int)
        breaks = sorted(
            (seat for seat in agents if seat.on_break[i] > 0 and seat.entry.pk not in moved),
            key=lambda seat: -seat.on_break[i],
        )
        for seat in breaks:
            if short <= _EPSILON:
                break
            found = _break_slot(seat, i, need, cover, starts)
            if found is None:
                continue
            start, shares = found
            for k in range(n):
                cover[k] += seat.on_break[k] - shares[k]
            short -= seat.on_break[i]
            moved.add(seat.entry.pk)
            shift = seat.entry.shift
            moves[(shift.code, shift.name, start)] += 1
        suggestions[i] = Suggestion(
            floating_seats=seats,
            break_moves=[
                BreakMove(count=count, shift_code=code, shift_name=name, to=to)
                for (code, name, to), count in moves.items()
            ],
            short_after=max(0.0, short),
        )
    return suggestions


def _break_slot(seat: _Seat, short: int, need: list[int], cover: list[float], starts):
    """Return where ``seat``'s break could start instead of overlapping the interval
    ``short``: the nearest interval start of the day inside its shift from which every
    interval the break would cover keeps its requirement; with the share of each interval
    the break would then take. None if no interval can spare the agent."""
    window = break_window(seat.entry)
    length = window.end - window.start
    candidates = [
        k
        for k in range(len(starts))
        if seat.shift.start <= starts[k] and starts[k] + length <= seat.shift.end
    ]
    for k in sorted(candidates, key=lambda k: (abs(starts[k] - window.start), k)):
        moved = Window(starts[k], starts[k] + length)
        shares = _shares(moved, starts)
        if shares[short] > 0:
            continue
        # Without the break where it was, and with it here, every interval keeps its need.
        if all(
            cover[j] + seat.on_break[j] - shares[j] >= need[j] - _EPSILON
            for j in range(len(starts))
            if shares[j] > 0
        ):
            return starts[k], shares
    return None


def _accuracy(rostered: list[float], required: list[int]) -> float | None:
    pairs = [(have, want) for have, want in zip(rostered, required, strict=True) if want > 0]
    if not pairs:
        return None
    wanted = sum(want for _have, want in pairs)
    return max(0.0, 1 - sum(abs(have - want) for have, want in pairs) / wanted)


def day_plan(*, day: date, now: datetime) -> DayPlan:
    """Return the staffing plan of ``day`` as it stands at ``now`` (see the module's notes).

    Four to seven queries, however many intervals and entries: the settings, the handle
    time, the stored forecast (and, where none is stored, the holidays and the history),
    the roster, and for a day that has ended the calls that came.
    """
    starts = interval_starts(day)
    ended = day_start(day + timedelta(days=1)) <= now
    targets, measured = _targets(until=min(now, day_start(day)))
    expected = forecast_get([day], now=now)
    agents, floating = _seats(day, starts)
    actual = calls_of_day(day) if ended else {}
    n = len(starts)
    rostered = _sum([seat.on_seat for seat in agents], n)
    floating_on = _sum([seat.on_seat for seat in floating], n)
    required = [_required(expected.get(start, 0.0), targets) for start in starts]
    actual_required = (
        [_required(actual.get(start, 0), targets) for start in starts] if ended else []
    )
    suggestions = _suggest([r.scheduled_agents for r in required], agents, floating, starts)
    intervals = [
        IntervalPlan(
            start=start,
            end=start + INTERVAL,
            calls=expected.get(start),
            agents=required[i].agents,
            scheduled_agents=required[i].scheduled_agents,
            rostered=rostered[i],
            floating=floating_on[i],
            actual_calls=actual.get(start, 0) if ended else None,
            actual_agents=actual_required[i].agents if ended else None,
            actual_scheduled_agents=(actual_required[i].scheduled_agents if ended else None),
            suggestion=suggestions.get(i),
        )
        for i, start in enumerate(starts)
    ]
    measure = actual_required if ended else required
    return DayPlan(
        day=day,
        ended=ended,
        aht_seconds=targets.aht_seconds,
        aht_measured=measured,
        intervals=intervals,
        schedule_accuracy=_accuracy(rostered, [r.scheduled_agents for r in measure]),
    )


def day_accuracy_record(*, day: date, now: datetime) -> ForecastAccuracy | None:
    """Record how well ``day`` (over by ``now``) was forecast and how well its roster met
    the calls that came, in one row; None if there was no forecast or no call. A second
    run rewrites the same figures."""
    with transaction.atomic():
        record = forecast_accuracy_record(day=day, now=now)
        if record is None:
            return None
        record.schedule_accuracy = day_plan(day=day, now=now).schedule_accuracy
        record.save(update_fields=["schedule_accuracy"])
    return record


def accuracy_catch_up(*, now: datetime, days: int = ACCURACY_CATCH_UP_DAYS) -> int:
    """Record yesterday's accuracy, and that of each of the days before it (``days`` in all,
    yesterday included) that has none yet, say because the job did not run; return how
    many days were recorded."""
    yesterday = timezone.localdate(now) - timedelta(days=1)
    recent = [yesterday - timedelta(days=back) for back in range(1, days)]
    have = set(ForecastAccuracy.objects.filter(day__in=recent).values_list("day", flat=True))
    missing = [day for day in recent if day not in have]
    return sum(
        day_accuracy_record(day=day, now=now) is not None for day in [yesterday, *reversed(missing)]
    )
