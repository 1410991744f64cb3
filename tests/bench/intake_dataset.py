"""The intake benchmark's database: callers, their addresses, calls, tickets and the FAQ.

Written with SQL over ``generate_series`` (the FAQ, whose ``search_text`` is computed by
``callcentre.search``, with COPY), into a database of its own. Every call is one draw; the
even ones made a ticket (so there are half as many tickets as calls, each with its caller's
number and address). Callers come in four kinds, so that history length varies a lot:

- a dozen *heavy* callers (property-management offices, on landlines) with hundreds to
  a couple of thousand calls, half as many tickets and up to a few hundred addresses;
- *ordinary* callers, drawn with a skew: from a few hundred calls down to none;
- *one-call* callers: exactly one call, which made one ticket;
- *withheld* numbers: 2 % of the calls have no caller and no ticket.

A database that already holds the wanted rows from the same loader (and the same
migrations and search code) is reused; its sessions are cleared and it is analyzed again.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management import call_command
from django.db import connection, models, transaction
from django.utils import timezone

from callcentre.models import Call, Caller, CallerAddress, FaqEntry
from callcentre.search import search_text
from dispatch.models import Community, Crew, Department
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
from tests.bench.dataset import _reference_data as ticket_bench_reference_data
from tests.bench.intake_faq import faq_entries
from tickets.models import FaultType, Ticket

TABLES = (
    "callcentre_caller",
    "callcentre_calleraddress",
    "callcentre_call",
    "tickets_ticket",
    "callcentre_faqentry",
)
HEAVY_CALLERS = 12
# Share of the calls that come from the heavy callers, and how many addresses each has.
HEAVY_SHARE = 0.008
AGENTS = 8
HEAVY_NAMES = [
    "锦华苑物业服务中心",
    "蓝光花园物业",
    "龙湖时代天街管理处",
    "万科城物业客服",
    "华润二十四城物业",
    "保利心语花园物业",
    "中海城南一号管理处",
    "金沙国际社区居委会",
    "翠苑小区业委会",
    "东方明珠花园物业",
    "新希望锦官府物业",
    "成华区住建局热线",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
DESCRIPTIONS = [
    "厨房水管接头漏水",
    "卫生间墙内渗水，楼下天花板滴水",
    "整栋楼水压偏低，热水器打不着火",
    "路口井盖冒水",
    "水表不走字",
    "自来水发黄有异味",
    "单元总阀关不严",
    "家中突然无水，邻居有水",
    "本月水费比平时高很多，想核对读数",
    "过户需要哪些材料",
]


@dataclass(frozen=True)
class CallerSample:
    """A number the benchmark asks the panel about, and the history behind it."""

    typed: str  # as an agent types it
    phone: str  # E.164
    name: str
    calls: int
    tickets: int
    addresses: int


@dataclass(frozen=True)
class IntakeDataset:
    callers: int
    addresses: int
    calls: int
    tickets: int
    faq_entries: int
    faq_published: int
    days: int
    reused: bool
    load_seconds: float
    loaded_at: datetime
    agent_id: int
    samples: dict[str, list[CallerSample]] = field(repr=False)
    sizes: dict[str, str] = field(repr=False)


def _fingerprint() -> str:
    """A hash of the migrations, this loader and the FAQ word lists: when one changes, a
    database loaded before is rebuilt rather than reused. (A change of how ``search_text``
    is derived only refreshes that column: ``_faq_search_text_refresh``.)"""
    return loader_fingerprint("intake_dataset.py", "intake_faq.py")


def _recorded() -> dict | None:
    return recorded_row(
        "bench_intake_dataset",
        "callers, calls, faq, days, fingerprint, loaded_at, load_seconds",
    )


def _counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


def _defaults(model: type[models.Model], given: set[str]) -> list[tuple[str, object]]:
    """Return (column, value) for the NOT NULL columns of ``model`` the loader does not set:
    the model's default, so that a column added later does not break the load."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s AND is_nullable = 'NO' "
            "AND column_default IS NULL AND is_identity = 'NO'",
            [model._meta.db_table],
        )
        required = {row[0] for row in cursor.fetchall()} - given
    fields = {f.column: f for f in model._meta.concrete_fields}
    extra = []
    for column in sorted(required):
        model_field = fields.get(column)
        if model_field is None or not model_field.has_default() or callable(model_field.default):
            raise RuntimeError(
                f"{model._meta.db_table}.{column} is NOT NULL without a constant default: "
                "tests/bench/intake_dataset.py must set it"
            )
        extra.append((column, model_field.get_db_prep_save(model_field.default, connection)))
    return extra


def _insert(
    cursor,
    model: type[models.Model],
    select: list[tuple[str, str]],
    source: str,
    params: dict,
    *,
    ctes: str = "",
) -> int:
    """``INSERT INTO model (columns) <ctes> SELECT expressions FROM source``: ``select`` pairs
    each column with its expression; the NOT NULL columns left out get the model's default."""
    select = list(select)
    for n, (column, value) in enumerate(_defaults(model, {column for column, _ in select})):
        select.append((column, f"%(default_{n})s"))
        params[f"default_{n}"] = value
    cursor.execute(
        f"INSERT INTO {model._meta.db_table} ({', '.join(column for column, _ in select)}) "
        f"{ctes} SELECT {', '.join(expression for _, expression in select)} FROM {source}",
        params,
    )
    return cursor.rowcount


def _reference_data() -> list[int]:
    """The ticket benchmark's reference data (the agent signs in), plus more agents; return
    the agents' ids."""
    ticket_bench_reference_data()
    for n in range(2, AGENTS + 1):
        user_create(username=f"{AGENT_USERNAME}-{n}", password=None, role=Role.AGENT)
    return list(
        User.objects.filter(username__startswith=AGENT_USERNAME)
        .order_by("id")
        .values_list("id", flat=True)
    )


# One row per call; even ids made a ticket (id / 2). Times spread over the days by id.
_DRAWS = """
CREATE TEMP TABLE intake_draw ON COMMIT DROP AS
SELECT
    i AS id,
    ((%(first_day)s::date + ((i - 1) * %(days)s / %(n)s)::int)::timestamp
        + make_interval(secs => CASE WHEN random() < 0.9
            THEN 25200 + random() * 50400                     -- 07:00-21:00
            ELSE random() * 86400 END)) AT TIME ZONE %(tz)s AS at,
    CASE
        WHEN i %% 50 = 1 THEN NULL                            -- withheld
        WHEN i %% 20 = 6 AND (i - 6) / 20 < %(one_call)s THEN %(one_call_first)s + (i - 6) / 20
        WHEN random() < %(heavy_share)s THEN 1 + floor(%(heavy)s * power(random(), 2))::int
        ELSE %(heavy)s + 1
            + floor((%(one_call_first)s - %(heavy)s - 1) * power(random(), 1.5))::int
    END AS caller_id,
    1 + floor(random() * %(fault_count)s)::int AS fault,
    random() AS r_outcome, random() AS r_channel, random() AS r_agent, random() AS r_wait,
    random() AS r_talk, random() AS r_open, random() AS r_state, random() AS r_final,
    random() AS r_crew, random() AS r_address
FROM generate_series(1, %(n)s::bigint) AS i
"""

# Addresses: slot 0 for every caller, slot 1 for a quarter of the ordinary ones, slots
# 1..40+25c for heavy caller c. Tickets use the same slots, so the two agree.
_ADDRESSES = """
CREATE TEMP TABLE intake_address ON COMMIT DROP AS
WITH slots AS (
    SELECT c AS caller_id, 0 AS slot FROM generate_series(%(heavy)s + 1, %(callers)s) c
    UNION ALL
    SELECT c, 1 FROM generate_series(%(heavy)s + 1, %(callers)s) c WHERE c %% 4 = 0
    UNION ALL
    SELECT c, s FROM generate_series(1, %(heavy)s) c, generate_series(1, 40 + 25 * c) s
)
SELECT
    row_number() OVER (ORDER BY caller_id, slot) AS id,
    caller_id, slot,
    1 + (caller_id * 31 + slot * 7) %% %(community_count)s AS place,
    '锦华路' || (1 + (caller_id * 31 + slot * 7) %% 300) || '号' AS address,
    (1 + (caller_id + slot) %% 20)::text AS building,
    (1 + (caller_id / 20 + slot) %% 4)::text AS unit,
    CASE WHEN caller_id <= %(heavy)s THEN (1000 + slot)::text
         ELSE (101 + (caller_id + slot * 13) %% 1800)::text END AS room,
    %(now)s::timestamptz - make_interval(days => ((caller_id + slot) %% 90)::int) AS last_used_at
FROM slots
"""


def _bulk_load(*, callers: int, calls: int, faq: int, days: int, now: datetime) -> None:
    agents = _reference_data()
    one_call = min(calls // 20, callers // 4)
    communities = list(
        Community.objects.order_by("district_id", "id").values_list("id", "district_id")
    )
    faults = list(FaultType.objects.order_by("id").values_list("id", "category", "default_grade"))
    params = {
        "n": calls,
        "days": days,
        "first_day": timezone.localdate(now) - timedelta(days=days),
        "tz": settings.TIME_ZONE,
        "now": now,
        "callers": callers,
        "heavy": HEAVY_CALLERS,
        "heavy_share": HEAVY_SHARE,
        "heavy_names": HEAVY_NAMES[:HEAVY_CALLERS],
        "one_call": one_call,
        "one_call_first": callers - one_call + 1,
        "surnames": list(SURNAMES),
        "agents": agents,
        "agent_count": len(agents),
        "communities": [pk for pk, _ in communities],
        "districts": [district for _, district in communities],
        "community_count": len(communities),
        "faults": [pk for pk, _, _ in faults],
        "fault_categories": [category for _, category, _ in faults],
        "fault_grades": [grade for _, _, grade in faults],
        "fault_count": len(faults),
        "crews": list(Crew.objects.order_by("id").values_list("id", flat=True)),
        "departments": list(Department.objects.order_by("id").values_list("id", flat=True)),
        "descriptions": DESCRIPTIONS,
    }
    params["crew_count"] = len(params["crews"])
    params["department_count"] = len(params["departments"])
    indexes = secondary_indexes(TABLES)
    with transaction.atomic(), connection.cursor() as cursor:
        # The rows are generated consistent: skip the foreign-key triggers, build each
        # index once at the end.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SELECT setseed(0.17)")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")

        _insert(
            cursor,
            Caller,
            [
                ("id", "c"),
                (
                    "phone",
                    "CASE WHEN c <= %(heavy)s THEN '+8628' || (85000000 + c * 37)::text "
                    "ELSE '+86138' || lpad(((c * 7919) %% 100000000)::text, 8, '0') END",
                ),
                (
                    "name",
                    "CASE WHEN c <= %(heavy)s THEN (%(heavy_names)s::text[])[c] "
                    "WHEN c %% 7 = 0 THEN '' "
                    "ELSE (%(surnames)s::text[])[1 + c %% cardinality(%(surnames)s::text[])] "
                    "|| CASE WHEN c %% 2 = 0 THEN '先生' ELSE '女士' END END",
                ),
                (
                    "customer_type",
                    "CASE WHEN c <= %(heavy)s THEN 'business' WHEN c %% 97 = 0 THEN 'business' "
                    "WHEN c %% 499 = 0 THEN 'special' WHEN c %% 997 = 0 THEN 'key_account' "
                    "ELSE 'residential' END",
                ),
                ("language", "CASE WHEN c %% 113 = 0 THEN 'en' ELSE 'zh-hans' END"),
                (
                    "created_at",
                    "%(now)s::timestamptz - make_interval(days => (90 + c %% 400)::int)",
                ),
                ("updated_at", "%(now)s::timestamptz - make_interval(days => (c %% 90)::int)"),
            ],
            "generate_series(1, %(callers)s::bigint) AS c",
            params,
        )
        cursor.execute(_ADDRESSES, params)
        cursor.execute("CREATE INDEX ON intake_address (caller_id, slot)")
        cursor.execute("ANALYZE intake_address")
        _insert(
            cursor,
            CallerAddress,
            [
                ("id", "id"),
                ("caller_id", "caller_id"),
                ("community_id", "(%(communities)s::bigint[])[place]"),
                ("address", "address"),
                ("building", "building"),
                ("unit", "unit"),
                ("room", "room"),
                ("last_used_at", "last_used_at"),
            ],
            "intake_address",
            params,
        )
        cursor.execute(_DRAWS, params)
        _insert(
            cursor,
            Call,
            [
                ("id", "d.id"),
                ("channel", "channel"),
                (
                    "direction",
                    "CASE WHEN d.id %% 2 = 1 AND r_channel > 0.97 THEN 'outbound' "
                    "ELSE 'inbound' END",
                ),
                (
                    "caller_number",
                    "CASE WHEN c.phone IS NULL THEN "
                    "  CASE WHEN r_talk < 0.6 THEN '' ELSE 'anonymous' END "
                    "WHEN c.phone LIKE '+861%%' THEN substr(c.phone, 4) "
                    "ELSE '0' || substr(c.phone, 4) END",
                ),
                ("caller_id", "d.caller_id"),
                (
                    "agent_id",
                    "CASE WHEN outcome <> 'abandoned' "
                    "THEN (%(agents)s::bigint[])[1 + floor(r_agent * %(agent_count)s)::int] END",
                ),
                ("cti_call_id", "CASE WHEN channel = 'hotline' THEN 'bench-' || d.id END"),
                ("ringing_at", "at"),
                (
                    "answered_at",
                    "CASE WHEN outcome <> 'abandoned' "
                    "THEN at + make_interval(secs => 3 + r_wait * 40) END",
                ),
                (
                    "ended_at",
                    "CASE WHEN outcome = 'abandoned' "
                    "THEN at + make_interval(secs => 5 + r_wait * 60) "
                    "ELSE at + make_interval(secs => 43 + r_wait * 40 + r_talk * 500) END",
                ),
                ("abandoned", "outcome = 'abandoned'"),
                (
                    "category",
                    "CASE outcome WHEN 'ticket_created' "
                    "THEN (%(fault_categories)s::text[])[fault] "
                    "WHEN 'abandoned' THEN '' WHEN 'linked' THEN 'repair' ELSE 'consult' END",
                ),
                ("outcome", "outcome"),
                (
                    "ticket_id",
                    "CASE outcome WHEN 'ticket_created' THEN d.id / 2 "
                    "WHEN 'linked' THEN greatest(1, (d.id - 1) / 2) END",
                ),
                ("notes", "''"),
                ("created_at", "at"),
            ],
            "shaped d LEFT JOIN callcentre_caller c ON c.id = d.caller_id ORDER BY d.id",
            params,
            ctes="""
            WITH shaped AS (
                SELECT *,
                    CASE WHEN id %% 2 = 0 THEN 'ticket_created'
                         WHEN r_outcome < 0.12 THEN 'abandoned'
                         WHEN r_outcome < 0.62 THEN 'answered'
                         WHEN r_outcome < 0.85 THEN 'linked'
                         ELSE 'referred' END AS outcome,
                    CASE WHEN r_channel < 0.85 THEN 'hotline' WHEN r_channel < 0.95 THEN 'wechat'
                         ELSE 'app' END AS channel
                FROM intake_draw
            )
            """,
        )
        _insert(
            cursor,
            Ticket,
            [
                ("id", "id"),
                (
                    "number",
                    "to_char(at AT TIME ZONE %(tz)s, 'YYMMDD') || '-' || "
                    "CASE WHEN seq < 10000 THEN lpad(seq::text, 4, '0') ELSE seq::text END",
                ),
                ("channel", "channel"),
                ("category", "category"),
                ("grade", "grade"),
                ("fault_type_id", "fault_type_id"),
                ("description", "(%(descriptions)s::text[])[1 + id %% 10]"),
                ("caller_name", "coalesce(nullif(caller_name, ''), '市民')"),
                ("caller_phone", "phone"),
                ("community_id", "(%(communities)s::bigint[])[place]"),
                ("district_id", "(%(districts)s::bigint[])[place]"),
                ("address", "address"),
                ("building", "building"),
                ("unit", "unit"),
                ("room", "room"),
                ("external_ref", "''"),
                ("state", "state"),
                ("received_at", "at"),
                ("sla_started_at", "at"),
                ("dispatch_due", "at + make_interval(mins => dispatch_minutes)"),
                ("accept_due", "at + make_interval(mins => accept_minutes)"),
                ("arrive_due", "at + make_interval(mins => arrive_minutes)"),
                ("mitigate_due", "at + make_interval(mins => mitigate_minutes)"),
                ("resolve_due", "at + make_interval(mins => resolve_minutes)"),
                ("close_due", "at + make_interval(mins => close_minutes)"),
                ("verified_at", "CASE WHEN level >= 1 THEN at + interval '5 minutes' * pace END"),
                (
                    "dispatched_at",
                    "CASE WHEN level >= 2 AND state <> 'cancelled' "
                    "THEN at + interval '20 minutes' * pace END",
                ),
                (
                    "accepted_at",
                    "CASE WHEN level >= 3 AND grade <> 'consult' "
                    "THEN at + interval '40 minutes' * pace END",
                ),
                (
                    "arrived_at",
                    "CASE WHEN level >= 4 AND grade <> 'consult' "
                    "THEN at + interval '90 minutes' * pace END",
                ),
                ("resolved_at", "CASE WHEN level >= 7 THEN at + interval '1 day' * pace END"),
                ("closed_at", "CASE WHEN level >= 7 THEN at + interval '2 days' * pace END"),
                (
                    "cancelled_at",
                    "CASE WHEN state = 'cancelled' THEN at + interval '20 minutes' * pace END",
                ),
                (
                    "repair_measures",
                    "CASE WHEN has_crew AND level >= 7 THEN '更换接头' ELSE '' END",
                ),
                ("repair_parts", "''"),
                (
                    "repair_cost",
                    "CASE WHEN has_crew AND level >= 7 THEN round((r_crew * 300)::numeric, 2) END",
                ),
                ("resolution", "CASE WHEN has_department AND level >= 7 THEN '已答复' ELSE '' END"),
                ("delay_responsible", "''"),
                (
                    "crew_id",
                    "CASE WHEN has_crew "
                    "THEN (%(crews)s::bigint[])[1 + floor(r_crew * %(crew_count)s)::int] END",
                ),
                (
                    "department_id",
                    "CASE WHEN has_department THEN (%(departments)s::bigint[])"
                    "[1 + floor(r_crew * %(department_count)s)::int] END",
                ),
                ("created_by_id", "agent_id"),
                ("created_at", "at"),
                ("updated_at", "coalesce(closed_at_guess, at)"),
            ],
            "placed ORDER BY id",
            params,
            ctes="""
            WITH made AS (
                SELECT d.*, d.id / 2 AS ticket_id, c.phone, c.name AS caller_name,
                    (%(faults)s::bigint[])[fault] AS fault_type_id,
                    (%(fault_categories)s::text[])[fault] AS category,
                    (%(fault_grades)s::text[])[fault] AS grade,
                    CASE WHEN r_channel < 0.85 THEN 'hotline' WHEN r_channel < 0.95 THEN 'wechat'
                         ELSE 'app' END AS channel,
                    (%(agents)s::bigint[])[1 + floor(r_agent * %(agent_count)s)::int] AS agent_id,
                    CASE WHEN d.caller_id <= %(heavy)s
                         THEN 1 + (d.id / 2) %% (40 + 25 * d.caller_id)
                         WHEN d.caller_id %% 4 = 0 THEN (d.id / 2) %% 2 ELSE 0 END AS slot,
                    row_number() OVER (
                        PARTITION BY (d.at AT TIME ZONE %(tz)s)::date ORDER BY d.at, d.id
                    ) AS seq,
                    least(1.0, extract(epoch FROM %(now)s::timestamptz - d.at) / 86400 / 3) AS pace
                FROM intake_draw d JOIN callcentre_caller c ON c.id = d.caller_id
                WHERE d.id %% 2 = 0
            ), stated AS (
                SELECT m.*,
                    CASE
                        WHEN r_open < CASE WHEN at > %(now)s::timestamptz - interval '2 days'
                                           THEN 0.45 ELSE 0.04 END
                        THEN CASE WHEN grade = 'consult'
                                  THEN (ARRAY['new', 'verified', 'referred'])
                                       [1 + floor(r_state * 3)::int]
                                  ELSE (ARRAY['new', 'verified', 'dispatched', 'accepted',
                                              'on_site'])[1 + floor(r_state * 5)::int] END
                        WHEN r_final < 0.02 THEN 'cancelled'
                        ELSE 'closed'
                    END AS state
                FROM made m
            ), leveled AS (
                SELECT s.*,
                    CASE state WHEN 'new' THEN 0 WHEN 'verified' THEN 1 WHEN 'dispatched' THEN 2
                        WHEN 'referred' THEN 2 WHEN 'accepted' THEN 3 WHEN 'on_site' THEN 4
                        WHEN 'closed' THEN 7 WHEN 'cancelled' THEN 1 ELSE 0 END AS level
                FROM stated s
            ), placed AS (
                SELECT l.ticket_id AS id, l.at, l.seq, l.channel, l.category, l.grade,
                    l.fault_type_id, l.caller_name, l.phone, l.state, l.level, l.pace, l.r_crew,
                    l.agent_id, a.place, a.address, a.building, a.unit, a.room,
                    p.dispatch_minutes, p.accept_minutes, p.arrive_minutes, p.mitigate_minutes,
                    p.resolve_minutes, p.close_minutes,
                    l.level >= 2 AND l.state <> 'cancelled' AND l.grade <> 'consult'
                        AS has_crew,
                    l.level >= 2 AND l.state <> 'cancelled' AND l.grade = 'consult'
                        AS has_department,
                    CASE WHEN l.level >= 7 THEN l.at + interval '2 days' * l.pace
                         WHEN l.state = 'cancelled' THEN l.at + interval '20 minutes' * l.pace
                    END AS closed_at_guess
                FROM leveled l
                JOIN intake_address a ON a.caller_id = l.caller_id AND a.slot = l.slot
                JOIN tickets_slapolicy p ON p.grade = l.grade
            )
            """,
        )
        cursor.execute(
            "INSERT INTO tickets_ticketsequence (day, last) "
            "SELECT (received_at AT TIME ZONE %s)::date, count(*) FROM tickets_ticket GROUP BY 1",
            [settings.TIME_ZONE],
        )
        for table in TABLES[:-1]:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
        _faq_copy(cursor, faq, now)
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute(
            """
            CREATE TABLE bench_intake_dataset (
                callers integer, calls integer, faq integer, days integer, fingerprint text,
                loaded_at timestamptz, load_seconds double precision
            )
            """
        )
        cursor.execute(
            "INSERT INTO bench_intake_dataset VALUES (%s, %s, %s, %s, %s, %s, 0)",
            [callers, calls, faq, days, _fingerprint(), now],
        )


def _faq_copy(cursor, count: int, now: datetime) -> None:
    """COPY ``count`` FAQ entries, ``search_text`` derived as ``FaqEntry.save`` derives it."""
    columns = ["question", "answer", "category", "keywords", "is_published", "search_text"]
    columns.append("updated_at")
    given = set(columns)
    extra = _defaults(FaqEntry, given)
    columns += [column for column, _ in extra]
    with cursor.cursor.copy(f"COPY callcentre_faqentry ({', '.join(columns)}) FROM STDIN") as copy:
        for entry in faq_entries(count):
            copy.write_row(
                [
                    entry.question,
                    entry.answer,
                    entry.category,
                    entry.keywords,
                    entry.is_published,
                    search_text(entry.question, entry.keywords, entry.category, entry.answer),
                    now,
                    *(value for _, value in extra),
                ]
            )
    cursor.execute(
        "SELECT setval(pg_get_serial_sequence('callcentre_faqentry', 'id'), max(id)) "
        "FROM callcentre_faqentry"
    )


def _faq_search_text_refresh() -> int:
    """Set ``search_text`` to what ``callcentre.search.search_text()`` derives now, where it
    differs (the derivation may have changed since the load); return how many changed."""
    changed = [
        (search_text(entry.question, entry.keywords, entry.category, entry.answer), entry.pk)
        for entry in FaqEntry.objects.only(
            "question", "keywords", "category", "answer", "search_text"
        ).iterator(chunk_size=1000)
        if entry.search_text
        != search_text(entry.question, entry.keywords, entry.category, entry.answer)
    ]
    if changed:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "UPDATE callcentre_faqentry SET search_text = %s WHERE id = %s", changed
            )
    return len(changed)


def _analyze(*, vacuum: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for table in TABLES:
            cursor.execute(f"{'VACUUM (ANALYZE)' if vacuum else 'ANALYZE'} {table}")
        cursor.execute("RESET maintenance_work_mem")
        if vacuum:
            cursor.execute("CHECKPOINT")


def _sample(
    where: str, params: list, *, limit: int, order: str = "c.id"
) -> list[tuple[int, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT c.id, c.phone, c.name FROM callcentre_caller c WHERE {where} "
            f"ORDER BY {order} LIMIT %s",
            [*params, limit],
        )
        return cursor.fetchall()


def _typed(phone: str, n: int) -> str:
    """The number as an agent types it: mostly national digits, sometimes +86 and spaces."""
    national = phone[3:] if phone.startswith("+861") else "0" + phone[3:]
    if n % 5 == 4 and phone.startswith("+861"):
        return f"+86 {national[:3]} {national[3:7]} {national[7:]}"
    return national


def _history(rows: list[tuple[int, str, str]]) -> list[CallerSample]:
    samples = []
    with connection.cursor() as cursor:
        for n, (pk, phone, name) in enumerate(rows):
            cursor.execute(
                "SELECT (SELECT count(*) FROM callcentre_call WHERE caller_id = %s), "
                "(SELECT count(*) FROM tickets_ticket WHERE caller_phone = %s), "
                "(SELECT count(*) FROM callcentre_calleraddress WHERE caller_id = %s)",
                [pk, phone, pk],
            )
            calls, tickets, addresses = cursor.fetchone()
            samples.append(CallerSample(_typed(phone, n), phone, name, calls, tickets, addresses))
    return samples


def _samples(*, callers: int, calls: int) -> dict[str, list[CallerSample]]:
    """The numbers the benchmark asks about, by kind."""
    one_call = min(calls // 20, callers // 4)
    first_one_call = callers - one_call + 1
    step_ordinary = max(1, (first_one_call - HEAVY_CALLERS) // 200)
    step_one = max(1, one_call // 100)
    ordinary = _sample(
        "c.id > %s AND c.id < %s AND (c.id - %s) %% %s = 0",
        [HEAVY_CALLERS, first_one_call, HEAVY_CALLERS, step_ordinary],
        limit=200,
    )
    return {
        "heavy": _history(_sample("c.id <= %s", [HEAVY_CALLERS], limit=HEAVY_CALLERS)),
        "ordinary": _history(ordinary),
        "one-call": _history(
            _sample("c.id >= %s AND c.id %% %s = 0", [first_one_call, step_one], limit=100)
        ),
        # Valid numbers no caller and no ticket has (callers are 138…, landlines 028 8…).
        "unknown": [
            CallerSample(
                f"137{(n * 104729) % 10**8:08d}", f"+86137{(n * 104729) % 10**8:08d}", "", 0, 0, 0
            )
            for n in range(1, 101)
        ],
        # What an agent has typed before the number is whole, or a withheld number.
        "invalid": [
            CallerSample(typed, "", "", 0, 0, 0)
            for typed in [
                "1",
                "13",
                "138",
                "1381",
                "13812",
                "138123",
                "1381234",
                "13812345",
                "028",
                "0288500",
                "anonymous",
                "",
                "+86",
                "12345",
            ]
        ],
    }


def _sizes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_size_pretty(pg_total_relation_size(oid)) FROM pg_class "
            "WHERE relname = ANY(%s)",
            [list(TABLES)],
        )
        return dict(cursor.fetchall())


def intake_dataset_prepare(
    *, callers: int, calls: int, faq: int, days: int, fresh: bool, log: Callable = print
) -> IntakeDataset:
    """Make the intake database hold the wanted rows (reused when it already does)."""
    wanted = {
        "callcentre_caller": callers,
        "callcentre_call": calls,
        "tickets_ticket": calls // 2,
        "callcentre_faqentry": faq,
    }
    reused = False
    if not fresh and _database_exists():
        recorded = _recorded()
        if (
            recorded is not None
            and (recorded["callers"], recorded["calls"], recorded["faq"], recorded["days"])
            == (callers, calls, faq, days)
            and recorded["fingerprint"] == _fingerprint()
        ):
            counts = _counts()
            if all(counts[table] == n for table, n in wanted.items()):
                reused = True
                loaded_at, load_seconds = recorded["loaded_at"], recorded["load_seconds"]
                started = time.monotonic()
                with connection.cursor() as cursor:
                    cursor.execute("DELETE FROM django_session")
                refreshed = _faq_search_text_refresh()
                _analyze(vacuum=False)
                log(
                    f"reusing the intake database loaded {loaded_at:%Y-%m-%d %H:%M}; "
                    + (f"{refreshed:,} FAQ search_text values refreshed; " if refreshed else "")
                    + f"analyzed in {time.monotonic() - started:.0f} s"
                )
            else:
                log(f"the intake database holds other rows ({counts}); rebuilding it")
        else:
            log("the intake database holds other rows or an older schema; rebuilding it")
    if not reused:
        started = time.monotonic()
        loaded_at = timezone.now()
        _recreate_database()
        call_command("migrate", verbosity=0, interactive=False)
        log(
            f"schema in {time.monotonic() - started:.1f} s; loading {callers:,} callers, "
            f"{calls:,} calls, {calls // 2:,} tickets, {faq:,} FAQ entries"
        )
        _bulk_load(callers=callers, calls=calls, faq=faq, days=days, now=loaded_at)
        log(f"loaded in {time.monotonic() - started:.1f} s; vacuum and analyze")
        _analyze(vacuum=True)
        load_seconds = time.monotonic() - started
        with connection.cursor() as cursor:
            cursor.execute("UPDATE bench_intake_dataset SET load_seconds = %s", [load_seconds])
        log(f"database ready in {load_seconds:.1f} s")
    counts = _counts()
    return IntakeDataset(
        callers=counts["callcentre_caller"],
        addresses=counts["callcentre_calleraddress"],
        calls=counts["callcentre_call"],
        tickets=counts["tickets_ticket"],
        faq_entries=counts["callcentre_faqentry"],
        faq_published=FaqEntry.objects.filter(is_published=True).count(),
        days=days,
        reused=reused,
        load_seconds=load_seconds,
        loaded_at=loaded_at,
        agent_id=User.objects.get(username=AGENT_USERNAME).pk,
        samples=_samples(callers=callers, calls=calls),
        sizes=_sizes(),
    )
