"""The shift leader's wallboard: the queue now, the agents by status, and today's and this
hour's calls against their thresholds.

Offered counts every inbound call that rang. The answer rate and the service level count
the waits that have finished (answered or abandoned), so a call still in the queue counts
once it is answered or given up; the service level is the share of them answered within
the chosen number of seconds.
"""

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from callcentre.models import Call
from staffing.models import (
    AgentStatus,
    RosterEntry,
    RosterRole,
    Seat,
    StatusSpell,
    WallboardThreshold,
)
from staffing.shifts import shift_now
from tickets.names import full_name

Figure = WallboardThreshold.Figure
# A call that rang longer ago than this and never ended is the switch's lost event, not a
# caller still waiting.
QUEUE_HORIZON = timedelta(hours=2)
AGENT_ROLES = (RosterRole.AGENT, RosterRole.FLOATING_AGENT)
# How long a process keeps what barely changes: the thresholds and the agents rostered now
# (an edit clears them at once), and the figures of the calls that rang before the queue
# horizon (their waits are over; only a call longer than that ending, or a switch replaying
# old events, changes them, and then for a minute at most).
KEPT_SECONDS = 60
_THRESHOLDS_KEY = "staffing:wallboard-thresholds"


@dataclass(frozen=True)
class CallFigures:
    offered: int
    answered: int
    abandoned: int
    answered_within: int
    asa_seconds: float | None
    aht_seconds: float | None

    @property
    def finished(self) -> int:
        return self.answered + self.abandoned

    @property
    def answer_rate(self) -> float | None:
        return 100 * self.answered / self.finished if self.finished else None

    @property
    def service_level(self) -> float | None:
        return 100 * self.answered_within / self.finished if self.finished else None


@dataclass(frozen=True)
class PeriodRow:
    """One row of the calls table: today's or this hour's figures, each with its colour."""

    key: str
    label: str
    figures: CallFigures
    levels: dict[str, str]


@dataclass(frozen=True)
class StatusCount:
    status: str
    label: str
    count: int


class SeatRow(NamedTuple):
    """A seat, the agent signed in at it ("" when free) and their status and its seconds."""

    pk: int
    label: str
    extension: str
    floating: bool
    switched_on: bool
    agent_id: int | None
    agent: str
    status: str
    status_seconds: float | None


@dataclass
class Board:
    now: datetime
    within: int
    waiting: int
    longest_wait_seconds: float | None
    today: CallFigures
    hour: CallFigures
    agents: dict[str, int]
    # Rostered on the shift working now and not signed in at a seat.
    missing: int
    seats: list[SeatRow] = field(default_factory=list)
    levels: dict[str, str] = field(default_factory=dict)

    @property
    def status_counts(self) -> list[StatusCount]:
        """Agents per status; offline counts those rostered now and not at a seat."""
        return [
            StatusCount(
                status.value,
                status.label,
                self.missing if status == AgentStatus.OFFLINE else self.agents[status.value],
            )
            for status in AgentStatus
        ]

    @property
    def periods(self) -> list[PeriodRow]:
        return [
            PeriodRow(
                key,
                label,
                figures,
                {
                    figure: self.levels.get(f"{key}_{figure}", "")
                    for figure in ("answer_rate", "service_level", "asa", "aht")
                },
            )
            for key, label, figures in (
                ("today", _("Today"), self.today),
                ("hour", _("This hour"), self.hour),
            )
        ]


def _average(total: timedelta | None, count: int) -> float | None:
    return total.total_seconds() / count if count and total is not None else None


@dataclass(frozen=True)
class Calls:
    """The calls on the board: today's and this hour's, and the queue now."""

    today: CallFigures
    hour: CallFigures
    waiting: int
    longest_wait_seconds: float | None


# The groups calls are read in: this hour's, today's before it, and (for the queue only)
# those that rang before today.
HOUR, EARLIER_TODAY, BEFORE_TODAY = 2, 1, 0


def calls_now(*, now: datetime, within: int) -> Calls:
    """Return today's and this hour's calls, and the calls waiting now.

    The calls since the whole hour before the queue horizon are read at every refresh, in
    one read of the ringing index, grouped by when they rang, so each row is weighed against
    one set of filters; the day's earlier calls, whose waits are over, are read once a minute
    (``KEPT_SECONDS``).
    """
    local = timezone.localtime(now)
    day_start = timezone.make_aware(datetime.combine(local.date(), time.min))
    hour_start = local.replace(minute=0, second=0, microsecond=0)
    queue_since = now - QUEUE_HORIZON
    settled = max(
        day_start, timezone.localtime(queue_since).replace(minute=0, second=0, microsecond=0)
    )
    recent = _recent_read(within).run(
        since=min(settled, queue_since),
        until=now,
        day_start=day_start,
        hour_start=hour_start,
        queue_since=queue_since,
    )
    hour = recent.get(HOUR)
    today = [hour, recent.get(EARLIER_TODAY)]
    if settled > day_start:
        key = f"staffing:settled-calls:{day_start.isoformat()}:{settled.isoformat()}:{within}"
        earlier = cache.get(key)
        if earlier is None:
            calls = _inbound().filter(ringing_at__gte=day_start, ringing_at__lt=settled)
            rows = _call_groups(calls, day_start=day_start, hour_start=hour_start, within=within)
            earlier = {row.pop("period"): row for row in rows}.get(EARLIER_TODAY)
            cache.set(key, earlier, timeout=KEPT_SECONDS)
        today.append(earlier)
    oldest = min((group["oldest"] for group in recent.values() if group["oldest"]), default=None)
    return Calls(
        today=_figures(*today),
        hour=_figures(hour),
        waiting=sum(group["waiting"] for group in recent.values()),
        longest_wait_seconds=None if oldest is None else (now - oldest).total_seconds(),
    )


def _inbound() -> QuerySet[Call]:
    return Call.objects.filter(direction=Call.Direction.INBOUND, ringing_at__isnull=False)


def _call_groups(
    calls: QuerySet[Call],
    *,
    day_start: datetime,
    hour_start: datetime,
    within: int,
    queue_since: datetime | None = None,
) -> QuerySet[Call]:
    """Return the figures of ``calls`` by when they rang (``period``: ``HOUR``,
    ``EARLIER_TODAY`` or ``BEFORE_TODAY``) and, with ``queue_since``, how many that rang
    after it are waiting and since when: in one read of the ringing index."""
    answered = Q(answered_at__isnull=False)
    wait = ExpressionWrapper(F("answered_at") - F("ringing_at"), output_field=DurationField())
    talk = ExpressionWrapper(F("ended_at") - F("answered_at"), output_field=DurationField())
    talked = answered & Q(ended_at__isnull=False)
    figures = {
        "offered": Count("ringing_at"),
        "answered": Count("ringing_at", filter=answered),
        # (Named apart from the fields: a later filter on ``abandoned`` means the field.)
        "abandons": Count("ringing_at", filter=Q(abandoned=True, answered_at__isnull=True)),
        "within": Count(
            "ringing_at",
            filter=answered & Q(answered_at__lte=F("ringing_at") + timedelta(seconds=within)),
        ),
        "wait": Sum(wait, filter=answered),
        "talk": Sum(talk, filter=talked),
        "talked": Count("ringing_at", filter=talked),
    }
    if queue_since is not None:
        waiting = Q(
            answered_at__isnull=True,
            ended_at__isnull=True,
            abandoned=False,
            ringing_at__gt=queue_since,
        )
        figures |= {
            "waiting": Count("ringing_at", filter=waiting),
            "oldest": Min("ringing_at", filter=waiting),
        }
    period = Case(
        When(ringing_at__gte=hour_start, then=Value(HOUR)),
        When(ringing_at__gte=day_start, then=Value(EARLIER_TODAY)),
        default=Value(BEFORE_TODAY),
    )
    return calls.annotate(period=period).order_by().values("period").annotate(**figures)


@dataclass(frozen=True)
class _CompiledRead:
    """The read of the recent calls, compiled once: the same SQL every time but for its
    moments, which the ORM takes longer to compile than the database to run. It was compiled
    with a stand-in for each moment; ``run`` puts the real ones in their places."""

    sql: str
    params: tuple
    moments: dict[int, str]  # the place of each moment among the parameters
    compiler: SQLCompiler
    converters: dict
    names: list[str]

    def run(self, **moments: datetime) -> dict[int, dict]:
        params = list(self.params)
        for place, name in self.moments.items():
            params[place] = connection.ops.adapt_datetimefield_value(moments[name])
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = self.compiler.apply_converters(rows, self.converters)
        groups = (dict(zip(self.names, row, strict=True)) for row in rows)
        return {group.pop("period"): group for group in groups}


@functools.cache
def _recent_read(within: int) -> _CompiledRead:
    stand_ins = {
        name: datetime(2000, 1, 1, second=n, tzinfo=UTC)
        for n, name in enumerate(("since", "until", "day_start", "hour_start", "queue_since"))
    }
    calls = _inbound().filter(
        ringing_at__gte=stand_ins["since"], ringing_at__lte=stand_ins["until"]
    )
    query = _call_groups(
        calls,
        day_start=stand_ins["day_start"],
        hour_start=stand_ins["hour_start"],
        within=within,
        queue_since=stand_ins["queue_since"],
    ).query
    compiler = query.get_compiler(using=Call.objects.db)
    sql, params = compiler.as_sql()
    adapted = {
        connection.ops.adapt_datetimefield_value(stand_in): name
        for name, stand_in in stand_ins.items()
    }
    moments = {place: adapted[value] for place, value in enumerate(params) if value in adapted}
    if sorted(set(moments.values())) != sorted(stand_ins):
        raise RuntimeError(f"the recent calls' read lost a moment: {sql}")
    converters = compiler.get_converters([column for column, _sql, _alias in compiler.select])
    names = [alias for _column, _sql, alias in compiler.select]
    return _CompiledRead(sql, tuple(params), moments, compiler, converters, names)


def _figures(*groups: dict | None) -> CallFigures:
    """Add the groups of calls up into one period's figures (None: a group without calls)."""

    def total(key: str):
        values = [group[key] for group in groups if group and group[key] is not None]
        return sum(values[1:], values[0]) if values else None

    answered = total("answered")
    return CallFigures(
        offered=total("offered") or 0,
        answered=answered or 0,
        abandoned=total("abandons") or 0,
        answered_within=total("within") or 0,
        asa_seconds=_average(total("wait"), answered),
        aht_seconds=_average(total("talk"), total("talked")),
    )


def agents_by_status(statuses: dict[int, tuple[str, datetime]]) -> dict[str, int]:
    """Return how many agents are in each status (every status, zero where none)."""
    counts = dict.fromkeys(AgentStatus.values, 0)
    for status, _started in statuses.values():
        counts[status] += 1
    return counts


def open_statuses() -> dict[int, tuple[str, datetime]]:
    """Return each agent's status now and since when, by agent id."""
    spells = StatusSpell.objects.filter(ended_at__isnull=True)
    return {
        agent: (status, started)
        for agent, status, started in spells.values_list("agent_id", "status", "started_at")
    }


def rostered_missing(*, now: datetime, at_seats: set[int]) -> int:
    """Return the agents rostered on the shift working now who are not among ``at_seats``."""
    working = shift_now(now)
    if working is None:
        return 0
    shift, day = working
    key = _rostered_key(day, shift.pk)
    rostered = cache.get(key)
    if rostered is None:
        entries = RosterEntry.objects.filter(day=day, shift=shift, role__in=AGENT_ROLES)
        rostered = set(entries.order_by().values_list("person_id", flat=True))
        cache.set(key, rostered, timeout=KEPT_SECONDS)
    return len(rostered - at_seats)


def _rostered_key(day: date, shift_id: int) -> str:
    return f"staffing:rostered-agents:{day.isoformat()}:{shift_id}"


def rostered_forget(*, day: date, shift_ids: Iterable[int]) -> None:
    """Forget the agents kept as rostered on ``day``'s shifts (their roster changed)."""
    cache.delete_many([_rostered_key(day, shift_id) for shift_id in shift_ids])


def roster_entry_changed(*, instance: RosterEntry, **kwargs) -> None:
    rostered_forget(day=instance.day, shift_ids=[instance.shift_id])


def seat_rows(*, now: datetime, statuses: dict[int, tuple[str, datetime]]) -> list[SeatRow]:
    """Return every seat with the agent signed in at it and their status now."""
    seats = Seat.objects.annotate(
        open_session=FilteredRelation("sessions", condition=Q(sessions__signed_out_at__isnull=True))
    ).values_list(
        "pk",
        "label",
        "extension",
        "floating",
        "switched_on",
        "open_session__agent_id",
        "open_session__agent__username",
        "open_session__agent__first_name",
        "open_session__agent__last_name",
    )
    rows = []
    for pk, label, extension, floating, switched_on, agent, username, first, last in seats:
        name = (full_name(first, last) or username) if agent else ""
        status, started = statuses.get(agent, ("", None)) if agent else ("", None)
        seconds = (now - started).total_seconds() if started else None
        rows.append(
            SeatRow(pk, label, extension, floating, switched_on, agent, name, status, seconds)
        )
    return rows


def wallboard_thresholds() -> dict[str, WallboardThreshold]:
    """Return the thresholds by figure (kept a minute; an edit here clears them at once)."""
    thresholds = cache.get(_THRESHOLDS_KEY)
    if thresholds is None:
        thresholds = {threshold.figure: threshold for threshold in WallboardThreshold.objects.all()}
        cache.set(_THRESHOLDS_KEY, thresholds, timeout=KEPT_SECONDS)
    return thresholds


def thresholds_forget(**kwargs) -> None:
    cache.delete(_THRESHOLDS_KEY)


def level_of(threshold: WallboardThreshold, value: float | None) -> str:
    """Return "red", "amber" or "" for ``value`` against ``threshold``."""
    if value is None:
        return ""
    if threshold.figure in WallboardThreshold.LOW_IS_BAD:
        if value <= threshold.red:
            return "red"
        return "amber" if value < threshold.amber else ""
    if value >= threshold.red:
        return "red"
    return "amber" if value > threshold.amber else ""


def board(*, now: datetime, within: int) -> Board:
    """Return the wallboard at ``now``, its service level counted within ``within`` s."""
    calls = calls_now(now=now, within=within)
    # The status of every agent now, read once for the counts and the seats.
    statuses = open_statuses()
    seats = seat_rows(now=now, statuses=statuses)
    result = Board(
        now=now,
        within=within,
        waiting=calls.waiting,
        longest_wait_seconds=calls.longest_wait_seconds,
        today=calls.today,
        hour=calls.hour,
        agents=agents_by_status(statuses),
        missing=rostered_missing(now=now, at_seats={row.agent_id for row in seats}),
        seats=seats,
    )
    # (where the board shows it, the figure whose thresholds colour it, its value)
    values = [
        ("calls_waiting", Figure.CALLS_WAITING, calls.waiting),
        ("longest_wait", Figure.LONGEST_WAIT, calls.longest_wait_seconds),
    ]
    for prefix, figures in (("today", calls.today), ("hour", calls.hour)):
        values += [
            (f"{prefix}_answer_rate", Figure.ANSWER_RATE, figures.answer_rate),
            (f"{prefix}_service_level", Figure.SERVICE_LEVEL, figures.service_level),
            (f"{prefix}_asa", Figure.ASA, figures.asa_seconds),
            (f"{prefix}_aht", Figure.AHT, figures.aht_seconds),
        ]
    thresholds = wallboard_thresholds()
    for key, figure, value in values:
        if figure in thresholds:
            result.levels[key] = level_of(thresholds[figure], value)
    return result
