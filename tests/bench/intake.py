"""Benchmark call intake reads: ``scripts/bench.sh --suite intake`` (``--help`` for flags).

1. Make the intake database hold ``--calls`` calls, half as many tickets, ``--callers``
   callers with their addresses and ``--faq`` FAQ entries (reused when it already does).
2. In this process, through Django's test client signed in as an agent: the caller panel
   (``GET /console/caller/?caller_phone=…``) for a mix of numbers and the FAQ search
   (``GET /console/faq/?faq_query=…``) for a mix of Chinese queries, alternating request by
   request, in ``--rounds`` rounds after a warm-up. Wall time, CPU time and SQL per request.
3. The SQL of one request for a heavy and a light caller (the count must not grow with
   history), and EXPLAIN (ANALYZE, BUFFERS) of the heavy caller's queries (no Seq Scan on
   calls, tickets, callers or addresses).
4. Under gunicorn with ``--http-clients`` clients: the same mixes over HTTP; the server's
   own time per request comes from its access log.
5. Print the results and write them to ``tests/bench/results/intake.md``.

Exits 1 when a p95 is over 30 ms, the query count grows with history, a plan reads a big
table from end to end, or a request failed.
"""

import argparse
import cProfile
import io
import itertools
import os
import pstats
import random
import re
import shlex
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/callcentre_bench_intake"
TARGET_P95_MS = 30.0
# Share (per cent) of each kind in the measured mixes.
CALLER_MIX = {"heavy": 20, "ordinary": 35, "one-call": 15, "unknown": 15, "invalid": 15}
FAQ_MIX = {"word": 40, "phrase": 30, "broad": 20, "rare": 10}
# The tables the screen pop must never read from end to end.
BIG_TABLES = ("callcentre_call", "tickets_ticket", "callcentre_caller", "callcentre_calleraddress")
HX = {"HX-Request": "true"}
ACCESS_FORMAT = "%({x-bench}i)s %(s)s %(D)s"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/bench.sh --suite intake",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument("--suite", default="intake", help=argparse.SUPPRESS)
    add = parser.add_argument
    add("--calls", type=int, default=1_000_000, help="calls; tickets are half (%(default)s)")
    add("--callers", type=int, default=200_000, help="distinct callers (%(default)s)")
    add("--faq", type=int, default=5_000, help="FAQ entries (%(default)s)")
    add("--days", type=int, default=90, help="days the calls spread over (%(default)s)")
    add("--requests", type=int, default=1000, help="measured requests per page (%(default)s)")
    add("--warmup", type=int, default=100, help="unmeasured requests per page (%(default)s)")
    add("--rounds", type=int, default=4, help="measured rounds (%(default)s)")
    add(
        "--http-seconds",
        type=float,
        default=8,
        help="measured seconds per page under gunicorn, in two rounds; 0 skips it (%(default)s)",
    )
    add("--http-clients", type=int, default=4, help="concurrent HTTP clients (%(default)s)")
    add("--workers", type=int, default=2, help="gunicorn sync workers (%(default)s)")
    add(
        "--quiet-wait",
        type=float,
        default=10,
        help="before each round, wait up to this many seconds for other work on the machine\n"
        "to use under a quarter of a core (%(default)s)",
    )
    add(
        "--profile",
        action="store_true",
        help="cProfile the slowest kind of each page (done anyway for a page that misses its\n"
        "target)",
    )
    add("--fresh", action="store_true", help="drop and reload the database even if reusable")
    add(
        "--database-url",
        default=os.environ.get("BENCH_INTAKE_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="the intake database, dropped and recreated; its name must contain 'bench'\n"
        "(BENCH_INTAKE_DATABASE_URL or %(default)s)",
    )
    add("--output", type=Path, help="where to write the results (tests/bench/results/intake.md)")
    return parser


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.output is None:
        args.output = RESULTS / "intake.md"
    if "bench" not in urlparse(args.database_url).path:
        parser.error("--database-url must name a database with 'bench' in it: it is dropped")
    if args.rounds < 1 or args.requests < args.rounds:
        parser.error("--requests must be at least --rounds, and --rounds at least 1")
    return args


@dataclass
class Measure:
    """One measured request."""

    page: str
    kind: str
    url: str
    ms: float  # wall time around the request
    cpu_ms: float  # CPU time of this thread meanwhile
    sql_ms: float  # time inside cursor.execute (round trips to PostgreSQL)
    queries: int
    round: int


@dataclass
class Round:
    number: int
    cores: dict[str, float]


@dataclass
class HttpPhase:
    page: str
    clients: int
    seconds: float
    latencies: list[float] = field(repr=False)  # seconds, measured by the client
    server: list[float] = field(repr=False)  # seconds, gunicorn's own request time
    errors: int
    error_samples: list[str]
    cores: dict[str, float]

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (as ``tests.bench.load`` computes it)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(1, round(pct / 100 * len(ordered))) - 1]


def _say(message: str) -> None:
    print(f"[bench intake {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def _quiet(max_seconds: float) -> None:
    from tests.bench.load import wait_quietly

    wait_quietly(max_seconds, say=_say)


# -- what is asked -------------------------------------------------------------------------


def _mix(kinds: dict[str, list[str]], shares: dict[str, int], count: int, seed: int):
    """Return ``count`` (kind, value) pairs in the given shares, each kind cycling through its
    values, shuffled the same way every run."""
    rng = random.Random(seed)
    total = sum(shares.values())
    pairs = []
    for kind, share in shares.items():
        values = list(kinds[kind])
        rng.shuffle(values)
        cycle = itertools.cycle(values)
        pairs += [(kind, next(cycle)) for _ in range(round(count * share / total))]
    rng.shuffle(pairs)
    pairs += pairs[: max(0, count - len(pairs))]  # what the rounding of the shares left out
    return pairs[:count]


def caller_url(typed: str) -> str:
    return "/console/caller/?" + urlencode({"caller_phone": typed})


def faq_url(query: str) -> str:
    return "/console/faq/?" + urlencode({"faq_query": query})


def _plans(dataset, count: int, seed: int) -> dict[str, list[tuple[str, str]]]:
    """(kind, url) per page: ``count`` of each."""
    from tests.bench.intake_faq import QUERIES

    numbers = {kind: [s.typed for s in samples] for kind, samples in dataset.samples.items()}
    return {
        "caller": [
            (kind, caller_url(typed)) for kind, typed in _mix(numbers, CALLER_MIX, count, seed)
        ],
        "faq": [(kind, faq_url(q)) for kind, q in _mix(QUERIES, FAQ_MIX, count, seed + 1)],
    }


# -- in process ----------------------------------------------------------------------------


class SqlMeter:
    """An execute wrapper: counts the queries and the seconds spent in them."""

    def __init__(self) -> None:
        self.queries = 0
        self.seconds = 0.0

    def reset(self) -> None:
        self.queries, self.seconds = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.queries += 1


def signed_in_client(agent_id: int):
    from django.test import Client

    from staffing.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(pk=agent_id))
    return client


def _get(client, url: str) -> None:
    response = client.get(url, headers=HX)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}: {response.content[:300]}")


def measure_in_process(
    client,
    plans: dict[str, list[tuple[str, str]]],
    *,
    warmup: dict[str, list[tuple[str, str]]],
    rounds: int,
    quiet: float,
) -> tuple[list[Measure], list[Round]]:
    """Request the pages in turn (caller, FAQ, caller, …) after the ``warmup`` requests;
    return every measured request and the CPU use of each round."""
    from django.db import connection

    from tests.bench.load import CpuMeter, process_groups

    database = connection.settings_dict["NAME"]
    for plan in warmup.values():  # templates, caches, the connection
        for _kind, url in plan:
            _get(client, url)
    meter = SqlMeter()
    measures: list[Measure] = []
    round_info: list[Round] = []
    count = min(len(plan) for plan in plans.values())
    bounds = [count * n // rounds for n in range(rounds + 1)]
    for number in range(rounds):
        _quiet(quiet)
        cpu = CpuMeter(lambda: process_groups(web_master=None, database=database))
        cpu.start()
        with connection.execute_wrapper(meter):
            for n in range(bounds[number], bounds[number + 1]):
                for page, plan in plans.items():
                    kind, url = plan[n]
                    meter.reset()
                    began_cpu = time.thread_time()
                    began = time.perf_counter()
                    response = client.get(url, headers=HX)
                    elapsed = time.perf_counter() - began
                    cpu_spent = time.thread_time() - began_cpu
                    if response.status_code != 200:
                        raise RuntimeError(f"GET {url} answered {response.status_code}")
                    measures.append(
                        Measure(
                            page=page,
                            kind=kind,
                            url=url,
                            ms=elapsed * 1000,
                            cpu_ms=cpu_spent * 1000,
                            sql_ms=meter.seconds * 1000,
                            queries=meter.queries,
                            round=number + 1,
                        )
                    )
        round_info.append(Round(number=number + 1, cores=cpu.stop()))
        done = [m for m in measures if m.round == number + 1]
        _say(
            f"round {number + 1}/{rounds}: "
            + ", ".join(
                f"{page} p50 {percentile([m.ms for m in done if m.page == page], 50):.1f} / "
                f"p95 {percentile([m.ms for m in done if m.page == page], 95):.1f} ms"
                for page in plans
            )
            + f"; other work {round_info[-1].cores['other']:.2f} cores"
        )
    return measures, round_info


# -- queries and plans ---------------------------------------------------------------------


@dataclass
class QueryCount:
    label: str
    url: str
    history: str
    queries: list[str]


def _table_of(sql: str) -> str:
    found = re.search(r'FROM "([^"]+)"', sql)
    return found.group(1) if found else sql.split()[0]


def query_counts(client, dataset) -> list[QueryCount]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    samples = dataset.samples
    heavy = sorted(samples["heavy"], key=lambda s: s.calls)
    ordinary = sorted(samples["ordinary"], key=lambda s: s.calls)
    cases = [
        ("heaviest caller", heavy[-1]),
        ("lightest heavy caller", heavy[0]),
        ("median ordinary caller", ordinary[len(ordinary) // 2]),
        ("one-call caller", samples["one-call"][0]),
        ("unknown number", samples["unknown"][0]),
        ("number being typed", samples["invalid"][6]),
    ]
    counts = []
    for label, sample in cases:
        url = caller_url(sample.typed)
        with CaptureQueriesContext(connection) as captured:
            _get(client, url)
        history = (
            f"{sample.calls:,} calls, {sample.tickets:,} tickets, {sample.addresses:,} addresses"
            if sample.phone
            else "—"
        )
        counts.append(QueryCount(label, url, history, [q["sql"] for q in captured]))
    for label, query in [
        ("FAQ, word", "水压"),
        ("FAQ, broad", "水"),
        ("FAQ, phrase", "停水后多久恢复供水"),
        ("FAQ, no match", "燃气泄漏"),
    ]:
        url = faq_url(query)
        with CaptureQueriesContext(connection) as captured:
            _get(client, url)
        counts.append(QueryCount(label, url, "", [q["sql"] for q in captured]))
    return counts


@dataclass
class Plan:
    label: str
    table: str
    scans: list[str]
    rows: int
    filtered: int  # rows the plan read and threw away ("Rows Removed by Filter")
    execution_ms: float
    buffers: str
    plan: str = field(repr=False)

    @property
    def full_scans(self) -> list[str]:
        return [scan for scan in self.scans if scan.startswith("Seq Scan") and _big(scan)]

    @property
    def ok(self) -> bool:
        return not self.full_scans


def _big(scan: str) -> bool:
    return any(re.search(rf"\bon {table}\b", scan) for table in BIG_TABLES)


_SCAN = re.compile(
    r"((?:Parallel )?(?:Seq Scan|Index Scan Backward|Index Scan|Index Only Scan|"
    r"Bitmap Heap Scan|Bitmap Index Scan)(?: using \S+)? on \S+)"
)


def explain(label: str, sql: str) -> Plan:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        text = "\n".join(row[0] for row in cursor.fetchall())
    rows = re.search(r"actual time=[\d.]+\.\.[\d.]+ rows=(\d+)", text)
    execution = re.search(r"Execution Time: ([\d.]+) ms", text)
    buffers = re.search(r"Buffers: (.*)", text)
    return Plan(
        label=label,
        table=_table_of(sql),
        scans=list(dict.fromkeys(_SCAN.findall(text))),
        rows=int(rows.group(1)) if rows else -1,
        filtered=sum(int(n) for n in re.findall(r"Rows Removed by Filter: (\d+)", text)),
        execution_ms=float(execution.group(1)) if execution else float("nan"),
        buffers=buffers.group(1) if buffers else "",
        plan=text,
    )


def plans_for(counts: list[QueryCount]) -> list[Plan]:
    """EXPLAIN the SELECTs of the heavy callers' panels (but the session's and the user's)
    and of two FAQ searches."""
    plans = []
    for count in counts:
        if count.label not in (
            "heaviest caller",
            "lightest heavy caller",
            "FAQ, word",
            "FAQ, broad",
        ):
            continue
        for sql in count.queries:
            if sql.startswith("SELECT") and _table_of(sql) not in (
                "django_session",
                "staffing_user",
            ):
                plans.append(explain(count.label, sql))
    return plans


# -- FAQ data checks -----------------------------------------------------------------------


def faq_found() -> dict[str, int]:
    """How many entries the search finds for each benchmark query (no limit)."""
    from callcentre.selectors import faq_search
    from tests.bench.intake_faq import QUERIES

    return {
        query: len(faq_search(query=query, limit=10**6))
        for queries in QUERIES.values()
        for query in queries
    }


def faq_holding() -> dict[str, int]:
    """How many published entries hold a term of each benchmark query in ``search_text``
    (what the search filtered on before its inverted index): the entries it should find."""
    from django.db.models import Q

    from callcentre.models import FaqEntry
    from callcentre.search import query_terms
    from tests.bench.intake_faq import QUERIES

    holding = {}
    for queries in QUERIES.values():
        for query in queries:
            words, _characters = query_terms(query)
            match = Q()
            for word in words:
                match |= Q(search_text__contains=word)
            holding[query] = FaqEntry.objects.filter(match, is_published=True).count()
    return holding


def faq_search_text_checked() -> int:
    """Return how many entries' ``search_text`` differs from what ``FaqEntry.save`` derives."""
    from callcentre.models import FaqEntry
    from callcentre.search import search_text

    wrong = 0
    for entry in FaqEntry.objects.only(
        "question", "keywords", "category", "answer", "search_text"
    ).iterator():
        derived = search_text(entry.question, entry.keywords, entry.category, entry.answer)
        wrong += entry.search_text != derived
    return wrong


# -- profile -------------------------------------------------------------------------------


def profile(client, urls: list[str], top: int = 14) -> str:
    """cProfile ``urls`` requested in turn; return the top functions by own time."""
    for url in urls[:20]:
        _get(client, url)
    profiler = cProfile.Profile()
    profiler.enable()
    for url in urls:
        _get(client, url)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    text = out.getvalue()
    body = text[text.find("   ncalls") :] if "   ncalls" in text else text
    return f"{len(urls)} requests\n" + body.replace(str(ROOT) + "/", "").rstrip()


# -- gunicorn ------------------------------------------------------------------------------


def _http_phase(
    *,
    base_url: str,
    cookie: str,
    urls: list[str],
    tag: str,
    clients: int,
    seconds: float,
    warmup: float,
    web_master: int,
    database: str,
) -> tuple[list[float], int, list[str], dict[str, float]]:
    import httpx

    from tests.bench.load import CpuMeter, process_groups

    measuring, stop = threading.Event(), threading.Event()
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []

    def client(offset: int) -> None:
        mine, failures = [], []
        with httpx.Client(base_url=base_url, headers={"Cookie": cookie, **HX}, timeout=30) as http:
            n = offset
            while not stop.is_set():
                url = urls[n % len(urls)]
                n += clients
                measured = measuring.is_set()
                began = time.perf_counter()
                try:
                    response = http.get(
                        url, headers={"X-Bench": f"{tag}-{'m' if measured else 'w'}"}
                    )
                    failure = (
                        None
                        if response.status_code == 200
                        else f"{response.status_code} {url}: {response.text[:120]}"
                    )
                except httpx.HTTPError as error:
                    failure = f"{type(error).__name__}: {error}"
                elapsed = time.perf_counter() - began
                if failure:
                    failures.append(failure)
                elif measured and not stop.is_set():
                    mine.append(elapsed)
        with lock:
            latencies.extend(mine)
            errors.extend(failures)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    meter = CpuMeter(lambda: process_groups(web_master=web_master, database=database))
    meter.start()
    measuring.set()
    time.sleep(seconds)
    stop.set()
    cores = meter.stop()
    for thread in threads:
        thread.join()
    return latencies, len(errors), sorted(set(errors))[:3], cores


def measure_http(
    args, env: dict[str, str], plans: dict[str, list[tuple[str, str]]], cookie: str
) -> list[HttpPhase]:
    """Both pages under gunicorn, alternating in two rounds; server time from the access log."""
    from tests.bench.run import gunicorn

    RESULTS.mkdir(exist_ok=True)
    access = RESULTS / "gunicorn-intake-access.log"
    access.unlink(missing_ok=True)
    env = {
        **env,
        "GUNICORN_CMD_ARGS": f"--access-logfile {shlex.quote(str(access))} "
        f"--access-logformat {shlex.quote(ACCESS_FORMAT)}",
    }
    database = urlparse(args.database_url).path.lstrip("/")
    collected: dict[str, list] = {page: [[], 0, [], []] for page in plans}
    rounds = 2
    with gunicorn(workers=args.workers, env=env, log=RESULTS / "gunicorn-intake.log") as (
        url,
        pid,
    ):
        _say(f"gunicorn at {url} ({args.workers} sync workers), {args.http_clients} clients")
        for number in range(rounds):
            for page, plan in plans.items():
                _quiet(args.quiet_wait)
                latencies, errors, samples, cores = _http_phase(
                    base_url=url,
                    cookie=cookie,
                    urls=[u for _kind, u in plan],
                    tag=f"{page}-{number}",
                    clients=args.http_clients,
                    seconds=args.http_seconds / rounds,
                    warmup=2.0 if number == 0 else 1.0,
                    web_master=pid,
                    database=database,
                )
                _say(
                    f"  http {page} round {number + 1}/{rounds}: {len(latencies)} requests, "
                    f"p95 {percentile(latencies, 95) * 1000:.1f} ms, {errors} errors"
                )
                bucket = collected[page]
                bucket[0] += latencies
                bucket[1] += errors
                bucket[2] += samples
                bucket[3].append(cores)
    server: dict[str, list[float]] = {page: [] for page in plans}
    for line in access.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].endswith("-m") and parts[1] == "200":
            server[parts[0].rsplit("-", 2)[0]].append(int(parts[2]) / 1e6)
    phases = []
    for page, (latencies, errors, samples, cores) in collected.items():
        phases.append(
            HttpPhase(
                page=page,
                clients=args.http_clients,
                seconds=args.http_seconds,
                latencies=latencies,
                server=server[page],
                errors=errors,
                error_samples=samples[:3],
                cores={group: statistics.fmean(c[group] for c in cores) for group in cores[0]},
            )
        )
    return phases


# -- main ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    from tests.bench.run import _environment

    env = _environment(args)
    started, clock = datetime.now(UTC), time.monotonic()

    import django

    django.setup()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    from django.conf import settings
    from django.db import connection

    from tests.bench import intake_report
    from tests.bench.intake_dataset import intake_dataset_prepare

    dataset = intake_dataset_prepare(
        callers=args.callers,
        calls=args.calls,
        faq=args.faq,
        days=args.days,
        fresh=args.fresh,
        log=_say,
    )
    heavy = sorted(dataset.samples["heavy"], key=lambda s: s.calls)
    _say(
        f"{dataset.callers:,} callers, {dataset.calls:,} calls, {dataset.tickets:,} tickets, "
        f"{dataset.faq_entries:,} FAQ entries; heavy callers {heavy[0].calls:,}–"
        f"{heavy[-1].calls:,} calls"
    )
    wrong_search_text = faq_search_text_checked()
    matches = faq_found()
    holding = faq_holding()

    client = signed_in_client(dataset.agent_id)
    plans = _plans(dataset, args.requests + args.warmup, seed=11)
    measured_plans = {page: plan[args.warmup :] for page, plan in plans.items()}
    _say(
        f"in-process: {args.requests} requests per page in {args.rounds} rounds "
        f"after {args.warmup} warm-up requests"
    )
    measures, rounds = measure_in_process(
        client,
        measured_plans,
        warmup={page: plan[: args.warmup] for page, plan in plans.items()},
        rounds=args.rounds,
        quiet=args.quiet_wait,
    )

    _say("SQL per request and EXPLAIN (ANALYZE, BUFFERS)")
    counts = query_counts(client, dataset)
    for count in counts:
        _say(f"  {count.label:<24} {len(count.queries)} queries  {count.history}")
    explained = plans_for(counts)
    for plan in explained:
        _say(
            f"  {plan.label:<21} {plan.table:<24} {plan.execution_ms:6.2f} ms, "
            f"{plan.filtered:>5} rows filtered out: {'; '.join(plan.scans[:2])}"
        )

    profiles: dict[str, str] = {}
    for page in measured_plans:
        # A page that misses its target is profiled whether asked or not.
        missed = percentile([m.ms for m in measures if m.page == page], 95) > TARGET_P95_MS
        if args.profile or missed:
            kinds = {m.kind for m in measures if m.page == page}
            slowest = max(
                kinds,
                key=lambda k: percentile(
                    [m.ms for m in measures if m.page == page and m.kind == k], 95
                ),
            )
            urls = [u for kind, u in measured_plans[page] if kind == slowest][:200]
            _say(f"cProfile: {page}, {slowest}")
            profiles[f"{page}, {slowest}"] = profile(client, urls)

    http: list[HttpPhase] = []
    if args.http_seconds > 0:
        cookie = (
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
        connection.close()
        http = measure_http(args, env, measured_plans, cookie)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('shared_buffers')"
        )
        postgres, shared_buffers = cursor.fetchone()
    result = intake_report.verdict(
        measures=measures, counts=counts, plans=explained, http=http, target=TARGET_P95_MS
    )
    page = intake_report.render(
        started=started,
        elapsed=time.monotonic() - clock,
        command=os.environ.get("BENCH_COMMAND")
        or shlex.join(["python", "-m", "tests.bench.run", "--suite", "intake", *(argv or [])]),
        postgres=postgres,
        shared_buffers=shared_buffers,
        dataset=dataset,
        args=args,
        measures=measures,
        rounds=rounds,
        counts=counts,
        plans=explained,
        http=http,
        matches=matches,
        holding=holding,
        wrong_search_text=wrong_search_text,
        profiles=profiles,
        result=result,
        mixes={"caller": CALLER_MIX, "faq": FAQ_MIX},
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(page, encoding="utf-8")
    print()
    print(page)
    _say(f"written to {args.output}")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
