"""Benchmark the dispatcher's board and the crew's list: ``scripts/bench.sh --suite board``.

1. Make the board database hold ``--tickets`` tickets, ``--open`` of them open in the seven
   lanes and "referred" (reused when it already does; ``tests/bench/board_dataset.py``).
2. In this process (Django's test client, signed in): the SQL of every page, here and on a
   small database (``--small-tickets``, loaded and counted in a subprocess), which must be
   as many; a few timed requests per page split into SQL and the rest; EXPLAIN (ANALYZE,
   BUFFERS) of each lane's card and count query and of the crew list's query.
3. Under gunicorn with ``--clients`` clients carrying session cookies, alternating in
   ``--rounds`` rounds: the board (``GET /dispatch/``), the unchanged poll
   (``GET /dispatch/lanes/`` with ``If-None-Match``: every answer must be 304), the poll
   after a change (no ``If-None-Match``), and the crew list (``GET /crew/``) of a crew with
   about a hundred tickets and of the busiest crew. Server time is the ``Server-Timing``
   header the bench settings' middleware sets; the clients' latency is shown beside it.
4. Print the results and write them to ``tests/bench/results/board.md``.

Exits 1 when a p95 misses its target (board ≤ 50 ms, unchanged poll ≤ 10 ms, crew list
≤ 30 ms, server time), a query count differs between the two databases, a lane's query
reads the ticket table from end to end, or a request failed.
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
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/callcentre_bench_board"
# Requests per page timed in process (split into SQL and the rest), after as many warm-ups.
IN_PROCESS_REQUESTS = 40


@dataclass(frozen=True)
class Page:
    """One kind of request the benchmark makes."""

    name: str
    label: str
    path: str
    user: str  # dispatcher, light (leader of the light crew) or busy (of the busiest crew)
    status: int  # every answer must have it
    target_ms: float | None = None  # p95 server time, when the issue sets one
    conditional: bool = False  # sends If-None-Match with the ETag of its previous answer
    # The board's version moves before each request, as a change does: the lanes are drawn,
    # none come from those kept for the version (``dispatch.board.board_lanes_drawn``).
    fresh: bool = False


PAGES = [
    Page("board", "board, first page", "/dispatch/", "dispatcher", 200, 50.0),
    Page(
        "board-drawn",
        "board, first page after a change",
        "/dispatch/",
        "dispatcher",
        200,
        fresh=True,
    ),
    Page("unchanged", "poll, unchanged (304)", "/dispatch/lanes/", "dispatcher", 304, 10.0, True),
    Page("changed", "poll after a change (200)", "/dispatch/lanes/", "dispatcher", 200, fresh=True),
    Page("crew", "crew list, light crew", "/crew/", "light", 200, 30.0),
    Page("crew-busy", "crew list, busiest crew", "/crew/", "busy", 200),
]
# Pages whose SQL is counted on both databases.
COUNTED = ["board", "board-drawn", "unchanged", "changed", "crew", "crew-busy"]


def _move_version() -> None:
    """Move the board's version as a ticket change does, in the cache the server reads."""
    from uuid import uuid4

    from django.core.cache import caches

    from dispatch.board import _KEY

    caches["shared"].set(_KEY, uuid4().hex, timeout=None)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/bench.sh --suite board",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument("--suite", default="board", help=argparse.SUPPRESS)
    add = parser.add_argument
    add("--tickets", type=int, default=1_000_000, help="tickets (%(default)s)")
    add("--open", type=int, default=100_000, help="open tickets among them (%(default)s)")
    add(
        "--light-open",
        type=int,
        default=100,
        help="tickets in the list of the crew whose leader is measured (%(default)s)",
    )
    add("--days", type=int, default=90, help="days the tickets spread over (%(default)s)")
    add("--small-tickets", type=int, default=20_000, help="the small database (%(default)s)")
    add("--small-open", type=int, default=5_000, help="its open tickets (%(default)s)")
    add("--seconds", type=float, default=8, help="measured seconds per page (%(default)s)")
    add("--rounds", type=int, default=2, help="alternating rounds (%(default)s)")
    add("--warmup", type=float, default=2, help="unmeasured seconds first (%(default)s)")
    add("--clients", type=int, default=2, help="concurrent HTTP clients (%(default)s)")
    add("--workers", type=int, default=2, help="gunicorn sync workers (%(default)s)")
    add(
        "--cache-url",
        default=os.environ.get("BENCH_BOARD_CACHE_URL", ""),
        help="CACHE_URL for the shared cache holding the board's version, e.g.\n"
        "redis://127.0.0.1:6379/5; empty: the file cache, in var/bench-board (%(default)r)",
    )
    add(
        "--quiet-wait",
        type=float,
        default=20,
        help="before each round, wait up to this many seconds for other work on the machine\n"
        "to use under a quarter of a core (%(default)s)",
    )
    add(
        "--profile",
        action="store_true",
        help="cProfile the board and try what would help (done anyway when a page fails)",
    )
    add("--fresh", action="store_true", help="drop and reload the database even if reusable")
    add(
        "--database-url",
        default=os.environ.get("BENCH_BOARD_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="the board database, dropped and recreated; its name must contain 'bench'; the\n"
        "small one is named after it with _small (BENCH_BOARD_DATABASE_URL or %(default)s)",
    )
    add("--output", type=Path, help="where to write the results (tests/bench/results/board.md)")
    add("--counts-only", type=Path, help=argparse.SUPPRESS)  # the small database's subprocess
    return parser


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.output is None:
        args.output = RESULTS / "board.md"
    if "bench" not in urlparse(args.database_url).path:
        parser.error("--database-url must name a database with 'bench' in it: it is dropped")
    if args.open > args.tickets or args.small_open > args.small_tickets:
        parser.error("there cannot be more open tickets than tickets")
    return args


def _environment(args: argparse.Namespace) -> dict[str, str]:
    """The ticket suite's environment, with the files of this suite (the board's version in
    the file cache, above all) in a folder of its own, so no other process moves it."""
    from tests.bench.run import _environment as bench_environment

    var = ROOT / "var" / "bench-board"
    (var / "static").mkdir(parents=True, exist_ok=True)
    os.environ["VAR_DIR"] = str(var)
    if args.cache_url:
        os.environ["CACHE_URL"] = args.cache_url
    else:
        os.environ.pop("CACHE_URL", None)
    return bench_environment(args)


def _say(message: str) -> None:
    print(f"[bench board {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def _quiet(max_seconds: float) -> None:
    from tests.bench.load import wait_quietly

    wait_quietly(max_seconds, say=_say)


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (as ``tests.bench.load`` computes it)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(1, round(pct / 100 * len(ordered))) - 1]


def _dataset_prepare(args, *, tickets: int, open_tickets: int):
    from tests.bench.board_dataset import board_dataset_prepare

    return board_dataset_prepare(
        tickets=tickets,
        open_tickets=open_tickets,
        light_open=args.light_open,
        days=args.days,
        fresh=args.fresh,
        log=_say,
    )


# -- in process ----------------------------------------------------------------------------


def signed_in_clients(dataset) -> dict[str, object]:
    from django.test import Client

    from staffing.models import User

    clients = {}
    for name, pk in [
        ("dispatcher", dataset.dispatcher_id),
        ("light", dataset.light_leader_id),
        ("busy", dataset.busy_leader_id),
    ]:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(User.objects.get(pk=pk))
        clients[name] = client
    return clients


def _request(clients: dict, page: Page, etag: str | None = None):
    headers = {"If-None-Match": etag} if page.conditional and etag else {}
    if page.fresh:
        _move_version()
    response = clients[page.user].get(page.path, headers=headers)
    if response.status_code != page.status:
        raise RuntimeError(
            f"GET {page.path} as {page.user} answered {response.status_code}, "
            f"not {page.status}: {response.content[:300]!r}"
        )
    return response


def _etag(clients: dict) -> str:
    return clients["dispatcher"].get("/dispatch/lanes/")["ETag"]


def query_counts(clients: dict) -> dict[str, list[str]]:
    """Return the SQL of one request of each counted page."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    pages = {page.name: page for page in PAGES}
    counts = {}
    for name in COUNTED:
        etag = _etag(clients)  # the pages after a change moved the version
        _request(clients, pages[name], etag)  # warm: the first request of a user differs
        with CaptureQueriesContext(connection) as captured:
            _request(clients, pages[name], etag)
        counts[name] = [query["sql"] for query in captured]
    return counts


class SqlMeter:
    """An execute wrapper: counts the queries and the seconds spent in them."""

    def __init__(self) -> None:
        self.queries, self.seconds = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


@dataclass
class InProcess:
    page: str
    wall_ms: list[float]
    cpu_ms: list[float]  # this thread's CPU time: less shaken by other work than wall time
    sql_ms: list[float]
    queries: int


def time_in_process(clients: dict, requests: int, pages: list[Page] = PAGES) -> list[InProcess]:
    """Time ``requests`` requests of each page in this process: wall, CPU and SQL time."""
    from django.db import connection

    results = []
    for page in pages:
        etag = _etag(clients)
        for _ in range(requests):
            _request(clients, page, etag)
        wall, cpu, sql, queries = [], [], [], 0
        for _ in range(requests):
            meter = SqlMeter()
            began, began_cpu = time.perf_counter(), time.thread_time()
            with connection.execute_wrapper(meter):
                _request(clients, page, etag)
            cpu.append((time.thread_time() - began_cpu) * 1000)
            wall.append((time.perf_counter() - began) * 1000)
            sql.append(meter.seconds * 1000)
            queries = meter.queries
        results.append(InProcess(page.name, wall, cpu, sql, queries))
    return results


@dataclass
class Step:
    label: str
    wall_ms: float  # medians
    cpu_ms: float
    sql_ms: float


def _median_of(step, times: int = 20) -> Step:
    """Median wall, CPU and SQL milliseconds of ``step()``, after one call unmeasured."""
    from django.db import connection

    step()
    wall, cpu, sql = [], [], []
    for _ in range(times):
        meter = SqlMeter()
        began, began_cpu = time.perf_counter(), time.thread_time()
        with connection.execute_wrapper(meter):
            step()
        cpu.append((time.thread_time() - began_cpu) * 1000)
        wall.append((time.perf_counter() - began) * 1000)
        sql.append(meter.seconds * 1000)
    return Step("", statistics.median(wall), statistics.median(cpu), statistics.median(sql))


def _lanes_request(dataset):
    from django.test import RequestFactory

    from staffing.models import User

    request = RequestFactory(HTTP_HOST="127.0.0.1").get("/dispatch/lanes/")
    request.user = User.objects.get(pk=dataset.dispatcher_id)
    return request


def board_steps(dataset) -> list[Step]:
    """Time the steps of the board's lanes apart, in this process, as ``_lanes_html`` takes
    them: the cards and counts (``board_lanes``), their names, the skills on duty, each
    card's values, and the Jinja2 template."""
    from django.template import engines
    from django.utils import timezone

    from dispatch.cards import lane_cards
    from dispatch.selectors import BoardFilters, board_lanes, card_names, on_duty_skill_ids

    user = _lanes_request(dataset).user
    now = timezone.now()
    lanes = board_lanes(user=user, filters=BoardFilters(), now=now)
    names, skills = card_names(lanes=lanes), on_duty_skill_ids()
    shown = lane_cards(lanes, names=names, skills_on_duty=skills, now=now)
    template = engines["jinja2"].get_template("dispatch/_lanes.html")
    steps = [
        (
            "`board_lanes`: every lane's cards, the full lanes' counts",
            lambda: board_lanes(user=user, filters=BoardFilters(), now=now),
        ),
        ("`card_names`: the names on the cards", lambda: card_names(lanes=lanes)),
        ("`on_duty_skill_ids`", on_duty_skill_ids),
        (
            "`lane_cards`: each card's values",
            lambda: lane_cards(lanes, names=names, skills_on_duty=skills, now=now),
        ),
        (
            "render `_lanes.html` (Jinja2)",
            lambda: template.render({"lanes": shown, "no_tickets": ""}),
        ),
    ]
    return [replace(_median_of(step), label=label) for label, step in steps]


def profile(clients: dict, page: Page, requests: int = 60, top: int = 18) -> str:
    """cProfile ``requests`` requests of ``page``; return the top functions by own time."""
    etag = _etag(clients)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        _request(clients, page, etag)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    text = out.getvalue()
    body = text[text.find("   ncalls") :] if "   ncalls" in text else text
    return f"{requests} requests of {page.path}\n" + body.replace(str(ROOT) + "/", "").rstrip()


# -- plans ---------------------------------------------------------------------------------


@dataclass
class Plan:
    label: str
    kind: str  # cards, count or list
    nodes: list[str]  # every node of the plan, top down
    scan: str  # the node that reads tickets_ticket
    rows_read: int  # rows that node returned (before the sort and the limit)
    rows: int  # rows the query returned
    sort: str
    execution_ms: float
    planning_ms: float
    buffers: str
    plan: str = field(repr=False)

    @property
    def index(self) -> str:
        """The index the scan of tickets_ticket reads (a bitmap scan's is on its child)."""
        found = re.search(r"using (\S+)", self.scan)
        if found:
            return found.group(1)
        if "Bitmap Heap Scan" in self.scan:
            child = re.search(r"Bitmap Index Scan on (\S+)", self.plan)
            return child.group(1) if child else ""
        return ""

    @property
    def access(self) -> str:
        """The scan of tickets_ticket and the index it reads."""
        if not self.index or self.index in self.scan:
            return self.scan
        return f"{self.scan} ({self.index})"

    @property
    def ok(self) -> bool:
        """No full read of the ticket table; the lanes read a lane's partial index, a
        milestone's or the (state, grade) index, the crew list any index."""
        if "Seq Scan on tickets_ticket" in self.plan:
            return False
        if self.kind == "list":
            return bool(self.index)
        # Every scan of the ticket table, each lane's in a query of all lanes.
        indexes = re.findall(
            r"(?:Scan using (\S+) on tickets_ticket|Bitmap Index Scan on (\S+))", self.plan
        )
        allowed = re.compile(r"ticket_state_grade_idx|ticket_lane_\w+_idx|ticket_\w+_overdue_idx")
        return bool(indexes) and all(allowed.fullmatch(a or b) for a, b in indexes)


_NODE = re.compile(r"^\s*(?:->\s*)?([A-Z][^(]*?)\s+\(cost=")


def explain(label: str, kind: str, sql: str) -> Plan:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        text = "\n".join(row[0] for row in cursor.fetchall())
    lines = text.splitlines()
    nodes = [m.group(1) for line in lines if (m := _NODE.match(line))]
    scan_at = next(
        (n for n, line in enumerate(lines) if " on tickets_ticket" in line and "Scan" in line), 0
    )
    scan_line = lines[scan_at]
    scan = _NODE.match(scan_line).group(1) if _NODE.match(scan_line) else scan_line.strip()
    read = re.search(r"actual time=[\d.]+\.\.[\d.]+ rows=(\d+) loops=(\d+)", scan_line)
    returned = re.search(r"actual time=[\d.]+\.\.[\d.]+ rows=(\d+)", lines[0])
    sort = re.search(r"Sort Method: ([^:]+?)\s+Memory", text)
    execution = re.search(r"Execution Time: ([\d.]+) ms", text)
    planning = re.search(r"Planning Time: ([\d.]+) ms", text)
    buffers = re.search(r"Buffers: (.*)", text)
    return Plan(
        label=label,
        kind=kind,
        nodes=nodes,
        scan=scan,
        rows_read=int(read.group(1)) * int(read.group(2)) if read else -1,
        rows=int(returned.group(1)) if returned else -1,
        sort=sort.group(1) if sort else "",
        execution_ms=float(execution.group(1)) if execution else float("nan"),
        planning_ms=float(planning.group(1)) if planning else float("nan"),
        buffers=buffers.group(1) if buffers else "",
        plan=text,
    )


# How Django writes a combined query, and the count ``board_lanes`` wraps around one.
_UNION = ") UNION ALL ("
_COUNTS = re.compile(r"^SELECT state, COUNT\(\*\) FROM \((.*)\) AS capped GROUP BY state$", re.S)
_LANE_STATE = re.compile(r'"tickets_ticket"\."state" = \'(\w+)\'')


def _union_parts(sql: str) -> list[str]:
    """Split ``(…) UNION ALL (…)`` into its queries."""
    return sql[1:-1].split(_UNION) if sql.startswith("(") and _UNION in sql else [sql]


def lane_plans(dataset) -> list[Plan]:
    """EXPLAIN the queries ``board_lanes`` makes as the dispatcher sees them: the cards of
    all lanes and the counts, whole and lane by lane, and the crew list's query."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from dispatch.models import Crew
    from dispatch.selectors import BoardFilters, board_lanes, crew_of_user, crew_ticket_list
    from staffing.models import User

    dispatcher = User.objects.get(pk=dataset.dispatcher_id)
    with CaptureQueriesContext(connection) as captured:
        board_lanes(user=dispatcher, filters=BoardFilters(), now=timezone.now())
    plans = []
    for query in captured:
        sql = query["sql"]
        counts = _COUNTS.match(sql)
        if not (sql.startswith("(SELECT") or counts) or not _LANE_STATE.search(sql):
            continue
        kind = "count" if counts else "cards"
        plans.append(explain("all lanes", kind, sql))
        for part in _union_parts(counts.group(1) if counts else sql):
            state = _LANE_STATE.search(part).group(1)
            lane_sql = f"SELECT COUNT(*) FROM ({part}) AS capped" if counts else part
            plans.append(explain(state, kind, lane_sql))
    for label, pk in [("light crew", dataset.light_leader_id), ("busiest crew", None)]:
        user = User.objects.get(pk=pk or dataset.busy_leader_id)
        crew: Crew = crew_of_user(user=user)
        with CaptureQueriesContext(connection) as captured:
            crew_ticket_list(crew=crew)
        plans.append(explain(label, "list", captured[-1]["sql"]))
    return plans


# -- small database ------------------------------------------------------------------------


def small_counts(args, env: dict[str, str]) -> dict:
    """Load (or reuse) the small database and count the SQL of each page there, in a
    subprocess: Django is set up on one database per process."""
    url = urlparse(args.database_url)
    small_url = url._replace(path=url.path + "_small").geturl()
    out = RESULTS / "board-small-counts.tmp"
    command = [
        sys.executable,
        "-m",
        "tests.bench.run",
        "--suite",
        "board",
        "--counts-only",
        str(out),
        "--tickets",
        str(args.small_tickets),
        "--open",
        str(args.small_open),
        "--light-open",
        str(args.light_open),
        "--days",
        str(args.days),
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
    dataset = _dataset_prepare(args, tickets=args.tickets, open_tickets=args.open)
    counts = query_counts(signed_in_clients(dataset))
    args.counts_only.write_text(
        json.dumps(
            {
                "tickets": dataset.tickets,
                "open": dataset.open_tickets,
                "lanes": dataset.lanes,
                "light_crew_open": dataset.light_crew_open,
                "busy_crew_open": dataset.busy_crew_open,
                "counts": counts,
            }
        )
    )
    return 0


# -- gunicorn ------------------------------------------------------------------------------


@dataclass
class HttpPhase:
    page: Page
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list, repr=False)  # ms, seen by the client
    server: list[float] = field(default_factory=list, repr=False)  # ms, Server-Timing
    bytes: list[int] = field(default_factory=list, repr=False)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    cores: list[dict[str, float]] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def mean_cores(self, group: str) -> float:
        return statistics.fmean(c[group] for c in self.cores) if self.cores else float("nan")


def _http_round(
    phase: HttpPhase,
    *,
    base_url: str,
    cookie: str,
    seconds: float,
    warmup: float,
    web_master: int,
    database: str,
) -> None:
    import httpx

    from tests.bench.load import SERVER_TIMING, CpuMeter, process_groups

    page = phase.page
    measuring, stop = threading.Event(), threading.Event()
    lock = threading.Lock()

    def client() -> None:
        latencies, server, sizes, failures = [], [], [], []
        with httpx.Client(base_url=base_url, headers={"Cookie": cookie}, timeout=30) as http:
            etag = http.get(page.path).headers.get("ETag") if page.conditional else None
            while not stop.is_set():
                headers = {"If-None-Match": etag} if etag else {}
                if page.fresh:
                    _move_version()  # before the clock starts: the client's work, not the server's
                measured = measuring.is_set()
                began = time.perf_counter()
                try:
                    response = http.get(page.path, headers=headers)
                    elapsed = (time.perf_counter() - began) * 1000
                    etag = response.headers.get("ETag", etag) if page.conditional else None
                    timing = SERVER_TIMING.search(response.headers.get("Server-Timing", ""))
                    failure = (
                        None
                        if response.status_code == page.status and timing
                        else f"{response.status_code} {page.path}: "
                        f"{response.headers.get('Server-Timing', 'no Server-Timing')} "
                        f"{response.text[:100]!r}"
                    )
                except httpx.HTTPError as error:
                    failure = f"{type(error).__name__}: {error}"
                if failure:
                    failures.append(failure)
                elif measured and not stop.is_set():
                    latencies.append(elapsed)
                    server.append(float(timing.group(1)))
                    sizes.append(len(response.content))
        with lock:
            phase.latencies += latencies
            phase.server += server
            phase.bytes += sizes
            phase.errors += len(failures)
            phase.error_samples = sorted({*phase.error_samples, *failures})[:3]

    threads = [threading.Thread(target=client) for _ in range(phase.clients)]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    meter = CpuMeter(lambda: process_groups(web_master=web_master, database=database))
    meter.start()
    measuring.set()
    time.sleep(seconds)
    stop.set()
    phase.cores.append(meter.stop())
    phase.seconds += seconds
    for thread in threads:
        thread.join()


def measure_http(args, env: dict[str, str], cookies: dict[str, str]) -> list[HttpPhase]:
    """Every page under gunicorn, the pages alternating in ``--rounds`` rounds."""
    from tests.bench.run import gunicorn

    RESULTS.mkdir(exist_ok=True)
    database = urlparse(args.database_url).path.lstrip("/")
    phases = [HttpPhase(page=page, clients=args.clients) for page in PAGES]
    with gunicorn(workers=args.workers, env=env, log=RESULTS / "gunicorn-board.log") as (
        url,
        pid,
    ):
        _say(f"gunicorn at {url} ({args.workers} sync workers), {args.clients} clients")
        for number in range(args.rounds):
            for phase in phases:
                _quiet(args.quiet_wait)
                before = len(phase.server)
                _http_round(
                    phase,
                    base_url=url,
                    cookie=cookies[phase.page.user],
                    seconds=args.seconds / args.rounds,
                    warmup=args.warmup if number == 0 else 1.0,
                    web_master=pid,
                    database=database,
                )
                done = phase.server[before:]
                _say(
                    f"  {phase.page.name:<10} round {number + 1}/{args.rounds}: "
                    f"{len(done)} requests, server p95 {percentile(done, 95):.1f} ms, "
                    f"client p95 {percentile(phase.latencies[before:], 95):.1f} ms, "
                    f"{phase.errors} errors"
                )
    return phases


# -- verdict and report --------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    p95: dict[str, float]  # page name: server p95
    missed: list[str]  # pages over their target
    counts_equal: dict[str, bool]
    plans_ok: bool
    http_errors: int

    @property
    def passed(self) -> bool:
        return (
            not self.missed
            and all(self.counts_equal.values())
            and self.plans_ok
            and self.http_errors == 0
        )


def verdict(phases: list[HttpPhase], counts: dict, small: dict, plans: list[Plan]) -> Verdict:
    p95 = {phase.page.name: percentile(phase.server, 95) for phase in phases}
    missed = [
        phase.page.name
        for phase in phases
        if phase.page.target_ms is not None
        and not (phase.server and p95[phase.page.name] <= phase.page.target_ms)
    ]
    return Verdict(
        p95=p95,
        missed=missed,
        counts_equal={name: len(counts[name]) == len(small["counts"][name]) for name in COUNTED},
        plans_ok=all(plan.ok for plan in plans),
        http_errors=sum(phase.errors for phase in phases),
    )


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _table_of(sql: str) -> str:
    if sql.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
        return sql.split()[0]
    found = re.search(r'FROM "([^"]+)"', sql)
    return found.group(1) if found else sql.split()[0]


def _query_summary(queries: list[str]) -> str:
    parts: list[str] = []
    for sql in queries:
        table = _table_of(sql)
        lanes = len(_LANE_STATE.findall(sql))
        if table == "tickets_ticket" and lanes:
            what = "counts" if _COUNTS.match(sql) else "cards"
            lane = f"{lanes} lanes'" if lanes > 1 else _LANE_STATE.search(sql)[1]
            table = f"{lane} {what}"
        parts.append(table)
    return ", ".join(parts)


def render(
    *,
    started: datetime,
    elapsed: float,
    command: str,
    postgres: str,
    shared_buffers: str,
    dataset,
    small: dict,
    args,
    phases: list[HttpPhase],
    in_process: list[InProcess],
    steps: list[Step],
    counts: dict[str, list[str]],
    plans: list[Plan],
    profiles: dict[str, str],
    result: Verdict,
) -> str:
    from dispatch.selectors import _LANE_ORDER, LANE_SIZE, LANES
    from tests.bench.report import BUSY_CORES, machine

    cores, cpu, memory, kernel = machine()
    loaded = (
        f"reused (loaded {dataset.loaded_at:%Y-%m-%d %H:%M} UTC in {dataset.load_seconds:.0f} s)"
        if dataset.reused
        else f"loaded in this run in {dataset.load_seconds:.0f} s"
    )
    lanes = ", ".join(f"{state} {n:,}" for state, n in dataset.lanes.items())
    cache = args.cache_url or "file cache (`var/bench-board/cache`)"
    lines = [
        "# Board benchmark: the dispatcher's board and the crew's list",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {started:%Y-%m-%d %H:%M} UTC |",
        f"| command | `{command}` |",
        f"| machine | {cores} cores ({cpu}), {memory:.1f} GiB RAM, Linux {kernel} |",
        f"| PostgreSQL | {postgres}, shared_buffers {shared_buffers} |",
        f"| database | {dataset.tickets:,} tickets over {dataset.days} days, "
        f"{dataset.open_tickets:,} open ({lanes}); {dataset.crews} crews, "
        f"{dataset.crews_on_duty} on duty; tickets_ticket {dataset.table_size} with indexes; "
        f"{loaded} |",
        f"| crews measured | {dataset.light_crew}: {dataset.light_crew_open} tickets in its list "
        f"(with it or resolved); the busiest, {dataset.busy_crew}: {dataset.busy_crew_open:,} |",
        f"| small database | {small['tickets']:,} tickets, {small['open']:,} open "
        f"(every lane over {LANE_SIZE}: "
        f"{min(n for s, n in small['lanes'].items() if s != 'referred'):,} in the smallest) |",
        f"| server | gunicorn, {args.workers} sync workers, `tests.bench.settings` (`DEBUG` off, "
        f"the product's middleware after a `Server-Timing` one); board version in the {cache} |",
        f"| clients | {args.clients} keep-alive `httpx` clients with session cookies, "
        f"{args.seconds:g} s per page in {args.rounds} alternating rounds |",
        f"| run took | {elapsed / 60:.1f} min |",
        "",
        "## Verdict",
        "",
    ]
    for phase in phases:
        if phase.page.target_ms is None:
            continue
        value = result.p95[phase.page.name]
        extra = ""
        if phase.page.name == "unchanged":
            extra = f"; {len(phase.server):,} answers, every one 304" if not phase.errors else ""
        lines.append(
            f"- {phase.page.label} p95 server time: **{value:.1f} ms** "
            f"(target ≤ {phase.page.target_ms:g} ms{extra}): "
            f"**{_mark(phase.page.name not in result.missed)}**"
        )
    equal = ", ".join(
        f"{name} {len(counts[name])}/{len(small['counts'][name])}" for name in COUNTED
    )
    lines += [
        f"- SQL queries per request, {dataset.tickets:,} / {small['tickets']:,} tickets: "
        f"{equal}: **{_mark(all(result.counts_equal.values()))}**",
        "- every lane's cards and count read a lane's, a milestone's or the (state, grade) index, "
        f"the crew list an index, and nothing reads the whole ticket table: "
        f"**{_mark(result.plans_ok)}**",
        f"- failed requests: {result.http_errors}",
        "",
        f"**{'PASS' if result.passed else 'FAIL'}**",
        "",
        "## Under gunicorn",
        "",
        "Server time is the `Server-Timing: app;dur=…` header (all of Django's middleware, "
        "the view and the template, not gunicorn's parsing); client time is what the client "
        "waited on 127.0.0.1.",
        "",
        "| page | requests | req/s | server p50 | **p95** | p99 ms | client p50 | p95 | p99 ms "
        "| KiB | target | |",
        "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --- |",
    ]
    for phase in phases:
        s, c = phase.server, phase.latencies
        target = phase.page.target_ms
        lines.append(
            f"| {phase.page.label} `{phase.page.path}` | {len(s):,} | {phase.per_second:.0f} "
            f"| {percentile(s, 50):.1f} | **{percentile(s, 95):.1f}** | {percentile(s, 99):.1f} "
            f"| {percentile(c, 50):.1f} | {percentile(c, 95):.1f} | {percentile(c, 99):.1f} "
            f"| {statistics.fmean(phase.bytes) / 1024 if phase.bytes else 0:.0f} "
            f"| {f'≤ {target:g}' if target else ''} "
            f"| {_mark(phase.page.name not in result.missed) if target else ''} |"
        )
    lines += [
        "",
        "CPU cores used while measuring (mean of the rounds):",
        "",
        "| page | client | web | PostgreSQL | other |",
        "| --- | --: | --: | --: | --: |",
    ]
    for phase in phases:
        lines.append(
            f"| {phase.page.name} | {phase.mean_cores('client'):.2f} "
            f"| {phase.mean_cores('web'):.2f} | {phase.mean_cores('postgres'):.2f} "
            f"| {phase.mean_cores('other'):.2f} |"
        )
    busy = [p.page.name for p in phases if p.mean_cores("other") > BUSY_CORES]
    if busy:
        lines += [
            "",
            f"> Caution: other work used over {BUSY_CORES} of a core during {', '.join(busy)}.",
        ]
    errors = [f"- {p.page.name}: {sample}" for p in phases for sample in p.error_samples]
    if errors:
        lines += ["", "Failed requests, for example:", "", *errors]
    lines += [
        "",
        "## In process",
        "",
        f"{IN_PROCESS_REQUESTS} requests per page through Django's test client after as many "
        "warm-ups, one at a time: wall time, this thread's CPU time (Python: ORM, template, "
        "middleware) and the time spent in `cursor.execute` (round trips to PostgreSQL).",
        "",
        "| page | p50 ms | p95 ms | CPU ms (median) | SQL ms (median) | queries |",
        "| --- | --: | --: | --: | --: | --: |",
    ]
    for measured in in_process:
        lines.append(
            f"| {measured.page} | {percentile(measured.wall_ms, 50):.1f} "
            f"| {percentile(measured.wall_ms, 95):.1f} | {statistics.median(measured.cpu_ms):.1f} "
            f"| {statistics.median(measured.sql_ms):.1f} | {measured.queries} |"
        )
    lines += [
        "",
        "The board's lanes, step by step (medians of 20):",
        "",
        "| step | wall ms | CPU ms | SQL ms |",
        "| --- | --: | --: | --: |",
        *(
            f"| {step.label} | {step.wall_ms:.1f} | {step.cpu_ms:.1f} | {step.sql_ms:.1f} |"
            for step in steps
        ),
    ]
    lines += [
        "",
        "## SQL per request",
        "",
        f"| page | {dataset.tickets:,} tickets | {small['tickets']:,} tickets | equal | "
        "the queries (1M) |",
        "| --- | --: | --: | --- | --- |",
    ]
    for name in COUNTED:
        lines.append(
            f"| {name} | {len(counts[name])} | {len(small['counts'][name])} "
            f"| {_mark(result.counts_equal[name])} | {_query_summary(counts[name])} |"
        )
    lines += [
        "",
        f"The lanes' cards come in one query (the {LANE_SIZE} first of each lane, in a "
        "`UNION ALL`), and the full lanes are counted in a second, each up to "
        "`LANE_COUNT_CAP`; the names on the cards come in a third. A board with no full lane "
        "skips the count: one query fewer, never more.",
        "",
        "## Plans",
        "",
        "EXPLAIN (ANALYZE, BUFFERS) of the queries `board_lanes` makes for the dispatcher: "
        "the cards of all lanes and the capped counts, each whole (*all lanes*: its scans "
        "are the lanes' below) and then each lane's part alone (its cards, ordered by its "
        "deadline; its count), and of `crew_ticket_list`. *Read* is the rows the scan of "
        "`tickets_ticket` returned, before the sort and the limit (for a whole query, its "
        "first lane's).",
        "",
        "| lane | query | order | scan of tickets_ticket | read | rows | sort | plan ms "
        "| exec ms | buffers | |",
        "| --- | --- | --- | --- | --: | --: | --- | --: | --: | --- | --- |",
    ]
    orders = {str(state.value): _LANE_ORDER[state] for state in LANES}
    for plan in plans:
        order = orders.get(plan.label, "urgency, -received_at") if plan.kind == "list" else ""
        if plan.kind == "cards":
            order = orders.get(plan.label, "each lane's")
        lines.append(
            f"| {plan.label} | {plan.kind} | {order} | {plan.access} | {plan.rows_read:,} "
            f"| {plan.rows:,} | {plan.sort} | {plan.planning_ms:.2f} | {plan.execution_ms:.2f} "
            f"| {plan.buffers} | {_mark(plan.ok)} |"
        )
    lines += ["", "Node types, top down:", ""]
    for plan in plans:
        lines.append(f"- {plan.label} {plan.kind}: {' → '.join(plan.nodes)}")
    slow = max(
        (p for p in plans if p.kind == "cards" and p.label != "all lanes"),
        key=lambda p: p.execution_ms,
    )
    lines += [
        "",
        f"<details><summary>The slowest card query ({slow.label})</summary>",
        "",
        "```",
        slow.plan,
        "```",
        "",
        "</details>",
    ]
    for label, text in profiles.items():
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
    if args.counts_only:
        return _counts_only(args)
    from django.conf import settings
    from django.db import connection

    dataset = _dataset_prepare(args, tickets=args.tickets, open_tickets=args.open)
    _say(
        f"{dataset.tickets:,} tickets, {dataset.open_tickets:,} open: "
        + ", ".join(f"{state} {n:,}" for state, n in dataset.lanes.items())
    )
    _say(
        f"crew lists: {dataset.light_crew} {dataset.light_crew_open}, busiest "
        f"{dataset.busy_crew} {dataset.busy_crew_open:,}"
    )
    clients = signed_in_clients(dataset)

    _say("SQL per request")
    counts = query_counts(clients)
    connection.close()
    small = small_counts(args, env)
    for name in COUNTED:
        _say(
            f"  {name:<10} {len(counts[name]):>2} queries; {len(small['counts'][name]):>2} "
            f"on {small['tickets']:,} tickets"
        )

    _say("EXPLAIN (ANALYZE, BUFFERS) of the lanes and the crew list")
    plans = lane_plans(dataset)
    for plan in plans:
        _say(
            f"  {plan.label:<12} {plan.kind:<5} {plan.execution_ms:7.2f} ms "
            f"(planning {plan.planning_ms:.2f}), read {plan.rows_read:>6,}: {plan.access}"
        )

    _say(f"in process: {IN_PROCESS_REQUESTS} requests per page")
    in_process = time_in_process(clients, IN_PROCESS_REQUESTS)
    for measured in in_process:
        _say(
            f"  {measured.page:<10} p50 {percentile(measured.wall_ms, 50):.1f} ms, "
            f"CPU {statistics.median(measured.cpu_ms):.1f} ms, "
            f"SQL {statistics.median(measured.sql_ms):.1f} ms, {measured.queries} queries"
        )
    steps = board_steps(dataset)
    for step in steps:
        _say(
            f"  {step.label:<24} {step.wall_ms:.1f} ms, CPU {step.cpu_ms:.1f} ms, "
            f"SQL {step.sql_ms:.1f} ms"
        )

    cookies = {
        name: f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        for name, client in clients.items()
    }
    connection.close()
    phases = measure_http(args, env, cookies)

    result = verdict(phases, counts, small, plans)
    # A page that misses its target is profiled, and a board that does is tried again with
    # an index per lane.
    profiles = {}
    for page in PAGES:
        if page.name in result.missed or (args.profile and page.name == "board"):
            _say(f"cProfile: {page.name}")
            profiles[page.label] = profile(clients, page)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('shared_buffers')"
        )
        postgres, shared_buffers = cursor.fetchone()
    page = render(
        started=started,
        elapsed=time.monotonic() - clock,
        command=os.environ.get("BENCH_COMMAND")
        or shlex.join(["python", "-m", "tests.bench.run", "--suite", "board", *(argv or [])]),
        postgres=postgres,
        shared_buffers=shared_buffers,
        dataset=dataset,
        small=small,
        args=args,
        phases=phases,
        in_process=in_process,
        steps=steps,
        counts=counts,
        plans=plans,
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
