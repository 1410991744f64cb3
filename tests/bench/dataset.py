"""The bench database: the product's schema, its reference data and a million tickets.

Tickets are written with one ``INSERT … SELECT`` over ``generate_series``: received over the
last ``days`` days (never today, so the API's numbers of today cannot collide), mostly closed,
a few per cent open in each open state, deadlines from the seeded SLA policy of their grade.
A database that already holds the wanted rows is reused; the rows earlier runs added are
deleted first, so every run measures the same table.
"""

import hashlib
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone
from psycopg import sql
from rest_framework.authtoken.models import Token

from dispatch.models import Community, Crew, Department, District
from staffing.roles import Role
from staffing.services import roles_sync, user_create
from tickets.choices import Category, Grade
from tickets.models import FaultType, Skill, SlaPolicy

AGENT_USERNAME = "bench-agent"
TICKET_TABLES = ("tickets_ticket", "tickets_ticketevent")

SKILLS = [("pipe", "管道维修"), ("meter", "水表维修"), ("valve", "阀门与消火栓")]
# code, name, category, grade, skill
FAULT_TYPES = [
    ("burst-main", "爆管", Category.REPAIR, Grade.EMERGENCY, "pipe"),
    ("area-outage", "大面积停水", Category.REPAIR, Grade.EMERGENCY, "pipe"),
    ("household-leak", "单户漏水", Category.REPAIR, Grade.GENERAL, "pipe"),
    ("low-pressure", "水压偏低", Category.REPAIR, Grade.GENERAL, "pipe"),
    ("household-outage", "单户无水", Category.REPAIR, Grade.GENERAL, "pipe"),
    ("meter-fault", "水表故障", Category.REPAIR, Grade.GENERAL, "meter"),
    ("valve-fault", "阀门损坏", Category.REPAIR, Grade.GENERAL, "valve"),
    ("water-quality", "水质浑浊", Category.COMPLAINT, Grade.GENERAL, None),
    ("billing-question", "水费咨询", Category.CONSULT, Grade.CONSULT, None),
    ("policy-question", "用水政策咨询", Category.CONSULT, Grade.CONSULT, None),
]
DISTRICTS = 6
COMMUNITIES_PER_DISTRICT = 10
CREWS = 12
DEPARTMENTS = 3


@dataclass(frozen=True)
class Dataset:
    """What the load phases need to know about the bench database."""

    tickets: int
    reused: bool
    load_seconds: float
    loaded_at: datetime
    token: str
    community_id: int
    district_id: int
    fault_type_code: str
    fault_type_id: int
    grade: str
    category: str
    deadline_minutes: dict[str, int | None]


def _server_conninfo(dbname: str) -> str:
    db = settings.DATABASES["default"]
    return psycopg.conninfo.make_conninfo(
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        dbname=dbname,
    )


def bench_conninfo() -> str:
    """Return the libpq connection string of the bench database."""
    return _server_conninfo(settings.DATABASES["default"]["NAME"])


def _recreate_database() -> None:
    name = settings.DATABASES["default"]["NAME"]
    connections.close_all()
    with psycopg.connect(_server_conninfo("postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _database_exists() -> bool:
    name = settings.DATABASES["default"]["NAME"]
    with psycopg.connect(_server_conninfo("postgres"), autocommit=True) as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


def loader_fingerprint(*loaders: str) -> str:
    """Return a hash of the project's migrations and of the named loader files (in this
    folder): when one changes, a database loaded before is rebuilt rather than reused."""
    root = Path(settings.BASE_DIR)
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in [*(here / loader for loader in loaders), *sorted(root.glob("*/migrations/*.py"))]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def recorded_row(table: str, columns: str) -> dict | None:
    """Return the row a loader recorded in ``table`` (``columns``), or None when there is
    none, or it was written by an older loader."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        if not cursor.fetchone()[0]:
            return None
        try:
            cursor.execute(f"SELECT {columns} FROM {table}")
        except DatabaseError:  # written by an older loader
            return None
        row = cursor.fetchone()
        names = [column.name for column in cursor.description]
    return dict(zip(names, row, strict=True)) if row else None


def _fingerprint() -> str:
    return loader_fingerprint("dataset.py")


def _recorded_dataset() -> dict | None:
    return recorded_row(
        "bench_dataset",
        "tickets, days, fingerprint, max_ticket_id, max_event_id, last_day, loaded_at, "
        "load_seconds",
    )


def _reference_data() -> None:
    """Create the agent with an API token, fault types, districts, communities and crews."""
    roles_sync()
    agent = user_create(username=AGENT_USERNAME, password=None, role=Role.AGENT)
    Token.objects.create(user=agent)
    skills = {code: Skill.objects.create(code=code, name=name) for code, name in SKILLS}
    for order, (code, name, category, grade, skill) in enumerate(FAULT_TYPES):
        FaultType.objects.create(
            code=code,
            name=name,
            category=category,
            default_grade=grade,
            skill=skills.get(skill),
            sort_order=order,
        )
    districts = [
        District.objects.create(code=f"district-{n}", name=f"片区{n}") for n in range(DISTRICTS)
    ]
    for district in districts:
        Community.objects.bulk_create(
            Community(district=district, name=f"{district.name}小区{n}")
            for n in range(COMMUNITIES_PER_DISTRICT)
        )
    for n in range(CREWS):
        crew = Crew.objects.create(code=f"crew-{n}", name=f"维修{n}队")
        crew.districts.add(districts[n % DISTRICTS])
    for n in range(DEPARTMENTS):
        Department.objects.create(code=f"dept-{n}", name=f"部门{n}")


# Columns are listed once; the SELECT below yields them in this order.
_TICKET_COLUMNS = """
    id, number, channel, category, grade, description, caller_name, caller_phone, address,
    building, unit, room, external_ref, returned, state, received_at, sla_started_at,
    dispatch_due, accept_due, arrive_due, mitigate_due, resolve_due, close_due, followup_due,
    verified_at, dispatched_at, accepted_at, arrived_at, mitigated_at, resolved_at, closed_at,
    cancelled_at, repair_measures, repair_parts, repair_cost, resolution, delay_responsible,
    is_special,
    created_at, updated_at, community_id, created_by_id, crew_id, department_id, district_id,
    fault_type_id, parent_id
"""

# Every random draw happens once per row in ``draws``; later steps only combine them.
_TICKETS_SQL = f"""
INSERT INTO tickets_ticket ({_TICKET_COLUMNS})
WITH draws AS (
    SELECT
        ((%(first_day)s::date + ((i - 1) * %(days)s / %(n)s)::int)::timestamp
            + make_interval(secs => CASE WHEN random() < 0.85
                THEN 21600 + random() * 57600                       -- 06:00-22:00
                ELSE mod((79200 + random() * 28800)::int, 86400)    -- the night shift
            END)) AT TIME ZONE %(tz)s AS received_at,
        random() AS r_grade, random() AS r_fault, random() AS r_open, random() AS r_state,
        random() AS r_final, random() AS r_place, random() AS r_crew, random() AS r_speed,
        random() AS r_channel, (random() * 99999999)::int AS phone
    FROM generate_series(1, %(n)s) AS i
), numbered AS (
    SELECT
        d.*,
        row_number() OVER (ORDER BY received_at) AS id,
        row_number() OVER (
            PARTITION BY (received_at AT TIME ZONE %(tz)s)::date ORDER BY received_at
        ) AS seq,
        CASE WHEN r_grade < 0.10 THEN 'emergency' WHEN r_grade < 0.88 THEN 'general'
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
            WHEN 'emergency' THEN ARRAY['new', 'verified', 'dispatched', 'accepted',
                                        'on_site', 'mitigated', 'resolved']
            WHEN 'general' THEN ARRAY['new', 'verified', 'dispatched', 'accepted',
                                      'on_site', 'resolved']
            ELSE ARRAY['new', 'verified', 'referred', 'resolved']
        END AS open_states,
        -- Most open tickets are recent; a few stragglers stay open for weeks.
        r_open < CASE WHEN received_at > %(now)s::timestamptz - interval '2 days'
                      THEN 0.45 ELSE 0.06 END AS is_open
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
        -- Above 1 the milestone was late; a recent ticket's steps all fit before now.
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
        p.resolve_minutes, p.close_minutes,
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
        CASE WHEN level >= 5 THEN received_at + make_interval(mins => mitigate_minutes) * pace
            END AS mitigated_at,
        CASE WHEN level >= 6
             THEN received_at + make_interval(mins => coalesce(
                 resolve_minutes, (close_minutes * 0.8)::int, 2880)) * pace END AS resolved_at,
        CASE WHEN level >= 7
             THEN received_at + make_interval(mins => coalesce(close_minutes, 4320)) * pace
            END AS closed_at,
        CASE WHEN state = 'cancelled' THEN received_at + interval '20 minutes' * pace END
            AS cancelled_at,
        level >= 2 AND state <> 'cancelled' AND grade <> 'consult' AS has_crew,
        level >= 2 AND state <> 'cancelled' AND grade = 'consult' AS has_department
    FROM leveled l
)
SELECT
    id,
    to_char(received_at AT TIME ZONE %(tz)s, 'YYMMDD') || '-'
        || CASE WHEN seq < 10000 THEN lpad(seq::text, 4, '0') ELSE seq::text END,
    CASE WHEN r_channel < 0.60 THEN 'hotline' WHEN r_channel < 0.75 THEN 'wechat'
         WHEN r_channel < 0.85 THEN 'app' WHEN r_channel < 0.95 THEN 'gov_12345'
         ELSE 'web' END,
    category,
    grade,
    (ARRAY['厨房水管接头漏水', '卫生间下水管渗水', '整栋楼水压偏低', '路口井盖冒水',
           '水表不走字', '自来水发黄有异味'])[1 + id %% 6],
    (ARRAY['张先生', '李女士', '王先生', '刘女士', '陈先生'])[1 + id %% 5],
    '+86138' || lpad(phone::text, 8, '0'),
    '锦华路' || (1 + id %% 300) || '号',
    (1 + id %% 20)::text, (1 + id %% 4)::text, (101 + id %% 1800)::text,
    '', '',
    state,
    received_at,
    received_at,
    received_at + make_interval(mins => dispatch_minutes),
    received_at + make_interval(mins => accept_minutes),
    received_at + make_interval(mins => arrive_minutes),
    received_at + make_interval(mins => mitigate_minutes),
    received_at + make_interval(mins => resolve_minutes),
    received_at + make_interval(mins => close_minutes),
    NULL,
    verified_at, dispatched_at, accepted_at, arrived_at, mitigated_at, resolved_at, closed_at,
    cancelled_at,
    CASE WHEN has_crew AND level >= 6 THEN '更换接头' ELSE '' END,
    '',
    CASE WHEN has_crew AND level >= 6 THEN round((r_crew * 300)::numeric, 2) END,
    CASE WHEN has_department AND level >= 6 THEN '已答复' ELSE '' END,
    '',
    false,
    received_at,
    greatest(received_at, verified_at, dispatched_at, accepted_at, arrived_at, mitigated_at,
             resolved_at, closed_at, cancelled_at),
    (%(communities)s::bigint[])[place],
    %(agent)s,
    CASE WHEN has_crew THEN (%(crews)s::bigint[])[1 + floor(r_crew * %(crew_count)s)::int] END,
    CASE WHEN has_department
         THEN (%(departments)s::bigint[])[1 + floor(r_crew * %(department_count)s)::int] END,
    (%(districts)s::bigint[])[place],
    fault_type_id,
    CASE WHEN state = 'merged' THEN id - 1 END
FROM timed
"""

_EVENTS_SQL = """
INSERT INTO tickets_ticketevent
    (ticket_id, action, from_state, to_state, actor_id, at, reason, data)
SELECT id, 'created', 'new', 'new', created_by_id, received_at, '', '{}'::jsonb
FROM tickets_ticket ORDER BY id
"""


def secondary_indexes(tables) -> list[tuple[str, str]]:
    """Return (name, definition) of the indexes of ``tables`` that back no constraint: the
    loaders drop them before a bulk load and build them again after."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
              AND NOT EXISTS (
                  SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexname::regclass
              )
            ORDER BY i.indexname
            """,
            [list(tables)],
        )
        return cursor.fetchall()


def _bulk_load(*, tickets: int, days: int, now: datetime) -> None:
    """Write ``tickets`` tickets and their creation events, then rebuild the indexes."""
    today = timezone.localdate(now)
    ids = {
        "communities": list(
            Community.objects.order_by("district_id", "id").values_list("id", flat=True)
        ),
        "districts": list(
            Community.objects.order_by("district_id", "id").values_list("district_id", flat=True)
        ),
        "crews": list(Crew.objects.order_by("id").values_list("id", flat=True)),
        "departments": list(Department.objects.order_by("id").values_list("id", flat=True)),
    }
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
        "days": days,
        "first_day": today - timedelta(days=days),
        "tz": settings.TIME_ZONE,
        "now": now,
        "agent": Token.objects.get(user__username=AGENT_USERNAME).user_id,
        "emergency_faults": faults[Grade.EMERGENCY],
        "general_faults": faults[Grade.GENERAL],
        "consult_faults": faults[Grade.CONSULT],
        "community_count": len(ids["communities"]),
        "crew_count": len(ids["crews"]),
        "department_count": len(ids["departments"]),
        **ids,
    }
    indexes = secondary_indexes(TICKET_TABLES)
    with transaction.atomic(), connection.cursor() as cursor:
        # The rows are generated consistent; skip the per-row deferred foreign-key triggers
        # and build each index once at the end instead of updating it a million times.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SELECT setseed(0.42)")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        cursor.execute(_TICKETS_SQL, params)
        cursor.execute(_EVENTS_SQL)
        cursor.execute(
            "INSERT INTO tickets_ticketsequence (day, last) "
            "SELECT (received_at AT TIME ZONE %s)::date, count(*) FROM tickets_ticket GROUP BY 1",
            [settings.TIME_ZONE],
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), max(id)) "
            "FROM tickets_ticket"
        )
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute(
            """
            CREATE TABLE bench_dataset (
                tickets integer, days integer, fingerprint text, max_ticket_id bigint,
                max_event_id bigint, last_day date, loaded_at timestamptz,
                load_seconds double precision
            )
            """
        )
        cursor.execute(
            "INSERT INTO bench_dataset SELECT %s, %s, %s, (SELECT max(id) FROM tickets_ticket), "
            "(SELECT max(id) FROM tickets_ticketevent), %s, %s, 0",
            [tickets, days, _fingerprint(), today - timedelta(days=1), now],
        )


def _vacuum_analyze(*, reindex: bool = False) -> None:
    """Vacuum and analyze the ticket tables; ``reindex`` also rebuilds their indexes, which
    the rows of earlier runs bloated (enough to change the planner's choice of index)."""
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for table in TICKET_TABLES:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
            if reindex:
                cursor.execute(f"REINDEX TABLE {table}")
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("CHECKPOINT")


def _remove_earlier_runs(recorded: dict) -> int:
    """Delete the rows earlier benchmark runs added; return how many tickets went."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM tickets_ticketevent WHERE id > %s", [recorded["max_event_id"]])
        cursor.execute("DELETE FROM tickets_ticket WHERE id > %s", [recorded["max_ticket_id"]])
        removed = cursor.rowcount
        cursor.execute("DELETE FROM tickets_ticketsequence WHERE day > %s", [recorded["last_day"]])
    return removed


def _describe(*, tickets: int, reused: bool, load_seconds: float, loaded_at: datetime) -> Dataset:
    fault_type = FaultType.objects.get(code="household-leak")
    community = Community.objects.order_by("id").first()
    policy = SlaPolicy.objects.get(grade=fault_type.default_grade)
    minutes = {
        f"{milestone}_due": getattr(policy, f"{milestone}_minutes")
        for milestone in ("dispatch", "accept", "arrive", "mitigate", "resolve", "close")
    }
    return Dataset(
        tickets=tickets,
        reused=reused,
        load_seconds=load_seconds,
        loaded_at=loaded_at,
        token=Token.objects.get(user__username=AGENT_USERNAME).key,
        community_id=community.pk,
        district_id=community.district_id,
        fault_type_code=fault_type.code,
        fault_type_id=fault_type.pk,
        grade=fault_type.default_grade,
        category=fault_type.category,
        deadline_minutes=minutes,
    )


def dataset_prepare(*, tickets: int, days: int, fresh: bool, log=print) -> Dataset:
    """Make the bench database hold ``tickets`` generated tickets and nothing else."""
    if not fresh and _database_exists():
        recorded = _recorded_dataset()
        if (
            recorded is not None
            and recorded["tickets"] == tickets
            and recorded["days"] == days
            and recorded["fingerprint"] == _fingerprint()
        ):
            removed = _remove_earlier_runs(recorded)
            log(
                f"reusing {tickets:,} tickets loaded {recorded['loaded_at']:%Y-%m-%d %H:%M}; "
                f"removed {removed:,} tickets of earlier runs"
            )
            started = time.monotonic()
            _vacuum_analyze(reindex=removed > 0)
            done = "vacuumed and reindexed" if removed else "vacuumed"
            log(f"{done} in {time.monotonic() - started:.0f} s")
            return _describe(
                tickets=tickets,
                reused=True,
                load_seconds=recorded["load_seconds"],
                loaded_at=recorded["loaded_at"],
            )
        log("the bench database holds other rows or an older schema; rebuilding it")
    started = time.monotonic()
    now = timezone.now()
    _recreate_database()
    call_command("migrate", verbosity=0, interactive=False)
    _reference_data()
    log(f"schema and reference data in {time.monotonic() - started:.1f} s; loading tickets")
    _bulk_load(tickets=tickets, days=days, now=now)
    log(f"{tickets:,} tickets loaded in {time.monotonic() - started:.1f} s; vacuum and analyze")
    _vacuum_analyze()
    load_seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("UPDATE bench_dataset SET load_seconds = %s", [load_seconds])
    log(f"database ready in {load_seconds:.1f} s")
    return _describe(tickets=tickets, reused=False, load_seconds=load_seconds, loaded_at=now)
