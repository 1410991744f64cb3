"""The wallboard half of the staffing benchmark: the live partial with a million calls.

The database (``callcentre_bench_staffing``) holds ``--calls`` calls over ``--days`` days
before the bench clock, the last of them a busy day (``--today`` calls by 16:40, some
still waiting in the queue), a tenth of them outbound callbacks; 300 seats (50 floating,
20 of them switched on), 240 agents with their seat sessions and status spells (half a
million spells of history, one open spell per agent signed in) and the roster of every
day. The bench clock is 16:40 (Beijing time) on the day the database was loaded, and the
measurement runs at that clock (``time_machine``), so a database loaded on another day is
reused as it is.

Through Django's test client, signed in as a shift leader, with the whole middleware stack:
``GET /staffing/wallboard/live/`` (what the board fetches every 3 seconds) for ``--requests``
requests in ``--rounds`` rounds after a warm-up, the service level alternating between 15
and 20 s; then requests with the cache cleared first (what a process pays once a minute,
when it reads the day's settled calls, the thresholds and the roster again); then the SQL
of one request (its count), and EXPLAIN (ANALYZE, BUFFERS) of each query that reads the
calls or the status spells: none may read either table from end to end.
"""

import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.management import call_command
from django.db import connection, transaction

from tests.bench.dataset import (
    _database_exists,
    _recreate_database,
    loader_fingerprint,
    recorded_row,
)
from tests.bench.intake_dataset import _insert

TARGET_P95_MS = 30.0
URL = "/staffing/wallboard/live/"
HX = {"HX-Request": "true"}
BEIJING = ZoneInfo("Asia/Shanghai")
LEADER_USERNAME = "bench-shift-leader"
FIXED_SEATS, FLOATING_SEATS, FLOATING_ON = 250, 50, 20
AGENTS, SIGNED_IN = 240, 230
WAITING = 40  # calls in the queue at the bench clock
HISTORY_SPELLS = 500_000
# The open spells of the agents signed in, as a busy afternoon has them.
OPEN_STATUSES = {"on_call": 150, "available": 40, "after_call_work": 25, "break": 10}
BIG_TABLES = ("callcentre_call", "staffing_statusspell")
COLD_REQUESTS = 50


@dataclass(frozen=True)
class WallboardDataset:
    calls: int
    today: int
    days: int
    clock: datetime
    reused: bool
    load_seconds: float
    leader_id: int


@dataclass(frozen=True)
class Plan:
    table: str
    scans: list[str]
    execution_ms: float
    plan: str

    @property
    def reads_whole_table(self) -> bool:
        return any(f"Seq Scan on {table}" in self.plan for table in BIG_TABLES)


@dataclass(frozen=True)
class WallboardResult:
    dataset: WallboardDataset
    runs_ms: list[float]
    cpu_ms: list[float]
    rounds: list[float]
    cold_ms: list[float]
    queries: list[str]
    plans: list[Plan]
    size_bytes: int

    @property
    def p50(self) -> float:
        return statistics.median(self.runs_ms)

    @property
    def p95(self) -> float:
        return _percentile(self.runs_ms, 95)

    @property
    def passed(self) -> bool:
        return self.p95 <= TARGET_P95_MS and not any(p.reads_whole_table for p in self.plans)


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, round(pct / 100 * len(ordered))) - 1]


# -- the database ----------------------------------------------------------------------------


def _fingerprint() -> str:
    return loader_fingerprint("wallboard.py")


def _clock_of(day) -> datetime:
    return datetime(day.year, day.month, day.day, 16, 40, tzinfo=BEIJING)


def _reference_data(clock: datetime) -> int:
    """Seats, agents at them with their open spells, the roster, and the shift leader."""
    from staffing.models import RosterEntry, RosterRole, Seat, SeatSession, ShiftTemplate, User
    from staffing.roles import Role
    from staffing.services import user_create

    leader = user_create(
        username=LEADER_USERNAME, password="bench-pass-2026", role=Role.SHIFT_LEADER
    )
    seats = Seat.objects.bulk_create(
        [Seat(label=f"A-{n:03}", extension=f"{8000 + n}") for n in range(1, FIXED_SEATS + 1)]
        + [
            Seat(
                label=f"F-{n:02}",
                extension=f"{8500 + n}",
                floating=True,
                switched_on=n <= FLOATING_ON,
            )
            for n in range(1, FLOATING_SEATS + 1)
        ]
    )
    agents = User.objects.bulk_create(
        [
            User(username=f"bench-agent-{n:03}", first_name=f"坐席{n:03}", password="!")
            for n in range(1, AGENTS + 1)
        ]
    )
    signed_in = clock.replace(hour=8)
    SeatSession.objects.bulk_create(
        SeatSession(seat=seat, agent=agent, signed_in_at=signed_in)
        for seat, agent in zip(seats[:SIGNED_IN], agents[:SIGNED_IN], strict=True)
    )
    day, night = ShiftTemplate.objects.get(code="day"), ShiftTemplate.objects.get(code="night")
    first = clock.date() - timedelta(days=34)
    RosterEntry.objects.bulk_create(
        RosterEntry(
            day=first + timedelta(days=offset),
            shift=day if n % 3 else night,
            person=agent,
            role=RosterRole.FLOATING_AGENT if n >= FIXED_SEATS - 20 else RosterRole.AGENT,
        )
        for offset in range(42)
        for n, agent in enumerate(agents)
    )
    return leader.pk


def _bulk_load(*, calls: int, today: int, days: int, clock: datetime) -> None:
    """The calls and the history of status spells, each in one ``INSERT … SELECT``."""
    from callcentre.models import Call
    from staffing.models import StatusSpell, User

    day_start = clock.replace(hour=0)
    history_start = day_start - timedelta(days=days)
    history = calls - today
    with connection.cursor() as cursor:
        # Calls 1..history spread over the days before today, today+1.. over today to the
        # clock; the last WAITING of them still ring. One in ten is an outbound callback.
        at = (
            "CASE WHEN g <= %(history)s"
            " THEN %(history_start)s"
            " + (%(day_start)s - %(history_start)s) * (g::float / %(history)s)"
            " ELSE %(day_start)s + (%(clock)s - %(day_start)s - interval '1 minute')"
            " * ((g - %(history)s)::float / %(today)s) END"
        )
        waiting = f"g > {calls - WAITING}"
        answered = f"NOT ({waiting}) AND g %% 20 <> 0"
        _insert(
            cursor,
            Call,
            [
                ("channel", "'hotline'"),
                ("direction", "CASE WHEN g %% 10 = 0 THEN 'outbound' ELSE 'inbound' END"),
                ("caller_number", "'138' || lpad((g %% 200000)::text, 8, '0')"),
                ("cti_call_id", "'bench-' || g"),
                ("ringing_at", at),
                (
                    "answered_at",
                    f"CASE WHEN {answered} THEN {at} + (g %% 45) * interval '1 second' END",
                ),
                (
                    "ended_at",
                    f"CASE WHEN {waiting} THEN NULL WHEN {answered}"
                    f" THEN {at} + (g %% 45 + 100 + g %% 240) * interval '1 second'"
                    f" ELSE {at} + (g %% 90) * interval '1 second' END",
                ),
                ("abandoned", f"NOT ({waiting}) AND g %% 20 = 0"),
                ("category", "''"),
                ("outcome", "''"),
                ("notes", "''"),
                ("created_at", at),
            ],
            "generate_series(1, %(calls)s) AS g",
            {
                "calls": calls,
                "today": today,
                "history": history,
                "history_start": history_start,
                "day_start": day_start,
                "clock": clock,
            },
        )
        # Finished spells of every agent over the days before, then the open one of each
        # agent signed in.
        agents = list(
            User.objects.filter(username__startswith="bench-agent-").values_list("pk", flat=True)
        )
        statuses = list(OPEN_STATUSES)
        _insert(
            cursor,
            StatusSpell,
            [
                ("agent_id", "(%(agents)s::bigint[])[1 + g %% %(count)s]"),
                ("status", "(%(statuses)s::text[])[1 + (g / 7) %% 4]"),
                (
                    "started_at",
                    "%(history_start)s + (%(day_start)s - %(history_start)s)"
                    " * (g::float / %(spells)s)",
                ),
                (
                    "ended_at",
                    "%(history_start)s + (%(day_start)s - %(history_start)s)"
                    " * ((g + %(count)s)::float / %(spells)s)",
                ),
                ("source", "'cti'"),
                ("resume_status", "''"),
            ],
            "generate_series(1, %(spells)s) AS g",
            {
                "agents": agents,
                "count": len(agents),
                "statuses": statuses,
                "spells": HISTORY_SPELLS,
                "history_start": history_start,
                "day_start": day_start,
            },
        )
    open_statuses = [status for status, count in OPEN_STATUSES.items() for _ in range(count)]
    open_statuses += ["training"] * (SIGNED_IN - len(open_statuses))
    StatusSpell.objects.bulk_create(
        StatusSpell(
            agent_id=agent,
            status=status,
            started_at=clock - timedelta(seconds=30 + n * 7),
            source=StatusSpell.Source.CTI,
        )
        for n, (agent, status) in enumerate(zip(agents[:SIGNED_IN], open_statuses, strict=True))
    )


def _recorded() -> dict | None:
    return recorded_row(
        "bench_wallboard_dataset",
        "calls, today, days, fingerprint, clock, load_seconds, leader_id",
    )


def wallboard_dataset_prepare(
    *, calls: int, today: int, days: int, fresh: bool, log: Callable = print
) -> WallboardDataset:
    """Make the staffing database hold the wanted calls (reused when it already does)."""
    from callcentre.models import Call

    if not fresh and _database_exists():
        recorded = _recorded()
        if (
            recorded is not None
            and (recorded["calls"], recorded["today"], recorded["days"]) == (calls, today, days)
            and recorded["fingerprint"] == _fingerprint()
            and Call.objects.count() == calls
        ):
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM django_session")
            clock = recorded["clock"].astimezone(BEIJING)
            log(f"reusing {calls:,} calls; the bench clock is {clock:%Y-%m-%d %H:%M} (Beijing)")
            return WallboardDataset(
                calls=calls,
                today=today,
                days=days,
                clock=recorded["clock"],
                reused=True,
                load_seconds=recorded["load_seconds"],
                leader_id=recorded["leader_id"],
            )
        log("the staffing database holds other rows or an older schema; rebuilding it")
    started = time.monotonic()
    clock = _clock_of(datetime.now(BEIJING).date())
    _recreate_database()
    call_command("migrate", verbosity=0, interactive=False)
    with transaction.atomic():
        leader_id = _reference_data(clock)
        log(
            f"schema, seats and agents in {time.monotonic() - started:.1f} s;"
            f" loading {calls:,} calls"
        )
        _bulk_load(calls=calls, today=today, days=days, clock=clock)
    log(f"loaded in {time.monotonic() - started:.1f} s; vacuum and analyze")
    connection.ensure_connection()
    with connection.cursor() as cursor:
        for table in ("callcentre_call", "staffing_statusspell", "staffing_rosterentry"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
    load_seconds = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_wallboard_dataset (calls int, today int, days int, "
            "fingerprint text, clock timestamptz, load_seconds float, leader_id bigint)"
        )
        cursor.execute(
            "INSERT INTO bench_wallboard_dataset VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [calls, today, days, _fingerprint(), clock, load_seconds, leader_id],
        )
    log(f"database ready in {load_seconds:.1f} s")
    return WallboardDataset(
        calls=calls,
        today=today,
        days=days,
        clock=clock,
        reused=False,
        load_seconds=load_seconds,
        leader_id=leader_id,
    )


# -- the measurement -------------------------------------------------------------------------


def _get(client, within: int):
    response = client.get(f"{URL}?within={within}", headers=HX)
    if response.status_code != 200:
        raise RuntimeError(f"GET {URL} answered {response.status_code}: {response.content[:300]}")
    return response


def _explain(sql: str) -> Plan:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    scans = [
        line.strip().removeprefix("->").strip().split("  (cost=")[0]
        for line in plan.splitlines()
        if "Scan" in line
    ]
    execution = re.search(r"Execution Time: ([\d.]+) ms", plan)
    table = next(table for table in BIG_TABLES if f'"{table}"' in sql)
    return Plan(table=table, scans=scans, execution_ms=float(execution.group(1)), plan=plan)


def wallboard_measure(
    dataset: WallboardDataset,
    *,
    requests: int,
    warmup: int,
    rounds: int,
    quiet: Callable[[], None],
) -> WallboardResult:
    """Time the live partial at the bench clock; count and EXPLAIN one request's SQL."""
    import time_machine
    from django.core.cache import cache
    from django.db import reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from staffing.models import User

    with time_machine.travel(dataset.clock, tick=False):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(User.objects.get(pk=dataset.leader_id))
        for n in range(warmup):
            _get(client, 15 if n % 2 else 20)
        runs, cpu, per_round = [], [], []
        size = requests // rounds
        for _ in range(rounds):
            quiet()
            started_round = time.perf_counter()
            for n in range(size):
                started, started_cpu = time.perf_counter(), time.process_time()
                _get(client, 15 if n % 2 else 20)
                runs.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            per_round.append((time.perf_counter() - started_round) * 1000 / size)
        # Once a minute a process reads the day's settled calls and the thresholds again.
        cold = []
        for n in range(COLD_REQUESTS):
            cache.clear()
            started = time.perf_counter()
            _get(client, 15 if n % 2 else 20)
            cold.append((time.perf_counter() - started) * 1000)
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            response = _get(client, 15)
        queries = [query["sql"] for query in captured.captured_queries]
        plans = [
            _explain(sql)
            for sql in queries
            if any(f'"{table}"' in sql for table in BIG_TABLES) and sql.startswith("SELECT")
        ]
    return WallboardResult(
        dataset=dataset,
        runs_ms=runs,
        cpu_ms=cpu,
        rounds=per_round,
        cold_ms=cold,
        queries=queries,
        plans=plans,
        size_bytes=len(response.content),
    )


def wallboard_lines(result: WallboardResult) -> list[str]:
    """The wallboard's part of ``results/staffing.md``."""
    dataset = result.dataset
    lines = [
        "",
        "## The wallboard's live partial with a million calls",
        "",
        f"- the database: {dataset.calls:,} calls over {dataset.days} days and a busy day of"
        f" {dataset.today:,} calls by 16:40 ({WAITING} waiting), a tenth outbound;"
        f" {FIXED_SEATS + FLOATING_SEATS} seats ({FLOATING_SEATS} floating, {FLOATING_ON} on),"
        f" {SIGNED_IN} agents signed in, {HISTORY_SPELLS:,} status spells of history;"
        f" {'reused' if dataset.reused else 'loaded'} (load {dataset.load_seconds:.0f} s)",
        f"- `GET {URL}` in-process (Django's test client, the whole middleware stack), signed in"
        f" as a shift leader, {len(result.runs_ms)} requests in {len(result.rounds)} rounds:"
        f" p50 **{result.p50:.2f} ms**, p95 **{result.p95:.2f} ms**, max"
        f" {max(result.runs_ms):.2f} ms (target p95 ≤ {TARGET_P95_MS:.0f} ms):"
        f" {'PASS' if result.p95 <= TARGET_P95_MS else 'FAIL'}",
        f"- CPU per request p50 {statistics.median(result.cpu_ms):.2f} ms; mean per round"
        f" {', '.join(f'{value:.2f}' for value in result.rounds)} ms;"
        f" {result.size_bytes / 1024:.0f} KiB of HTML",
        f"- once a minute a process reads the day's settled calls, the thresholds and the"
        f" roster again: {len(result.cold_ms)} such requests (the cache cleared before each)"
        f" p50 {statistics.median(result.cold_ms):.2f} ms, p95"
        f" {_percentile(result.cold_ms, 95):.2f} ms",
        f"- SQL per request: **{len(result.queries)} queries** (the session and user included)",
    ]
    for plan in result.plans:
        verdict = "reads the whole table: FAIL" if plan.reads_whole_table else "no Seq Scan"
        lines.append(
            f"  - `{plan.table}`: {plan.execution_ms:.2f} ms; {'; '.join(plan.scans[:3])};"
            f" {verdict}"
        )
    return lines
