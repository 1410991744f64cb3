"""The shift leader's wallboard: the queue now, the agents by status, and today's and this
hour's calls against their thresholds.

Offered counts every inbound call that rang. The answer rate and the service level count
the waits that have finished (answered or abandoned), so a call still in the queue counts
once it is answered or given up; the service level is the share of them answered within
the chosen number of seconds.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from callcentre.models import Call
from staffing.models import (
    AgentStatus,
    RosterEntry,
    RosterRole,
    Seat,
    SeatSession,
    StatusSpell,
    WallboardThreshold,
)
from staffing.shifts import shift_now

Figure = WallboardThreshold.Figure
# A call that rang longer ago than this and never ended is the switch's lost event, not a
# caller still waiting.
QUEUE_HORIZON = timedelta(hours=2)
AGENT_ROLES = (RosterRole.AGENT, RosterRole.FLOATING_AGENT)


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


@dataclass(frozen=True)
class SeatRow:
    seat: Seat
    session: SeatSession | None
    spell: StatusSpell | None


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
    def signed_in(self) -> int:
        return sum(count for status, count in self.agents.items() if status != AgentStatus.OFFLINE)

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


def _seconds(delta: timedelta | None) -> float | None:
    return None if delta is None else delta.total_seconds()


def _call_figures(row: dict, prefix: str) -> CallFigures:
    return CallFigures(
        offered=row[f"{prefix}_offered"],
        answered=row[f"{prefix}_answered"],
        abandoned=row[f"{prefix}_abandoned"],
        answered_within=row[f"{prefix}_within"],
        asa_seconds=_seconds(row[f"{prefix}_asa"]),
        aht_seconds=_seconds(row[f"{prefix}_aht"]),
    )


def call_figures(*, now: datetime, within: int) -> tuple[CallFigures, CallFigures]:
    """Return today's and this hour's calls, in one read of the ringing index."""
    local = timezone.localtime(now)
    day_start = timezone.make_aware(datetime.combine(local.date(), time.min))
    hour_start = local.replace(minute=0, second=0, microsecond=0)
    answered = Q(answered_at__isnull=False)
    abandoned = Q(abandoned=True, answered_at__isnull=True)
    wait = ExpressionWrapper(F("answered_at") - F("ringing_at"), output_field=DurationField())
    talk = ExpressionWrapper(F("ended_at") - F("answered_at"), output_field=DurationField())
    aggregates = {}
    for prefix, since in (("today", Q()), ("hour", Q(ringing_at__gte=hour_start))):
        aggregates |= {
            f"{prefix}_offered": Count("ringing_at", filter=since),
            f"{prefix}_answered": Count("ringing_at", filter=since & answered),
            f"{prefix}_abandoned": Count("ringing_at", filter=since & abandoned),
            f"{prefix}_within": Count(
                "ringing_at",
                filter=since
                & answered
                & Q(answered_at__lte=F("ringing_at") + timedelta(seconds=within)),
            ),
            f"{prefix}_asa": Avg(wait, filter=since & answered),
            f"{prefix}_aht": Avg(talk, filter=since & answered & Q(ended_at__isnull=False)),
        }
    row = Call.objects.filter(
        direction=Call.Direction.INBOUND,
        ringing_at__isnull=False,
        ringing_at__gte=day_start,
        ringing_at__lte=now,
    ).aggregate(**aggregates)
    return _call_figures(row, "today"), _call_figures(row, "hour")


def queue_now(*, now: datetime) -> tuple[int, float | None]:
    """Return the calls waiting now and how long the longest has waited, in seconds."""
    row = Call.objects.filter(
        direction=Call.Direction.INBOUND,
        ringing_at__isnull=False,
        answered_at__isnull=True,
        ended_at__isnull=True,
        abandoned=False,
        ringing_at__gt=now - QUEUE_HORIZON,
        ringing_at__lte=now,
    ).aggregate(waiting=Count("ringing_at"), oldest=Min("ringing_at"))
    oldest = row["oldest"]
    return row["waiting"], None if oldest is None else (now - oldest).total_seconds()


def agents_by_status(spells: list[StatusSpell]) -> dict[str, int]:
    """Return how many agents are in each status (every status, zero where none)."""
    counts = dict.fromkeys(AgentStatus.values, 0)
    for spell in spells:
        counts[spell.status] += 1
    return counts


def rostered_missing(*, now: datetime) -> int:
    """Return the agents rostered on the shift working now who are not at a seat."""
    working = shift_now(now)
    if working is None:
        return 0
    shift, day = working
    at_seat = SeatSession.objects.filter(agent_id=OuterRef("person_id"), signed_out_at__isnull=True)
    return (
        RosterEntry.objects.filter(day=day, shift=shift, role__in=AGENT_ROLES)
        .exclude(Exists(at_seat))
        .count()
    )


def seat_rows(spells: list[StatusSpell]) -> list[SeatRow]:
    """Return every seat with the agent signed in at it and their status now."""
    sessions = {
        session.seat_id: session
        for session in SeatSession.objects.filter(signed_out_at__isnull=True).select_related(
            "agent"
        )
    }
    spells = {spell.agent_id: spell for spell in spells}
    rows = []
    for seat in Seat.objects.all():
        session = sessions.get(seat.pk)
        spell = spells.get(session.agent_id) if session is not None else None
        rows.append(SeatRow(seat, session, spell))
    return rows


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


def board(*, now: datetime, within: int, seats: bool = True) -> Board:
    """Return the wallboard at ``now``, its service level counted within ``within`` s."""
    today, hour = call_figures(now=now, within=within)
    waiting, longest = queue_now(now=now)
    # The open spells: the status of every agent now, read once for the counts and seats.
    spells = list(StatusSpell.objects.filter(ended_at__isnull=True))
    result = Board(
        now=now,
        within=within,
        waiting=waiting,
        longest_wait_seconds=longest,
        today=today,
        hour=hour,
        agents=agents_by_status(spells),
        missing=rostered_missing(now=now),
        seats=seat_rows(spells) if seats else [],
    )
    # (where the board shows it, the figure whose thresholds colour it, its value)
    values = [
        ("calls_waiting", Figure.CALLS_WAITING, waiting),
        ("longest_wait", Figure.LONGEST_WAIT, longest),
    ]
    for prefix, figures in (("today", today), ("hour", hour)):
        values += [
            (f"{prefix}_answer_rate", Figure.ANSWER_RATE, figures.answer_rate),
            (f"{prefix}_service_level", Figure.SERVICE_LEVEL, figures.service_level),
            (f"{prefix}_asa", Figure.ASA, figures.asa_seconds),
            (f"{prefix}_aht", Figure.AHT, figures.aht_seconds),
        ]
    thresholds = {threshold.figure: threshold for threshold in WallboardThreshold.objects.all()}
    for key, figure, value in values:
        if figure in thresholds:
            result.levels[key] = level_of(thresholds[figure], value)
    return result
