"""The board benchmark's database: a million tickets, a tenth of them open, in every lane.

Its own database, loaded with one ``INSERT … SELECT`` over ``generate_series`` as the ticket
suite's is (``tests/bench/dataset.py``, whose reference data it starts from), but with an
exact number of open tickets: the ``open`` tickets with the lowest draw stay open, most of
the last two days' and stragglers from every week before. An open ticket is in one of the
open states of its grade (emergency: the seven lanes; general: all but "water stopped";
consult: new, verified, referred, resolved), with the deadlines of the seeded SLA policy of
its grade, milestone times consistent with its state, and the close deadline of a resolved
repair moved to the backfill time (``tickets.sla.close_due_after_completion``).

Forty crews (some on duty, with skills, districts and positions) share the tickets with a
crew; one, the *light* crew, holds about ``light_open`` open tickets (its leader's crew list
is measured), the others the rest. A dispatcher and the leaders of the light crew and of the
busiest crew sign in. A database that already holds the wanted rows from the same loader
and migrations is reused; its sessions are deleted and it is analyzed again.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from dispatch.models import Community, Crew, CrewMembership, Department, District, Shift
from staffing.models import User
from staffing.roles import Role
from staffing.services import user_create
from tests.bench.dataset import (
    AGENT_USERNAME,
    TICKET_TABLES,
    _database_exists,
    _recreate_database,
    _reference_data,
    loader_fingerprint,
    recorded_row,
    secondary_indexes,
)
from tests.bench.intake_dataset import _insert
from tickets.choices import OPEN_STATES, WITH_CREW_STATES, Grade, State
from tickets.models import FaultType, Skill, Ticket

CREWS = 40
DISPATCHER_USERNAME = "bench-dispatcher"
LIGHT_LEADER_USERNAME = "bench-leader-light"
BUSY_LEADER_USERNAME = "bench-leader-busy"
# The open states of each grade; an open ticket is in any of its grade's alike.
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
_CREW_LIST_STATES = [*WITH_CREW_STATES, State.RESOLVED]


@dataclass(frozen=True)
class BoardDataset:
    tickets: int
    open_tickets: int
    days: int
    reused: bool
    load_seconds: float
    loaded_at: datetime
    lanes: dict[str, int]  # open tickets per state
    crews: int
    crews_on_duty: int
    dispatcher_id: int
    light_leader_id: int
    light_crew: str
    light_crew_open: int  # tickets in the light crew's list (with it, or resolved)
    busy_leader_id: int
    busy_crew: str
    busy_crew_open: int
    table_size: str


def _open_with_crew_share() -> float:
    """Return the expected share of open tickets that are with a crew or resolved by one."""
    return sum(
        share
        * sum(state in _CREW_LIST_STATES for state in GRADE_OPEN_STATES[grade])
        / len(GRADE_OPEN_STATES[grade])
        for grade, share in GRADE_SHARES.items()
        if grade != Grade.CONSULT
    )


def _fingerprint() -> str:
    """A hash of this loader, the ticket suite's reference data and the migrations: when one
    changes, a database loaded before is rebuilt rather than reused."""
    return loader_fingerprint("board_dataset.py", "dataset.py")


def _recorded() -> dict | None:
    return recorded_row(
        "bench_board_dataset",
        "tickets, open, light_open, days, fingerprint, loaded_at, load_seconds",
    )


def _board_reference_data(now: datetime) -> None:
    """The ticket suite's reference data, then: positions for the communities, more crews
    with skills, districts, shifts and positions (two in three on duty), a dispatcher, and a
    leader and a member for the light and the busiest crew."""
    _reference_data()
    districts = list(District.objects.order_by("id"))
    order = {district.pk: n for n, district in enumerate(districts)}
    for n, community in enumerate(Community.objects.order_by("district_id", "id")):
        d = order[community.district_id]
        community.latitude = (
            Decimal("30.600000") + Decimal("0.030000") * d + Decimal("0.002") * (n % 10)
        )
        community.longitude = Decimal("104.020000") + Decimal("0.025000") * (n % 10)
        community.save(update_fields=["latitude", "longitude"])
    existing = Crew.objects.count()
    for n in range(existing, CREWS):
        crew = Crew.objects.create(code=f"crew-{n}", name=f"维修{n}队")
        crew.districts.add(districts[n % len(districts)])
    skills = {skill.code: skill for skill in Skill.objects.all()}
    for n, crew in enumerate(Crew.objects.order_by("id")):
        crew.skills.set(
            [skills["pipe"]]
            + ([skills["meter"]] if n % 2 == 0 else [])
            + ([skills["valve"]] if n % 3 == 0 else [])
        )
        if n % 5 == 4:  # a few crews cover a neighbouring district too
            crew.districts.add(districts[(n + 1) % len(districts)])
        home = Community.objects.filter(district=districts[n % len(districts)]).first()
        crew.max_pipe_diameter = 600 if n % 4 == 0 else 300
        crew.shift = [Shift.DAY, Shift.NIGHT, Shift.ROUND_THE_CLOCK][n % 3]
        crew.is_on_duty = n % 3 != 2
        crew.duty_changed_at = now - timedelta(hours=n % 8)
        crew.last_latitude = home.latitude + Decimal("0.001") * (n % 7)
        crew.last_longitude = home.longitude - Decimal("0.001") * (n % 5)
        crew.last_position_at = now - timedelta(minutes=3 * n)
        crew.save()
    user_create(username=DISPATCHER_USERNAME, password=None, role=Role.DISPATCHER)


def _leaders() -> None:
    """Make the leaders (and a member each) of the light crew and of the busiest crew."""
    light = Crew.objects.get(code="crew-0")
    busy = (
        Crew.objects.filter(tickets__state__in=_CREW_LIST_STATES)
        .annotate(n=Count("tickets"))
        .order_by("-n", "id")
        .first()
    )
    for crew, username in [(light, LIGHT_LEADER_USERNAME), (busy, BUSY_LEADER_USERNAME)]:
        leader = user_create(username=username, password=None, role=Role.CREW_MEMBER)
        CrewMembership.objects.create(crew=crew, user=leader, is_leader=True)
        member = user_create(username=f"{username}-member", password=None, role=Role.CREW_MEMBER)
        CrewMembership.objects.create(crew=crew, user=member)


# Every random draw happens once per row in ``draws``; later steps only combine them.
_TICKETS_CTES = """
WITH draws AS (
    SELECT
        ((%(first_day)s::date + ((i - 1) * %(days)s / %(n)s)::int)::timestamp
            + make_interval(secs => CASE WHEN random() < 0.85
                THEN 21600 + random() * 57600                       -- 06:00-22:00
                ELSE mod((79200 + random() * 28800)::int, 86400)    -- the night shift
            END)) AT TIME ZONE %(tz)s AS received_at,
        random() AS r_grade, random() AS r_fault, random() AS r_open, random() AS r_state,
        random() AS r_final, random() AS r_place, random() AS r_crew, random() AS r_light,
        random() AS r_speed, random() AS r_channel, random() AS r_extra,
        (random() * 99999999)::int AS phone
    FROM generate_series(1, %(n)s) AS i
), numbered AS (
    SELECT
        d.*,
        row_number() OVER (ORDER BY received_at) AS id,
        row_number() OVER (
            PARTITION BY (received_at AT TIME ZONE %(tz)s)::date ORDER BY received_at
        ) AS seq,
        -- The ``open`` lowest draws stay open: a draw of the last two days counts a tenth,
        -- so most of those tickets are open, and a few of every week before.
        row_number() OVER (
            ORDER BY r_open * CASE WHEN received_at > %(now)s::timestamptz - interval '2 days'
                                   THEN 0.1 ELSE 1 END, received_at
        ) AS open_rank,
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
        END AS open_states,
        open_rank <= %(open)s AS is_open
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
        level >= 2 AND state <> 'cancelled' AND grade = 'consult' AS has_department,
        -- A few tickets not yet sent have an address outside every district.
        level < 2 AND r_extra > 0.99 AS unplaced
    FROM leveled l
)
"""

# (column, expression) in the order of the model's fields; ``_insert`` adds the NOT NULL
# columns left out with the model's default.
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
    ("state", "state"),
    ("received_at", "received_at"),
    ("sla_started_at", "received_at"),
    ("dispatch_due", "received_at + make_interval(mins => dispatch_minutes)"),
    ("accept_due", "received_at + make_interval(mins => accept_minutes)"),
    ("arrive_due", "received_at + make_interval(mins => arrive_minutes)"),
    ("mitigate_due", "received_at + make_interval(mins => mitigate_minutes)"),
    ("resolve_due", "received_at + make_interval(mins => resolve_minutes)"),
    (
        # Once completed, the close deadline is the backfill time if sooner (least ignores
        # a NULL: a policy without a close time closes by the backfill time).
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
    ("community_id", "CASE WHEN NOT unplaced THEN (%(communities)s::bigint[])[place] END"),
    ("created_by_id", "%(agent)s"),
    (
        # Open tickets with a crew: a small share to the light crew, the rest spread over
        # the others; the history (closed tickets) over every crew alike.
        "crew_id",
        "CASE WHEN NOT has_crew THEN NULL "
        "WHEN is_open AND r_light < %(light_share)s THEN %(light_crew)s "
        "WHEN is_open THEN (%(other_crews)s::bigint[])"
        "[1 + floor(r_crew * cardinality(%(other_crews)s::bigint[]))::int] "
        "ELSE (%(crews)s::bigint[])[1 + floor(r_crew * cardinality(%(crews)s::bigint[]))::int] "
        "END",
    ),
    (
        "department_id",
        "CASE WHEN has_department THEN (%(departments)s::bigint[])"
        "[1 + floor(r_crew * cardinality(%(departments)s::bigint[]))::int] END",
    ),
    ("district_id", "CASE WHEN NOT unplaced THEN (%(districts)s::bigint[])[place] END"),
    ("fault_type_id", "fault_type_id"),
    ("parent_id", "CASE WHEN state = 'merged' THEN id - 1 END"),
    (
        # A few verified tickets came back from a crew.
        "returned",
        "CASE WHEN state = 'verified' AND grade <> 'consult' AND r_light > 0.97 "
        "THEN CASE WHEN r_extra < 0.5 THEN 'declined' ELSE 'not_accepted' END ELSE '' END",
    ),
    (
        "pipe_diameter",
        "CASE WHEN grade <> 'consult' AND r_extra < 0.3 "
        "THEN (ARRAY[20, 25, 50, 100, 150, 200, 300, 600])[1 + floor(r_extra / 0.3 * 8)::int] "
        "END",
    ),
]

DESCRIPTIONS = [
    "厨房水管接头漏水",
    "卫生间下水管渗水",
    "整栋楼水压偏低",
    "路口井盖冒水",
    "水表不走字",
    "自来水发黄有异味",
]


def _bulk_load(*, tickets: int, open_tickets: int, light_open: int, days: int, now) -> None:
    """Write the tickets, then rebuild the indexes."""
    communities = list(
        Community.objects.order_by("district_id", "id").values_list("id", "district_id")
    )
    crews = list(Crew.objects.order_by("id").values_list("id", flat=True))
    light_crew = Crew.objects.get(code="crew-0").pk
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
        "crews": crews,
        "light_crew": light_crew,
        "other_crews": [pk for pk in crews if pk != light_crew],
        "light_share": min(1.0, light_open / max(1.0, open_tickets * _open_with_crew_share())),
        "departments": list(Department.objects.order_by("id").values_list("id", flat=True)),
        "agent": User.objects.get(username=AGENT_USERNAME).pk,
        "descriptions": DESCRIPTIONS,
    }
    indexes = secondary_indexes(TICKET_TABLES)
    with transaction.atomic(), connection.cursor() as cursor:
        # The rows are generated consistent; skip the per-row deferred foreign-key triggers
        # and build each index once at the end instead of updating it a million times.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
        cursor.execute("SELECT setseed(0.61)")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        _insert(cursor, Ticket, _TICKET_SELECT, "timed ORDER BY id", params, ctes=_TICKETS_CTES)
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
            CREATE TABLE bench_board_dataset (
                tickets integer, open integer, light_open integer, days integer,
                fingerprint text, loaded_at timestamptz, load_seconds double precision
            )
            """
        )
        cursor.execute(
            "INSERT INTO bench_board_dataset VALUES (%s, %s, %s, %s, %s, %s, 0)",
            [tickets, open_tickets, light_open, days, _fingerprint(), now],
        )


def _vacuum_analyze() -> None:
    """Vacuum (the visibility map lets the lane counts read the index alone) and analyze."""
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("VACUUM (ANALYZE) tickets_ticket")
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("CHECKPOINT")


def _describe(*, reused: bool, load_seconds: float, loaded_at: datetime, days: int):
    with connection.cursor() as cursor:
        cursor.execute("SELECT state, count(*) FROM tickets_ticket GROUP BY state")
        states = dict(cursor.fetchall())
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('tickets_ticket'))")
        table_size = cursor.fetchone()[0]

    def leader(username: str) -> tuple[User, Crew, int]:
        user = User.objects.get(username=username)
        crew = CrewMembership.objects.select_related("crew").get(user=user, is_leader=True).crew
        return user, crew, crew.tickets.filter(state__in=_CREW_LIST_STATES).count()

    light_user, light_crew, light_count = leader(LIGHT_LEADER_USERNAME)
    busy_user, busy_crew, busy_count = leader(BUSY_LEADER_USERNAME)
    return BoardDataset(
        tickets=sum(states.values()),
        open_tickets=sum(states.get(s, 0) for s in OPEN_STATES),
        days=days,
        reused=reused,
        load_seconds=load_seconds,
        loaded_at=loaded_at,
        lanes={s.value: states.get(s, 0) for s in OPEN_STATES},
        crews=Crew.objects.count(),
        crews_on_duty=Crew.objects.filter(is_on_duty=True).count(),
        dispatcher_id=User.objects.get(username=DISPATCHER_USERNAME).pk,
        light_leader_id=light_user.pk,
        light_crew=str(light_crew),
        light_crew_open=light_count,
        busy_leader_id=busy_user.pk,
        busy_crew=str(busy_crew),
        busy_crew_open=busy_count,
        table_size=table_size,
    )


def board_dataset_prepare(
    *,
    tickets: int,
    open_tickets: int,
    light_open: int,
    days: int,
    fresh: bool,
    log: Callable = print,
) -> BoardDataset:
    """Make the board database hold the wanted tickets (reused when it already does)."""
    if not fresh and _database_exists():
        recorded = _recorded()
        if (
            recorded is not None
            and (recorded["tickets"], recorded["open"], recorded["light_open"], recorded["days"])
            == (tickets, open_tickets, light_open, days)
            and recorded["fingerprint"] == _fingerprint()
            and Ticket.objects.count() == tickets
        ):
            started = time.monotonic()
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM django_session")
                cursor.execute("ANALYZE tickets_ticket")
            log(
                f"reusing {tickets:,} tickets loaded {recorded['loaded_at']:%Y-%m-%d %H:%M}; "
                f"sessions cleared and analyzed in {time.monotonic() - started:.1f} s"
            )
            return _describe(
                reused=True,
                load_seconds=recorded["load_seconds"],
                loaded_at=recorded["loaded_at"],
                days=days,
            )
        log("the board database holds other rows or an older schema; rebuilding it")
    started = time.monotonic()
    now = timezone.now()
    _recreate_database()
    call_command("migrate", verbosity=0, interactive=False)
    _board_reference_data(now)
    log(
        f"schema and reference data in {time.monotonic() - started:.1f} s; loading "
        f"{tickets:,} tickets, {open_tickets:,} open"
    )
    _bulk_load(
        tickets=tickets, open_tickets=open_tickets, light_open=light_open, days=days, now=now
    )
    _leaders()
    log(f"loaded in {time.monotonic() - started:.1f} s; vacuum and analyze")
    _vacuum_analyze()
    load_seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("UPDATE bench_board_dataset SET load_seconds = %s", [load_seconds])
    log(f"database ready in {load_seconds:.1f} s")
    return _describe(reused=False, load_seconds=load_seconds, loaded_at=now, days=days)
