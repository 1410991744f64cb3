"""The reports benchmark's database: a month of tickets at a provincial centre's volume.

Its own database, loaded with ``INSERT … SELECT`` over ``generate_series`` (no ORM loop),
from the follow-ups suite's reference data (the ticket suite's agent, fault types, districts,
communities, crews and departments, plus the application fault types), grown to a provincial
centre's size: 30 districts of 300 communities, 200 crews, 12 departments.

- **The month**: the last full month before the day it was loaded, in the centre's time
  zone, with ``tickets`` tickets spread over its days and hours: weekdays more than
  weekends, a storm day (the first Tuesday from the 15th) 1.6 times a weekday, and in each
  day far more by day than at night (``HOUR_WEIGHTS``). Each hour's count is exact, so the
  busiest day and the shifts are known before the load.
- **The history**: the ``history_days`` days before the month at ``history_share`` of its
  daily volume, the same mix; the satisfaction trend reads six months of callbacks, and
  the month is then a part of the table, not all of it.
- **Tickets**: channels hotline 62 %, 12345 transfers 12 % (with the hotline's work-order
  reference), WeChat 14 %, app 8 %, web 4 %; categories repair 80 % (12 % of them
  emergencies), complaint 6 %, application 4 %, consult 10 %. Repairs go to a crew
  (dispatched, accepted, on site, water stopped for an emergency, resolved, closed within
  the backfill time), the rest to a department (referred, answered within its hours,
  closed). Each step at a pace around the SLA policy of the grade, an eighth of the
  tickets late at every step. 2 % cancelled, 1 % merged into the ticket before; 10 % of
  the last three days' tickets and 0.2 % of older ones still open, in an open state of
  their kind. Addresses: a community, one of 30 buildings and 6 units, so that a few per
  cent of the addresses have repeated repairs in a month. Special tickets: 5 % of the
  complaints and 0.1 % of the rest.
- **Extensions**: 3 % of the repairs older than three days had the arrival deadline
  extended (an approved request: 30 minutes for an emergency, an hour otherwise; the ticket's
  ``arrive_due`` is the extended one, most arrivals fall inside the extension and after the
  first deadline); 1 % had a request refused.
- **Complaints**: a ``followups_complaint`` row for each complaint ticket, first reply due a
  day after receipt (met at a pace around it), final reply due a day after the department's
  answer, given at the closing.
- **Callbacks** by the seeded rules, each on the ticket's trigger time (dispatch, receipt or
  closing): every 12345 transfer, complaint and application, and ``hotline_sampling`` % of
  the hotline repairs (the rule's sampling set to it); due the rule's days later at 17:30,
  done (satisfied 80 %, basically 14 %, not 6 %) or unreachable (8 %) a pace around the due
  time, pending when that is still ahead. A fifth of the unsatisfied ones led to an
  accountability record against the ticket's crew or department.
- **Calls**: an inbound call for every hotline ticket of the month (answered, a ticket
  created), and for 45 % of the others a call in the same hour that made none (answered,
  linked, or abandoned before an answer: 20 % of them).
- **Dispatchers' notes** (``dispatch_unclosedplan``) on a third of the open tickets, and the
  month before's monthly report, approved, with the supervisor's targets.

No ticket events (the reports do not read them). A database that already holds the wanted
rows from the same loader and migrations is reused: the reports earlier runs made are
deleted and the tables analyzed.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from callcentre.models import Call
from dispatch.models import Community, Crew, Department, District, UnclosedPlan
from followups.models import Accountability, Callback, CallbackRule, Complaint
from reports.models import Report
from reports.periods import Period, day_of, month_of
from staffing.models import User
from staffing.roles import Role
from staffing.services import user_create
from tests.bench.dataset import (
    AGENT_USERNAME,
    _database_exists,
    _recreate_database,
    loader_fingerprint,
    recorded_row,
    secondary_indexes,
)
from tests.bench.followups_dataset import _CALLBACK_SELECT
from tests.bench.followups_dataset import _TICKET_SELECT as FOLLOWUPS_TICKET_SELECT
from tests.bench.followups_dataset import _reference_data as followups_reference_data
from tests.bench.intake_dataset import _insert
from tickets.choices import Category, Grade
from tickets.models import FaultType, Ticket

TABLES = (
    "tickets_ticket",
    "tickets_extensionrequest",
    "followups_complaint",
    "followups_callback",
    "followups_accountability",
    "callcentre_call",
    "dispatch_unclosedplan",
)
DISTRICTS = 30
COMMUNITIES_PER_DISTRICT = 300
CREWS = 200
DEPARTMENTS = 12
DISPATCHER_USERNAME = "bench-dispatcher"
SUPERVISOR_USERNAME = "bench-supervisor"
CREW_LEADER_USERNAME = "bench-crew-leader"
# A day's tickets by the local hour they come in (relative weights): few at night, the peak
# in the morning, a second one in the afternoon.
HOUR_WEIGHTS = (
    0.25, 0.18, 0.15, 0.13, 0.14, 0.22, 0.45, 0.85, 1.30, 1.55, 1.60, 1.50,
    1.20, 1.30, 1.45, 1.45, 1.40, 1.30, 1.15, 1.05, 0.95, 0.80, 0.60, 0.40,
)  # fmt: skip
# Monday to Sunday.
WEEKDAY_WEIGHTS = (1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 0.75)
STORM_WEIGHT = 1.6
EMERGENCY_SHARE = 0.12  # of the repairs
EXTENDED_SHARE = 0.03  # of the repairs older than three days: arrival extended
REFUSED_SHARE = 0.01  # of the repairs: an extension refused
HOTLINE_SAMPLING = 30  # per cent of the hotline repairs called back
DESCRIPTIONS = [
    "厨房水管接头漏水",
    "卫生间下水管渗水",
    "整栋楼水压偏低",
    "路口井盖冒水",
    "水表不走字",
    "自来水发黄有异味",
    "水费比上月高很多",
    "咨询停水时间",
]


@dataclass(frozen=True)
class ReportsDataset:
    tickets: int  # received in the month
    history_tickets: int  # received in the history days before it
    history_days: int
    history_share: float
    month: Period
    busiest_day: Period
    busiest_day_tickets: int
    days: dict[date, int]  # tickets received on each day of the month
    states: dict[str, int]  # the month's tickets per state
    extensions: dict[str, int]  # per state
    complaints: int
    callbacks: dict[str, int]  # per state, over every month
    callbacks_done_in_month: int
    accountability: int
    calls: int
    unclosed_plans: int
    crews: int
    districts: int
    communities: int
    now: datetime  # when it was loaded
    reused: bool
    load_seconds: float
    removed_reports: int
    sizes: dict[str, str] = field(repr=False)


def _fingerprint() -> str:
    """A hash of this loader, those it takes parts from and the migrations: when one changes,
    a database loaded before is rebuilt rather than reused."""
    return loader_fingerprint(
        "reports_dataset.py", "followups_dataset.py", "intake_dataset.py", "dataset.py"
    )


def _recorded() -> dict | None:
    return recorded_row(
        "bench_reports_dataset",
        "tickets, history_days, history_share, fingerprint, month_start, now, max_report_id, "
        "load_seconds",
    )


def measured_month(now: datetime) -> Period:
    """Return the last full month before ``now``."""
    return month_of(month_of(now).start - timedelta(days=1))


def storm_day(month: Period) -> date:
    """Return the day of the month the storm brings half as many tickets again: the first
    Tuesday from the 15th."""
    day = timezone.localtime(month.start).date().replace(day=15)
    return day + timedelta(days=(1 - day.weekday()) % 7)


def _spread(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights``, in whole numbers that add up to it."""
    whole = sum(weights)
    shares = [total * weight / whole for weight in weights]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda k: counts[k] - shares[k])
    for k in by_remainder[: total - sum(counts)]:
        counts[k] += 1
    return counts


def hour_cells(
    *, month: Period, tickets: int, history_days: int, history_share: float
) -> tuple[list[datetime], list[int]]:
    """Return the start of every local hour of the history and of the month, and how many
    tickets each receives."""
    first = timezone.localtime(month.start).date()
    days = (timezone.localtime(month.end).date() - first).days
    storm = storm_day(month)
    month_days = [first + timedelta(days=n) for n in range(days)]
    day_weights = [
        WEEKDAY_WEIGHTS[day.weekday()] * (STORM_WEIGHT if day == storm else 1) for day in month_days
    ]
    per_day = _spread(tickets, day_weights)
    # The history's days at a share of the month's volume on a day of the same weekday.
    ordinary = tickets / sum(day_weights)
    history = [first - timedelta(days=n) for n in range(history_days, 0, -1)]
    per_day = [
        round(ordinary * history_share * WEEKDAY_WEIGHTS[day.weekday()]) for day in history
    ] + per_day
    starts, counts = [], []
    for day, count in zip([*history, *month_days], per_day, strict=True):
        midnight = timezone.make_aware(datetime.combine(day, datetime.min.time()))
        for hour, n in enumerate(_spread(count, list(HOUR_WEIGHTS))):
            starts.append(midnight + timedelta(hours=hour))
            counts.append(n)
    return starts, counts


def _reference_data() -> None:
    """The follow-ups suite's reference data, grown to a provincial centre: more districts,
    communities, crews and departments; a dispatcher, a supervisor and a crew leader; the
    hotline repairs' callbacks sampled."""
    followups_reference_data()
    for n in range(District.objects.count(), DISTRICTS):
        District.objects.create(code=f"district-{n}", name=f"片区{n}")
    for district in District.objects.order_by("id"):
        existing = district.communities.count()
        Community.objects.bulk_create(
            Community(district=district, name=f"{district.name}小区{n}")
            for n in range(existing, COMMUNITIES_PER_DISTRICT)
        )
    districts = list(District.objects.order_by("id"))
    crews = [Crew(code=f"crew-{n}", name=f"维修{n}队") for n in range(Crew.objects.count(), CREWS)]
    Crew.objects.bulk_create(crews)
    Crew.districts.through.objects.bulk_create(
        Crew.districts.through(crew_id=crew.pk, district_id=districts[n % len(districts)].pk)
        for n, crew in enumerate(Crew.objects.order_by("id"))
        if not crew.districts.exists()
    )
    Department.objects.bulk_create(
        Department(code=f"dept-{n}", name=f"部门{n}", time_limit_hours=(24, 48, 72)[n % 3])
        for n in range(Department.objects.count(), DEPARTMENTS)
    )
    user_create(username=DISPATCHER_USERNAME, password=None, role=Role.DISPATCHER)
    user_create(username=SUPERVISOR_USERNAME, password=None, role=Role.SUPERVISOR)
    user_create(username=CREW_LEADER_USERNAME, password=None, role=Role.CREW_MEMBER)
    CallbackRule.objects.filter(code="hotline-repair").update(sampling_percent=HOTLINE_SAMPLING)


# Every random draw happens once per row in ``draws``; later steps only combine them. Each
# hour's tickets are spread over it. Two steps are materialized: inlined, each column would
# repeat the expressions of those it is made of, many times over.
_TICKETS_CTES = """
WITH draws AS (
    SELECT
        c.start + make_interval(secs => random() * 3599.999) AS received_at,
        random() AS r_channel, random() AS r_category, random() AS r_grade,
        random() AS r_fault, random() AS r_open, random() AS r_state, random() AS r_final,
        random() AS r_place, random() AS r_building, random() AS r_unit, random() AS r_crew,
        random() AS r_speed, random() AS r_backfill, random() AS r_extend,
        random() AS r_inside, random() AS r_special, (random() * 99999999)::int AS phone
    FROM unnest(%(cell_starts)s::timestamptz[], %(cell_counts)s::int[]) AS c (start, n),
         generate_series(1, c.n)
), numbered AS (
    SELECT
        d.*,
        row_number() OVER (ORDER BY received_at) AS id,
        row_number() OVER (
            PARTITION BY (received_at AT TIME ZONE %(tz)s)::date ORDER BY received_at
        ) AS seq,
        CASE WHEN r_channel < 0.62 THEN 'hotline' WHEN r_channel < 0.74 THEN 'gov_12345'
             WHEN r_channel < 0.88 THEN 'wechat' WHEN r_channel < 0.96 THEN 'app'
             ELSE 'web' END AS channel,
        CASE WHEN r_category < 0.80 THEN 'repair' WHEN r_category < 0.86 THEN 'complaint'
             WHEN r_category < 0.90 THEN 'application' ELSE 'consult' END AS category
    FROM draws d
), typed AS (
    SELECT
        n.*,
        CASE WHEN n.category = 'repair' AND n.r_grade < %(emergency_share)s
                 THEN %(emergency_faults)s::bigint[]
             WHEN n.category = 'repair' THEN %(general_faults)s::bigint[]
             WHEN n.category = 'complaint' THEN %(complaint_faults)s::bigint[]
             WHEN n.category = 'application' THEN %(application_faults)s::bigint[]
             ELSE %(consult_faults)s::bigint[] END AS faults,
        n.received_at < %(now)s::timestamptz - interval '3 days' AS settled
    FROM numbered n
), leveled AS (
    SELECT
        t.*,
        t.faults[1 + floor(t.r_fault * cardinality(t.faults))::int] AS fault_type_id,
        t.category = 'repair' AS for_crew,
        t.r_open < CASE WHEN t.settled THEN 0.002 ELSE 0.10 END AS is_open,
        -- Above 1 the steps were late; every step taken fits before now.
        least(0.25 + t.r_speed * 0.85,
              extract(epoch FROM %(now)s::timestamptz - t.received_at) / 60 / 4700) AS pace,
        1 + floor(t.r_place * %(community_count)s)::int AS place,
        1 + floor(t.r_crew * %(department_count)s)::int AS department_n
    FROM typed t
), policied AS (
    SELECT
        l.*,
        ft.default_grade AS grade,
        p.dispatch_minutes, p.accept_minutes, p.arrive_minutes, p.mitigate_minutes,
        p.resolve_minutes, p.close_minutes, p.backfill_minutes,
        CASE WHEN NOT l.for_crew THEN ARRAY['new', 'verified', 'referred', 'resolved']
             WHEN ft.default_grade = 'emergency'
                 THEN ARRAY['new', 'verified', 'dispatched', 'accepted', 'on_site',
                            'mitigated', 'resolved']
             ELSE ARRAY['new', 'verified', 'dispatched', 'accepted', 'on_site', 'resolved']
        END AS open_states
    FROM leveled l
    JOIN tickets_faulttype ft ON ft.id = l.fault_type_id
    JOIN tickets_slapolicy p ON p.grade = ft.default_grade
), shaped AS (
    SELECT
        p.*,
        CASE WHEN is_open THEN open_states[1 + floor(r_state * cardinality(open_states))::int]
             WHEN r_final < 0.02 THEN 'cancelled'
             WHEN r_final < 0.03 AND id > 1 THEN 'merged'
             ELSE 'closed' END AS state,
        -- The crew asked for more time to reach the site, and was given it.
        for_crew AND settled AND r_extend < %(extended_share)s AS extended,
        make_interval(mins => CASE WHEN grade = 'emergency' THEN 30 ELSE 60 END) AS extension
    FROM policied p
), stepped AS MATERIALIZED (
    SELECT
        s.*,
        CASE state
            WHEN 'new' THEN 0 WHEN 'merged' THEN 0 WHEN 'verified' THEN 1
            WHEN 'cancelled' THEN 1 WHEN 'dispatched' THEN 2 WHEN 'referred' THEN 2
            WHEN 'accepted' THEN 3 WHEN 'on_site' THEN 4 WHEN 'mitigated' THEN 5
            WHEN 'resolved' THEN 6 ELSE 7
        END AS level
    FROM shaped s
), early AS (
    SELECT
        st.*,
        level >= 2 AND state <> 'cancelled' AND for_crew AS has_crew,
        level >= 2 AND state <> 'cancelled' AND NOT for_crew AS has_department,
        CASE WHEN level >= 1
             THEN received_at + make_interval(mins => dispatch_minutes) * pace * 0.3 END
            AS verified_at,
        CASE WHEN level >= 2 AND state <> 'cancelled'
             THEN received_at + make_interval(mins => dispatch_minutes) * pace END
            AS dispatched_at,
        CASE WHEN level >= 3 AND for_crew
             THEN received_at + make_interval(mins => accept_minutes) * pace END AS accepted_at,
        CASE WHEN level >= 4 AND for_crew AND extended
                 -- Inside the extension mostly, after the first deadline.
                 THEN received_at + make_interval(mins => arrive_minutes)
                      + extension * (0.2 + 0.9 * r_inside)
             WHEN level >= 4 AND for_crew
                 THEN received_at + make_interval(mins => arrive_minutes) * pace END
            AS arrived_at,
        CASE WHEN state = 'cancelled' THEN received_at + interval '20 minutes' * pace END
            AS cancelled_at
    FROM stepped st
), referred AS (
    SELECT
        e.*,
        -- A referral is answered within its department's hours (``referral_due``).
        CASE WHEN has_department THEN dispatched_at
            + make_interval(hours => (%(department_hours)s::int[])[department_n]) END
            AS referral_due,
        CASE WHEN level >= 5 AND grade = 'emergency' AND for_crew
             THEN greatest(arrived_at + interval '10 minutes',
                           received_at + make_interval(mins => mitigate_minutes) * pace) END
            AS mitigated_at
    FROM early e
), resolved AS MATERIALIZED (
    SELECT
        r.*,
        CASE WHEN level < 6 THEN NULL
             WHEN has_department THEN dispatched_at + (referral_due - dispatched_at) * pace
             -- A little ahead of the pace: the closing's deadline comes with the repair's.
             ELSE greatest(coalesce(mitigated_at, arrived_at) + interval '20 minutes',
                           received_at + make_interval(mins => coalesce(
                               resolve_minutes, (close_minutes * 0.8)::int, 2880)) * pace * 0.85)
        END AS resolved_at
    FROM referred r
), timed AS (
    SELECT
        r.*,
        -- Closed within the backfill time, a tenth of them late; never after now.
        CASE WHEN level >= 7 THEN least(
            resolved_at + make_interval(mins => coalesce(backfill_minutes, 240))
                * (0.15 + 0.95 * r_backfill),
            %(now)s::timestamptz - interval '1 minute') END AS closed_at
    FROM resolved r
)
"""


def _replaced(select: list[tuple[str, str]], **columns: str) -> list[tuple[str, str]]:
    """Return ``select`` with the expressions of ``columns`` in place of its own, and those
    it does not have added at the end."""
    replaced = [(column, columns.pop(column, expression)) for column, expression in select]
    return replaced + list(columns.items())


# The follow-ups suite's columns, with this month's addresses, transfers, referrals,
# extensions, cancellations, merges and special tickets.
_TICKET_SELECT = _replaced(
    FOLLOWUPS_TICKET_SELECT,
    description="(%(descriptions)s::text[])[1 + id %% cardinality(%(descriptions)s::text[])]",
    building="(1 + floor(r_building * 30))::text",
    unit="(1 + floor(r_unit * 6))::text",
    external_ref=(
        "CASE WHEN channel = 'gov_12345' "
        "THEN '12345-' || to_char(received_at AT TIME ZONE %(tz)s, 'YYMMDD') || '-' || seq "
        "ELSE '' END"
    ),
    arrive_due=(
        "received_at + make_interval(mins => arrive_minutes) "
        "+ CASE WHEN extended THEN extension ELSE interval '0' END"
    ),
    resolve_due=(
        "CASE WHEN has_department THEN referral_due "
        "ELSE received_at + make_interval(mins => resolve_minutes) END"
    ),
    department_id="CASE WHEN has_department THEN (%(departments)s::bigint[])[department_n] END",
    is_special="r_special < CASE WHEN category = 'complaint' THEN 0.05 ELSE 0.001 END",
    updated_at=(
        "greatest(received_at, verified_at, dispatched_at, accepted_at, arrived_at, "
        "mitigated_at, resolved_at, closed_at, cancelled_at)"
    ),
    cancelled_at="cancelled_at",
    parent_id="CASE WHEN state = 'merged' THEN id - 1 END",
)

# The requests to move the arrival deadline: approved where the ticket's is later than its
# policy's (the loader extended it), refused on a share of the other settled repairs.
_EXTENSIONS_SQL = """
INSERT INTO tickets_extensionrequest (ticket_id, milestone, cause, reason, responsible_party,
    original_due, requested_due, state, requested_by_id, requested_at, decided_by_id,
    decided_at, decision_note)
WITH asked AS (
    SELECT
        t.id,
        t.received_at + make_interval(mins => p.arrive_minutes) AS first_due,
        t.arrive_due,
        t.arrive_due > t.received_at + make_interval(mins => p.arrive_minutes) AS approved,
        (t.id * 2654435761) %% 4 = 0 AS human,
        t.received_at + make_interval(mins => p.arrive_minutes) * 0.6 AS requested_at
    FROM tickets_ticket t
    JOIN tickets_slapolicy p ON p.grade = t.grade
    WHERE t.crew_id IS NOT NULL AND t.arrive_due IS NOT NULL
      AND t.received_at < %(now)s::timestamptz - interval '3 days'
      AND (t.arrive_due > t.received_at + make_interval(mins => p.arrive_minutes)
           OR (t.id * 2654435761) %% 10000 < %(refused_per_10000)s)
)
SELECT
    id, 'arrive', CASE WHEN human THEN 'human' ELSE 'objective' END,
    CASE WHEN human THEN '班组人员调配不及时' ELSE '道路封闭，绕行' END,
    CASE WHEN human THEN '维修班组' ELSE '' END,
    first_due,
    CASE WHEN approved THEN arrive_due ELSE first_due + interval '1 hour' END,
    CASE WHEN approved THEN 'approved' ELSE 'refused' END,
    %(crew_leader)s, requested_at, %(dispatcher)s, requested_at + interval '5 minutes',
    CASE WHEN approved THEN '' ELSE '理由不充分' END
FROM asked
ORDER BY requested_at, id
"""

# A complaint's two reply deadlines: the first a day after receipt, the final a day after
# the department's answer (given at the closing).
_COMPLAINTS_SQL = """
INSERT INTO followups_complaint (ticket_id, first_reply_due, first_replied_at,
    first_replied_by_id, first_reply, final_reply_due, final_replied_at)
SELECT
    t.id,
    t.received_at + interval '1 day',
    CASE WHEN t.verified_at IS NOT NULL THEN least(
        t.received_at + interval '1 day' * (0.2 + (((t.id * 2654435761) %% 1000) / 1000.0)),
        %(now)s::timestamptz - interval '1 minute') END,
    CASE WHEN t.verified_at IS NOT NULL THEN %(agent)s::bigint END,
    CASE WHEN t.verified_at IS NOT NULL THEN '已受理，正在核实处理' ELSE '' END,
    CASE WHEN t.resolved_at IS NOT NULL THEN t.resolved_at + interval '1 day' END,
    t.closed_at
FROM tickets_ticket t
WHERE t.category = 'complaint' AND t.state NOT IN ('cancelled', 'merged')
ORDER BY t.id
"""

# The callbacks the seeded rules make, on the tickets whose trigger time has come; the
# columns the follow-ups suite's select reads.
_CALLBACK_CTES = """
WITH eligible AS (
    SELECT
        t.id, t.caller_name, t.caller_phone, t.received_at, t.dispatched_at, t.closed_at,
        CASE WHEN t.channel = 'gov_12345' THEN 'gov-12345'
             WHEN t.category = 'application' THEN 'application'
             WHEN t.category = 'complaint' THEN 'complaint'
             WHEN t.channel = 'hotline' AND t.category = 'repair'
                  AND (t.id * 2654435761) %% 100 < %(hotline_sampling)s THEN 'hotline-repair'
        END AS code
    FROM tickets_ticket t
    WHERE t.state NOT IN ('cancelled', 'merged')
), ruled AS (
    SELECT
        e.*,
        rule.id AS rule_id, rule.due_days, rule.day_kind, rule.on_unsatisfied,
        CASE rule.trigger WHEN 'dispatched' THEN e.dispatched_at
                          WHEN 'received' THEN e.received_at ELSE e.closed_at END AS trigger_at,
        random() AS r_state, random() AS r_satisfied, random() AS r_done
    FROM eligible e
    JOIN followups_callbackrule rule ON rule.code = e.code
), scheduled AS (
    SELECT
        r.*,
        -- Working days are taken as calendar days: the reports do not count them.
        ((trigger_at AT TIME ZONE %(tz)s)::date + due_days + time '17:30') AT TIME ZONE %(tz)s
            AS due_at,
        CASE WHEN day_kind = 'calendar'
             THEN ((trigger_at AT TIME ZONE %(tz)s)::date + due_days + time '08:30')
                  AT TIME ZONE %(tz)s
             ELSE trigger_at END AS first_callable_at
    FROM ruled r
    WHERE trigger_at IS NOT NULL
), reached AS (
    SELECT s.*, first_callable_at + (due_at - first_callable_at) * (r_done * 1.1) AS reached_at
    FROM scheduled s
), finished AS (
    SELECT
        f.*,
        CASE WHEN f.state = 'done' THEN
            CASE WHEN f.r_satisfied < 0.80 THEN 'satisfied'
                 WHEN f.r_satisfied < 0.94 THEN 'basically' ELSE 'unsatisfied' END
            ELSE '' END AS satisfaction,
        CASE WHEN f.state = 'pending' THEN NULL ELSE f.reached_at END AS done_at
    FROM (
        SELECT
            r.*,
            CASE WHEN r.reached_at > %(now)s::timestamptz - interval '1 hour' THEN 'pending'
                 WHEN r.r_state < 0.08 THEN 'unreachable' ELSE 'done' END AS state
        FROM reached r
    ) f
)
"""

# A fifth of the unsatisfied customers: the ticket's crew or department loses points.
_ACCOUNTABILITY_SQL = """
INSERT INTO followups_accountability (callback_id, ticket_id, department_id, crew_id, person,
    deduction_points, reason, recorded_by_id, recorded_at)
SELECT
    c.id, t.id, t.department_id, t.crew_id,
    CASE WHEN t.crew_id IS NULL AND t.department_id IS NULL THEN '值班坐席' ELSE '' END,
    CASE WHEN c.id %% 3 = 0 THEN 2.0 ELSE 1.0 END,
    '回访不满意：' || c.comments,
    %(supervisor)s,
    least(c.done_at + interval '1 day', %(now)s::timestamptz)
FROM followups_callback c
JOIN tickets_ticket t ON t.id = c.ticket_id
WHERE c.satisfaction = 'unsatisfied' AND (c.id * 2654435761) %% 5 = 0
ORDER BY c.done_at, c.id
"""

# The month's inbound calls: one before each hotline ticket, and calls that made none.
_CALLS_CTES = """
WITH month AS (
    SELECT t.id, t.received_at, t.channel, t.category, t.caller_phone, random() AS r_call,
           random() AS r_other, random() AS r_wait
    FROM tickets_ticket t
    WHERE t.received_at >= %(start)s AND t.received_at < %(end)s
), calls AS (
    SELECT
        received_at - make_interval(secs => 60 + r_wait * 180) AS created_at,
        false AS abandoned, 'ticket_created' AS outcome, id AS ticket_id, category,
        caller_phone::text AS caller_number, r_wait
    FROM month WHERE channel = 'hotline'
    UNION ALL
    SELECT
        date_trunc('hour', received_at) + make_interval(secs => r_other * 3599),
        r_call < 0.09,
        CASE WHEN r_call < 0.09 THEN 'abandoned' WHEN r_call < 0.30 THEN 'linked'
             ELSE 'answered' END,
        NULL, CASE WHEN r_call < 0.09 THEN '' ELSE 'consult' END,
        '+86139' || lpad(((id * 2654435761) %% 100000000)::text, 8, '0'), r_wait
    FROM month WHERE channel <> 'hotline' AND r_call < 0.45
)
"""

_CALL_SELECT = [
    ("channel", "'hotline'"),
    ("direction", "'inbound'"),
    ("caller_number", "caller_number"),
    ("agent_id", "CASE WHEN abandoned THEN NULL ELSE %(agent)s::bigint END"),
    ("ringing_at", "created_at"),
    (
        "answered_at",
        "CASE WHEN NOT abandoned THEN created_at + make_interval(secs => 5 + r_wait * 40) END",
    ),
    ("ended_at", "created_at + make_interval(secs => 30 + r_wait * 300)"),
    ("abandoned", "abandoned"),
    ("category", "category"),
    ("outcome", "outcome"),
    ("ticket_id", "ticket_id"),
    ("notes", "''"),
    ("created_at", "created_at"),
]

_SEQUENCES_SQL = """
INSERT INTO tickets_ticketsequence (day, last)
SELECT (received_at AT TIME ZONE %(tz)s)::date, count(*) FROM tickets_ticket GROUP BY 1
"""

_UNCLOSED_PLANS_SQL = """
INSERT INTO dispatch_unclosedplan (ticket_id, day, reason, plan, written_by_id, written_at)
SELECT
    t.id, (t.received_at AT TIME ZONE %(tz)s)::date, '等待材料到货', '材料到后立即安排维修',
    %(dispatcher)s, t.received_at + interval '2 hours'
FROM tickets_ticket t
WHERE t.state = ANY(%(open_states)s) AND t.id %% 3 = 0
  AND t.received_at + interval '2 hours' < %(now)s::timestamptz
ORDER BY t.id
"""


def _bulk_load(
    *, tickets: int, history_days: int, history_share: float, now: datetime, log: Callable
) -> None:
    month = measured_month(now)
    starts, counts = hour_cells(
        month=month, tickets=tickets, history_days=history_days, history_share=history_share
    )
    communities = list(
        Community.objects.order_by("district_id", "id").values_list("id", "district_id")
    )
    departments = list(Department.objects.order_by("id").values_list("id", "time_limit_hours"))

    def faults(category: str, grade: str | None = None) -> list[int]:
        chosen = FaultType.objects.filter(category=category)
        if grade:
            chosen = chosen.filter(default_grade=grade)
        return list(chosen.order_by("id").values_list("id", flat=True))

    users = dict(User.objects.values_list("username", "id"))
    params = {
        "cell_starts": starts,
        "cell_counts": counts,
        "tz": settings.TIME_ZONE,
        "now": now,
        "start": month.start,
        "end": month.end,
        "emergency_share": EMERGENCY_SHARE,
        "extended_share": EXTENDED_SHARE,
        "refused_per_10000": round(REFUSED_SHARE * 10000),
        "hotline_sampling": HOTLINE_SAMPLING,
        "emergency_faults": faults(Category.REPAIR, Grade.EMERGENCY),
        "general_faults": faults(Category.REPAIR, Grade.GENERAL),
        "complaint_faults": faults(Category.COMPLAINT),
        "application_faults": faults(Category.APPLICATION),
        "consult_faults": faults(Category.CONSULT),
        "community_count": len(communities),
        "communities": [pk for pk, _ in communities],
        "districts": [district for _, district in communities],
        "crews": list(Crew.objects.order_by("id").values_list("id", flat=True)),
        "departments": [pk for pk, _ in departments],
        "department_hours": [hours for _, hours in departments],
        "department_count": len(departments),
        "agent": users[AGENT_USERNAME],
        "dispatcher": users[DISPATCHER_USERNAME],
        "supervisor": users[SUPERVISOR_USERNAME],
        "crew_leader": users[CREW_LEADER_USERNAME],
        "descriptions": DESCRIPTIONS,
        "open_states": ["new", "verified", "dispatched", "accepted", "on_site", "mitigated",
                        "referred", "resolved"],
    }  # fmt: skip
    indexes = secondary_indexes(TABLES)
    with transaction.atomic(), connection.cursor() as cursor:
        # The rows are generated consistent: skip the foreign-key triggers, build each index
        # once at the end.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        # Compiling the generator's long expressions would take longer than running them.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SELECT setseed(0.53)")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        steps = [
            ("tickets", lambda: _insert(
                cursor, Ticket, _TICKET_SELECT, "timed ORDER BY id", params, ctes=_TICKETS_CTES
            )),
            ("day counters", lambda: _execute(cursor, _SEQUENCES_SQL, params)),
            ("extension requests", lambda: _execute(cursor, _EXTENSIONS_SQL, params)),
            ("complaints", lambda: _execute(cursor, _COMPLAINTS_SQL, params)),
            ("callbacks", lambda: _insert(
                cursor, Callback, _CALLBACK_SELECT, "finished ORDER BY trigger_at, id", params,
                ctes=_CALLBACK_CTES,
            )),
            ("accountability records", lambda: _execute(cursor, _ACCOUNTABILITY_SQL, params)),
            ("calls", lambda: _insert(
                cursor, Call, _CALL_SELECT, "calls ORDER BY created_at", params, ctes=_CALLS_CTES
            )),
            ("dispatchers' notes", lambda: _execute(cursor, _UNCLOSED_PLANS_SQL, params)),
        ]  # fmt: skip
        for name, step in steps:
            started = time.monotonic()
            rows = step()
            log(f"  {rows:>10,} {name} in {time.monotonic() - started:.1f} s")
        for table in TABLES:
            if table != "followups_complaint":  # keyed by its ticket
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"coalesce(max(id), 1)) FROM {table}"
                )
        started = time.monotonic()
        for _name, definition in indexes:
            cursor.execute(definition)
        log(f"  {len(indexes)} indexes built in {time.monotonic() - started:.1f} s")
    # The month before's report, approved with the targets this month is read against.
    previous = month_of(month.start - timedelta(days=1))
    Report.objects.create(
        kind=Report.Kind.MONTHLY,
        period_start=previous.start,
        period_end=previous.end,
        generated_at=previous.end + timedelta(minutes=5),
        state=Report.State.APPROVED,
        approved_at=previous.end + timedelta(days=2),
        approved_by_id=users[SUPERVISOR_USERNAME],
        measures="夜班增加一组抢修",
        targets={"completion": 95.0, "sla": 90.0, "satisfaction": 95.0},
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TABLE bench_reports_dataset (
                tickets integer, history_days integer, history_share double precision,
                fingerprint text, month_start timestamptz, now timestamptz,
                max_report_id bigint, load_seconds double precision
            )
            """
        )
        cursor.execute(
            "INSERT INTO bench_reports_dataset VALUES (%s, %s, %s, %s, %s, %s, "
            "(SELECT max(id) FROM reports_report), 0)",
            [tickets, history_days, history_share, _fingerprint(), month.start, now],
        )


def _execute(cursor, sql: str, params: dict) -> int:
    cursor.execute(sql, params)
    return cursor.rowcount


def vacuum_analyze() -> None:
    """VACUUM (ANALYZE) the loaded tables (the visibility map, no dead rows), then ANALYZE
    the rest: the planner must know how few crews and districts there are, as autovacuum
    would have told it in a day."""
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for table in (*TABLES, "reports_report"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("ANALYZE")


def _sizes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
            "WHERE relname = ANY(%s) ORDER BY pg_total_relation_size(oid) DESC",
            [list(TABLES)],
        )
        return dict(cursor.fetchall())


def _describe(recorded: dict, *, reused: bool, removed_reports: int) -> ReportsDataset:
    month = month_of(recorded["month_start"])
    in_month = {"received_at__gte": month.start, "received_at__lt": month.end}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (received_at AT TIME ZONE %s)::date, count(*) FROM tickets_ticket "
            "WHERE received_at >= %s AND received_at < %s GROUP BY 1 ORDER BY 1",
            [settings.TIME_ZONE, month.start, month.end],
        )
        days = dict(cursor.fetchall())
        cursor.execute(
            "SELECT state, count(*) FROM tickets_ticket "
            "WHERE received_at >= %s AND received_at < %s GROUP BY state",
            [month.start, month.end],
        )
        states = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM tickets_ticket WHERE received_at < %s", [month.start])
        history = cursor.fetchone()[0]
        cursor.execute("SELECT state, count(*) FROM followups_callback GROUP BY state")
        callbacks = dict(cursor.fetchall())
        cursor.execute("SELECT state, count(*) FROM tickets_extensionrequest GROUP BY state")
        extensions = dict(cursor.fetchall())
    busiest = max(days, key=lambda day: days[day])
    return ReportsDataset(
        tickets=sum(days.values()),
        history_tickets=history,
        history_days=recorded["history_days"],
        history_share=recorded["history_share"],
        month=month,
        busiest_day=day_of(timezone.make_aware(datetime.combine(busiest, datetime.min.time()))),
        busiest_day_tickets=days[busiest],
        days=days,
        states=states,
        extensions=extensions,
        complaints=Complaint.objects.filter(
            **{f"ticket__{key}": value for key, value in in_month.items()}
        ).count(),
        callbacks=callbacks,
        callbacks_done_in_month=Callback.objects.filter(
            state=Callback.State.DONE, done_at__gte=month.start, done_at__lt=month.end
        ).count(),
        accountability=Accountability.objects.count(),
        calls=Call.objects.count(),
        unclosed_plans=UnclosedPlan.objects.count(),
        crews=Crew.objects.count(),
        districts=District.objects.count(),
        communities=Community.objects.count(),
        now=recorded["now"],
        reused=reused,
        load_seconds=recorded["load_seconds"],
        removed_reports=removed_reports,
        sizes=_sizes(),
    )


def reports_dataset_prepare(
    *, tickets: int, history_days: int, history_share: float, fresh: bool, log: Callable = print
) -> ReportsDataset:
    """Make the reports database hold the wanted rows (reused when it already does)."""
    if not fresh and _database_exists():
        recorded = _recorded()
        if (
            recorded is not None
            and (recorded["tickets"], recorded["history_days"], recorded["history_share"])
            == (tickets, history_days, history_share)
            and recorded["fingerprint"] == _fingerprint()
        ):
            started = time.monotonic()
            removed, _ = Report.objects.filter(pk__gt=recorded["max_report_id"]).delete()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            log(
                f"reusing the reports database loaded {recorded['now']:%Y-%m-%d %H:%M} UTC; "
                f"{removed} reports of earlier runs deleted; analyzed in "
                f"{time.monotonic() - started:.1f} s"
            )
            return _describe(recorded, reused=True, removed_reports=removed)
        log("the reports database holds other rows or an older schema; rebuilding it")
    started = time.monotonic()
    now = timezone.now().replace(microsecond=0)
    _recreate_database()
    call_command("migrate", verbosity=0, interactive=False)
    _reference_data()
    log(
        f"schema and reference data in {time.monotonic() - started:.1f} s; loading "
        f"{tickets:,} tickets in {measured_month(now).start:%Y-%m} and {history_days} days "
        f"before it at {history_share:g} of the volume"
    )
    _bulk_load(
        tickets=tickets, history_days=history_days, history_share=history_share, now=now, log=log
    )
    log(f"loaded in {time.monotonic() - started:.1f} s; vacuum and analyze")
    vacuum_analyze()
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    load_seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("UPDATE bench_reports_dataset SET load_seconds = %s", [load_seconds])
    log(f"database ready in {load_seconds:.1f} s")
    return _describe(_recorded(), reused=False, removed_reports=0)
