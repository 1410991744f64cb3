"""The follow-ups benchmark's database: closed tickets, the day's tickets, and callbacks.

Its own database, loaded with ``INSERT … SELECT`` over ``generate_series`` (no ORM loop),
starting from the ticket suite's reference data (``tests/bench/dataset.py``: the agent who
signs in, fault types, districts, communities, crews, departments) plus two fault types of
the *application* category (connection, transfer). The callback rules are the ones the
migration seeds (``followups/migrations/0003_seed_callback_rules.py``).

- ``tickets`` closed tickets received over the 90 days before the day before *the day*
  (yesterday, in the centre's time zone, when loaded), each closed within 23 hours, so that
  no dispatch, receipt or closing of theirs falls in the day: 70 % hotline, 15 % 12345
  transfers, the rest WeChat and app; 85 % repairs, 6 % complaints, 5 % applications, 4 %
  consultations; deadlines from the seeded SLA policy of their grade.
- ``day_tickets`` hotline repairs dispatched during the day (01:30 to 20:00), received 5 to
  60 minutes before, half still dispatched and half closed the same evening; none has a
  callback: the batch job of the night after makes theirs.
- ``callbacks`` callbacks on as many of the closed tickets a rule picks (hotline repair,
  12345, application, complaint; one each, chosen by a hash of the id), with the rule,
  the caller's name and phone, and times from the ticket's trigger time: the tenth on the
  most recent of those tickets are pending, due at 17:30 of a day from five days ago to two
  days ahead (so the queue has overdue ones, ones to call now and later ones; a tenth of
  them were tried once), the rest done (92 %; satisfied 80 %, basically 15 %, not 5 %) or
  unreachable, with ``done_at`` spread over the 90 days.

Every ticket rule has looked up to the start of the day (``scanned_through``), so a normal
run of the job does not rescan the history. A database that already holds the wanted rows
from the same loader and migrations is reused: what earlier runs added is deleted, the rules'
``scanned_through`` put back, sessions cleared, and, when it was loaded on an earlier day,
the pending callbacks moved by as many days so that the queue keeps its mix.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from dispatch.models import Community, Crew, Department
from followups.models import Callback, CallbackRule
from staffing.models import User
from tests.bench.dataset import (
    AGENT_USERNAME,
    _database_exists,
    _recreate_database,
    loader_fingerprint,
    recorded_row,
    secondary_indexes,
)
from tests.bench.dataset import _reference_data as ticket_bench_reference_data
from tests.bench.intake_dataset import _insert
from tickets.choices import Category, Grade
from tickets.models import FaultType, Ticket

TABLES = ("tickets_ticket", "followups_callback")
DAYS = 90
# The rules the loader gives callbacks to (the periodic one calls accounts, not tickets).
TICKET_RULES = ("hotline-repair", "gov-12345", "application", "complaint")
PENDING_SHARE = 0.10
APPLICATION_FAULTS = [("new-connection", "新装接水"), ("account-transfer", "过户")]
DESCRIPTIONS = [
    "厨房水管接头漏水",
    "卫生间下水管渗水",
    "整栋楼水压偏低",
    "路口井盖冒水",
    "水表不走字",
    "自来水发黄有异味",
]


@dataclass(frozen=True)
class FollowupsDataset:
    tickets: int  # closed, before the day
    day_tickets: int  # dispatched during the day, without a callback
    callbacks: int
    pending: int
    done: int
    unreachable: int
    day: date  # the day whose callbacks the batch job makes (yesterday, when loaded)
    day_start: datetime
    day_end: datetime
    reused: bool
    load_seconds: float
    loaded_at: datetime
    agent_id: int
    max_ticket_id: int
    max_callback_id: int
    shifted_days: int  # the pending callbacks were moved this many days on reuse
    sizes: dict[str, str] = field(repr=False)


def _fingerprint() -> str:
    """A hash of this loader, the ticket suite's reference data and the migrations: when one
    changes, a database loaded before is rebuilt rather than reused."""
    return loader_fingerprint("followups_dataset.py", "dataset.py")


def _recorded() -> dict | None:
    return recorded_row(
        "bench_followups_dataset",
        "tickets, day_tickets, callbacks, fingerprint, day, queue_day, max_ticket_id, "
        "max_callback_id, loaded_at, load_seconds",
    )


def _reference_data() -> None:
    """The ticket suite's reference data, and fault types for connections and transfers."""
    ticket_bench_reference_data()
    last = FaultType.objects.order_by("-sort_order").values_list("sort_order", flat=True)[0]
    for n, (code, name) in enumerate(APPLICATION_FAULTS, start=1):
        FaultType.objects.create(
            code=code,
            name=name,
            category=Category.APPLICATION,
            default_grade=Grade.GENERAL,
            sort_order=last + n,
        )
    missing = set(TICKET_RULES) - set(
        CallbackRule.objects.filter(code__in=TICKET_RULES).values_list("code", flat=True)
    )
    if missing:
        raise RuntimeError(f"the migrations did not seed the callback rules {sorted(missing)}")


# The closed tickets. Every random draw happens once per row in ``draws``.
_HISTORY_CTES = """
WITH draws AS (
    SELECT
        ((%(first_day)s::date + ((i - 1) * %(days)s / %(n)s)::int)::timestamp
            + make_interval(secs => CASE WHEN random() < 0.85
                THEN 25200 + random() * 50400                  -- 07:00-21:00
                ELSE random() * 86400 END)) AT TIME ZONE %(tz)s AS received_at,
        random() AS r_channel, random() AS r_category, random() AS r_fault,
        random() AS r_place, random() AS r_crew, random() AS r_speed,
        (random() * 99999999)::int AS phone
    FROM generate_series(1, %(n)s) AS i
), numbered AS (
    SELECT
        d.*,
        row_number() OVER (ORDER BY received_at) AS id,
        row_number() OVER (
            PARTITION BY (received_at AT TIME ZONE %(tz)s)::date ORDER BY received_at
        ) AS seq,
        CASE WHEN r_channel < 0.70 THEN 'hotline' WHEN r_channel < 0.85 THEN 'gov_12345'
             WHEN r_channel < 0.95 THEN 'wechat' ELSE 'app' END AS channel,
        CASE WHEN r_category < 0.85 THEN 'repair' WHEN r_category < 0.91 THEN 'complaint'
             WHEN r_category < 0.96 THEN 'application' ELSE 'consult' END AS category
    FROM draws d
), faulted AS (
    SELECT
        n.*,
        CASE n.category
            WHEN 'repair' THEN %(repair_faults)s::bigint[]
            WHEN 'complaint' THEN %(complaint_faults)s::bigint[]
            WHEN 'application' THEN %(application_faults)s::bigint[]
            ELSE %(consult_faults)s::bigint[]
        END AS faults
    FROM numbered n
), typed AS (
    SELECT f.*, f.faults[1 + floor(f.r_fault * cardinality(f.faults))::int] AS fault_type_id
    FROM faulted f
), timed AS (
    SELECT
        t.*,
        'closed' AS state,
        ft.default_grade AS grade,
        1 + floor(t.r_place * %(community_count)s)::int AS place,
        p.dispatch_minutes, p.accept_minutes, p.arrive_minutes, p.mitigate_minutes,
        p.resolve_minutes, p.close_minutes, p.backfill_minutes,
        -- From receipt to closing: the policy's close time at some pace, under 23 hours,
        -- so that every history ticket is closed before the day begins.
        make_interval(secs => 60 * least(
            coalesce(p.close_minutes, 1440) * (0.3 + t.r_speed * 0.8), 1380)) AS span,
        t.category = 'repair' AS has_crew,
        t.category <> 'repair' AS has_department
    FROM typed t
    JOIN tickets_faulttype ft ON ft.id = t.fault_type_id
    JOIN tickets_slapolicy p ON p.grade = ft.default_grade
), placed AS (
    SELECT
        tm.*,
        received_at + span * 0.02 AS verified_at,
        received_at + span * 0.05 AS dispatched_at,
        CASE WHEN has_crew THEN received_at + span * 0.10 END AS accepted_at,
        CASE WHEN has_crew THEN received_at + span * 0.25 END AS arrived_at,
        CASE WHEN has_crew AND grade = 'emergency' THEN received_at + span * 0.40 END
            AS mitigated_at,
        received_at + span * 0.80 AS resolved_at,
        received_at + span AS closed_at
    FROM timed tm
)
"""

# The day's hotline repairs: dispatched during the day, half of them closed by the evening.
_DAY_CTES = """
WITH draws AS (
    SELECT
        (%(day)s::date::timestamp + make_interval(secs => 5400 + random() * 66600))
            AT TIME ZONE %(tz)s AS dispatched_at,              -- 01:30-20:00
        random() AS r_received, random() AS r_state, random() AS r_fault,
        random() AS r_place, random() AS r_crew, (random() * 99999999)::int AS phone
    FROM generate_series(1, %(day_n)s) AS i
), received AS (
    SELECT d.*, d.dispatched_at - make_interval(secs => 300 + d.r_received * 3300)
        AS received_at
    FROM draws d
), numbered AS (
    SELECT
        r.*,
        %(first_id)s - 1 + row_number() OVER (ORDER BY received_at) AS id,
        row_number() OVER (
            PARTITION BY (received_at AT TIME ZONE %(tz)s)::date ORDER BY received_at
        ) AS seq,
        'hotline' AS channel,
        'repair' AS category,
        (%(repair_faults)s::bigint[])
            [1 + floor(r_fault * cardinality(%(repair_faults)s::bigint[]))::int] AS fault_type_id,
        CASE WHEN r_state < 0.5 THEN 'dispatched' ELSE 'closed' END AS state
    FROM received r
), timed AS (
    SELECT
        n.*,
        ft.default_grade AS grade,
        1 + floor(n.r_place * %(community_count)s)::int AS place,
        p.dispatch_minutes, p.accept_minutes, p.arrive_minutes, p.mitigate_minutes,
        p.resolve_minutes, p.close_minutes, p.backfill_minutes,
        true AS has_crew,
        false AS has_department,
        state = 'closed' AS done
    FROM numbered n
    JOIN tickets_faulttype ft ON ft.id = n.fault_type_id
    JOIN tickets_slapolicy p ON p.grade = ft.default_grade
), placed AS (
    SELECT
        tm.*,
        received_at + (dispatched_at - received_at) * 0.5 AS verified_at,
        CASE WHEN done THEN dispatched_at + interval '10 minutes' END AS accepted_at,
        CASE WHEN done THEN dispatched_at + interval '40 minutes' END AS arrived_at,
        CASE WHEN done AND grade = 'emergency' THEN dispatched_at + interval '1 hour' END
            AS mitigated_at,
        CASE WHEN done THEN dispatched_at + interval '2 hours' END AS resolved_at,
        CASE WHEN done THEN dispatched_at + interval '3 hours' END AS closed_at
    FROM timed tm
)
"""

# (column, expression) for both kinds of ticket; ``_insert`` fills the NOT NULL columns
# left out with the model's default.
_TICKET_SELECT = [
    ("id", "id"),
    (
        "number",
        "to_char(received_at AT TIME ZONE %(tz)s, 'YYMMDD') || '-' "
        "|| CASE WHEN seq < 10000 THEN lpad(seq::text, 4, '0') ELSE seq::text END",
    ),
    ("channel", "channel"),
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
    ("resolve_due", "received_at + make_interval(mins => resolve_minutes)"),
    (
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
    (
        "repair_measures",
        "CASE WHEN has_crew AND resolved_at IS NOT NULL THEN '更换接头' ELSE '' END",
    ),
    ("repair_parts", "''"),
    (
        "repair_cost",
        "CASE WHEN has_crew AND resolved_at IS NOT NULL THEN round((r_crew * 300)::numeric, 2) END",
    ),
    (
        "resolution",
        "CASE WHEN has_department AND resolved_at IS NOT NULL THEN '已答复' ELSE '' END",
    ),
    ("delay_responsible", "''"),
    ("is_special", "false"),
    ("created_at", "received_at"),
    (
        "updated_at",
        "greatest(received_at, verified_at, dispatched_at, accepted_at, arrived_at, "
        "mitigated_at, resolved_at, closed_at)",
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
        "CASE WHEN has_department THEN (%(departments)s::bigint[])"
        "[1 + floor(r_crew * cardinality(%(departments)s::bigint[]))::int] END",
    ),
    ("fault_type_id", "fault_type_id"),
]

# The callbacks: one on each of ``callbacks`` closed tickets a rule picks, chosen by a hash of
# the id; those on the ``pending`` most recent of them are still to make.
_CALLBACK_CTES = """
WITH eligible AS (
    SELECT
        t.id, t.caller_name, t.caller_phone, t.received_at, t.dispatched_at, t.closed_at,
        CASE WHEN t.channel = 'gov_12345' THEN 'gov-12345'
             WHEN t.category = 'application' THEN 'application'
             WHEN t.category = 'complaint' THEN 'complaint'
             WHEN t.channel = 'hotline' AND t.category = 'repair' THEN 'hotline-repair'
        END AS code
    FROM tickets_ticket t
    WHERE t.id <= %(n)s
), picked AS (
    SELECT e.*, row_number() OVER (ORDER BY (e.id * 2654435761) %% 4294967296, e.id) AS pick
    FROM eligible e
    WHERE e.code IS NOT NULL
), ranked AS (
    SELECT p.*, row_number() OVER (ORDER BY p.received_at DESC, p.id DESC) AS recency
    FROM picked p
    WHERE p.pick <= %(callbacks)s
), ruled AS (
    SELECT
        r.*,
        rule.id AS rule_id, rule.due_days, rule.day_kind, rule.on_unsatisfied,
        CASE rule.trigger WHEN 'dispatched' THEN r.dispatched_at
                          WHEN 'received' THEN r.received_at ELSE r.closed_at END AS trigger_at,
        r.recency <= %(pending)s AS is_pending,
        random() AS r_state, random() AS r_satisfied, random() AS r_done
    FROM ranked r
    JOIN followups_callbackrule rule ON rule.code = r.code
), dated AS (
    SELECT
        d.*,
        CASE WHEN is_pending
             -- The newest are due two days ahead, the oldest five days ago.
             THEN %(today)s::date + 2 - floor((recency - 1) * 8.0 / %(pending)s)::int
             ELSE (trigger_at AT TIME ZONE %(tz)s)::date + due_days
        END AS due_day
    FROM ruled d
), scheduled AS (
    SELECT
        s.*,
        (s.due_day + time '17:30') AT TIME ZONE %(tz)s AS due_at,
        CASE WHEN s.day_kind = 'calendar' THEN (s.due_day + time '08:30') AT TIME ZONE %(tz)s
             WHEN s.is_pending
             THEN (s.due_day - (s.due_days - 1) + time '08:30') AT TIME ZONE %(tz)s
             ELSE s.trigger_at END AS first_callable_at,
        CASE WHEN s.is_pending THEN 'pending' WHEN s.r_state < 0.08 THEN 'unreachable'
             ELSE 'done' END AS state
    FROM dated s
), finished AS (
    SELECT
        f.*,
        CASE WHEN f.state = 'done' THEN
            CASE WHEN f.r_satisfied < 0.80 THEN 'satisfied'
                 WHEN f.r_satisfied < 0.95 THEN 'basically' ELSE 'unsatisfied' END
            ELSE '' END AS satisfaction,
        CASE WHEN f.state = 'pending' THEN NULL
             ELSE least(f.first_callable_at
                        + (f.due_at - f.first_callable_at) * (f.r_done * 1.1),
                        %(now)s::timestamptz - interval '1 hour') END AS done_at
    FROM scheduled f
)
"""

_CALLBACK_SELECT = [
    ("rule_id", "rule_id"),
    ("ticket_id", "id"),
    ("name", "caller_name"),
    ("phone", "caller_phone"),
    ("state", "state"),
    (
        # A tenth of the pending ones were tried once: tried again two hours on.
        "callable_at",
        "CASE WHEN state = 'pending' AND r_state < 0.10 "
        "THEN least(due_at, first_callable_at + interval '2 hours') ELSE first_callable_at END",
    ),
    ("due_at", "due_at"),
    (
        "attempts",
        "CASE WHEN state = 'pending' THEN (r_state < 0.10)::int "
        "WHEN state = 'unreachable' THEN 3 ELSE 1 + (r_state > 0.85)::int END",
    ),
    (
        "method",
        "CASE WHEN state = 'pending' THEN '' WHEN r_done < 0.02 THEN 'visit' ELSE 'phone' END",
    ),
    ("answers", "'{}'::jsonb"),
    ("process", "CASE WHEN state = 'done' THEN '维修人员当天上门处理' ELSE '' END"),
    ("result", "CASE WHEN state = 'done' THEN '已修复' ELSE '' END"),
    ("satisfaction", "satisfaction"),
    ("comments", "CASE WHEN satisfaction = 'unsatisfied' THEN '维修后仍然漏水' ELSE '' END"),
    (
        "unsatisfied_action",
        "CASE WHEN satisfaction = 'unsatisfied' THEN on_unsatisfied ELSE '' END",
    ),
    ("done_at", "done_at"),
    ("done_by_id", "CASE WHEN state = 'pending' THEN NULL ELSE %(agent)s::bigint END"),
    (
        "created_at",
        "least(trigger_at + interval '10 minutes', first_callable_at, %(now)s::timestamptz)",
    ),
]


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    return start, timezone.make_aware(
        datetime.combine(day + timedelta(days=1), datetime.min.time())
    )


def _bulk_load(*, tickets: int, day_tickets: int, callbacks: int, now: datetime) -> None:
    today = timezone.localdate(now)
    day = today - timedelta(days=1)
    communities = list(
        Community.objects.order_by("district_id", "id").values_list("id", "district_id")
    )

    def faults(category: str) -> list[int]:
        return list(
            FaultType.objects.filter(category=category).order_by("id").values_list("id", flat=True)
        )

    params = {
        "n": tickets,
        "day_n": day_tickets,
        "first_id": tickets + 1,
        "days": DAYS,
        # 90 days ending the day before the day: closed within 23 hours, before it begins.
        "first_day": day - timedelta(days=DAYS + 1),
        "day": day,
        "today": today,
        "tz": settings.TIME_ZONE,
        "now": now,
        "callbacks": callbacks,
        "pending": max(1, round(callbacks * PENDING_SHARE)),
        "repair_faults": faults(Category.REPAIR),
        "complaint_faults": faults(Category.COMPLAINT),
        "application_faults": faults(Category.APPLICATION),
        "consult_faults": faults(Category.CONSULT),
        "community_count": len(communities),
        "communities": [pk for pk, _ in communities],
        "districts": [district for _, district in communities],
        "crews": list(Crew.objects.order_by("id").values_list("id", flat=True)),
        "departments": list(Department.objects.order_by("id").values_list("id", flat=True)),
        "agent": User.objects.get(username=AGENT_USERNAME).pk,
        "descriptions": DESCRIPTIONS,
    }
    day_start, _day_end = _day_bounds(day)
    indexes = secondary_indexes(TABLES)
    with transaction.atomic(), connection.cursor() as cursor:
        # The rows are generated consistent: skip the foreign-key triggers, build each index
        # once at the end.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SELECT setseed(0.29)")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        _insert(cursor, Ticket, _TICKET_SELECT, "placed ORDER BY id", params, ctes=_HISTORY_CTES)
        if day_tickets:
            _insert(cursor, Ticket, _TICKET_SELECT, "placed ORDER BY id", params, ctes=_DAY_CTES)
        cursor.execute(
            "INSERT INTO tickets_ticketsequence (day, last) "
            "SELECT (received_at AT TIME ZONE %s)::date, count(*) FROM tickets_ticket GROUP BY 1",
            [settings.TIME_ZONE],
        )
        # The done ones in the order they were made, then the pending ones.
        _insert(
            cursor,
            Callback,
            _CALLBACK_SELECT,
            "finished ORDER BY is_pending, trigger_at, id",
            params,
            ctes=_CALLBACK_CTES,
        )
        for table in TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce(max(id), 1)) FROM {table}"
            )
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute(
            "UPDATE followups_callbackrule SET scanned_through = %s WHERE trigger <> 'periodic'",
            [day_start],
        )
        cursor.execute(
            """
            CREATE TABLE bench_followups_dataset (
                tickets integer, day_tickets integer, callbacks integer, fingerprint text,
                day date, queue_day date, max_ticket_id bigint, max_callback_id bigint,
                loaded_at timestamptz, load_seconds double precision
            )
            """
        )
        cursor.execute(
            "INSERT INTO bench_followups_dataset VALUES (%s, %s, %s, %s, %s, %s, "
            "(SELECT coalesce(max(id), 0) FROM tickets_ticket), "
            "(SELECT coalesce(max(id), 0) FROM followups_callback), %s, 0)",
            [tickets, day_tickets, callbacks, _fingerprint(), day, today, now],
        )


def vacuum_analyze(tables: tuple[str, ...] = TABLES) -> None:
    """VACUUM (ANALYZE) the tables: the visibility map, the statistics, no dead rows."""
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        cursor.execute("RESET maintenance_work_mem")


def remove_added(*, max_ticket_id: int, max_callback_id: int, day: date) -> int:
    """Delete the callbacks and tickets added after the load and put the rules' marks back
    at the start of the day; return how many callbacks went."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM followups_callbackattempt WHERE callback_id > %s", [max_callback_id]
        )
        cursor.execute("DELETE FROM followups_callback WHERE id > %s", [max_callback_id])
        removed = cursor.rowcount
        cursor.execute("DELETE FROM tickets_ticketevent WHERE ticket_id > %s", [max_ticket_id])
        cursor.execute("DELETE FROM tickets_ticket WHERE id > %s", [max_ticket_id])
        cursor.execute(
            "UPDATE followups_callbackrule SET scanned_through = %s WHERE trigger <> 'periodic'",
            [_day_bounds(day)[0]],
        )
    return removed


def _shift_queue(days: int) -> None:
    """Move the pending callbacks ``days`` days on: the queue of a later day has the mix of
    the day it was loaded."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE followups_callback SET due_at = due_at + make_interval(days => %s), "
            "callable_at = callable_at + make_interval(days => %s) WHERE state = 'pending'",
            [days, days],
        )
        cursor.execute("UPDATE bench_followups_dataset SET queue_day = queue_day + %s", [days])


def _sizes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
            "WHERE relname = ANY(%s)",
            [list(TABLES)],
        )
        return dict(cursor.fetchall())


def _describe(recorded: dict, *, reused: bool, shifted_days: int) -> FollowupsDataset:
    day = recorded["day"]
    start, end = _day_bounds(day)
    with connection.cursor() as cursor:
        cursor.execute("SELECT state, count(*) FROM followups_callback GROUP BY state")
        states = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FROM tickets_ticket WHERE id <= %s", [recorded["tickets"]])
        history = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM tickets_ticket t WHERE t.dispatched_at >= %s "
            "AND t.dispatched_at < %s AND NOT EXISTS "
            "(SELECT 1 FROM followups_callback c WHERE c.ticket_id = t.id)",
            [start, end],
        )
        day_tickets = cursor.fetchone()[0]
    return FollowupsDataset(
        tickets=history,
        day_tickets=day_tickets,
        callbacks=sum(states.values()),
        pending=states.get("pending", 0),
        done=states.get("done", 0),
        unreachable=states.get("unreachable", 0),
        day=day,
        day_start=start,
        day_end=end,
        reused=reused,
        load_seconds=recorded["load_seconds"],
        loaded_at=recorded["loaded_at"],
        agent_id=User.objects.get(username=AGENT_USERNAME).pk,
        max_ticket_id=recorded["max_ticket_id"],
        max_callback_id=recorded["max_callback_id"],
        shifted_days=shifted_days,
        sizes=_sizes(),
    )


def followups_dataset_prepare(
    *, tickets: int, day_tickets: int, callbacks: int, fresh: bool, log: Callable = print
) -> FollowupsDataset:
    """Make the follow-ups database hold the wanted rows (reused when it already does)."""
    if not fresh and _database_exists():
        recorded = _recorded()
        if (
            recorded is not None
            and (recorded["tickets"], recorded["day_tickets"], recorded["callbacks"])
            == (tickets, day_tickets, callbacks)
            and recorded["fingerprint"] == _fingerprint()
        ):
            started = time.monotonic()
            removed = remove_added(
                max_ticket_id=recorded["max_ticket_id"],
                max_callback_id=recorded["max_callback_id"],
                day=recorded["day"],
            )
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM django_session")
            shift = (timezone.localdate() - recorded["queue_day"]).days
            if shift:
                _shift_queue(shift)
            vacuum_analyze()
            log(
                f"reusing the follow-ups database loaded {recorded['loaded_at']:%Y-%m-%d %H:%M}; "
                f"{removed:,} callbacks of earlier runs removed"
                + (f", pending callbacks moved {shift} days on" if shift else "")
                + f"; vacuumed in {time.monotonic() - started:.1f} s"
            )
            return _describe(recorded, reused=True, shifted_days=shift)
        log("the follow-ups database holds other rows or an older schema; rebuilding it")
    started = time.monotonic()
    now = timezone.now()
    _recreate_database()
    call_command("migrate", verbosity=0, interactive=False)
    _reference_data()
    log(
        f"schema and reference data in {time.monotonic() - started:.1f} s; loading "
        f"{tickets:,} closed tickets, {day_tickets:,} of the day, {callbacks:,} callbacks"
    )
    _bulk_load(tickets=tickets, day_tickets=day_tickets, callbacks=callbacks, now=now)
    log(f"loaded in {time.monotonic() - started:.1f} s; vacuum and analyze")
    vacuum_analyze()
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
    load_seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("UPDATE bench_followups_dataset SET load_seconds = %s", [load_seconds])
    log(f"database ready in {load_seconds:.1f} s")
    return _describe(_recorded(), reused=False, shifted_days=0)
