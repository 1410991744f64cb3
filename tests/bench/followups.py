"""Benchmark the callbacks (follow-ups): ``scripts/bench.sh --suite followups``.

1. Make the follow-ups database hold ``--tickets`` closed tickets, ``--day-tickets`` hotline
   repairs dispatched during *the day* (yesterday when it was loaded) without a callback, and
   ``--callbacks`` callbacks, a tenth of them pending (reused when it already does;
   ``tests/bench/followups_dataset.py``).
2. The workbench queue, in this process: Django's test client signed in as the bench agent
   (``force_login``) asks ``GET /callbacks/`` ``--requests`` times after ``--warmup``
   requests; wall time per request (and the part spent in SQL), the SQL of one request, and
   the selector ``callback_queue`` alone as many times. EXPLAIN (ANALYZE, BUFFERS) of the
   selector's two queries (the counts and the first page): both must read
   ``callback_queue_idx`` and neither may read ``followups_callback`` from end to end.
3. The batch job: ``callbacks_schedule(now=<end of the day>, since=<start of the day>)``
   ``--runs`` times with its default page size and once with ``--small-batch``, each in
   autocommit as the nightly job runs, inside ``CaptureQueriesContext``; afterwards the
   callbacks it made are deleted, the rules' ``scanned_through`` put back and the table
   vacuumed, so that every run starts alike. Seconds (and the part spent in SQL), callbacks
   made, queries by kind, pages, queries per page, and the last full page's query, EXPLAINed.
4. Print the results and write them to ``tests/bench/results/followups.md``.

Exits 1 when the queue page's p95 is over 30 ms, a batch run takes over 5 s or makes other
than one callback per ticket of the day, its query count is not two per page (the smaller
page size must add exactly two queries per extra page), or a queue plan is wrong.
"""

import argparse
import cProfile
import io
import os
import pstats
import re
import shlex
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/callcentre_bench_followups"
QUEUE_TARGET_P95_MS = 30.0
BATCH_TARGET_SECONDS = 5.0
QUEUE_PATH = "/callbacks/"
QUEUE_INDEX = "callback_queue_idx"
QUIET_CORES = 0.25


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/bench.sh --suite followups",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument("--suite", default="followups", help=argparse.SUPPRESS)
    add = parser.add_argument
    add("--tickets", type=int, default=1_000_000, help="closed tickets (%(default)s)")
    add(
        "--day-tickets",
        type=int,
        default=20_000,
        help="hotline repairs dispatched during the day, to call back (%(default)s)",
    )
    add("--callbacks", type=int, default=200_000, help="callbacks, a tenth pending (%(default)s)")
    add("--requests", type=int, default=300, help="measured queue requests (%(default)s)")
    add("--warmup", type=int, default=30, help="unmeasured queue requests first (%(default)s)")
    add("--runs", type=int, default=3, help="batch runs with the default page (%(default)s)")
    add(
        "--small-batch",
        type=int,
        default=500,
        help="the page size of the run that checks the queries per page (%(default)s)",
    )
    add(
        "--quiet-wait",
        type=float,
        default=10,
        help="before the queue and before each batch run, wait up to this many seconds for\n"
        "other work on the machine to use under a quarter of a core (%(default)s)",
    )
    add(
        "--profile",
        action="store_true",
        help="cProfile the queue page and a batch run (done anyway when one misses its target)",
    )
    add("--fresh", action="store_true", help="drop and reload the database even if reusable")
    add(
        "--database-url",
        default=os.environ.get("BENCH_FOLLOWUPS_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="the follow-ups database, dropped and recreated; its name must contain 'bench'\n"
        "(BENCH_FOLLOWUPS_DATABASE_URL or %(default)s)",
    )
    add("--output", type=Path, help="where to write the results (tests/bench/results/followups.md)")
    return parser


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.output is None:
        args.output = RESULTS / "followups.md"
    if "bench" not in urlparse(args.database_url).path:
        parser.error("--database-url must name a database with 'bench' in it: it is dropped")
    if args.requests < 1 or args.runs < 1 or args.small_batch < 1:
        parser.error("--requests, --runs and --small-batch must be at least 1")
    return args


def _say(message: str) -> None:
    print(f"[bench followups {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def _quiet(max_seconds: float) -> None:
    from tests.bench.load import wait_for_quiet

    if max_seconds <= 0:
        return
    cores = wait_for_quiet(threshold=QUIET_CORES, max_seconds=max_seconds)
    if cores >= QUIET_CORES:
        _say(f"the machine is still busy ({cores:.2f} cores used by other work); going on")


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


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (as ``tests.bench.load`` computes it)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(1, round(pct / 100 * len(ordered))) - 1]


class SqlMeter:
    """An execute wrapper: the seconds each query took, with its SQL's start."""

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


def _table_of(sql: str) -> str:
    if sql.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
        return sql.split()[0]
    found = re.search(r'(?:FROM|INTO|UPDATE) "([^"]+)"', sql)
    return found.group(1) if found else sql.split()[0]


def _profile(step, top: int = 16) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    step()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    text = out.getvalue()
    body = text[text.find("   ncalls") :] if "   ncalls" in text else text
    return body.replace(str(ROOT) + "/", "").rstrip()


# -- plans ---------------------------------------------------------------------------------


@dataclass
class Plan:
    label: str
    text: str
    execution_ms: float
    planning_ms: float
    indexes: list[str]  # every index the plan reads
    scans: list[str]  # the nodes that read followups_callback
    must_use: str | None = None  # the index the plan must read

    @property
    def ok(self) -> bool:
        if "Seq Scan on followups_callback" in self.text:
            return False
        return self.must_use is None or self.must_use in self.indexes


_NODE = re.compile(r"^\s*(?:->\s*)?([A-Z][^(]*?)\s+\(cost=")


def explain(label: str, sql: str, *, must_use: str | None = None) -> Plan:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        text = "\n".join(row[0] for row in cursor.fetchall())
    execution = re.search(r"Execution Time: ([\d.]+) ms", text)
    planning = re.search(r"Planning Time: ([\d.]+) ms", text)
    indexes = sorted(
        {a or b for a, b in re.findall(r"Scan(?: Backward)? using (\S+)|Index Scan on (\S+)", text)}
    )
    scans = [
        match.group(1)
        for line in text.splitlines()
        if " followups_callback" in line and (match := _NODE.match(line)) and "Scan" in line
    ]
    return Plan(
        label=label,
        text=text,
        execution_ms=float(execution.group(1)) if execution else float("nan"),
        planning_ms=float(planning.group(1)) if planning else float("nan"),
        indexes=indexes,
        scans=scans,
        must_use=must_use,
    )


# -- the queue -----------------------------------------------------------------------------


@dataclass
class QueueResult:
    wall_ms: list[float]
    sql_ms: list[float]
    queries: list[str]  # the SQL of one request
    selector_ms: list[float]
    selector_sql_ms: list[float]
    selector_queries: list[tuple[str, float]]  # the selector's queries, median ms each
    counts: dict[str, int]  # ready, overdue, later
    shown: int
    bytes: int
    plans: list[Plan]
    steps: list[tuple[str, float]]  # (what, median ms)
    cores: dict[str, float] = field(default_factory=dict)  # while the requests were timed
    profile: str = ""

    @property
    def p95(self) -> float:
        return percentile(self.wall_ms, 95)

    @property
    def passed(self) -> bool:
        return self.p95 <= QUEUE_TARGET_P95_MS

    @property
    def plans_ok(self) -> bool:
        return bool(self.plans) and all(plan.ok for plan in self.plans)


def signed_in_client(agent_id: int):
    from django.test import Client

    from staffing.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(pk=agent_id))
    return client


def _get(client) -> int:
    response = client.get(QUEUE_PATH)
    if response.status_code != 200:
        raise RuntimeError(
            f"GET {QUEUE_PATH} answered {response.status_code}: {response.content[:300]!r}"
        )
    return len(response.content)


def _selector_label(sql: str) -> str:
    return "counts (aggregate)" if "COUNT(" in sql.upper() else "first page (LIMIT)"


def _median_ms(step, times: int = 40) -> float:
    step()
    step()
    elapsed = []
    for _ in range(times):
        began = time.perf_counter()
        step()
        elapsed.append((time.perf_counter() - began) * 1000)
    return statistics.median(elapsed)


def queue_steps(agent, client) -> list[tuple[str, float]]:
    """Median milliseconds of the page's parts: the selector, the template alone (with the
    selector's answer ready), the view without the middleware, and the whole request."""
    from django.template.loader import render_to_string
    from django.test import RequestFactory
    from django.utils import timezone

    from followups import views
    from followups.selectors import Queue, callback_queue

    request = RequestFactory(HTTP_HOST="127.0.0.1").get(QUEUE_PATH)
    request.user = agent
    now = timezone.now()
    found = callback_queue(user=agent, now=now)
    empty = Queue(callbacks=[], ready=found.ready, overdue=found.overdue, later=found.later)
    parts = [
        (
            "`callback_queue()`: the counts and the first page",
            lambda: callback_queue(user=agent, now=timezone.now()),
        ),
        (
            f"render `followups/queue.html`, {len(found.callbacks)} callbacks",
            lambda: render_to_string("followups/queue.html", {"queue": found, "now": now}, request),
        ),
        (
            "render `followups/queue.html`, no callback (the base template)",
            lambda: render_to_string("followups/queue.html", {"queue": empty, "now": now}, request),
        ),
        ("the view `followups.views.queue` (selector and template)", lambda: views.queue(request)),
        (f"the whole request `GET {QUEUE_PATH}` (middleware, session, user)", lambda: _get(client)),
    ]
    return [(label, _median_ms(step)) for label, step in parts]


def measure_queue(dataset, *, requests: int, warmup: int, profile: bool) -> QueueResult:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from followups.selectors import callback_queue
    from staffing.models import User

    client = signed_in_client(dataset.agent_id)
    for _ in range(warmup):
        size = _get(client)
    with CaptureQueriesContext(connection) as captured:
        size = _get(client)
    queries = [query["sql"] for query in captured]

    wall, sql = [], []
    cpu = _meter()
    for _ in range(requests):
        meter = SqlMeter()
        began = time.perf_counter()
        with connection.execute_wrapper(meter):
            _get(client)
        wall.append((time.perf_counter() - began) * 1000)
        sql.append(meter.seconds * 1000)
    cores = cpu.stop()

    # The selector alone, as the view calls it (a user read once, as the request's is).
    agent = User.objects.get(pk=dataset.agent_id)
    for _ in range(warmup):
        found = callback_queue(user=agent, now=timezone.now())
    selector_wall, selector_sql, per_query = [], [], {}
    for _ in range(requests):
        meter = SqlMeter()
        began = time.perf_counter()
        with connection.execute_wrapper(meter):
            found = callback_queue(user=agent, now=timezone.now())
        selector_wall.append((time.perf_counter() - began) * 1000)
        selector_sql.append(meter.seconds * 1000)
        for text, seconds in meter.queries:
            per_query.setdefault(_selector_label(text), []).append(seconds * 1000)

    steps = queue_steps(agent, client)
    with CaptureQueriesContext(connection) as captured:
        callback_queue(user=agent, now=timezone.now())
    plans = [
        explain(_selector_label(query["sql"]), query["sql"], must_use=QUEUE_INDEX)
        for query in captured
        if '"followups_callback"' in query["sql"]
    ]
    text = ""
    result = QueueResult(
        wall_ms=wall,
        sql_ms=sql,
        queries=queries,
        selector_ms=selector_wall,
        selector_sql_ms=selector_sql,
        selector_queries=[(label, statistics.median(ms)) for label, ms in per_query.items()],
        counts={"ready": found.ready, "overdue": found.overdue, "later": found.later},
        shown=len(found.callbacks),
        bytes=size,
        plans=plans,
        steps=steps,
        cores=cores,
    )
    if profile or not result.passed:
        _say("cProfile: 100 queue requests")

        def hundred() -> None:
            for _ in range(100):
                _get(client)

        text = "100 requests of GET /callbacks/\n" + _profile(hundred)
    result.profile = text
    return result


# -- the batch job -------------------------------------------------------------------------


@dataclass
class BatchRun:
    batch: int
    seconds: float
    sql_seconds: float
    created: int
    queries: list[str] = field(repr=False)
    page_ms: list[float] = field(repr=False)  # each page SELECT of the day's rule, in order
    insert_ms: list[float] = field(repr=False)
    commit_seconds: float = 0.0  # the COMMITs Django recorded (not in ``cursor.execute``)
    cores: dict[str, float] = field(default_factory=dict)
    cleanup_seconds: float = 0.0

    def count(self, kind: str) -> int:
        return sum(1 for sql in self.queries if _batch_kind(sql) == kind)

    @property
    def pages(self) -> int:
        return self.count("page")

    @property
    def statements(self) -> int:
        """The SQL statements, without the transaction control Django records."""
        return len(self.queries) - self.count("transaction")

    @property
    def day_pages(self) -> int:
        """The page SELECTs of the day's rule (hotline repair, by dispatch time)."""
        return sum(1 for sql in self.queries if _day_rule_page(sql))

    @property
    def per_page(self) -> float:
        """Queries per page of the day's rule: its SELECTs and INSERTs over its pages (the
        other rules have one empty page each, without an INSERT)."""
        return (self.day_pages + self.count("insert")) / self.day_pages if self.day_pages else 0.0

    @property
    def python_seconds(self) -> float:
        return self.seconds - self.sql_seconds - self.commit_seconds


_TRANSACTION = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def _batch_kind(sql: str) -> str:
    if sql.startswith(_TRANSACTION):
        # Django records its transaction control too: in autocommit, ``bulk_create`` runs
        # each page's INSERT in a transaction of its own.
        return "transaction"
    if sql.startswith("SELECT") and '"tickets_ticket"' in sql.split(" WHERE ", 1)[0]:
        return "page"
    if sql.startswith('INSERT INTO "followups_callback"'):
        return "insert"
    if sql.startswith('UPDATE "followups_callbackrule"'):
        return "rule update"
    if '"followups_callbackrule"' in sql or '"followups_callbacksampling"' in sql:
        return "rules"
    return "other"


def _day_rule_page(sql: str) -> bool:
    """Whether a page query is the hotline repair rule's (the one the day's tickets meet)."""
    return _batch_kind(sql) == "page" and '"tickets_ticket"."dispatched_at" >=' in sql


def run_batch(dataset, *, batch: int, profile: bool = False) -> tuple[BatchRun, str]:
    """Run the batch job over the day once, in autocommit; then delete what it made."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from followups.services import callbacks_schedule
    from tests.bench.followups_dataset import remove_added, vacuum_analyze

    profiler = cProfile.Profile() if profile else None
    meter = SqlMeter()
    cpu = _meter()
    with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(meter):
        if profiler:
            profiler.enable()
        began = time.perf_counter()
        created = callbacks_schedule(now=dataset.day_end, since=dataset.day_start, batch=batch)
        seconds = time.perf_counter() - began
        if profiler:
            profiler.disable()
    cores = cpu.stop()
    queries = [query["sql"] for query in captured]
    commits = sum(float(query["time"]) for query in captured if query["sql"] == "COMMIT")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM followups_callback WHERE id > %s", [dataset.max_callback_id]
        )
        stored = cursor.fetchone()[0]
    if stored != created:
        raise RuntimeError(f"callbacks_schedule said {created:,} but stored {stored:,}")
    cleanup = time.perf_counter()
    remove_added(
        max_ticket_id=dataset.max_ticket_id,
        max_callback_id=dataset.max_callback_id,
        day=dataset.day,
    )
    vacuum_analyze(("followups_callback",))
    run = BatchRun(
        batch=batch,
        seconds=seconds,
        sql_seconds=meter.seconds,
        created=created,
        queries=queries,
        page_ms=[s * 1000 for sql, s in meter.queries if _day_rule_page(sql)],
        insert_ms=[s * 1000 for sql, s in meter.queries if _batch_kind(sql) == "insert"],
        commit_seconds=commits,
        cores=cores,
        cleanup_seconds=time.perf_counter() - cleanup,
    )
    text = ""
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(18)
        body = out.getvalue()
        body = body[body.find("   ncalls") :] if "   ncalls" in body else body
        text = f"one run, batch={batch}\n" + body.replace(str(ROOT) + "/", "").rstrip()
    return run, text


@dataclass
class BatchResult:
    runs: list[BatchRun]
    small: BatchRun
    day_tickets: int
    last_page_plan: Plan | None
    profile: str = ""

    @property
    def best(self) -> BatchRun:
        return min(self.runs, key=lambda run: run.seconds)

    @property
    def worst(self) -> BatchRun:
        return max(self.runs, key=lambda run: run.seconds)

    @property
    def expected_pages(self) -> int:
        """Pages of the day's rule: a page of fewer rows than the batch ends the loop."""
        return self.day_tickets // self.runs[0].batch + 1

    @property
    def extra_pages(self) -> int:
        return self.small.pages - self.runs[0].pages

    @property
    def extra_queries(self) -> int:
        return self.small.statements - self.runs[0].statements

    @property
    def constant_per_page(self) -> bool:
        """Two queries per page, whatever the page size: every full page one SELECT and one
        INSERT, the last (short or empty) page one SELECT and an INSERT if it has rows; and
        the smaller page size adds exactly two queries per extra page."""
        counts = {run.statements for run in self.runs}
        return (
            len(counts) == 1
            and self.extra_queries == 2 * self.extra_pages
            and all(run.count("insert") <= run.pages for run in [*self.runs, self.small])
        )

    @property
    def created_ok(self) -> bool:
        return all(run.created == self.day_tickets for run in [*self.runs, self.small])

    @property
    def passed(self) -> bool:
        return self.worst.seconds <= BATCH_TARGET_SECONDS


def measure_batch(
    dataset, *, runs: int, small_batch: int, profile: bool, quiet: float
) -> BatchResult:
    from followups.services import SCHEDULE_BATCH

    done = []
    for number in range(runs):
        _quiet(quiet)
        run, _ = run_batch(dataset, batch=SCHEDULE_BATCH)
        done.append(run)
        _say(_batch_line(f"run {number + 1}/{runs}", run))
    _quiet(quiet)
    small, _ = run_batch(dataset, batch=small_batch)
    _say(_batch_line("small page", small))

    # The day rule's last full page. Its keyset condition is a filter of the index scan,
    # applied before the anti-join on the callbacks, so the rows it reads are the same now
    # (the run's callbacks deleted) as during the run.
    pages = [sql for sql in done[0].queries if _day_rule_page(sql)]
    plan = explain("the day rule's last full page", pages[-2]) if len(pages) >= 2 else None
    result = BatchResult(
        runs=done, small=small, day_tickets=dataset.day_tickets, last_page_plan=plan
    )
    if profile or not result.passed:
        _say("cProfile: one batch run")
        _, result.profile = run_batch(dataset, batch=SCHEDULE_BATCH, profile=True)
    return result


def _batch_line(label: str, run: BatchRun) -> str:
    return (
        f"  {label:<11} batch {run.batch}: {run.seconds:.2f} s (SQL {run.sql_seconds:.2f} s, "
        f"COMMIT {run.commit_seconds:.2f} s), "
        f"{run.created:,} callbacks, {run.statements} queries (+{run.count('transaction')} "
        f"BEGIN/COMMIT), {run.pages} pages, "
        f"{run.per_page:.2f} per page; page SELECTs first {run.page_ms[0]:.0f} ms, "
        f"max {max(run.page_ms):.0f} ms, total {sum(run.page_ms):.0f} ms"
        if run.page_ms
        else f"  {label}: {run.seconds:.2f} s, {run.created:,} callbacks"
    )


# -- report --------------------------------------------------------------------------------


def _mark(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _query_summary(queries: list[str]) -> str:
    tables: dict[str, int] = {}
    for sql in queries:
        table = _table_of(sql)
        tables[table] = tables.get(table, 0) + 1
    return ", ".join(f"{table} ×{n}" if n > 1 else table for table, n in tables.items())


def render(
    *,
    started: datetime,
    elapsed: float,
    command: str,
    postgres: str,
    shared_buffers: str,
    dataset,
    args,
    queue: QueueResult,
    batch: BatchResult,
    passed: bool,
) -> str:
    from tests.bench.report import machine

    cores, cpu, memory, kernel = machine()
    loaded = (
        f"reused (loaded {dataset.loaded_at:%Y-%m-%d %H:%M} UTC in {dataset.load_seconds:.0f} s"
        + (
            f"; pending callbacks moved {dataset.shifted_days} days on"
            if dataset.shifted_days
            else ""
        )
        + ")"
        if dataset.reused
        else f"loaded in this run in {dataset.load_seconds:.0f} s"
    )
    sizes = ", ".join(f"{table} {size}" for table, size in sorted(dataset.sizes.items()))
    best, worst, small = batch.best, batch.worst, batch.small
    lines = [
        "# Follow-ups benchmark: the callback queue and the nightly batch job",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {started:%Y-%m-%d %H:%M} UTC |",
        f"| command | `{command}` |",
        f"| machine | {cores} cores ({cpu}), {memory:.1f} GiB RAM, Linux {kernel} |",
        f"| PostgreSQL | {postgres}, shared_buffers {shared_buffers} |",
        f"| database | {dataset.tickets:,} closed tickets over 90 days; {dataset.day_tickets:,} "
        f"hotline repairs dispatched on {dataset.day:%Y-%m-%d} (Asia/Shanghai) without a "
        f"callback; {dataset.callbacks:,} callbacks ({dataset.pending:,} pending, "
        f"{dataset.done:,} done, {dataset.unreachable:,} unreachable); {sizes} with indexes |",
        f"| load | {loaded} |",
        f"| run took | {elapsed / 60:.1f} min |",
        "",
        "## Verdict",
        "",
        f"- queue page `GET {QUEUE_PATH}` p95: **{queue.p95:.1f} ms** "
        f"(target ≤ {QUEUE_TARGET_P95_MS:g} ms): **{_mark(queue.passed)}**",
        f"- queue plans read `{QUEUE_INDEX}`, no Seq Scan on followups_callback: "
        f"**{_mark(queue.plans_ok)}**",
        f"- batch job over the day's {batch.day_tickets:,} tickets, worst of {len(batch.runs)}: "
        f"**{worst.seconds:.2f} s** (best {best.seconds:.2f} s; target ≤ "
        f"{BATCH_TARGET_SECONDS:g} s): **{_mark(batch.passed)}**",
        f"- one callback per ticket of the day (every run made {batch.day_tickets:,}): "
        f"**{_mark(batch.created_ok)}**",
        f"- constant queries per page (a SELECT and an INSERT per page with rows, the last "
        f"page empty): {best.per_page:.2f} per page of the day's rule at batch {best.batch}, "
        f"{small.per_page:.2f} at {small.batch}; {batch.extra_pages} extra pages add "
        f"{batch.extra_queries} queries: **{_mark(batch.constant_per_page)}**",
        "",
        f"**{'PASS' if passed else 'FAIL'}**",
        "",
        "## The queue",
        "",
        f"Django's test client in this process, signed in as the bench agent (`force_login`), "
        f"{args.requests} requests after {args.warmup} warm-ups, one at a time; wall time "
        f"of `client.get` (every middleware, the view, the template) and the part spent in "
        f"`cursor.execute`. The queue shows {queue.shown} callbacks; counts: "
        f"{queue.counts['ready']:,} ready, {queue.counts['overdue']:,} of them overdue, "
        f"{queue.counts['later']:,} later. Page {queue.bytes / 1024:.0f} KiB. CPU cores "
        f"used while timing the requests: {_cores(queue.cores)} (*client* is this process).",
        "",
        "| what | p50 ms | **p95** | p99 ms | SQL ms (median) | target | |",
        "| --- | --: | --: | --: | --: | --: | --- |",
        f"| `GET {QUEUE_PATH}` | {percentile(queue.wall_ms, 50):.1f} | **{queue.p95:.1f}** "
        f"| {percentile(queue.wall_ms, 99):.1f} | {statistics.median(queue.sql_ms):.1f} "
        f"| ≤ {QUEUE_TARGET_P95_MS:g} | {_mark(queue.passed)} |",
        f"| `callback_queue()` alone | {percentile(queue.selector_ms, 50):.1f} "
        f"| {percentile(queue.selector_ms, 95):.1f} | {percentile(queue.selector_ms, 99):.1f} "
        f"| {statistics.median(queue.selector_sql_ms):.1f} | | |",
        *(
            f"| its query: {label} | {ms:.1f} (median) | | | | | |"
            for label, ms in queue.selector_queries
        ),
        "",
        "Where a request's time goes (medians of 40, one part at a time):",
        "",
        "| part | ms |",
        "| --- | --: |",
        *(f"| {label} | {ms:.1f} |" for label, ms in queue.steps),
        "",
        f"SQL of one request: **{len(queue.queries)} queries**: {_query_summary(queue.queries)}.",
        "",
        "### Plans",
        "",
        "| query | indexes read | scans of followups_callback | plan ms | exec ms | |",
        "| --- | --- | --- | --: | --: | --- |",
        *(
            f"| {plan.label} | {', '.join(plan.indexes) or '—'} | {', '.join(plan.scans)} "
            f"| {plan.planning_ms:.2f} | {plan.execution_ms:.2f} | {_mark(plan.ok)} |"
            for plan in queue.plans
        ),
    ]
    for plan in queue.plans:
        lines += ["", f"EXPLAIN (ANALYZE, BUFFERS), {plan.label}:", "", "```", plan.text, "```"]
    lines += [
        "",
        "## The batch job",
        "",
        f"`callbacks_schedule(now={dataset.day_end:%Y-%m-%d %H:%M %Z}, "
        f"since={dataset.day_start:%Y-%m-%d %H:%M %Z}, batch=…)` over every active ticket "
        "rule, in autocommit as the nightly job runs (each page's INSERT commits), inside "
        "`CaptureQueriesContext`; the callbacks it made are deleted after each run and the "
        "table vacuumed. *SQL* is the time spent in `cursor.execute` (with psycopg's "
        "binding of the parameters), *COMMIT* the commits of each page's INSERT (where the "
        "deferred foreign keys are checked), *Python* the rest "
        "(reading the rows, building the `Callback` objects, the deadlines, `bulk_create`'s "
        "preparation). *Pages* are the page SELECTs of every rule: the day's rule (hotline "
        f"repair, dispatched) reads ⌊{batch.day_tickets:,} / batch⌋ + 1, each other rule one "
        "empty page.",
        "",
        "*Queries* are SQL statements; Django also records the `BEGIN` and `COMMIT` around "
        "each page's INSERT (in autocommit `bulk_create` opens a transaction of its own), "
        "shown apart.",
        "",
        "| run | batch | seconds | SQL s | COMMIT s | Python s | callbacks | queries "
        "| BEGIN/COMMIT | pages | inserts | other | per page "
        "| page SELECTs ms: first / median / max / total | INSERT ms median | CPU cores | |",
        "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --- "
        "| --: | --- | --- |",
    ]
    for label, run in [
        *((f"{n + 1}", run) for n, run in enumerate(batch.runs)),
        ("small page", small),
    ]:
        other = run.statements - run.pages - run.count("insert")
        pages = (
            f"{run.page_ms[0]:.0f} / {statistics.median(run.page_ms):.0f} / "
            f"{max(run.page_ms):.0f} / {sum(run.page_ms):.0f}"
            if run.page_ms
            else ""
        )
        inserts = f"{statistics.median(run.insert_ms):.0f}" if run.insert_ms else ""
        lines.append(
            f"| {label} | {run.batch} | {run.seconds:.2f} | {run.sql_seconds:.2f} "
            f"| {run.commit_seconds:.2f} | {run.python_seconds:.2f} | {run.created:,} "
            f"| {run.statements} "
            f"| {run.count('transaction')} | {run.pages} | {run.count('insert')} | {other} "
            f"| {run.per_page:.2f} | {pages} | {inserts} | {_cores(run.cores)} "
            f"| {_mark(run.seconds <= BATCH_TARGET_SECONDS)} |"
        )
    lines += [
        "",
        f"Best {best.seconds:.2f} s, worst {worst.seconds:.2f} s (target ≤ "
        f"{BATCH_TARGET_SECONDS:g} s). The day's rule read {best.day_pages} pages at batch "
        f"{best.batch} (expected ⌊n / batch⌋ + 1 = {batch.expected_pages}); the other queries "
        "are the rules and their sampling rates (2) and each rule's `scanned_through` update. "
        f"Batch {small.batch} reads {batch.extra_pages} pages more and makes "
        f"{batch.extra_queries} queries more: "
        f"{batch.extra_queries / batch.extra_pages if batch.extra_pages else 0:.1f} per extra "
        "page.",
        "",
        "Queries of one run at the default page, by kind: "
        + ", ".join(
            f"{kind} {best.count(kind)}"
            for kind in ("rules", "page", "insert", "rule update", "other", "transaction")
            if best.count(kind)
        )
        + ".",
    ]
    if batch.last_page_plan is not None:
        plan = batch.last_page_plan
        lines += [
            "",
            "EXPLAIN (ANALYZE, BUFFERS) of the day rule's last full page, after the run (the "
            "keyset condition filters the index scan before the anti-join, so it reads the "
            "rows it read during the run):",
            "",
            "```",
            plan.text,
            "```",
        ]
    for label, text in [("the queue page", queue.profile), ("the batch job", batch.profile)]:
        if text:
            lines += ["", f"## cProfile: {label}", "", "```", text, "```"]
    lines.append("")
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    from tests.bench.run import _environment

    _environment(args)
    started, clock = datetime.now(UTC), time.monotonic()

    import django

    django.setup()
    from django.db import connection

    from tests.bench.followups_dataset import followups_dataset_prepare

    dataset = followups_dataset_prepare(
        tickets=args.tickets,
        day_tickets=args.day_tickets,
        callbacks=args.callbacks,
        fresh=args.fresh,
        log=_say,
    )
    _say(
        f"{dataset.tickets:,} closed tickets, {dataset.day_tickets:,} dispatched on "
        f"{dataset.day:%Y-%m-%d}; {dataset.callbacks:,} callbacks, {dataset.pending:,} pending"
    )

    _say(f"queue: {args.requests} requests of GET {QUEUE_PATH} after {args.warmup} warm-ups")
    _quiet(args.quiet_wait)
    queue = measure_queue(dataset, requests=args.requests, warmup=args.warmup, profile=args.profile)
    _say(
        f"  p50 {percentile(queue.wall_ms, 50):.1f} ms, p95 {queue.p95:.1f} ms, "
        f"p99 {percentile(queue.wall_ms, 99):.1f} ms, SQL {statistics.median(queue.sql_ms):.1f}"
        f" ms, {len(queue.queries)} queries; selector p50 {percentile(queue.selector_ms, 50):.1f}"
        f" ms, p95 {percentile(queue.selector_ms, 95):.1f} ms"
    )
    for plan in queue.plans:
        _say(
            f"  {plan.label:<20} {plan.execution_ms:6.2f} ms, reads "
            f"{', '.join(plan.indexes) or 'no index'}: {'ok' if plan.ok else 'WRONG PLAN'}"
        )

    _say(f"batch job over {dataset.day:%Y-%m-%d}: {args.runs} runs, then batch {args.small_batch}")
    batch = measure_batch(
        dataset,
        runs=args.runs,
        small_batch=args.small_batch,
        profile=args.profile,
        quiet=args.quiet_wait,
    )

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('shared_buffers')"
        )
        postgres, shared_buffers = cursor.fetchone()
    passed = (
        queue.passed
        and queue.plans_ok
        and batch.passed
        and batch.created_ok
        and batch.constant_per_page
    )
    page = render(
        started=started,
        elapsed=time.monotonic() - clock,
        command=os.environ.get("BENCH_COMMAND")
        or shlex.join(["python", "-m", "tests.bench.run", "--suite", "followups", *(argv or [])]),
        postgres=postgres,
        shared_buffers=shared_buffers,
        dataset=dataset,
        args=args,
        queue=queue,
        batch=batch,
        passed=passed,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(page, encoding="utf-8")
    print()
    print(page)
    _say(f"written to {args.output}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
