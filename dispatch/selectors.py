"""Reads of dispatch: crews on duty, the crew to send, the board, a crew's work, open tickets."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from dispatch.geo import distance_km
from dispatch.models import (
    Assignment,
    Community,
    Crew,
    CrewMembership,
    Department,
    District,
    UnclosedPlan,
)
from tickets.choices import FINAL_STATES, OPEN_STATES, WITH_CREW_STATES, Grade, State
from tickets.milestones import MILESTONES
from tickets.models import LANE_ORDER, FaultType, Ticket
from tickets.selectors import any_overdue_filter, ticket_list_for_user

# The board's lanes, in the order work moves through them.
LANES = [
    State.NEW,
    State.VERIFIED,
    State.DISPATCHED,
    State.ACCEPTED,
    State.ON_SITE,
    State.MITIGATED,
    State.RESOLVED,
]
# Each lane is ordered by the deadline its tickets work towards, read along the lane's own
# partial index (tickets.models.LANE_ORDER), so the first cards cost the same however many
# tickets wait.
_LANE_ORDER = LANE_ORDER
LANE_SIZE = 30
# A lane counts its tickets up to here and then says "999+": counting 50,000 rows to print
# a number nobody reads would cost more than the whole board.
LANE_COUNT_CAP = 1000


# Who sends work where.


def crews_on_duty() -> QuerySet[Crew]:
    return Crew.objects.filter(is_active=True, is_on_duty=True)


def on_duty_skill_ids() -> set[int]:
    """Return the skills some crew on duty has, for the board's verification warnings."""
    return set(
        crews_on_duty().filter(skills__isnull=False).values_list("skills", flat=True).distinct()
    )


def ticket_dispatch_warnings(*, ticket: Ticket, skills_on_duty: set[int]) -> list[str]:
    """Return what the dispatcher must sort out before the ticket can go to a crew."""
    return dispatch_warnings(
        grade=ticket.grade,
        district_id=ticket.district_id,
        skill_id=ticket.fault_type.skill_id,
        skills_on_duty=skills_on_duty,
    )


def dispatch_warnings(
    *, grade: str, district_id: int | None, skill_id: int | None, skills_on_duty: set[int]
) -> list[str]:
    """Return the warnings of a ticket of ``grade`` in ``district_id`` whose fault needs
    ``skill_id``, read from its columns (the board's cards have no Ticket)."""
    if grade == Grade.CONSULT:
        return []
    warnings = []
    if district_id is None:
        warnings.append(_("Address outside every district"))
    if skill_id is not None and skill_id not in skills_on_duty:
        warnings.append(_("No crew on duty has the skill for this fault"))
    return warnings


@dataclass
class Recommendation:
    crew: Crew
    same_district: bool
    skilled: bool
    fits_pipe: bool
    open_count: int
    distance: float | None
    reasons: list[str] = field(default_factory=list)

    @property
    def rank_key(self) -> tuple:
        far = float("inf") if self.distance is None else self.distance
        return (not self.skilled, not self.fits_pipe, not self.same_district, self.open_count, far)


def crew_recommend_for_ticket(*, ticket: Ticket) -> list[Recommendation]:
    """Return the crews on duty, best first: skilled, fits the pipe, same district, least
    busy, nearest; each with the reasons a dispatcher reads ("same district · 2 open · 1.2 km").
    """
    crews = list(
        crews_on_duty().prefetch_related(
            Prefetch("districts", to_attr="district_list"),
            Prefetch("skills", to_attr="skill_list"),
        )
    )
    load = dict(
        Ticket.objects.filter(crew__in=crews, state__in=WITH_CREW_STATES)
        .values_list("crew")
        .annotate(n=Count("id"))
        .values_list("crew", "n")
    )
    community = ticket.community
    needed_skill = ticket.fault_type.skill_id
    recommendations = []
    for crew in crews:
        recommendation = Recommendation(
            crew=crew,
            same_district=ticket.district_id in {d.pk for d in crew.district_list},
            skilled=needed_skill is None or needed_skill in {s.pk for s in crew.skill_list},
            fits_pipe=ticket.pipe_diameter is None
            or (
                crew.max_pipe_diameter is not None
                and crew.max_pipe_diameter >= ticket.pipe_diameter
            ),
            open_count=load.get(crew.pk, 0),
            distance=distance_km(
                crew.last_latitude,
                crew.last_longitude,
                community.latitude if community else None,
                community.longitude if community else None,
            ),
        )
        recommendation.reasons = _reasons(recommendation)
        recommendations.append(recommendation)
    return sorted(recommendations, key=lambda r: r.rank_key)


def _reasons(r: Recommendation) -> list[str]:
    reasons = [_("same district") if r.same_district else _("other district")]
    if not r.skilled:
        reasons.append(_("lacks the skill"))
    if not r.fits_pipe:
        reasons.append(_("pipe too large for this crew"))
    reasons.append(_("%(count)d open") % {"count": r.open_count})
    if r.distance is None:
        reasons.append(_("position unknown"))
    else:
        reasons.append(_("%(km).1f km") % {"km": r.distance})
    return reasons


def departments_active() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True)


# The board.


@dataclass(frozen=True)
class BoardFilters:
    grade: str = ""
    district: int | None = None
    crew: int | None = None
    overdue: bool = False
    query: str = ""


# What a card shows, read as plain rows: a board is two hundred of them, and model instances,
# joins (planned again on every poll) and unshown columns would each cost more than the scans.
CARD_FIELDS = (
    "id",
    "number",
    "state",
    "grade",
    "updated_at",
    "returned",
    "fault_type_id",
    "community_id",
    "crew_id",
    "district_id",
    "address",
    "building",
    "unit",
    "room",
    "sla_started_at",
    *(spec.due_field for spec in MILESTONES.values()),
)


@dataclass
class Lane:
    state: State
    cards: list  # rows of CARD_FIELDS, most pressing first
    count: int

    @property
    def more(self) -> bool:
        return self.count > len(self.cards)

    @property
    def count_label(self) -> str:
        return f"{LANE_COUNT_CAP - 1}+" if self.count >= LANE_COUNT_CAP else str(self.count)


@dataclass(frozen=True)
class CardNames:
    """The names a board's cards show, by id, read once for all of them."""

    fault_types: dict[int, str]
    fault_skills: dict[int, int | None]
    communities: dict[int, str]
    crews: dict[int, str]
    districts: dict[int, str]


def _board_tickets(*, user, filters: BoardFilters, now: datetime) -> QuerySet[Ticket]:
    tickets = ticket_list_for_user(user=user).select_related(None)
    if filters.grade:
        tickets = tickets.filter(grade=filters.grade)
    if filters.district:
        tickets = tickets.filter(district_id=filters.district)
    if filters.crew:
        tickets = tickets.filter(crew_id=filters.crew)
    if filters.overdue:
        tickets = tickets.filter(any_overdue_filter(now=now))
    query = filters.query.strip()
    if query:
        digits = "".join(ch for ch in query if ch.isdigit())
        by_phone = Q(caller_phone__endswith=digits) if len(digits) >= 7 else Q(pk__in=[])
        tickets = tickets.filter(Q(number=query) | by_phone)
    return tickets


def board_lanes(*, user, filters: BoardFilters, now: datetime, size: int = LANE_SIZE) -> list[Lane]:
    """Return the board's lanes: each lane's most pressing tickets and how many there are.

    Each lane's cards are read along its own partial index in the order of its deadline, all
    lanes in one query where the database can combine sliced queries (PostgreSQL), and each
    full lane is counted up to ``LANE_COUNT_CAP``; however many tickets wait, the same
    queries.
    """
    tickets = _board_tickets(user=user, filters=filters, now=now)
    rows_of = tickets.values_list(*CARD_FIELDS, named=True)  # the columns resolved once
    parts = [
        rows_of.filter(state=state).order_by(_LANE_ORDER[state], "id")[:size] for state in LANES
    ]
    rows = _read_together(parts)
    by_state: dict[str, list] = {state: [] for state in LANES}
    for row in rows:
        by_state[row.state].append(row)
    full = [state for state in LANES if len(by_state[state]) == size]
    counts = _lane_counts(tickets, states=full)
    return [
        Lane(
            state=state,
            cards=sorted(by_state[state], key=_lane_key(_LANE_ORDER[state])),
            count=counts.get(state, len(by_state[state])),
        )
        for state in LANES
    ]


def _read_together(parts: list[QuerySet]) -> list:
    """Return the rows of ``parts`` in one query (a ``UNION ALL``) where the database can
    combine sliced and ordered queries, else one query each."""
    if connection.features.supports_slicing_ordering_in_compound:
        return list(parts[0].union(*parts[1:], all=True))
    return [row for part in parts for row in part]


def _lane_counts(tickets: QuerySet[Ticket], *, states: list[str]) -> dict[str, int]:
    """Count the tickets of each of ``states`` up to ``LANE_COUNT_CAP``: in one query where
    the database can combine sliced queries, else one per lane."""
    states_of = tickets.order_by().values_list("state")
    capped = [states_of.filter(state=state)[:LANE_COUNT_CAP] for state in states]
    if len(capped) < 2 or not connection.features.supports_slicing_ordering_in_compound:
        return {state: part.count() for state, part in zip(states, capped, strict=True)}
    sql, params = capped[0].union(*capped[1:], all=True).query.sql_with_params()
    with connection.cursor() as cursor:
        # Django compiled the inner query and keeps its values apart, in ``params``.
        cursor.execute(f"SELECT state, COUNT(*) FROM ({sql}) AS capped GROUP BY state", params)  # noqa: S608
        return dict(cursor.fetchall())


def _lane_key(order_field: str):
    """Return the sort key of a lane's rows, as its query orders them (no deadline last):
    a union keeps no order of its own."""

    def key(row) -> tuple:
        due = getattr(row, order_field)
        return (due is None, due or _NO_DEADLINE, row.id)

    return key


_NO_DEADLINE = datetime.min.replace(tzinfo=UTC)


def card_names(*, lanes: list[Lane]) -> CardNames:
    """Return the names the lanes' cards show, read by id in one query for the whole board."""
    rows = [row for lane in lanes for row in lane.cards]

    def named(model, column: str, skill=None):
        ids = {getattr(row, column) for row in rows} - {None}
        return (
            model.objects.filter(pk__in=ids)
            .order_by()  # a community's default order would join its district
            .values_list(
                Value(column), "pk", "name", skill or Value(None, output_field=IntegerField())
            )
        )

    names: dict[str, dict] = {
        "fault_type_id": {},
        "community_id": {},
        "crew_id": {},
        "district_id": {},
    }
    skills: dict[int, int | None] = {}
    parts = [
        named(FaultType, "fault_type_id", skill=F("skill_id")),
        named(Community, "community_id"),
        named(Crew, "crew_id"),
        named(District, "district_id"),
    ]
    for column, pk, name, skill in _read_together(parts):
        names[column][pk] = name
        if column == "fault_type_id":
            skills[pk] = skill
    return CardNames(
        fault_types=names["fault_type_id"],
        fault_skills=skills,
        communities=names["community_id"],
        crews=names["crew_id"],
        districts=names["district_id"],
    )


# A crew's own work.


def crew_of_user(*, user) -> Crew | None:
    """Return the crew ``user`` works in (the one they lead, if several)."""
    membership = (
        CrewMembership.objects.filter(user=user, crew__is_active=True)
        .select_related("crew")
        .order_by("-is_leader", "crew_id")
        .first()
    )
    return membership.crew if membership else None


# A crew works a handful of tickets at once; a phone shows this many, the most urgent.
CREW_LIST_SIZE = 50


# What a row of the crew's list shows, read as plain rows like the board's cards.
CREW_ROW_FIELDS = (
    "number",
    "state",
    "grade",
    "received_at",
    "address",
    "building",
    "unit",
    "room",
    "fault_type__name",
    "community__name",
    "sla_started_at",
    *(spec.due_field for spec in MILESTONES.values()),
)


def crew_ticket_list(*, crew: Crew, limit: int = CREW_LIST_SIZE) -> list:
    """Return the crew's tickets still to work or just finished, urgent first, then newest:
    rows of ``CREW_ROW_FIELDS``."""
    return list(
        Ticket.objects.filter(crew=crew, state__in=[*WITH_CREW_STATES, State.RESOLVED])
        .annotate(
            urgency=Case(When(grade=Grade.EMERGENCY, then=Value(0)), default=Value(1)),
        )
        .order_by("urgency", "-received_at")
        .values_list(*CREW_ROW_FIELDS, named=True)[:limit]
    )


def ticket_assignments(*, ticket: Ticket) -> list[Assignment]:
    return list(ticket.assignments.select_related("crew", "dispatched_by", "answered_by"))


# The daily list of tickets not closed.


def unclosed_tickets(*, user, day: date, limit: int = 500) -> list[Ticket]:
    """Return the tickets open at the end of ``day`` (or now, for today), oldest first, each
    with ``plan``: the dispatcher's note for that day, if written.
    """
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
    still_open = Q(state__in=OPEN_STATES) | (
        Q(state__in=FINAL_STATES) & (Q(closed_at__gte=end) | Q(cancelled_at__gte=end))
    )
    tickets = list(
        ticket_list_for_user(user=user)
        .filter(still_open, received_at__lt=end)
        .exclude(state=State.MERGED)
        .prefetch_related(
            Prefetch(
                "unclosed_plans",
                # The row names who wrote the plan.
                UnclosedPlan.objects.filter(day=day).select_related("written_by"),
                to_attr="plans",
            )
        )
        .order_by("received_at", "id")[:limit]
    )
    for ticket in tickets:
        ticket.plan = ticket.plans[0] if ticket.plans else None
        ticket.open_reason = ticket_open_reason(ticket)
    return tickets


def ticket_open_reason(ticket: Ticket) -> str:
    """Return why the ticket is still open, as its state tells it."""
    reasons = {
        State.NEW: _("Not yet checked by a dispatcher"),
        State.VERIFIED: _("Waiting to be dispatched"),
        State.DISPATCHED: _("Waiting for the crew to accept"),
        State.ACCEPTED: _("Crew on the way"),
        State.ON_SITE: _("Crew repairing on site"),
        State.MITIGATED: _("Water stopped; repair under way"),
        State.REFERRED: _("Waiting for the department's answer"),
        State.RESOLVED: _("Repaired; results to be reviewed and closed"),
    }
    return str(reasons.get(ticket.state, ""))
