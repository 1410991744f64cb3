"""Benchmark the overdue sweep: ``scripts/bench.sh --suite alerts``.

1. Make the alerts database hold ``--tickets`` tickets, ``--open`` of them open and received
   over the last two days, with the alerts earlier sweeps raised and one sweep position per
   (milestone, level) at *now*, the moment it was loaded (reused when it already does;
   ``tests/bench/alerts_dataset.py``). No open ticket reaches a level in the
   ``--quiet-minutes`` after now. Every sweep runs at a time given from now, so a reused
   database is measured as a fresh one.
2. The steady state: the positions put back an hour, one sweep at now, which must raise
   nothing (what is due is raised already); its time is shown.
3. Nothing new: ``--idle-warmup`` sweeps, then ``--idle-runs`` measured ones, each
   ``--idle-step`` seconds after the one before (in the sweep's time, not the clock's); each
   must raise 0. Wall time, the part in SQL, the queries (``CaptureQueriesContext``).
4. EXPLAIN (ANALYZE, BUFFERS) of the sweep's SELECT of every (milestone, level), as the last
   measured sweep wrote them: none may read ``tickets_ticket`` from end to end, and a
   ticket deadline's must read its partial index ``ticket_<milestone>_overdue_idx``.
5. ``--new`` new alerts: a fresh set of open tickets is moved in time (every time column
   alike) so that one level of one deadline of each falls in the minute after the last
   sweep (a breach of a crew's milestone most often; warnings, escalations and dispatch
   breaches too), the earlier levels of their moved deadlines written as raised; then one
   sweep a minute on, which must raise exactly ``--new`` and queue the text messages the
   rules send (crew leaders, shift leaders; Celery publishes a task per 200 messages to the
   broker after each commit). One unmeasured run, then ``--new-runs`` measured ones; after
   each, the alerts and messages it made are deleted, the tickets put back, the positions
   restored and the tables vacuumed. The plans of the SELECTs with rows are EXPLAINed on one
   more set.
6. The query counts on a small database (``--small-tickets``, ``--small-open``, loaded and
   swept in a subprocess, with ``--small-new`` new alerts over the same levels): they must
   be the same, and a sweep with nothing new must make five, however many (milestone, level)
   pairs there are.
7. Print the results and write them to ``tests/bench/results/alerts.md``.

Exits 1 when the p95 of the sweeps with nothing new is over 200 ms, one raised anything, a
sweep with new alerts took over 2 s or raised other than ``--new``, a query count differs
from the small database's or a sweep with nothing new makes other than five, or a plan reads
the ticket table from end to end.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/callcentre_bench_alerts"
IDLE_TARGET_MS = 200.0
NEW_TARGET_SECONDS = 2.0
VAR_DIR = ROOT / "var" / "bench-alerts"
# The queries of a sweep with nothing new, however many (milestone, level) pairs: the
# policies, the departments (the windows of referred tickets), every position locked, one
# INSERT … SELECT for every pair, the positions moved on.
IDLE_QUERIES = 5
# The sweep that raises new alerts comes this long after the last one (a beat's minute).
NEW_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class Target:
    """A share of the new alerts: one level of one deadline of open tickets in ``states``."""

    label: str
    grade: str
    states: tuple[str, ...]
    milestone: str
    level: str
    share: float
    # Targets that draw on the same tickets take the ids of one parity each.
    parity: int | None = None


# Each reaches one level, and no other, in the minute: the nearest other level of any
# deadline still open on such a ticket is minutes away under the seeded policies.
TARGETS = [
    Target("dispatch breach, general new/verified", "general", ("new", "verified"), "dispatch",
           "breach", 0.20),
    Target("accept breach, general dispatched", "general", ("dispatched",), "accept", "breach",
           0.25, parity=0),
    Target("accept warning, general dispatched", "general", ("dispatched",), "accept",
           "warning", 0.10, parity=1),
    Target("arrive breach, general accepted", "general", ("accepted",), "arrive", "breach",
           0.15),
    Target("accept breach, emergency dispatched", "emergency", ("dispatched",), "accept",
           "breach", 0.10),
    Target("mitigate breach, emergency on site", "emergency", ("on_site",), "mitigate",
           "breach", 0.10),
    Target("arrive escalated, emergency accepted", "emergency", ("accepted",), "arrive",
           "escalated", 0.10),
]  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/bench.sh --suite alerts",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument("--suite", default="alerts", help=argparse.SUPPRESS)
    add = parser.add_argument
    add("--tickets", type=int, default=1_000_000, help="tickets (%(default)s)")
    add(
        "--open",
        type=int,
        default=100_000,
        help="open tickets among them, received over the last two days (%(default)s)",
    )
    add("--days", type=int, default=90, help="days the closed tickets spread over (%(default)s)")
    add(
        "--quiet-minutes",
        type=int,
        default=10,
        help="minutes after now in which no open ticket reaches a level (%(default)s)",
    )
    add("--idle-runs", type=int, default=20, help="measured sweeps with nothing new (%(default)s)")
    add("--idle-warmup", type=int, default=2, help="unmeasured ones first (%(default)s)")
    add(
        "--idle-step",
        type=float,
        default=1.0,
        help="seconds of the sweep's time between two of them (%(default)s)",
    )
    add("--new", type=int, default=1000, help="new alerts a measured sweep raises (%(default)s)")
    add(
        "--new-runs",
        type=int,
        default=5,
        help="measured sweeps with new alerts, each over a fresh set of tickets (%(default)s)",
    )
    add("--batch", type=int, default=1000, help="the sweep's batch (%(default)s)")
    add("--small-tickets", type=int, default=10_000, help="the small database (%(default)s)")
    add("--small-open", type=int, default=2_000, help="its open tickets (%(default)s)")
    add(
        "--small-new",
        type=int,
        default=100,
        help="new alerts of its sweep, over the same levels (%(default)s)",
    )
    add(
        "--quiet-wait",
        type=float,
        default=10,
        help="before each phase and each sweep with new alerts, wait up to this many seconds\n"
        "for other work on the machine to use under a quarter of a core (%(default)s)",
    )
    add(
        "--profile",
        action="store_true",
        help="cProfile a sweep of each kind (done anyway when one misses its target)",
    )
    add("--fresh", action="store_true", help="drop and reload the database even if reusable")
    add(
        "--database-url",
        default=os.environ.get("BENCH_ALERTS_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="the alerts database, dropped and recreated; its name must contain 'bench'; the\n"
        "small one is named after it with _small (BENCH_ALERTS_DATABASE_URL or %(default)s)",
    )
    add("--output", type=Path, help="where to write the results (tests/bench/results/alerts.md)")
    add("--counts-only", type=Path, help=argparse.SUPPRESS)  # the small database's subprocess
    return parser


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.output is None:
        args.output = RESULTS / "alerts.md"
    if "bench" not in urlparse(args.database_url).path:
        parser.error("--database-url must name a database with 'bench' in it: it is dropped")
    if args.open > args.tickets or args.small_open > args.small_tickets:
        parser.error("there cannot be more open tickets than tickets")
    if min(args.idle_runs, args.new, args.small_new, args.batch) < 1 or args.new_runs < 0:
        parser.error("--idle-runs, --new, --small-new and --batch must be at least 1")
    if args.idle_step * (args.idle_runs + args.idle_warmup) + NEW_WINDOW.total_seconds() >= (
        args.quiet_minutes * 60
    ):
        parser.error("the sweeps must all fit in --quiet-minutes")
    return args


def _environment(args: argparse.Namespace) -> dict[str, str]:
    """The ticket suite's environment (Celery on Redis among it), with the files of this
    suite in a folder of its own."""
    from tests.bench.run import _environment as bench_environment

    (VAR_DIR / "static").mkdir(parents=True, exist_ok=True)
    os.environ["VAR_DIR"] = str(VAR_DIR)
    return bench_environment(args)


def _say(message: str) -> None:
    print(f"[bench alerts {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def _quiet(max_seconds: float) -> None:
    from tests.bench.load import wait_quietly

    wait_quietly(max_seconds, say=_say)


def _meter():
    """A CPU meter of this process, PostgreSQL serving the bench database, and the rest."""
    from django.conf import settings

    from tests.bench.load import CpuMeter, process_groups

    database = settings.DATABASES["default"]["NAME"]
    meter = CpuMeter(lambda: process_groups(web_master=None, database=database))
    meter.start()
    return meter


def _cores(cores: dict[str, float]) -> str:
    return ", ".join(f"{group} {used:.2f}" for group, used in cores.items() if group != "web")


def _max_id(model) -> int:
    return model.objects.order_by("-id").values_list("id", flat=True).first() or 0


# -- the queries of a sweep -------------------------------------------------------------------

_TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
_ALERT_INSERT = 'INSERT INTO "tickets_alert"'
INSERT_KIND = "alerts: INSERT … SELECT of every pair"
_PAIRS = re.compile(
    r"SELECT due\.\*, .*? FROM \((SELECT pair\.\*, .*)\) AS due WHERE 1 = 1 ON", re.S
)
# Each pair's part of the INSERT: its milestone and level, then its SELECT.
_PAIR = re.compile(
    r"(?:^| UNION ALL )SELECT pair\.\*, '(\w+)' AS milestone, '(\w+)' AS level FROM \("
)


def query_kind(sql: str) -> str:
    """Name what a query of the sweep does."""
    if sql.startswith(_TRANSACTION):
        return "BEGIN/COMMIT"
    if sql.startswith(_ALERT_INSERT):
        return INSERT_KIND
    if '"tickets_alertcursor"' in sql:
        if sql.startswith("INSERT"):
            return "positions made where missing"
        if sql.startswith("UPDATE"):
            return "positions moved on"
        return "positions locked"
    if '"tickets_slapolicy"' in sql:
        return "policies"
    if sql.startswith("SELECT") and 'FROM "dispatch_department"' in sql:
        return "departments (windows)"
    return "SMS: " + (
        "rules"
        if '"tickets_alertsmsrule"' in sql
        else "alerts read"
        if 'FROM "tickets_alert"' in sql
        else "crew leaders"
        if '"dispatch_crewmembership"' in sql
        else "permission"
        if 'FROM "auth_permission"' in sql
        else "people of a role or department"
        if 'FROM "staffing_user"' in sql
        else "messages: " + ("inserted" if sql.startswith("INSERT") else "keys read")
        if '"dispatch_outboundmessage"' in sql
        else "other"
    )


def pair_selects(sql: str) -> list[tuple[str, str]]:
    """Each pair's SELECT in the sweep's ``INSERT … SELECT`` (as Django recorded it, values
    in place), with its pair ("accept breach")."""
    found = _PAIRS.search(sql)
    if found is None:
        raise RuntimeError(f"no pairs in the sweep's INSERT: {sql[:200]}")
    parts = _PAIR.split(found.group(1))[1:]  # milestone, level, "SELECT … ) AS pair", …
    selects = []
    for milestone, level, rest in zip(parts[::3], parts[1::3], parts[2::3], strict=True):
        if not rest.endswith(") AS pair"):
            raise RuntimeError(f"a pair's SELECT that does not end as the sweep writes it: {rest}")
        selects.append((f"{milestone} {level}", rest.removesuffix(") AS pair")))
    return selects


class SqlMeter:
    """An execute wrapper: the seconds each query took, with its SQL."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, float]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((sql, time.perf_counter() - started))

    @property
    def seconds(self) -> float:
        return sum(seconds for _, seconds in self.queries)


class Published:
    """The Celery tasks published while it is connected (their ids)."""

    def __init__(self) -> None:
        from celery.signals import after_task_publish

        self.ids: list[str] = []
        after_task_publish.connect(self._published, weak=False)

    def _published(self, sender=None, headers=None, **kwargs) -> None:
        self.ids.append((headers or {}).get("id", ""))

    def take_back(self) -> int:
        """Take the tasks this process published off the Redis queue, so that no worker of
        another database picks them up later; return how many were still there."""
        from django.conf import settings

        url = settings.CELERY_BROKER_URL
        if not url.startswith("redis") or not self.ids:
            return 0
        import redis

        ids = set(self.ids)
        client = redis.Redis.from_url(url)
        taken = 0
        for raw in client.lrange("celery", 0, -1):
            try:
                task_id = json.loads(raw).get("headers", {}).get("id")
            except ValueError:
                continue
            if task_id in ids:
                taken += client.lrem("celery", 1, raw)
        return taken


@dataclass
class Sweep:
    label: str
    at: datetime
    seconds: float
    sql_seconds: float
    raised: int
    queries: list[str] = field(repr=False)  # as Django recorded them, values in place
    # Each statement's seconds, in order.
    timed: list[float] = field(repr=False, default_factory=list)
    expected: int = 0
    messages: int = 0
    tasks: int = 0  # Celery tasks published (after the commits)
    by_pair: dict[str, int] = field(default_factory=dict)  # alerts raised
    messages_by_kind: dict[str, int] = field(default_factory=dict)
    cores: dict[str, float] = field(default_factory=dict)
    transaction_seconds: float = 0.0  # BEGIN and COMMIT, as Django timed them

    @property
    def statements(self) -> int:
        """The SQL statements, without the transaction control Django records."""
        return sum(1 for sql in self.queries if query_kind(sql) != "BEGIN/COMMIT")

    @property
    def transactions(self) -> int:
        return len(self.queries) - self.statements

    @property
    def python_seconds(self) -> float:
        return self.seconds - self.sql_seconds

    def kinds(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for sql in self.queries:
            kind = query_kind(sql)
            found[kind] = found.get(kind, 0) + 1
        return found

    def kind_ms(self) -> dict[str, float]:
        """Milliseconds of the statements of each kind."""
        found: dict[str, float] = {}
        statements = [sql for sql in self.queries if query_kind(sql) != "BEGIN/COMMIT"]
        for sql, seconds in zip(statements, self.timed, strict=True):
            kind = query_kind(sql)
            found[kind] = found.get(kind, 0.0) + seconds * 1000
        return found


def sweep(*, label: str, at: datetime, batch: int, published: Published, profiler=None) -> Sweep:
    """Run ``alerts_sweep(now=at)`` once, in autocommit as the beat's task runs it, inside
    ``CaptureQueriesContext``; count what it raised and the messages it queued."""
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from dispatch.models import OutboundMessage
    from tickets.models import Alert
    from tickets.services import alerts_sweep

    alerts_before, messages_before = _max_id(Alert), _max_id(OutboundMessage)
    tasks_before = len(published.ids)
    timed: list[float] = []

    def timing(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timed.append(time.perf_counter() - began)

    cpu = _meter()
    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(timing):
        if profiler:
            profiler.enable()
        began = time.perf_counter()
        raised = alerts_sweep(now=at, batch=batch)
        seconds = time.perf_counter() - began
        if profiler:
            profiler.disable()
    cores = cpu.stop()
    queries = [query["sql"] for query in captured]
    # Django times BEGIN and COMMIT (to the millisecond) outside the execute wrappers.
    commits = sum(float(query["time"]) for query in captured if query["sql"] in _TRANSACTION)
    new_alerts = Alert.objects.filter(pk__gt=alerts_before)
    new_messages = OutboundMessage.objects.filter(pk__gt=messages_before)
    return Sweep(
        label=label,
        at=at,
        seconds=seconds,
        sql_seconds=sum(timed) + commits,
        raised=raised,
        queries=queries,
        timed=timed,
        messages=new_messages.count(),
        tasks=len(published.ids) - tasks_before,
        by_pair={
            f"{row['milestone']} {row['level']}": row["n"]
            for row in new_alerts.order_by().values("milestone", "level").annotate(n=Count("id"))
        },
        messages_by_kind={
            row["kind"]: row["n"]
            for row in new_messages.order_by().values("kind").annotate(n=Count("id"))
        },
        cores=cores,
        transaction_seconds=commits,
    )


# -- arranging new alerts ---------------------------------------------------------------------


def _target_counts(n: int) -> list[int]:
    counts = [int(n * target.share) for target in TARGETS]
    for k in range(n - sum(counts)):
        counts[k % len(counts)] += 1
    return counts


@dataclass
class Arranged:
    after: datetime  # the last sweep's time: the levels fall in (after, after + a minute]
    tickets: int
    expected: int
    expected_by_pair: dict[str, int]
    pre_raised: int
    alerts_before: int
    messages_before: int


def arrange(*, n: int, set_number: int, after: datetime) -> Arranged:
    """Move ``n`` open tickets (the ``set_number``-th set of each target's candidates) so that
    each reaches its target level in (after, after + a minute], spread over the minute; write
    the levels their moved deadlines reached by ``after`` as raised; return what a sweep a
    minute on must raise, counted as the sweep defines it."""
    from django.db import connection, transaction
    from django.db.models import Exists, F, OuterRef
    from django.db.models.functions import Greatest, Mod

    from dispatch.models import OutboundMessage
    from tests.bench.alerts_dataset import (
        alerts_insert,
        pairs,
        pending_moments,
        policies_and_windows,
        tickets_move,
    )
    from tickets.choices import CREW_ALERT_MILESTONES, AlertLevel
    from tickets.models import Alert, Ticket

    policies, windows = policies_and_windows()
    by_key = {(watch.milestone.value, level.value): (watch, level) for watch, level in pairs()}
    alerts_before, messages_before = _max_id(Alert), _max_id(OutboundMessage)
    chosen: list[tuple[int, datetime]] = []
    for target, count in zip(TARGETS, _target_counts(n), strict=True):
        watch, level = by_key[(target.milestone, target.level)]
        candidates = (
            pending_moments(
                watch=watch, level=level, windows=windows[watch.milestone], policies=policies
            )
            .filter(grade=target.grade, state__in=target.states)
            .annotate(
                done=Greatest(
                    "received_at",
                    "verified_at",
                    "dispatched_at",
                    "accepted_at",
                    "arrived_at",
                    "mitigated_at",
                    "resolved_at",
                )
            )
            # Every step it took stays before the last sweep once moved.
            .filter(moment__gt=F("done") + timedelta(minutes=2))
        )
        if watch.milestone in CREW_ALERT_MILESTONES:
            candidates = candidates.filter(crew__isnull=False)
        if target.parity is not None:
            candidates = candidates.annotate(parity=Mod("id", 2)).filter(parity=target.parity)
        found = list(
            candidates.order_by("id").values_list("id", "moment")[
                set_number * count : (set_number + 1) * count
            ]
        )
        if len(found) < count:
            raise RuntimeError(
                f"only {len(found)} open tickets left for {target.label} in set {set_number}; "
                "fewer --new-runs or more --open"
            )
        chosen += found
    step = NEW_WINDOW / len(chosen)
    shifts = [
        (pk, after + step * (k + 1) - moment) for k, (pk, moment) in enumerate(sorted(chosen))
    ]
    ids = [pk for pk, _ in shifts]
    with transaction.atomic(), connection.cursor() as cursor:
        tickets_move(cursor, shifts=shifts)
        # What earlier sweeps raised on the moved deadlines.
        pre_raised = 0
        for watch, level in pairs():
            if watch.model is not Ticket:
                continue
            pre_raised += alerts_insert(
                pending_moments(
                    watch=watch, level=level, windows=windows[watch.milestone], policies=policies
                ).filter(id__in=ids, moment__lte=after),
                watch=watch,
                level=level,
                now=after,
            )
    # What a sweep at ``end`` must raise, over every ticket: the moments in the minute
    # without an alert (a warning while its deadline is still ahead).
    end = after + NEW_WINDOW
    expected = {}
    for watch, level in pairs():
        due = watch.due_field
        raised = Alert.objects.filter(
            ticket_id=OuterRef(watch.ticket_field),
            milestone=watch.milestone,
            level=level,
            due_at=OuterRef(due),
        )
        found = pending_moments(
            watch=watch, level=level, windows=windows[watch.milestone], policies=policies
        ).filter(~Exists(raised), moment__gt=after, moment__lte=end)
        if level == AlertLevel.WARNING:
            found = found.filter(**{f"{due}__gt": end})
        count = found.count()
        if count:
            expected[f"{watch.milestone.value} {level.value}"] = count
    return Arranged(
        after=after,
        tickets=len(ids),
        expected=sum(expected.values()),
        expected_by_pair=expected,
        pre_raised=pre_raised,
        alerts_before=alerts_before,
        messages_before=messages_before,
    )


def arrangement_undo(arranged: Arranged) -> None:
    """Delete the alerts and messages made since ``arrange``, put the tickets back and the
    positions at the last sweep; vacuum the tables."""
    from django.db import connection, transaction

    from tests.bench.alerts_dataset import cursors_set, tickets_restore, vacuum_analyze

    with transaction.atomic(), connection.cursor() as cursor:
        tickets_restore(cursor)
        cursor.execute("DELETE FROM tickets_alert WHERE id > %s", [arranged.alerts_before])
        cursor.execute(
            "DELETE FROM dispatch_outboundmessage WHERE id > %s", [arranged.messages_before]
        )
        cursors_set(arranged.after)
    vacuum_analyze(analyze=False)


def new_sweep(
    *, n: int, set_number: int, after: datetime, batch: int, published: Published, profiler=None
) -> tuple[Sweep, Arranged]:
    """Arrange ``n`` new alerts after ``after``, sweep a minute on, and undo it all."""
    arranged = arrange(n=n, set_number=set_number, after=after)
    if arranged.expected != n:
        arrangement_undo(arranged)
        raise RuntimeError(
            f"the arrangement makes {arranged.expected} alerts due, not {n}: "
            f"{arranged.expected_by_pair}"
        )
    try:
        done = sweep(
            label=f"set {set_number}",
            at=after + NEW_WINDOW,
            batch=batch,
            published=published,
            profiler=profiler,
        )
    finally:
        arrangement_undo(arranged)
    done.expected = arranged.expected
    return done, arranged


# -- plans ------------------------------------------------------------------------------------


@dataclass
class Plan:
    pair: str
    text: str
    rows: int
    execution_ms: float
    planning_ms: float
    indexes: list[str]
    must_use: str | None  # a ticket deadline's partial index
    due_field: str = ""
    # Each scan of ``must_use``: its index condition, and the entries it read (returned and
    # removed by its filter).
    scans: list[tuple[str, int]] = field(default_factory=list)

    @property
    def open_ended(self) -> bool:
        """A scan of the deadline's index has only a lower bound: it reads every later
        deadline still pending (a warning's ``due > now`` taken for the range, the windows
        left to the filter)."""
        return any(f"{self.due_field} <" not in condition for condition, _ in self.scans)

    @property
    def read(self) -> int:
        return sum(read for _, read in self.scans)

    @property
    def ok(self) -> bool:
        if "Seq Scan on tickets_ticket" in self.text:
            return False
        return self.must_use is None or (self.must_use in self.indexes and bool(self.scans))

    @property
    def access(self) -> str:
        return ", ".join(self.indexes) or "no index"

    @property
    def condition(self) -> str:
        """The deadline's index conditions, shortened to their bounds."""
        return " / ".join(
            re.sub(r"'[\d-]+ ([\d:]+)\+00'::timestamp with time zone", r"\1", condition)
            for condition, _ in self.scans
        )

    @property
    def buffers(self) -> str:
        found = re.search(r"Buffers: (.*)", self.text)
        return found.group(1) if found else ""


_ACTUAL = re.compile(r"actual time=[\d.]+\.\.[\d.]+ rows=(\d+) loops=(\d+)")


def _index_scans(text: str, index: str) -> list[tuple[str, int]]:
    """The index condition of each scan of ``index`` and the entries it read."""
    lines = text.splitlines()
    scans = []
    for n, line in enumerate(lines):
        if not re.search(rf"(Index Scan using|Bitmap Index Scan on) {index}\b", line):
            continue
        depth = len(line) - len(line.lstrip())
        condition, read = "", 0
        actual = _ACTUAL.search(line)
        if actual:
            read = int(actual.group(1)) * int(actual.group(2))
        for detail in lines[n + 1 :]:
            if len(detail) - len(detail.lstrip()) <= depth or "->" in detail:
                break
            detail = detail.strip()
            if detail.startswith("Index Cond:"):
                condition = detail.removeprefix("Index Cond:").strip()
            elif detail.startswith("Rows Removed by Filter:"):
                read += int(detail.split(":")[1])
        scans.append((condition, read))
    return scans


def explain(pair: str, select: str) -> Plan:
    """EXPLAIN (ANALYZE, BUFFERS) a pair's SELECT, from the sweep's ``INSERT … SELECT``."""
    from django.db import connection

    from tickets.choices import Milestone
    from tickets.milestones import MILESTONES

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {select}")
        text = "\n".join(row[0] for row in cursor.fetchall())
    milestone = pair.split()[0]
    returned = re.search(r"actual time=[\d.]+\.\.[\d.]+ rows=(\d+)", text)
    execution = re.search(r"Execution Time: ([\d.]+) ms", text)
    planning = re.search(r"Planning Time: ([\d.]+) ms", text)
    indexes = sorted(
        {a or b for a, b in re.findall(r"Scan(?: Backward)? using (\S+)|Index Scan on (\S+)", text)}
    )
    ticket_deadline = milestone in Milestone.values
    index = f"ticket_{milestone}_overdue_idx" if ticket_deadline else None
    return Plan(
        pair=pair,
        text=text,
        rows=int(returned.group(1)) if returned else -1,
        execution_ms=float(execution.group(1)) if execution else float("nan"),
        planning_ms=float(planning.group(1)) if planning else float("nan"),
        indexes=indexes,
        must_use=index,
        due_field=MILESTONES[Milestone(milestone)].due_field if ticket_deadline else "",
        scans=_index_scans(text, index) if index else [],
    )


def inserts_of(run: Sweep) -> list[str]:
    """The sweep's ``INSERT … SELECT``s: one, and one more for each round after a pair
    filled its batch."""
    return [sql for sql in run.queries if sql.startswith(_ALERT_INSERT)]


def plans_of(run: Sweep, *, with_rows: bool = False) -> list[Plan]:
    """The plan of each pair's SELECT in the sweep's first ``INSERT … SELECT`` (of those that
    raised alerts, ``with_rows``)."""
    return [
        explain(pair, select)
        for pair, select in pair_selects(inserts_of(run)[0])
        if not with_rows or run.by_pair.get(pair)
    ]


@dataclass
class StatementPlan:
    """EXPLAIN ANALYZE of the whole SELECT of the sweep's ``INSERT … SELECT``: every pair."""

    planning_ms: float
    execution_ms: float


def statement_plan(run: Sweep) -> StatementPlan:
    from django.db import connection

    found = _PAIRS.search(inserts_of(run)[0])
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE) {found.group(1)}")
        text = "\n".join(row[0] for row in cursor.fetchall())
    return StatementPlan(
        planning_ms=float(re.search(r"Planning Time: ([\d.]+) ms", text).group(1)),
        execution_ms=float(re.search(r"Execution Time: ([\d.]+) ms", text).group(1)),
    )


def _profile_text(profiler, label: str, top: int = 22) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    text = out.getvalue()
    body = text[text.find("   ncalls") :] if "   ncalls" in text else text
    return f"{label}\n" + body.replace(str(ROOT) + "/", "").rstrip()


# -- the small database -----------------------------------------------------------------------


def small_counts(args, env: dict[str, str]) -> dict:
    """Load (or reuse) the small database and count a sweep's queries there, in a
    subprocess: Django is set up on one database per process."""
    url = urlparse(args.database_url)
    small_url = url._replace(path=url.path + "_small").geturl()
    out = RESULTS / "alerts-small-counts.tmp"
    command = [
        sys.executable,
        "-m",
        "tests.bench.run",
        "--suite",
        "alerts",
        "--counts-only",
        str(out),
        "--tickets",
        str(args.small_tickets),
        "--open",
        str(args.small_open),
        "--days",
        str(args.days),
        "--quiet-minutes",
        str(args.quiet_minutes),
        "--new",
        str(args.small_new),
        "--batch",
        str(args.batch),
        "--database-url",
        small_url,
        *(["--fresh"] if args.fresh else []),
    ]
    subprocess.run(command, cwd=ROOT, env={**env, "DATABASE_URL": small_url}, check=True)  # noqa: S603
    try:
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


def _counts_only(args) -> int:
    from tests.bench.alerts_dataset import cursors_set

    dataset = _dataset_prepare(args)
    published = Published()
    cursors_set(dataset.now - timedelta(hours=1))
    sweep(label="steady state", at=dataset.now, batch=args.batch, published=published)
    idle = [
        sweep(
            label="idle",
            at=dataset.now + timedelta(seconds=k + 1),
            batch=args.batch,
            published=published,
        )
        for k in range(5)
    ]
    new, _ = new_sweep(
        n=args.new,
        set_number=0,
        after=idle[-1].at,
        batch=args.batch,
        published=published,
    )
    published.take_back()
    args.counts_only.write_text(
        json.dumps(
            {
                "tickets": dataset.tickets,
                "open": dataset.open_tickets,
                "alerts": dataset.alerts,
                "idle_raised": [run.raised for run in idle],
                "idle_statements": [run.statements for run in idle],
                "idle_ms": [run.seconds * 1000 for run in idle],
                "idle_kinds": idle[-1].kinds(),
                "new": args.new,
                "new_raised": new.raised,
                "new_statements": new.statements,
                "new_kinds": new.kinds(),
                "new_messages": new.messages,
            }
        )
    )
    return 0


def _dataset_prepare(args):
    from tests.bench.alerts_dataset import alerts_dataset_prepare

    return alerts_dataset_prepare(
        tickets=args.tickets,
        open_tickets=args.open,
        days=args.days,
        quiet_minutes=args.quiet_minutes,
        fresh=args.fresh,
        log=_say,
    )


# -- verdict and report -----------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    from tests.bench.board import percentile as nearest_rank

    return nearest_rank(values, pct)


@dataclass
class Verdict:
    pairs: int
    idle_p95_ms: float
    idle_raised_none: bool
    new_worst: float
    new_exact: bool
    idle_counts_formula: bool  # IDLE_QUERIES, however many pairs
    counts_constant: bool  # the same over the runs and on the small database
    plans_ok: bool

    @property
    def idle_ok(self) -> bool:
        return self.idle_p95_ms <= IDLE_TARGET_MS

    @property
    def new_ok(self) -> bool:
        return self.new_worst <= NEW_TARGET_SECONDS

    @property
    def passed(self) -> bool:
        return (
            self.idle_ok
            and self.idle_raised_none
            and self.new_ok
            and self.new_exact
            and self.idle_counts_formula
            and self.counts_constant
            and self.plans_ok
        )


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _time_parts(runs: list[Sweep]) -> list[tuple[str, float]]:
    """(part, median ms per sweep): each kind of statement, BEGIN/COMMIT, and Python."""
    kinds: list[str] = []
    for run in runs:
        kinds += [kind for kind in run.kind_ms() if kind not in kinds]
    parts = [
        (f"SQL: {kind}", statistics.median(run.kind_ms().get(kind, 0.0) for run in runs))
        for kind in kinds
    ]
    parts.append(
        (
            "SQL: BEGIN/COMMIT (Django's timing, to the ms)",
            statistics.median(run.transaction_seconds * 1000 for run in runs),
        )
    )
    parts.append(
        (
            "Python: the rest (the windows and each pair's bounds, the positions read, the "
            "signal, the recording)",
            statistics.median(run.python_seconds * 1000 for run in runs),
        )
    )
    return parts


def _kinds_table(columns: list[tuple[str, dict[str, int]]]) -> list[str]:
    kinds: list[str] = []
    for _, found in columns:
        kinds += [kind for kind in found if kind not in kinds]
    lines = [
        "| query | " + " | ".join(label for label, _ in columns) + " |",
        "| --- |" + " --: |" * len(columns),
    ]
    for kind in kinds:
        lines.append(
            f"| {kind} | " + " | ".join(str(found.get(kind, 0)) for _, found in columns) + " |"
        )
    lines.append(
        "| **statements** (without BEGIN/COMMIT) | "
        + " | ".join(
            f"**{sum(n for kind, n in found.items() if kind != 'BEGIN/COMMIT')}**"
            for _, found in columns
        )
        + " |"
    )
    return lines


def render(
    *,
    started: datetime,
    elapsed: float,
    command: str,
    postgres: str,
    shared_buffers: str,
    broker: str,
    dataset,
    args,
    steady: Sweep,
    idle: list[Sweep],
    idle_cores: dict[str, float],
    new: list[Sweep],
    arranged: list,
    idle_plans: list[Plan],
    idle_statement: StatementPlan,
    new_plans: list[Plan],
    small: dict,
    taken_back: int,
    profiles: dict[str, str],
    result: Verdict,
) -> str:
    from django.conf import settings

    from tests.bench.report import BUSY_CORES, machine

    cores, cpu, memory, kernel = machine()
    loaded = (
        f"reused (loaded {dataset.loaded_at:%Y-%m-%d %H:%M} UTC in {dataset.load_seconds:.0f} s;"
        f" {dataset.restored})"
        if dataset.reused
        else f"loaded in this run in {dataset.load_seconds:.0f} s"
    )
    sizes = ", ".join(f"{table} {size}" for table, size in sorted(dataset.sizes.items()))
    idle_ms = [run.seconds * 1000 for run in idle]
    idle_sql = [run.sql_seconds * 1000 for run in idle]
    states = ", ".join(f"{state} {n:,}" for state, n in dataset.states.items() if n)
    levels = ", ".join(f"{level} {n:,}" for level, n in sorted(dataset.alerts_by_level.items()))
    first = new[0] if new else None
    lines = [
        "# Alerts benchmark: the overdue sweep",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {started:%Y-%m-%d %H:%M} UTC |",
        f"| command | `{command}` |",
        f"| machine | {cores} cores ({cpu}), {memory:.1f} GiB RAM, Linux {kernel} |",
        f"| PostgreSQL | {postgres}, shared_buffers {shared_buffers} |",
        f"| database | {dataset.tickets:,} tickets, {dataset.open_tickets:,} open ({states}), "
        f"received over the last two days, {dataset.overdue_open:,} of them past a deadline; "
        f"{dataset.alerts:,} alerts ({levels}; {dataset.alerts_of_open:,} on open tickets); "
        f"{dataset.messages:,} text messages; {dataset.crews} crews, {dataset.leaders_with_phone}"
        f" leaders with a phone; callbacks and complaints: none; {sizes} with indexes |",
        f"| now | {dataset.now:%Y-%m-%d %H:%M} UTC, when it was loaded: every sweep's time is "
        f"given from it; no open ticket reaches a level in the {dataset.quiet_minutes} minutes "
        f"after it ({dataset.quiet_moved:,} were moved back {dataset.quiet_minutes} min for it) |",
        f"| load | {loaded} |",
        f"| sweep | `tickets.services.alerts_sweep(now=…, batch={args.batch})`, "
        f"{result.pairs} (milestone, level) pairs, overlap "
        f"{settings.ALERT_SWEEP_OVERLAP_MINUTES} min, in autocommit as the beat's task runs it |",
        f"| broker | `{broker}`: the messages' tasks are published after each commit"
        + (
            f"; the {taken_back} this run published were taken off the queue after"
            if taken_back
            else ""
        )
        + " |",
        f"| run took | {elapsed / 60:.1f} min |",
        "",
        "## Verdict",
        "",
        f"- nothing new, {len(idle)} sweeps: p95 **{result.idle_p95_ms:.0f} ms** (p50 "
        f"{percentile(idle_ms, 50):.0f}, max {max(idle_ms):.0f}; target ≤ "
        f"{IDLE_TARGET_MS:g} ms): **{_mark(result.idle_ok)}**",
        f"- every sweep with nothing new raised 0 (raised: "
        f"{sorted({run.raised for run in idle})}): **{_mark(result.idle_raised_none)}**",
    ]
    if new:
        lines += [
            f"- {args.new:,} new alerts, {len(new)} sweeps over fresh sets: worst "
            f"**{result.new_worst:.2f} s** (best {min(run.seconds for run in new):.2f} s; "
            f"target ≤ {NEW_TARGET_SECONDS:g} s): **{_mark(result.new_ok)}**",
            f"- each raised exactly {args.new:,} (raised: {[run.raised for run in new]}): "
            f"**{_mark(result.new_exact)}**",
        ]
    lines += [
        f"- a sweep with nothing new makes {IDLE_QUERIES} queries, whatever the number of "
        f"pairs ({result.pairs}): made {idle[-1].statements}: "
        f"**{_mark(result.idle_counts_formula)}**",
        f"- the same count on {dataset.tickets:,} tickets as on {small['tickets']:,} "
        f"({small['open']:,} open, {small['alerts']:,} alerts), and over every run: nothing new "
        f"{sorted({run.statements for run in idle})} here, {sorted(set(small['idle_statements']))}"
        f" there; with new alerts "
        f"{sorted({run.statements for run in new})} here ({args.new:,} new), "
        f"{small['new_statements']} there ({small['new']:,} new): "
        f"**{_mark(result.counts_constant)}**",
        "- every ticket deadline's SELECT reads a range of its partial index "
        "(`ticket_<milestone>_overdue_idx`), none reads tickets_ticket from end to end"
        + (
            ""
            if result.plans_ok
            else " (not: "
            + ", ".join(
                f"{plan.pair}, {plan.condition or plan.access}"
                for plan in [*idle_plans, *new_plans]
                if not plan.ok
            )
            + ")"
        )
        + f": **{_mark(result.plans_ok)}**",
        *(
            [
                "- not judged: ranges with only a lower bound (the windows left to the filter): "
                + ", ".join(
                    f"{plan.pair} ({state}, {plan.read:,} entries read for {plan.rows} rows, "
                    f"{plan.execution_ms:.1f} ms)"
                    for state, plans in [("nothing new", idle_plans), ("new", new_plans)]
                    for plan in plans
                    if plan.open_ended
                )
            ]
            if any(plan.open_ended for plan in [*idle_plans, *new_plans])
            else []
        ),
        "",
        f"**{_mark(result.passed)}**",
        "",
        "## Method",
        "",
        "Each sweep runs in this process as the beat's task does, in autocommit: it reads the "
        "policies and the departments, then in one transaction locks every (milestone, "
        "level)'s position (one `SELECT … FOR UPDATE`, in primary-key order), inserts with "
        "one `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING` the alerts of the deadlines "
        "that reached each level since its position (less the overlap), a `UNION ALL` of one "
        "SELECT per pair, each its batch at most, sends `alerts_raised` once with them all "
        "(the dispatch listener queues the text messages the rules send) and moves the "
        "positions on with one `UPDATE`; a pair that filled its batch goes round again in a "
        "transaction of its own. On commit Celery publishes a task per 200 messages to "
        "Redis. The time is the wall time of `alerts_sweep()`, taken inside "
        "`CaptureQueriesContext` (the figures include its recording); *SQL* is the time in "
        "`cursor.execute`, with the commits; *Python* the rest.",
        "",
        f"**The steady state.** The positions put back an hour, one sweep at now read the "
        f"75 minutes before it and raised **{steady.raised}** in {steady.seconds * 1000:.0f} ms"
        " (the loader wrote every alert whose moment came by now); the positions are then at"
        " now.",
        "",
        f"**Nothing new.** {args.idle_warmup} unmeasured sweeps, then {len(idle)}, "
        f"{args.idle_step:g} s apart in the sweep's time (now + {args.idle_warmup + 1:g} s to "
        f"now + {(idle[-1].at - dataset.now).total_seconds():g} s), each reading the "
        f"{settings.ALERT_SWEEP_OVERLAP_MINUTES} minutes of overlap and the seconds since the "
        "last.",
        "",
        f"**New alerts.** Before each sweep, {args.new:,} open tickets of a fresh set are moved "
        "in time, every time column alike (their steps stay before the last sweep), so that one"
        " level of one deadline of each falls in the minute after the last sweep, spread over "
        "it; the levels their moved deadlines reached before are written as raised. The sweep "
        "comes a minute after the last, and must raise what a count of the moments in that "
        "minute (the same windows, the same policies) says: "
        f"{args.new:,}. Afterwards its alerts and messages are deleted, the tickets moved back, "
        "the positions put back and the tables vacuumed. One unmeasured run comes first (the "
        "broker connection, the caches). The levels:",
        "",
        "| target | tickets | alerts | text messages |",
        "| --- | --: | --: | --- |",
        *(
            f"| {target.label} | {count} | {count} | "
            + (
                "the crew's leader (two crews in three have one with a phone)"
                if target.level == "breach" and target.milestone != "dispatch"
                else "the shift leaders (2)"
                if target.level == "escalated" and target.grade == "emergency"
                else "none (no rule)"
                if target.level == "warning"
                else "none (the dispatcher watches the board)"
            )
            + " |"
            for target, count in zip(TARGETS, _target_counts(args.new), strict=True)
        ),
        "",
        "## Nothing new",
        "",
        "| sweeps | p50 ms | p95 ms | max ms | SQL ms (median) | Python ms (median) | queries "
        "| BEGIN/COMMIT | raised | CPU cores | |",
        "| --: | --: | --: | --: | --: | --: | --: | --: | --: | --- | --- |",
        f"| {len(idle)} | {percentile(idle_ms, 50):.1f} | **{result.idle_p95_ms:.1f}** "
        f"| {max(idle_ms):.1f} | {statistics.median(idle_sql):.1f} "
        f"| {statistics.median(a - b for a, b in zip(idle_ms, idle_sql, strict=True)):.1f} "
        f"| {idle[-1].statements} | {idle[-1].transactions} | {sum(run.raised for run in idle)} "
        f"| {_cores(idle_cores)} | {_mark(result.idle_ok)} |",
        "",
        "Each sweep, in order (ms): " + ", ".join(f"{ms:.0f}" for ms in idle_ms) + ".",
        "",
        f"The same sweep on the small database ({small['tickets']:,} tickets, "
        f"{small['open']:,} open): median "
        f"{statistics.median(small['idle_ms']):.0f} ms over {len(small['idle_ms'])} sweeps.",
        "",
        f"Where a sweep's time goes (median ms per sweep over the {len(idle)}):",
        "",
        "| part | ms | share |",
        "| --- | --: | --: |",
        *(
            f"| {part} | {ms:.1f} | {ms / percentile(idle_ms, 50):.0%} |"
            for part, ms in _time_parts(idle)
        ),
        "",
        f"The `INSERT … SELECT`'s SELECT of every pair, EXPLAIN ANALYZE of the last sweep's: "
        f"planning {idle_statement.planning_ms:.1f} ms, execution "
        f"{idle_statement.execution_ms:.1f} ms; each pair's SELECT is under *Plans*.",
    ]
    if new:
        lines += [
            "",
            f"## {args.new:,} new alerts",
            "",
            "| run | seconds | SQL s | Python s | raised | expected | pre-raised | text messages "
            "| tasks published | queries | BEGIN/COMMIT | CPU cores | |",
            "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --- | --- |",
            *(
                f"| {run.label} | **{run.seconds:.2f}** | {run.sql_seconds:.2f} "
                f"| {run.python_seconds:.2f} | {run.raised:,} | {run.expected:,} "
                f"| {done.pre_raised:,} | {run.messages:,} | {run.tasks} | {run.statements} "
                f"| {run.transactions} | {_cores(run.cores)} "
                f"| {_mark(run.seconds <= NEW_TARGET_SECONDS and run.raised == args.new)} |"
                for run, done in zip(new, arranged, strict=True)
            ),
            "",
            f"Raised in {first.label}, by pair: "
            + ", ".join(f"{pair} {n:,}" for pair, n in sorted(first.by_pair.items()))
            + "; text messages queued: "
            + (
                ", ".join(f"{kind} {n:,}" for kind, n in sorted(first.messages_by_kind.items()))
                or "none"
            )
            + f". The `INSERT … SELECT` took {first.kind_ms().get(INSERT_KIND, 0.0):.0f} ms "
            f"({len(inserts_of(first))} of them: a pair fills a batch of {args.batch:,} at "
            "most, and one that does goes round again).",
        ]
    # A sweep with nothing new lasts too little for its own CPU figures: the phase's count.
    if any(run.cores.get("other", 0) > BUSY_CORES for run in new) or (
        idle_cores.get("other", 0) > BUSY_CORES
    ):
        lines += [
            "",
            f"> Caution: other work used over {BUSY_CORES} of a core during some sweeps (the "
            "*other* CPU column).",
        ]
    lines += [
        "",
        "## Queries",
        "",
        "A sweep's queries by kind (BEGIN and COMMIT as Django records them; *statements* "
        "without them), here and on the small database:",
        "",
        *_kinds_table(
            [
                (f"nothing new, {dataset.tickets:,} tickets", idle[-1].kinds()),
                (f"nothing new, {small['tickets']:,}", small["idle_kinds"]),
                *(
                    [
                        (f"{args.new:,} new, {dataset.tickets:,}", first.kinds()),
                        (f"{small['new']:,} new, {small['tickets']:,}", small["new_kinds"]),
                    ]
                    if first
                    else []
                ),
            ]
        ),
        "",
        "A sweep reads the policies and the departments (the windows of referred tickets); "
        "then it locks every position (the first sweep makes them, and locks them again), "
        "runs one `INSERT … SELECT` for every pair and moves the positions on. New alerts add "
        "what the SMS listener reads and writes, in a few queries for all of them: the "
        "rules, the alerts with their tickets, the crews' leaders, the departments' staff, "
        "the people of a role (an escalation), the messages' keys, the INSERT, the new "
        "messages' ids. A pair that fills its batch goes round again: one more transaction "
        "with the same queries, for the pairs that did.",
        "",
        "## Plans",
        "",
        "EXPLAIN (ANALYZE, BUFFERS) of each pair's SELECT (its part of the `INSERT … "
        "SELECT`, the deadlines that reached the level since the position, without an alert), "
        "as the last sweep with nothing new ran it"
        + (
            ", and as the sweeps with new alerts ran those that raised some, over one more set"
            if new_plans
            else ""
        )
        + ":",
        "",
        "*Range* is the index condition of each scan of the deadline's partial index (times "
        "UTC; *open-ended* when it has no upper bound); *read* the index entries it read, "
        "those its filter dropped among them.",
        "",
        "| pair | state | rows | indexes read | range | read | plan ms | exec ms | buffers | |",
        "| --- | --- | --: | --- | --- | --: | --: | --: | --- | --- |",
        *(
            f"| {plan.pair} | {state} | {plan.rows} | {plan.access} | {plan.condition}"
            f"{' (*open-ended*)' if plan.open_ended else ''} "
            f"| {plan.read if plan.scans else ''} | {plan.planning_ms:.2f} "
            f"| {plan.execution_ms:.2f} | {plan.buffers} | {_mark(plan.ok)} |"
            for state, plans in [("nothing new", idle_plans), ("new", new_plans)]
            for plan in plans
        ),
    ]
    shown = [
        ("with new alerts", max(new_plans, key=lambda plan: plan.rows, default=None)),
        ("nothing new, the slowest", max(idle_plans, key=lambda plan: plan.execution_ms)),
        (
            "nothing new, the open-ended range that read the most",
            max(
                (plan for plan in idle_plans if plan.open_ended),
                key=lambda plan: plan.read,
                default=None,
            ),
        ),
    ]
    seen: set[str] = set()
    for label, plan in shown:
        if plan is not None and plan.pair + str(plan.rows) not in seen:
            seen.add(plan.pair + str(plan.rows))
            lines += ["", f"`{plan.pair}`, {label}:", "", "```", plan.text, "```"]
    for label, text in profiles.items():
        lines += ["", f"## cProfile: {label}", "", "```", text, "```"]
    lines.append("")
    return "\n".join(lines)


# -- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    env = _environment(args)
    started, clock = datetime.now(UTC), time.monotonic()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from tests.bench.alerts_dataset import cursors_set, pairs

    if args.counts_only:
        return _counts_only(args)

    dataset = _dataset_prepare(args)
    _say(
        f"{dataset.tickets:,} tickets, {dataset.open_tickets:,} open ({dataset.overdue_open:,} "
        f"past a deadline), {dataset.alerts:,} alerts; now is {dataset.now:%Y-%m-%d %H:%M} UTC"
    )
    published = Published()
    pair_count = len(pairs())
    profiles: dict[str, str] = {}

    cursors_set(dataset.now - timedelta(hours=1))
    steady = sweep(label="steady state", at=dataset.now, batch=args.batch, published=published)
    _say(
        f"steady state: positions an hour back, a sweep at now raised {steady.raised} in "
        f"{steady.seconds * 1000:.0f} ms"
    )

    _quiet(args.quiet_wait)
    _say(f"nothing new: {args.idle_warmup} + {args.idle_runs} sweeps, {args.idle_step:g} s apart")
    at = dataset.now
    for _ in range(args.idle_warmup):
        at += timedelta(seconds=args.idle_step)
        sweep(label="warm-up", at=at, batch=args.batch, published=published)
    idle = []
    cpu = _meter()
    for k in range(args.idle_runs):
        at += timedelta(seconds=args.idle_step)
        idle.append(sweep(label=f"idle {k + 1}", at=at, batch=args.batch, published=published))
    idle_cores = cpu.stop()
    idle_ms = [run.seconds * 1000 for run in idle]
    _say(
        f"  p50 {percentile(idle_ms, 50):.1f} ms, p95 {percentile(idle_ms, 95):.1f} ms, max "
        f"{max(idle_ms):.1f} ms; SQL {statistics.median(r.sql_seconds for r in idle) * 1000:.1f}"
        f" ms; {idle[-1].statements} queries (+{idle[-1].transactions} BEGIN/COMMIT); raised "
        f"{sum(run.raised for run in idle)}; CPU cores: {_cores(idle_cores)}"
    )
    idle_p95 = percentile(idle_ms, 95)
    if args.profile or idle_p95 > IDLE_TARGET_MS:
        profiler = cProfile.Profile()
        for _ in range(5):
            at += timedelta(seconds=args.idle_step)
            sweep(label="profile", at=at, batch=args.batch, published=published, profiler=profiler)
        profiles["5 sweeps with nothing new"] = _profile_text(profiler, "5 sweeps, nothing new")

    _say("EXPLAIN the pairs' SELECTs (nothing new)")
    idle_plans = plans_of(idle[-1])
    idle_statement = statement_plan(idle[-1])
    _say(
        f"  the whole SELECT: planning {idle_statement.planning_ms:.1f} ms, execution "
        f"{idle_statement.execution_ms:.1f} ms"
    )
    for plan in idle_plans:
        if not plan.ok or plan.execution_ms > 5:
            _say(f"  {plan.pair:<32} {plan.execution_ms:7.2f} ms {plan.access}: "
                 f"{'ok' if plan.ok else 'WRONG PLAN'}")  # fmt: skip

    new: list[Sweep] = []
    arranged = []
    new_plans: list[Plan] = []
    if args.new_runs:
        _say(f"{args.new:,} new alerts: 1 unmeasured + {args.new_runs} sweeps, fresh sets")
        for set_number in range(args.new_runs + 1):
            _quiet(args.quiet_wait)
            run, done = new_sweep(
                n=args.new, set_number=set_number, after=at, batch=args.batch, published=published
            )
            run.label = "warm-up" if set_number == 0 else f"run {set_number}"
            _say(
                f"  {run.label:<8} {run.seconds:.2f} s (SQL {run.sql_seconds:.2f} s), raised "
                f"{run.raised:,} of {run.expected:,}; {run.messages:,} messages, {run.tasks} "
                f"tasks; {run.statements} queries; CPU cores: {_cores(run.cores)}"
            )
            if set_number:
                new.append(run)
                arranged.append(done)
        # The plans of the SELECTs with rows, over one more set, as the last sweep ran them.
        extra = arrange(n=args.new, set_number=args.new_runs + 1, after=at)
        try:
            new_plans = plans_of(new[-1], with_rows=True)
        finally:
            arrangement_undo(extra)
        if args.profile or max(run.seconds for run in new) > NEW_TARGET_SECONDS:
            profiler = cProfile.Profile()
            new_sweep(
                n=args.new,
                set_number=args.new_runs + 2,
                after=at,
                batch=args.batch,
                published=published,
                profiler=profiler,
            )
            profiles[f"a sweep with {args.new:,} new alerts"] = _profile_text(
                profiler, f"one sweep, {args.new:,} new"
            )
    cursors_set(dataset.now)
    taken_back = published.take_back()

    _say(f"the small database: {args.small_tickets:,} tickets, {args.small_open:,} open")
    connection.close()
    small = small_counts(args, env)
    _say(
        f"  nothing new: {small['idle_statements']} queries, raised {small['idle_raised']}; "
        f"{small['new']} new: {small['new_statements']} queries, raised {small['new_raised']}"
    )

    statements = {run.statements for run in idle}
    new_statements = {run.statements for run in new}
    result = Verdict(
        pairs=pair_count,
        idle_p95_ms=idle_p95,
        idle_raised_none=all(run.raised == 0 for run in idle) and steady.raised == 0,
        new_worst=max((run.seconds for run in new), default=0.0),
        new_exact=all(run.raised == args.new == run.expected for run in new),
        idle_counts_formula=statements == {IDLE_QUERIES},
        counts_constant=len(statements) == 1
        and statements == set(small["idle_statements"])
        and small["new_raised"] == small["new"]
        and (not new or new_statements == {small["new_statements"]}),
        plans_ok=all(plan.ok for plan in [*idle_plans, *new_plans]),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('shared_buffers')"
        )
        postgres, shared_buffers = cursor.fetchone()
    page = render(
        started=started,
        elapsed=time.monotonic() - clock,
        command=os.environ.get("BENCH_COMMAND")
        or shlex.join(["python", "-m", "tests.bench.run", "--suite", "alerts", *(argv or [])]),
        postgres=postgres,
        shared_buffers=shared_buffers,
        broker=re.sub(r"//[^@/]*@", "//", settings.CELERY_BROKER_URL),
        dataset=dataset,
        args=args,
        steady=steady,
        idle=idle,
        idle_cores=idle_cores,
        new=new,
        arranged=arranged,
        idle_plans=idle_plans,
        idle_statement=idle_statement,
        new_plans=new_plans,
        small=small,
        taken_back=taken_back,
        profiles=profiles,
        result=result,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(page, encoding="utf-8")
    print()
    print(page)
    _say(f"written to {args.output}")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
