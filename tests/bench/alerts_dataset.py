"""The alerts benchmark's database: a million tickets, a tenth open, and the alerts raised.

Its own database, loaded with ``INSERT … SELECT`` over ``generate_series`` as the board's is
(``tests/bench/board_dataset.py``), from the ticket suite's reference data
(``tests/bench/dataset.py``: districts, communities, twelve crews, three departments):

- ``tickets - open`` tickets received over the ``days`` days before the day it was loaded,
  closed (2 % cancelled, 1 % merged), each step at a pace around the SLA policy of its grade,
  an eighth of them late;
- ``open`` tickets received over the two days before *the moment of the benchmark*
  (``now``, the time it was loaded, recorded), in the open states of their grade (emergency:
  the seven lanes; general: all but "water stopped"; consult: new, verified, referred,
  resolved) with the deadlines of their policy; a referred ticket's answer is due its
  department's hours after the referral, and a completed repair closes by the backfill time;
- the alerts the sweep raised over that history: on every deadline of a closed ticket that
  was still open when a level's moment came, and on every deadline of an open ticket whose
  moment came by ``now`` (warnings at the grade's share of the time, breaches, escalations,
  overdue alarms, as ``tickets/watches.py`` and the seeded policies set them), most of them
  acknowledged, a quarter of the old breaches with a cause of the delay; the text messages
  sent to crew leaders for breaches of their milestones; one sweep position per
  (milestone, level) at ``now``.

No deadline of an open ticket reaches a level in the ``quiet`` minutes after ``now`` (a
ticket that would is moved back by as much, before its alerts are written), so a sweep in
them has nothing to raise unless the benchmark arranges it. The follow-up watches
(callbacks, complaints' replies) run over empty tables.

People: a dispatcher, two shift leaders and a supervisor with phones, a leader and a member
for every crew (two leaders in three with a phone), one member with a phone per department.

A database that already holds the wanted rows from the same loader and migrations is
reused: what earlier runs added (alerts, messages) is deleted, tickets a run moved are put
back, the sweep positions set to ``now`` again, and the tables vacuumed.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Case, DateTimeField, F, Q, QuerySet, When
from django.utils import timezone

from dispatch.models import Community, Crew, CrewMembership, Department, OutboundMessage
from staffing.models import User
from staffing.roles import Role
from staffing.services import user_create
from tests.bench.dataset import (
    AGENT_USERNAME,
    _database_exists,
    _recreate_database,
    _reference_data,
    loader_fingerprint,
    recorded_row,
    secondary_indexes,
)
from tests.bench.intake_dataset import _insert
from tickets.choices import (
    CREW_ALERT_MILESTONES,
    OPEN_STATES,
    AlertLevel,
    Grade,
    Milestone,
    State,
)
from tickets.milestones import MILESTONES
from tickets.models import Alert, AlertCursor, FaultType, SlaPolicy, Ticket
from tickets.watches import Watch, watches

TABLES = ("tickets_ticket", "tickets_alert", "dispatch_outboundmessage")
# Vacuumed between runs: the sweep moves every position a sweep.
VACUUMED = (*TABLES, "tickets_alertcursor")
OPEN_DAYS = 2
DISPATCHER_USERNAME = "bench-dispatcher"
SHIFT_LEADERS = [
    ("bench-shift-leader-1", "+8613910000001"),
    ("bench-shift-leader-2", "+8613910000002"),
]
SUPERVISOR = ("bench-supervisor", "+8613910000009")
# The time columns of a ticket: a ticket moved in time moves all of them alike.
TIME_COLUMNS = (
    "received_at",
    "sla_started_at",
    "created_at",
    "updated_at",
    *(spec.due_field for spec in MILESTONES.values()),
    *(spec.done_field for spec in MILESTONES.values()),
    "verified_at",
    "cancelled_at",
)
GRADE_OPEN_STATES = {
    Grade.EMERGENCY: [
        "new",
        "verified",
        "dispatched",
        "accepted",
        "on_site",
        "mitigated",
        "resolved",
    ],
    Grade.GENERAL: ["new", "verified", "dispatched", "accepted", "on_site", "resolved"],
    Grade.CONSULT: ["new", "verified", "referred", "resolved"],
}
GRADE_SHARES = {Grade.EMERGENCY: 0.10, Grade.GENERAL: 0.78, Grade.CONSULT: 0.12}
DESCRIPTIONS = [
    "厨房水管接头漏水",
    "卫生间下水管渗水",
    "整栋楼水压偏低",
    "路口井盖冒水",
    "水表不走字",
    "自来水发黄有异味",
]


@dataclass(frozen=True)
class AlertsDataset:
    tickets: int
    open_tickets: int
    overdue_open: int  # open tickets with a deadline passed by ``now``
    states: dict[str, int]  # open tickets per state
    now: datetime  # the moment the benchmark sweeps at: when the database was loaded
    quiet_minutes: int
    quiet_moved: int  # open tickets moved back so that none reaches a level in the quiet time
    alerts: int
    alerts_by_level: dict[str, int]
    alerts_of_open: int  # on open tickets
    messages: int
    crews: int
    leaders_with_phone: int
    departments: int
    reused: bool
    load_seconds: float
    loaded_at: datetime
    max_alert_id: int
    max_message_id: int
    restored: str  # what the reuse put back
    sizes: dict[str, str] = field(repr=False)


def _fingerprint() -> str:
    """A hash of this loader, the ticket suite's reference data and the migrations: when one
    changes, a database loaded before is rebuilt rather than reused."""
    return loader_fingerprint("alerts_dataset.py", "dataset.py")


def _recorded() -> dict | None:
    return recorded_row(
        "bench_alerts_dataset",
        "tickets, open, days, quiet_minutes, fingerprint, now, quiet_moved, max_alert_id, "
        "max_message_id, loaded_at, load_seconds",
    )


# -- the moments of the levels ----------------------------------------------------------------


def pairs() -> list[tuple[Watch, AlertLevel]]:
    """Every (watch, level) the sweep keeps a position for, in its order."""
    return [(watch, level) for watch in watches() for level in watch.levels]


def with_moment(
    queryset: QuerySet,
    *,
    watch: Watch,
    level: AlertLevel,
    windows: list,
    policies: dict[str, SlaPolicy],
) -> QuerySet:
    """Annotate each row of ``queryset`` (of ``watch.model``) with ``moment``, when its
    deadline reaches ``level``, as the sweep reads the policies and the watch's windows: a
    warning ``lead`` before the deadline, a breach or alarm at it, an escalation the grade's
    interval after it. Rows no window covers are left out."""
    due = F(watch.due_field)
    if level == AlertLevel.WARNING:
        whens = [
            When(rows, then=due - length * (100 - policy.warning_percent) / 100)
            for rows, length, policy in windows
        ]
    elif level == AlertLevel.ESCALATED:
        whens = [
            When(
                Q(**{watch.grade_field: grade}),
                then=due + timedelta(minutes=policy.escalate_after_minutes),
            )
            for grade, policy in policies.items()
        ]
    else:  # the breach, and the overdue alarm at the close deadline
        return queryset.annotate(moment=due)
    if not whens:
        return queryset.none()
    return queryset.annotate(moment=Case(*whens, output_field=DateTimeField())).filter(
        moment__isnull=False
    )


def pending_moments(
    *, watch: Watch, level: AlertLevel, windows: list, policies: dict[str, SlaPolicy]
) -> QuerySet:
    """The rows still working towards the watched deadline, with the moment of ``level``."""
    return with_moment(
        watch.model.objects.filter(watch.pending),
        watch=watch,
        level=level,
        windows=windows,
        policies=policies,
    )


def policies_and_windows() -> tuple[dict[str, SlaPolicy], dict[str, list]]:
    policies = {policy.grade: policy for policy in SlaPolicy.objects.all()}
    return policies, {watch.milestone: watch.windows(policies) for watch in watches()}


def alerts_insert(queryset: QuerySet, *, watch: Watch, level: AlertLevel, now: datetime) -> int:
    """Write an alert, as if an earlier sweep had raised it, for each row of ``queryset``
    (annotated with ``moment``, all at or before ``now``): raised within the minute after the
    moment (a sweep a minute), acknowledged minutes later once half an hour old; a quarter
    of the breaches older than an hour carry the cause of the delay. Return how many."""
    select, params = queryset.values_list(
        watch.ticket_field, watch.due_field, "moment"
    ).query.sql_with_params()
    dispatcher = User.objects.get(username=DISPATCHER_USERNAME).pk
    table = Alert._meta.db_table
    sql = f"""
        INSERT INTO {table} (ticket_id, due_at, milestone, level, raised_at, acknowledged_at,
            acknowledged_by_id, delay_cause, delay_responsible, delay_note, delay_recorded_at,
            delay_recorded_by_id)
        WITH c AS (
            SELECT %s::timestamptz AS now, %s::bigint AS dispatcher, %s::text AS milestone,
                   %s::text AS level
        ), raised AS (
            SELECT d.ticket_id, d.due_at,
                   least(d.moment + make_interval(secs => random() * 55), c.now) AS raised_at,
                   random() AS r
            FROM ({select}) AS d (ticket_id, due_at, moment), c
        ), told AS (
            SELECT raised.*,
                   c.level = 'breach' AND raised_at < c.now - interval '1 hour' AND r < 0.25
                       AS has_cause
            FROM raised, c
        )
        SELECT told.ticket_id, told.due_at, c.milestone, c.level, raised_at,
            CASE WHEN raised_at < c.now - interval '30 minutes'
                 THEN raised_at + make_interval(secs => 60 + r * 1200) END,
            CASE WHEN raised_at < c.now - interval '30 minutes' THEN c.dispatcher END,
            CASE WHEN NOT has_cause THEN '' WHEN r < 0.20 THEN 'objective' ELSE 'human' END,
            CASE WHEN has_cause AND r >= 0.20 THEN '维修班组' ELSE '' END,
            CASE WHEN has_cause THEN '材料未到' ELSE '' END,
            CASE WHEN has_cause THEN raised_at + interval '1 hour' END,
            CASE WHEN has_cause THEN c.dispatcher END
        FROM told, c
        ON CONFLICT DO NOTHING
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, dispatcher, watch.milestone.value, level.value, *params])
        return cursor.rowcount


def tickets_move(cursor, *, shifts: list[tuple[int, timedelta]]) -> None:
    """Move each ticket's times by its shift, and note it in ``bench_alerts_moved`` (added to
    what is noted), so that ``tickets_restore`` can put them back."""
    ids = [pk for pk, _ in shifts]
    seconds = [shift.total_seconds() for _, shift in shifts]
    assignments = ", ".join(f"{column} = t.{column} + m.shift" for column in TIME_COLUMNS)
    cursor.execute(
        f"""
        WITH m AS (
            SELECT id, make_interval(secs => s) AS shift
            FROM unnest(%s::bigint[], %s::float8[]) AS u (id, s)
        )
        UPDATE tickets_ticket AS t SET {assignments} FROM m WHERE t.id = m.id
        """,
        [ids, seconds],
    )
    cursor.execute(
        """
        INSERT INTO bench_alerts_moved (ticket_id, shift)
        SELECT id, make_interval(secs => s) FROM unnest(%s::bigint[], %s::float8[]) AS u (id, s)
        ON CONFLICT (ticket_id) DO UPDATE SET shift = bench_alerts_moved.shift + EXCLUDED.shift
        """,
        [ids, seconds],
    )


def tickets_restore(cursor) -> int:
    """Put back every ticket ``tickets_move`` moved; return how many."""
    assignments = ", ".join(f"{column} = t.{column} - m.shift" for column in TIME_COLUMNS)
    cursor.execute(
        f"UPDATE tickets_ticket AS t SET {assignments} FROM bench_alerts_moved m "
        "WHERE t.id = m.ticket_id"
    )
    restored = cursor.rowcount
    cursor.execute("DELETE FROM bench_alerts_moved")
    return restored


# -- loading ----------------------------------------------------------------------------------


def _people() -> None:
    """A dispatcher, shift leaders and a supervisor with phones; a leader with a phone (two
    crews in three) and a member for every crew; a member with a phone per department."""
    user_create(username=DISPATCHER_USERNAME, password=None, role=Role.DISPATCHER)
    for username, phone in SHIFT_LEADERS:
        user_create(username=username, password=None, role=Role.SHIFT_LEADER, phone=phone)
    user_create(username=SUPERVISOR[0], password=None, role=Role.SUPERVISOR, phone=SUPERVISOR[1])
    for n, crew in enumerate(Crew.objects.order_by("id")):
        phone = f"+86139200{n:05d}" if n % 3 != 2 else ""
        leader = user_create(
            username=f"bench-leader-{n}", password=None, role=Role.CREW_MEMBER, phone=phone
        )
        CrewMembership.objects.create(crew=crew, user=leader, is_leader=True)
        member = user_create(username=f"bench-member-{n}", password=None, role=Role.CREW_MEMBER)
        CrewMembership.objects.create(crew=crew, user=member)
    for n, department in enumerate(Department.objects.order_by("id")):
        staff = user_create(
            username=f"bench-department-{n}",
            password=None,
            role=Role.DEPARTMENT,
            phone=f"+86139300{n:05d}",
        )
        department.members.add(staff)


# Every random draw happens once per row in ``draws``; later steps only combine them. The
# first ``open`` rows are the open tickets, received over the two days before ``now``.
_TICKETS_CTES = """
WITH draws AS (
    SELECT
        i <= %(open)s AS is_open,
        CASE WHEN i <= %(open)s
             THEN %(now)s::timestamptz - make_interval(secs => random() * %(open_seconds)s)
             ELSE ((%(first_day)s::date
                    + ((i - %(open)s - 1) * %(days)s / %(closed)s)::int)::timestamp
                   + make_interval(secs => CASE WHEN random() < 0.85
                       THEN 21600 + random() * 57600                       -- 06:00-22:00
                       ELSE mod((79200 + random() * 28800)::int, 86400)    -- the night shift
                   END)) AT TIME ZONE %(tz)s
        END AS received_at,
        random() AS r_grade, random() AS r_fault, random() AS r_state, random() AS r_final,
        random() AS r_place, random() AS r_crew, random() AS r_speed, random() AS r_channel,
        (random() * 99999999)::int AS phone
    FROM generate_series(1, %(n)s) AS i
), numbered AS (
    SELECT
        d.*,
        row_number() OVER (ORDER BY received_at) AS id,
        row_number() OVER (
            PARTITION BY (received_at AT TIME ZONE %(tz)s)::date ORDER BY received_at
        ) AS seq,
        CASE WHEN r_grade < %(emergency_share)s THEN 'emergency'
             WHEN r_grade < %(emergency_share)s + %(general_share)s THEN 'general'
             ELSE 'consult' END AS grade
    FROM draws d
), stated AS (
    SELECT
        n.*,
        CASE n.grade
            WHEN 'emergency' THEN %(emergency_faults)s::bigint[]
            WHEN 'general' THEN %(general_faults)s::bigint[]
            ELSE %(consult_faults)s::bigint[]
        END AS faults,
        CASE n.grade
            WHEN 'emergency' THEN %(emergency_states)s::text[]
            WHEN 'general' THEN %(general_states)s::text[]
            ELSE %(consult_states)s::text[]
        END AS open_states
    FROM numbered n
), shaped AS (
    SELECT
        s.*,
        CASE
            WHEN is_open THEN open_states[1 + floor(r_state * cardinality(open_states))::int]
            WHEN r_final < 0.02 THEN 'cancelled'
            WHEN r_final < 0.03 AND id > 1 THEN 'merged'
            ELSE 'closed'
        END AS state,
        faults[1 + floor(r_fault * cardinality(faults))::int] AS fault_type_id,
        1 + floor(r_place * %(community_count)s)::int AS place,
        -- Above 1 a milestone was late; every step taken fits before now.
        least(
            0.25 + r_speed * 0.85,
            extract(epoch FROM %(now)s::timestamptz - received_at) / 60 / 4320
        ) AS pace
    FROM stated s
), leveled AS (
    SELECT
        sh.*,
        CASE state
            WHEN 'new' THEN 0 WHEN 'verified' THEN 1 WHEN 'dispatched' THEN 2
            WHEN 'referred' THEN 2 WHEN 'accepted' THEN 3 WHEN 'on_site' THEN 4
            WHEN 'mitigated' THEN 5 WHEN 'resolved' THEN 6 WHEN 'closed' THEN 7
            WHEN 'cancelled' THEN 1 ELSE 0
        END AS level,
        p.dispatch_minutes, p.accept_minutes, p.arrive_minutes, p.mitigate_minutes,
        p.resolve_minutes, p.close_minutes, p.backfill_minutes,
        ft.category
    FROM shaped sh
    JOIN tickets_slapolicy p ON p.grade = sh.grade
    JOIN tickets_faulttype ft ON ft.id = sh.fault_type_id
), timed AS (
    SELECT
        l.*,
        CASE WHEN level >= 1
             THEN received_at + make_interval(mins => dispatch_minutes) * pace * 0.3 END
            AS verified_at,
        CASE WHEN level >= 2 AND state <> 'cancelled'
             THEN received_at + make_interval(mins => dispatch_minutes) * pace END
            AS dispatched_at,
        CASE WHEN level >= 3 AND grade <> 'consult'
             THEN received_at + make_interval(mins => accept_minutes) * pace END AS accepted_at,
        CASE WHEN level >= 4 AND grade <> 'consult'
             THEN received_at + make_interval(mins => arrive_minutes) * pace END AS arrived_at,
        CASE WHEN level >= 5 AND grade = 'emergency'
             THEN received_at + make_interval(mins => mitigate_minutes) * pace END
            AS mitigated_at,
        CASE WHEN state = 'cancelled' THEN received_at + interval '20 minutes' * pace END
            AS cancelled_at,
        level >= 2 AND state <> 'cancelled' AND grade <> 'consult' AS has_crew,
        level >= 2 AND state <> 'cancelled' AND grade = 'consult' AS has_department,
        1 + floor(r_crew * %(department_count)s)::int AS department_n
    FROM leveled l
), referred AS (
    SELECT
        t.*,
        -- A referral is answered within its department's hours (``referral_due``).
        CASE WHEN has_department THEN dispatched_at
            + make_interval(hours => (%(department_hours)s::int[])[department_n]) END
            AS referral_due
    FROM timed t
), resolved AS (
    SELECT
        r.*,
        CASE WHEN level < 6 THEN NULL
             WHEN has_department THEN dispatched_at + (referral_due - dispatched_at) * pace
             ELSE received_at + make_interval(mins => coalesce(
                 resolve_minutes, (close_minutes * 0.8)::int, 2880)) * pace
        END AS resolved_at,
        CASE WHEN level >= 7
             THEN received_at + make_interval(mins => coalesce(close_minutes, 4320)) * pace
        END AS closed_at
    FROM referred r
)
"""

# (column, expression); ``_insert`` adds the NOT NULL columns left out with the model's default.
_TICKET_SELECT = [
    ("id", "id"),
    (
        "number",
        "to_char(received_at AT TIME ZONE %(tz)s, 'YYMMDD') || '-' "
        "|| CASE WHEN seq < 10000 THEN lpad(seq::text, 4, '0') ELSE seq::text END",
    ),
    (
        "channel",
        "CASE WHEN r_channel < 0.60 THEN 'hotline' WHEN r_channel < 0.75 THEN 'wechat' "
        "WHEN r_channel < 0.85 THEN 'app' WHEN r_channel < 0.95 THEN 'gov_12345' ELSE 'web' END",
    ),
    ("category", "category"),
    ("grade", "grade"),
    ("description", "(%(descriptions)s::text[])[1 + id %% cardinality(%(descriptions)s::text[])]"),
    ("caller_name", "(ARRAY['张先生', '李女士', '王先生', '刘女士', '陈先生'])[1 + id %% 5]"),
    ("caller_phone", "'+86138' || lpad(phone::text, 8, '0')"),
    ("address", "'锦华路' || (1 + id %% 300) || '号'"),
    ("building", "(1 + id %% 20)::text"),
    ("unit", "(1 + id %% 4)::text"),
    ("room", "(101 + id %% 1800)::text"),
    ("external_ref", "''"),
    ("returned", "''"),
    ("state", "state"),
    ("received_at", "received_at"),
    ("sla_started_at", "received_at"),
    ("dispatch_due", "received_at + make_interval(mins => dispatch_minutes)"),
    ("accept_due", "received_at + make_interval(mins => accept_minutes)"),
    ("arrive_due", "received_at + make_interval(mins => arrive_minutes)"),
    ("mitigate_due", "received_at + make_interval(mins => mitigate_minutes)"),
    (
        "resolve_due",
        "CASE WHEN has_department THEN referral_due "
        "ELSE received_at + make_interval(mins => resolve_minutes) END",
    ),
    (
        # Once completed, the close deadline is the backfill time if sooner
        # (``close_due_after_completion``).
        "close_due",
        "CASE WHEN resolved_at IS NOT NULL AND backfill_minutes IS NOT NULL "
        "THEN least(received_at + make_interval(mins => close_minutes), "
        "resolved_at + make_interval(mins => backfill_minutes)) "
        "ELSE received_at + make_interval(mins => close_minutes) END",
    ),
    ("verified_at", "verified_at"),
    ("dispatched_at", "dispatched_at"),
    ("accepted_at", "accepted_at"),
    ("arrived_at", "arrived_at"),
    ("mitigated_at", "mitigated_at"),
    ("resolved_at", "resolved_at"),
    ("closed_at", "closed_at"),
    ("cancelled_at", "cancelled_at"),
    ("repair_measures", "CASE WHEN has_crew AND level >= 6 THEN '更换接头' ELSE '' END"),
    ("repair_parts", "''"),
    (
        "repair_cost",
        "CASE WHEN has_crew AND level >= 6 THEN round((r_crew * 300)::numeric, 2) END",
    ),
    ("resolution", "CASE WHEN has_department AND level >= 6 THEN '已答复' ELSE '' END"),
    ("delay_responsible", "''"),
    ("is_special", "false"),
    ("created_at", "received_at"),
    (
        "updated_at",
        "greatest(received_at, verified_at, dispatched_at, accepted_at, arrived_at, "
        "mitigated_at, resolved_at, closed_at, cancelled_at)",
    ),
    ("community_id", "(%(communities)s::bigint[])[place]"),
    ("district_id", "(%(districts)s::bigint[])[place]"),
    ("created_by_id", "%(agent)s"),
    (
        "crew_id",
        "CASE WHEN has_crew "
        "THEN (%(crews)s::bigint[])[1 + floor(r_crew * cardinality(%(crews)s::bigint[]))::int] "
        "END",
    ),
    (
        "department_id",
        "CASE WHEN has_department THEN (%(departments)s::bigint[])[department_n] END",
    ),
    ("fault_type_id", "fault_type_id"),
    ("parent_id", "CASE WHEN state = 'merged' THEN id - 1 END"),
]


def _tickets_insert(cursor, *, tickets: int, open_tickets: int, days: int, now: datetime) -> None:
    communities = list(
        Community.objects.order_by("district_id", "id").values_list("id", "district_id")
    )
    departments = list(Department.objects.order_by("id").values_list("id", "time_limit_hours"))
    faults = {
        grade: list(
            FaultType.objects.filter(default_grade=grade)
            .order_by("id")
            .values_list("id", flat=True)
        )
        for grade in Grade.values
    }
    params = {
        "n": tickets,
        "open": open_tickets,
        "closed": max(1, tickets - open_tickets),
        "open_seconds": OPEN_DAYS * 86400,
        "days": days,
        "first_day": timezone.localdate(now) - timedelta(days=days),
        "tz": settings.TIME_ZONE,
        "now": now,
        "emergency_share": GRADE_SHARES[Grade.EMERGENCY],
        "general_share": GRADE_SHARES[Grade.GENERAL],
        "emergency_faults": faults[Grade.EMERGENCY],
        "general_faults": faults[Grade.GENERAL],
        "consult_faults": faults[Grade.CONSULT],
        "emergency_states": GRADE_OPEN_STATES[Grade.EMERGENCY],
        "general_states": GRADE_OPEN_STATES[Grade.GENERAL],
        "consult_states": GRADE_OPEN_STATES[Grade.CONSULT],
        "community_count": len(communities),
        "communities": [pk for pk, _ in communities],
        "districts": [district for _, district in communities],
        "crews": list(Crew.objects.order_by("id").values_list("id", flat=True)),
        "departments": [pk for pk, _ in departments],
        "department_hours": [hours for _, hours in departments],
        "department_count": len(departments),
        "agent": User.objects.get(username=AGENT_USERNAME).pk,
        "descriptions": DESCRIPTIONS,
    }
    _insert(cursor, Ticket, _TICKET_SELECT, "resolved ORDER BY id", params, ctes=_TICKETS_CTES)
    cursor.execute(
        "INSERT INTO tickets_ticketsequence (day, last) "
        "SELECT (received_at AT TIME ZONE %s)::date, count(*) FROM tickets_ticket GROUP BY 1",
        [settings.TIME_ZONE],
    )


def quiet_keep(*, now: datetime, minutes: int, log: Callable) -> int:
    """Move back every open ticket a level of whose deadlines falls in the ``minutes`` after
    ``now`` (by as many minutes, its other times alike), until none does; return how many
    moves it took, ticket by ticket."""
    policies, windows = policies_and_windows()
    end = now + timedelta(minutes=minutes)
    moved = 0
    for _ in range(40):
        ids: set[int] = set()
        for watch, level in pairs():
            if watch.model is not Ticket:
                continue
            ids.update(
                pending_moments(
                    watch=watch, level=level, windows=windows[watch.milestone], policies=policies
                )
                .filter(moment__gt=now, moment__lte=end)
                .values_list("id", flat=True)
            )
        if not ids:
            return moved
        with connection.cursor() as cursor:
            assignments = ", ".join(
                f"{column} = {column} - make_interval(mins => %s)" for column in TIME_COLUMNS
            )
            cursor.execute(
                f"UPDATE tickets_ticket SET {assignments} WHERE id = ANY(%s)",
                [*([minutes] * len(TIME_COLUMNS)), list(ids)],
            )
        moved += len(ids)
        log(f"  quiet time: {len(ids):,} open tickets moved back {minutes} min")
    raise RuntimeError("open tickets keep reaching a level in the quiet time")


def _alerts_load(*, now: datetime, log: Callable) -> None:
    """The alerts earlier sweeps raised: on closed tickets, each level whose moment came
    while the deadline was still open; on open tickets, each level whose moment came by
    ``now``."""
    policies, windows = policies_and_windows()
    for watch, level in pairs():
        started = time.monotonic()
        found = {"open": 0, "closed": 0}
        # Rows still open: every moment by now (the follow-up tables are empty).
        found["open"] = alerts_insert(
            pending_moments(
                watch=watch, level=level, windows=windows[watch.milestone], policies=policies
            ).filter(moment__lte=now),
            watch=watch,
            level=level,
            now=now,
        )
        if watch.model is Ticket:
            done = MILESTONES[Milestone(watch.milestone.value)].done_field
            history = Ticket.objects.filter(
                state=State.CLOSED, **{f"{watch.due_field}__isnull": False}
            )
            found["closed"] = alerts_insert(
                with_moment(
                    history,
                    watch=watch,
                    level=level,
                    windows=windows[watch.milestone],
                    policies=policies,
                ).filter(moment__lte=now, **{f"{done}__gt": F("moment")}),
                watch=watch,
                level=level,
                now=now,
            )
        log(
            f"  alerts {watch.milestone.value:<22} {level.value:<9} "
            f"{found['open']:>8,} on open, {found['closed']:>8,} on closed tickets "
            f"({time.monotonic() - started:.1f} s)"
        )


def _messages_load() -> int:
    """The text messages the breaches of crew milestones sent to the crew's leader."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO dispatch_outboundmessage (to_phone, body, kind, dedupe_key, status,
                attempts, last_error, created_at, sent_at)
            SELECT u.phone, '[超时] 工单 ' || t.number || ' 已超过时限', 'alert_breach',
                   'alert:' || a.id || ':' || u.phone, 'sent', 1, '', a.raised_at,
                   a.raised_at + interval '3 seconds'
            FROM tickets_alert a
            JOIN tickets_ticket t ON t.id = a.ticket_id
            JOIN dispatch_crewmembership m ON m.crew_id = t.crew_id AND m.is_leader
            JOIN staffing_user u ON u.id = m.user_id AND u.phone <> ''
            WHERE a.level = 'breach' AND a.milestone = ANY(%s)
            ORDER BY a.id
            """,
            [[milestone.value for milestone in CREW_ALERT_MILESTONES]],
        )
        return cursor.rowcount


def cursors_set(at: datetime) -> None:
    """Put every sweep position at ``at`` (made where missing)."""
    AlertCursor.objects.bulk_create(
        [
            AlertCursor(milestone=watch.milestone, level=level, scanned_through=at)
            for watch, level in pairs()
        ],
        ignore_conflicts=True,
    )
    AlertCursor.objects.update(scanned_through=at)


def _bulk_load(
    *, tickets: int, open_tickets: int, days: int, quiet_minutes: int, now: datetime, log
) -> None:
    indexes = secondary_indexes(TABLES)
    ticket_indexes = [(n, d) for n, d in indexes if " ON public.tickets_ticket " in d]
    other_indexes = [(n, d) for n, d in indexes if (n, d) not in ticket_indexes]
    with transaction.atomic(), connection.cursor() as cursor:
        # The rows are generated consistent: skip the foreign-key triggers, build each index
        # once (the ticket's before the alerts are looked for along them).
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SELECT setseed(0.37)")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        started = time.monotonic()
        _tickets_insert(cursor, tickets=tickets, open_tickets=open_tickets, days=days, now=now)
        for _name, definition in ticket_indexes:
            cursor.execute(definition)
        cursor.execute("ANALYZE tickets_ticket")
        log(f"  {tickets:,} tickets and their indexes in {time.monotonic() - started:.1f} s")
        moved = quiet_keep(now=now, minutes=quiet_minutes, log=log)
        started = time.monotonic()
        _alerts_load(now=now, log=log)
        messages = _messages_load()
        log(f"  alerts and {messages:,} messages in {time.monotonic() - started:.1f} s")
        for _name, definition in other_indexes:
            cursor.execute(definition)
        for table in ("tickets_ticket", "tickets_alert", "dispatch_outboundmessage"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce(max(id), 1)) FROM {table}"
            )
        cursors_set(now)
        cursor.execute(
            "CREATE TABLE bench_alerts_moved (ticket_id bigint PRIMARY KEY, shift interval)"
        )
        cursor.execute(
            """
            CREATE TABLE bench_alerts_dataset (
                tickets integer, open integer, days integer, quiet_minutes integer,
                fingerprint text, now timestamptz, quiet_moved integer, max_alert_id bigint,
                max_message_id bigint, loaded_at timestamptz, load_seconds double precision
            )
            """
        )
        cursor.execute(
            "INSERT INTO bench_alerts_dataset VALUES (%s, %s, %s, %s, %s, %s, %s, "
            "(SELECT coalesce(max(id), 0) FROM tickets_alert), "
            "(SELECT coalesce(max(id), 0) FROM dispatch_outboundmessage), %s, 0)",
            [tickets, open_tickets, days, quiet_minutes, _fingerprint(), now, moved, now],
        )


def vacuum_analyze(tables: tuple[str, ...] = VACUUMED, *, analyze: bool = True) -> None:
    """VACUUM the tables (the visibility map, no dead rows), and analyze them."""
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for table in tables:
            cursor.execute(f"VACUUM {'(ANALYZE) ' if analyze else ''}{table}")
        cursor.execute("RESET maintenance_work_mem")


def remove_added(*, now: datetime, max_alert_id: int, max_message_id: int) -> dict[str, int]:
    """Delete the alerts and messages added after the load, put back the tickets a run moved
    and the sweep positions at ``now``; return how many of each."""
    with transaction.atomic(), connection.cursor() as cursor:
        moved = tickets_restore(cursor)
        cursor.execute("DELETE FROM tickets_alert WHERE id > %s", [max_alert_id])
        alerts = cursor.rowcount
        cursor.execute("DELETE FROM dispatch_outboundmessage WHERE id > %s", [max_message_id])
        messages = cursor.rowcount
        cursors_set(now)
    return {"tickets": moved, "alerts": alerts, "messages": messages}


def _sizes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
            "WHERE relname = ANY(%s)",
            [list(TABLES)],
        )
        return dict(cursor.fetchall())


def _describe(recorded: dict, *, reused: bool, restored: str) -> AlertsDataset:
    now = recorded["now"]
    pending = Q()
    for spec in MILESTONES.values():
        pending |= Q(state__in=spec.pending_states, **{f"{spec.due_field}__lte": now})
    with connection.cursor() as cursor:
        cursor.execute("SELECT state, count(*) FROM tickets_ticket GROUP BY state")
        states = dict(cursor.fetchall())
        cursor.execute("SELECT level, count(*) FROM tickets_alert GROUP BY level")
        by_level = dict(cursor.fetchall())
        cursor.execute(
            "SELECT count(*) FROM tickets_alert a JOIN tickets_ticket t ON t.id = a.ticket_id "
            "WHERE t.state = ANY(%s)",
            [[state.value for state in OPEN_STATES]],
        )
        of_open = cursor.fetchone()[0]
    return AlertsDataset(
        tickets=sum(states.values()),
        open_tickets=sum(states.get(state, 0) for state in OPEN_STATES),
        overdue_open=Ticket.objects.filter(pending).count(),
        states={state.value: states.get(state, 0) for state in OPEN_STATES},
        now=now,
        quiet_minutes=recorded["quiet_minutes"],
        quiet_moved=recorded["quiet_moved"],
        alerts=sum(by_level.values()),
        alerts_by_level=by_level,
        alerts_of_open=of_open,
        messages=OutboundMessage.objects.count(),
        crews=Crew.objects.count(),
        leaders_with_phone=CrewMembership.objects.filter(is_leader=True)
        .exclude(user__phone="")
        .count(),
        departments=Department.objects.count(),
        reused=reused,
        load_seconds=recorded["load_seconds"],
        loaded_at=recorded["loaded_at"],
        max_alert_id=recorded["max_alert_id"],
        max_message_id=recorded["max_message_id"],
        restored=restored,
        sizes=_sizes(),
    )


def alerts_dataset_prepare(
    *,
    tickets: int,
    open_tickets: int,
    days: int,
    quiet_minutes: int,
    fresh: bool,
    log: Callable = print,
) -> AlertsDataset:
    """Make the alerts database hold the wanted rows (reused when it already does)."""
    if not fresh and _database_exists():
        recorded = _recorded()
        if (
            recorded is not None
            and (recorded["tickets"], recorded["open"], recorded["days"])
            == (tickets, open_tickets, days)
            and recorded["quiet_minutes"] == quiet_minutes
            and recorded["fingerprint"] == _fingerprint()
        ):
            started = time.monotonic()
            removed = remove_added(
                now=recorded["now"],
                max_alert_id=recorded["max_alert_id"],
                max_message_id=recorded["max_message_id"],
            )
            vacuum_analyze()
            restored = (
                f"{removed['alerts']:,} alerts and {removed['messages']:,} messages of earlier "
                f"runs deleted, {removed['tickets']:,} moved tickets put back"
            )
            log(
                f"reusing the alerts database loaded {recorded['loaded_at']:%Y-%m-%d %H:%M}; "
                f"{restored}; vacuumed in {time.monotonic() - started:.1f} s"
            )
            return _describe(recorded, reused=True, restored=restored)
        log("the alerts database holds other rows or an older schema; rebuilding it")
    started = time.monotonic()
    # The benchmark's moment: a whole minute, so the report's times read plainly.
    now = timezone.now().replace(second=0, microsecond=0)
    _recreate_database()
    call_command("migrate", verbosity=0, interactive=False)
    _reference_data()
    _people()
    log(
        f"schema and reference data in {time.monotonic() - started:.1f} s; loading "
        f"{tickets:,} tickets, {open_tickets:,} open, and their alerts"
    )
    _bulk_load(
        tickets=tickets,
        open_tickets=open_tickets,
        days=days,
        quiet_minutes=quiet_minutes,
        now=now,
        log=log,
    )
    log(f"loaded in {time.monotonic() - started:.1f} s; vacuum and analyze")
    vacuum_analyze()
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    load_seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("UPDATE bench_alerts_dataset SET load_seconds = %s", [load_seconds])
    log(f"database ready in {load_seconds:.1f} s")
    return _describe(_recorded(), reused=False, restored="")
