"""Benchmark the callbacks (follow-ups): ``scripts/bench.sh --suite followups``.

1. Make the follow-ups database hold ``--tickets`` closed tickets, ``--day-tickets`` hotline
   repairs dispatched during *the day* (yesterday when it was loaded) without a callback, and
   ``--callbacks`` callbacks, a tenth of them pending (reused when it already does;
   ``tests/bench/followups_dataset.py``).
2. The workbench queue, in this process, to show where its time goes: Django's test client
   signed in as the bench agent (``force_login``) asks ``GET /callbacks/`` ``--requests``
   times after ``--warmup`` requests; wall time per request (and the part spent in SQL), the
   SQL of one request, the selector ``callback_queue`` alone as many times, and the page's
   parts one at a time. EXPLAIN (ANALYZE, BUFFERS) of the selector's two queries (the counts
   and the first page): both must read ``callback_queue_idx`` and neither may read
   ``followups_callback`` from end to end.
3. The queue as the product serves it, the figure judged: gunicorn with ``--workers`` sync
   workers, ``--http-clients`` concurrent clients carrying the agent's session cookie,
   ``--http-seconds`` measured seconds in ``--http-rounds`` rounds after ``--http-warmup``
   seconds; server time is the ``Server-Timing`` header the bench settings' middleware sets,
   the clients' latency is shown beside it. Every answer must be 200 with that header.
4. The batch job: ``callbacks_schedule(now=<end of the day>, since=<start of the day>)``
   ``--runs`` times with its default page size and once with ``--small-batch``, each in
   autocommit as the nightly job runs, inside ``CaptureQueriesContext``; afterwards the
   callbacks it made are deleted, the rules' ``scanned_through`` put back and the table
   vacuumed, so that every run starts alike. Seconds (and the part spent in SQL), callbacks
   made, queries by kind, pages, queries per page, and the last full page's query, EXPLAINed.
5. Print the results and write them to ``tests/bench/results/followups.md``.

Exits 1 when the queue page's p95 server time under gunicorn is over 30 ms, a request to
gunicorn failed (not 200, or no ``Server-Timing``), a batch run takes over 5 s or makes other
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

from tests.bench.board import HttpPhase, Page, _http_round, percentile

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/callcentre_bench_followups"
QUEUE_TARGET_P95_MS = 30.0
BATCH_TARGET_SECONDS = 5.0
QUEUE_PATH = "/callbacks/"
QUEUE_INDEX = "callback_queue_idx"
# The files of this suite's processes (the file cache above all), apart from other suites'.
VAR_DIR = ROOT / "var" / "bench-followups"
# The queue as gunicorn serves it to the bench agent: its p95 server time is judged.
QUEUE_PAGE = Page("queue", "callback queue", QUEUE_PATH, "agent", 200, QUEUE_TARGET_P95_MS)
# Unmeasured seconds before each HTTP round after the first (the workers are warm by then).
HTTP_ROUND_WARMUP = 1.0


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
    add(
        "--requests",
        type=int,
        default=300,
        help="measured queue requests in process (%(default)s)",
    )
    add(
        "--warmup",
        type=int,
        default=30,
        help="unmeasured queue requests in process first (%(default)s)",
    )
    add(
        "--http-seconds",
        "--seconds",
        dest="http_seconds",
        type=float,
        default=20,
        help="measured seconds of the queue under gunicorn, all rounds (%(default)s)",
    )
    add(
        "--http-rounds",
        "--rounds",
        dest="http_rounds",
        type=int,
        default=4,
        help="split them into this many rounds (%(default)s)",
    )
    add(
        "--http-warmup",
        type=float,
        default=3,
        help=f"unmeasured seconds before the first round ({HTTP_ROUND_WARMUP:g} before each\n"
        "other) (%(default)s)",
    )
    add(
        "--http-clients",
        "--clients",
        dest="http_clients",
        type=int,
        default=4,
        help="concurrent HTTP clients (%(default)s)",
    )
    add("--workers", type=int, default=2, help="gunicorn sync workers (%(default)s)")
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
        help="before the queue, each HTTP round and each batch run, wait up to this many\n"
        "seconds for other work on the machine to use under a quarter of a core (%(default)s)",
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
    if args.http_rounds < 1 or args.http_clients < 1 or args.workers < 1:
        parser.error("--http-rounds, --http-clients and --workers must be at least 1")
    if args.http_seconds <= 0 or args.http_warmup < 0:
        parser.error("--http-seconds must be over 0 and --http-warmup at least 0")
    return args


def _environment(args: argparse.Namespace) -> dict[str, str]:
    """The ticket suite's environment, with the files of this suite (the file cache) in a
    folder of its own, for this process and gunicorn alike."""
    from tests.bench.run import _environment as bench_environment

    (VAR_DIR / "static").mkdir(parents=True, exist_ok=True)
    os.environ["VAR_DIR"] = str(VAR_DIR)
    return bench_environment(args)


def _say(message: str) -> None:
    print(f"[bench followups {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


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
        """In process, one request at a time: not the figure judged (see ``HttpQueue``)."""
        return percentile(self.wall_ms, 95)

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

    from callcentre.templating import render_partial
    from followups import views
    from followups.selectors import COUNT_CAP, Queue, callback_queue

    request = RequestFactory(HTTP_HOST="127.0.0.1").get(QUEUE_PATH)
    request.user = agent
    now = timezone.now()
    found = callback_queue(user=agent, now=now)
    empty = Queue(rows=[], ready=found.ready, overdue=found.overdue, later=found.later)

    def rows():
        lines = views._queue_lines(found.rows, now=now)
        return render_partial(
            "followups/_queue_rows.html", {"lines": lines, "words": views._queue_words()}
        )

    drawn = rows()
    parts = [
        (
            "`callback_queue()`: the capped counts and the first page",
            lambda: callback_queue(user=agent, now=timezone.now()),
        ),
        (f"the {len(found.rows)} rows: values worked out and the Jinja2 partial", rows),
        (
            "render `followups/queue.html` around the drawn rows",
            lambda: render_to_string(
                "followups/queue.html",
                {"queue": found, "rows": drawn, "cap": COUNT_CAP},
                request,
            ),
        ),
        (
            "render `followups/queue.html`, no callback (the base template)",
            lambda: render_to_string(
                "followups/queue.html", {"queue": empty, "rows": "", "cap": COUNT_CAP}, request
            ),
        ),
        ("the view `followups.views.queue` (selector and template)", lambda: views.queue(request)),
        (f"the whole request `GET {QUEUE_PATH}` (middleware, session, user)", lambda: _get(client)),
    ]
    return [(label, _median_ms(step)) for label, step in parts]


def measure_queue(dataset, client, *, requests: int, warmup: int) -> QueueResult:
    """The queue in this process, through ``client`` (signed in as the bench agent)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from followups.selectors import callback_queue
    from staffing.models import User

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
    return QueueResult(
        wall_ms=wall,
        sql_ms=sql,
        queries=queries,
        selector_ms=selector_wall,
        selector_sql_ms=selector_sql,
        selector_queries=[(label, statistics.median(ms)) for label, ms in per_query.items()],
        counts={"ready": found.ready, "overdue": found.overdue, "later": found.later},
        shown=len(found.rows),
        bytes=size,
        plans=plans,
        steps=steps,
        cores=cores,
    )


def profile_queue(client, requests: int = 100) -> str:
    """cProfile ``requests`` queue requests in this process (where the server's time goes)."""

    def run() -> None:
        for _ in range(requests):
            _get(client)

    return f"{requests} requests of GET {QUEUE_PATH}\n" + _profile(run)


# -- the queue under gunicorn --------------------------------------------------------------


@dataclass
class HttpRound:
    requests: int
    server_p50: float
    server_p95: float
    client_p95: float
    errors: int
    cores: dict[str, float]


@dataclass
class HttpQueue:
    """The queue as gunicorn serves it: its p95 server time is the figure judged."""

    phase: HttpPhase
    workers: int
    rounds: list[HttpRound] = field(default_factory=list)

    @property
    def server_p95(self) -> float:
        return percentile(self.phase.server, 95)

    @property
    def passed(self) -> bool:
        return bool(self.phase.server) and self.server_p95 <= QUEUE_TARGET_P95_MS

    @property
    def ok(self) -> bool:
        """Every answer was 200 with a ``Server-Timing`` header, and some were measured."""
        return self.phase.errors == 0 and bool(self.phase.server)


def measure_queue_http(args, env: dict[str, str], cookie: str) -> HttpQueue:
    """``GET /callbacks/`` under gunicorn, ``--http-clients`` clients with ``cookie``, in
    ``--http-rounds`` rounds (``tests.bench.board``'s rounds)."""
    from django.conf import settings

    from tests.bench.run import gunicorn

    RESULTS.mkdir(exist_ok=True)
    database = settings.DATABASES["default"]["NAME"]
    result = HttpQueue(
        phase=HttpPhase(page=QUEUE_PAGE, clients=args.http_clients), workers=args.workers
    )
    phase = result.phase
    with gunicorn(workers=args.workers, env=env, log=RESULTS / "gunicorn-followups.log") as (
        url,
        pid,
    ):
        _say(f"gunicorn at {url} ({args.workers} sync workers), {args.http_clients} clients")
        for number in range(args.http_rounds):
            _quiet(args.quiet_wait)
            before, errors = len(phase.server), phase.errors
            _http_round(
                phase,
                base_url=url,
                cookie=cookie,
                seconds=args.http_seconds / args.http_rounds,
                warmup=args.http_warmup if number == 0 else HTTP_ROUND_WARMUP,
                web_master=pid,
                database=database,
            )
            done = HttpRound(
                requests=len(phase.server) - before,
                server_p50=percentile(phase.server[before:], 50),
                server_p95=percentile(phase.server[before:], 95),
                client_p95=percentile(phase.latencies[before:], 95),
                errors=phase.errors - errors,
                cores=phase.cores[-1],
            )
            result.rounds.append(done)
            _say(
                f"  round {number + 1}/{args.http_rounds}: {done.requests} requests, server "
                f"p50 {done.server_p50:.1f} ms, p95 {done.server_p95:.1f} ms, client p95 "
                f"{done.client_p95:.1f} ms, {done.errors} errors; CPU cores: "
                + ", ".join(f"{group} {used:.2f}" for group, used in done.cores.items())
            )
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
        # Django records its transaction control too: in autocommit, a ``bulk_create`` runs
        # in a transaction of its own (the product's page INSERT is one statement).
        return "transaction"
    if sql.startswith("SELECT") and '"tickets_ticket"' in sql.split(" WHERE ", 1)[0]:
        return "page"
    if re.match(r'\s*INSERT INTO "?followups_callback"?\s', sql):
        return "insert"  # the product writes a page with its own SQL (no quotes)
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
    http: HttpQueue,
    batch: BatchResult,
    passed: bool,
) -> str:
    from tests.bench.report import BUSY_CORES, machine

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
    server, seen = http.phase.server, http.phase.latencies
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
        f"| server | gunicorn, {http.workers} sync workers, `tests.bench.settings` (`DEBUG` off, "
        "the product's middleware after a `Server-Timing` one), "
        f"`VAR_DIR={VAR_DIR.relative_to(ROOT)}` |",
        f"| clients | {args.http_clients} keep-alive `httpx` clients with the bench agent's "
        f"session cookie, {args.http_seconds:g} s in {args.http_rounds} rounds after "
        f"{args.http_warmup:g} s of warm-up |",
        f"| run took | {elapsed / 60:.1f} min |",
        "",
        "## Verdict",
        "",
        f"- queue page `GET {QUEUE_PATH}` under gunicorn, p95 server time: "
        f"**{http.server_p95:.1f} ms** (target ≤ {QUEUE_TARGET_P95_MS:g} ms; "
        f"{len(http.phase.server):,} requests from {http.phase.clients} clients): "
        f"**{_mark(http.passed)}**",
        f"- every answer from gunicorn 200 with a `Server-Timing` header: "
        f"{http.phase.errors} failed: **{_mark(http.ok)}**",
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
        "## The queue under gunicorn (judged)",
        "",
        "The figure judged against the target is the **p95 server time under gunicorn**: "
        f"{http.phase.clients} clients ask `GET {QUEUE_PATH}` at once, each as fast as it "
        f"is answered, with the bench agent's session cookie, served by {http.workers} sync "
        "workers. "
        "Server time is the `Server-Timing: app;dur=…` header (all of Django's middleware, "
        "the view and the template, not gunicorn's parsing); client time is what the client "
        "waited on 127.0.0.1. Every answer must be 200 with that header; any other counts "
        "as a failed request and fails the run.",
        "",
        "| page | requests | req/s | server p50 | **p95** | p99 ms | client p50 | p95 | p99 ms "
        "| KiB | errors | target | |",
        "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --- |",
        f"| `GET {QUEUE_PATH}` | {len(server):,} | {http.phase.per_second:.0f} "
        f"| {percentile(server, 50):.1f} | **{http.server_p95:.1f}** "
        f"| {percentile(server, 99):.1f} | {percentile(seen, 50):.1f} "
        f"| {percentile(seen, 95):.1f} | {percentile(seen, 99):.1f} "
        f"| {statistics.fmean(http.phase.bytes) / 1024 if http.phase.bytes else 0:.0f} "
        f"| {http.phase.errors} | ≤ {QUEUE_TARGET_P95_MS:g} | {_mark(http.passed)} |",
        "",
        "Round by round, with the CPU cores each group used while it was measured (*client* "
        "is this process, *web* gunicorn's master and workers, *PostgreSQL* its background "
        "processes and the bench database's backends, *other* the rest of the machine):",
        "",
        "| round | requests | server p50 | p95 ms | client p95 ms | errors | client | web "
        "| PostgreSQL | other |",
        "| --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |",
        *(
            f"| {n + 1} | {r.requests:,} | {r.server_p50:.1f} | {r.server_p95:.1f} "
            f"| {r.client_p95:.1f} | {r.errors} | {r.cores.get('client', 0):.2f} "
            f"| {r.cores.get('web', 0):.2f} | {r.cores.get('postgres', 0):.2f} "
            f"| {r.cores.get('other', 0):.2f} |"
            for n, r in enumerate(http.rounds)
        ),
        f"| mean | | | | | | {http.phase.mean_cores('client'):.2f} "
        f"| {http.phase.mean_cores('web'):.2f} | {http.phase.mean_cores('postgres'):.2f} "
        f"| {http.phase.mean_cores('other'):.2f} |",
    ]
    if http.phase.mean_cores("other") > BUSY_CORES:
        lines += [
            "",
            f"> Caution: other work used over {BUSY_CORES} of a core while the queue was measured.",
        ]
    if http.phase.error_samples:
        lines += [
            "",
            "Failed requests, for example:",
            "",
            *(f"- {sample}" for sample in http.phase.error_samples),
        ]
    lines += [
        "",
        "## The queue in process: where the time goes",
        "",
        "Secondary figures, not judged: they show where a request's time goes, one request "
        f"at a time with no other client (server p50 under gunicorn {percentile(server, 50):.1f}"
        f" ms, in process {percentile(queue.wall_ms, 50):.1f} ms). "
        f"Django's test client in this process, signed in as the bench agent (`force_login`), "
        f"{args.requests} requests after {args.warmup} warm-ups, one at a time; wall time "
        f"of `client.get` (every middleware, the view, the template) and the part spent in "
        f"`cursor.execute`. The queue shows {queue.shown} callbacks; counts: "
        f"{queue.counts['ready']:,} ready, {queue.counts['overdue']:,} of them overdue, "
        f"{queue.counts['later']:,} later. Page {queue.bytes / 1024:.0f} KiB. CPU cores "
        f"used while timing the requests: {_cores(queue.cores)} (*client* is this process).",
        "",
        "| what | p50 ms | p95 ms | p99 ms | SQL ms (median) |",
        "| --- | --: | --: | --: | --: |",
        f"| `GET {QUEUE_PATH}` | {percentile(queue.wall_ms, 50):.1f} | {queue.p95:.1f} "
        f"| {percentile(queue.wall_ms, 99):.1f} | {statistics.median(queue.sql_ms):.1f} |",
        f"| `callback_queue()` alone | {percentile(queue.selector_ms, 50):.1f} "
        f"| {percentile(queue.selector_ms, 95):.1f} | {percentile(queue.selector_ms, 99):.1f} "
        f"| {statistics.median(queue.selector_sql_ms):.1f} |",
        *(
            f"| its query: {label} | {ms:.1f} (median) | | | |"
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
        "(reading the rows, the sampling, the deadlines, the arrays the INSERT takes). "
        "*Pages* are the page SELECTs of every rule: the day's rule (hotline "
        f"repair, dispatched) reads ⌊{batch.day_tickets:,} / batch⌋ + 1, each other rule one "
        "empty page.",
        "",
        "*Queries* are SQL statements; a `BEGIN` and `COMMIT` Django records (an ORM "
        "`bulk_create` in autocommit opens a transaction of its own) are shown apart.",
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
    for label, text in [
        ("the queue page, in process", queue.profile),
        ("the batch job", batch.profile),
    ]:
        if text:
            lines += ["", f"## cProfile: {label}", "", "```", text, "```"]
    lines.append("")
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    env = _environment(args)
    started, clock = datetime.now(UTC), time.monotonic()

    import django

    django.setup()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    from django.conf import settings
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

    client = signed_in_client(dataset.agent_id)
    _say(
        f"queue in process: {args.requests} requests of GET {QUEUE_PATH} after {args.warmup} "
        "warm-ups"
    )
    _quiet(args.quiet_wait)
    queue = measure_queue(dataset, client, requests=args.requests, warmup=args.warmup)
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

    _say(
        f"queue under gunicorn: {args.http_clients} clients, {args.http_warmup:g} s warm-up, "
        f"{args.http_seconds:g} s in {args.http_rounds} rounds"
    )
    name = settings.SESSION_COOKIE_NAME
    cookie = f"{name}={client.cookies[name].value}"
    connection.close()
    http = measure_queue_http(args, env, cookie)
    _say(
        f"  server p50 {percentile(http.phase.server, 50):.1f} ms, p95 {http.server_p95:.1f} ms, "
        f"p99 {percentile(http.phase.server, 99):.1f} ms; client p95 "
        f"{percentile(http.phase.latencies, 95):.1f} ms; {http.phase.per_second:.0f} req/s, "
        f"{http.phase.errors} errors"
    )
    for sample in http.phase.error_samples:
        _say(f"  failed: {sample}")
    if args.profile or not http.passed:
        _say(f"cProfile: 100 requests of GET {QUEUE_PATH} in process")
        queue.profile = profile_queue(client)

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
        http.passed
        and http.ok
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
        http=http,
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
