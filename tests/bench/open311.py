"""The Open311 benchmark: partners filing requests at once, and reading 90 days of them.

``scripts/bench.sh --suite open311`` loads ``--requests`` tickets over ``--days`` days
(the ticket benchmark's loader, ``tests.bench.dataset``) into its own database
(``callcentre_bench_open311``, rebuilt each run: a hundred thousand rows load in seconds),
with Redis as the shared cache (``CACHE_URL``, as in production: the rate limit counts there),
each filed through Open311 by one partner with coordinates and a token; every fault type is
a service. Then, under gunicorn (``--workers`` sync workers):

1. ``POST /open311/v2/requests.json`` with ``--clients`` clients at once, each request a
   new caller with the repair's attributes: the whole path, key, rate count, validation,
   the ticket through the console's service, the caller remembered, the request row.
2. ``GET /open311/v2/requests.json`` as a client following its requests reads it, one
   client at a time, with its key: the default (the newest 1,000 of the last 90 days),
   open ones only, one service over a week, ten requests by number, one by number.

Results go to ``tests/bench/results/open311.md``; it exits 1 when a target is missed or a
request failed.
"""

import argparse
import logging
import os
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results" / "open311.md"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/callcentre_bench_open311"
POST_TARGET_P99_MS = 150.0
GET_TARGET_P95_MS = 50.0
KEY = "bench-open311-partner-key"
REQUESTS = "/open311/v2/requests.json"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench.sh --suite open311",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument(
        "--requests", type=int, default=100_000, help="requests in the database (%(default)s)"
    )
    parser.add_argument("--days", type=int, default=90, help="days they spread over (%(default)s)")
    parser.add_argument("--clients", type=int, default=8, help="POSTing at once (%(default)s)")
    parser.add_argument(
        "--seconds", type=float, default=20, help="measured seconds per phase (%(default)s)"
    )
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds first")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=20,
        help="before each phase, wait up to this many seconds for other work on the machine",
    )
    parser.add_argument("--fresh", action="store_true", help="accepted: the database is rebuilt")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_OPEN311_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="the bench database, dropped and recreated; its name must contain 'bench'",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="(%(default)s)")
    args = parser.parse_args(argv)
    if "bench" not in urlparse(args.database_url).path:
        parser.error("--database-url must name a database with 'bench' in it: it is dropped")
    return args


def _say(message: str) -> None:
    print(f"[bench open311 {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def _open311_load() -> list[str]:
    """Make every fault type a service, issue the partner, and file every ticket as an
    Open311 request; return 200 of their numbers, for the reads by number."""
    from django.db import connection

    from callcentre.models import Open311Service
    from callcentre.open311.services import partner_issue
    from tickets.models import FaultType

    for order, fault_type in enumerate(FaultType.objects.order_by("id")):
        Open311Service.objects.create(
            code=fault_type.code, name=fault_type.name, fault_type=fault_type, sort_order=order
        )
    partner = partner_issue(
        name="Bench WeChat", channel="wechat", requests_per_minute=10**9, key=KEY
    ).partner
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO callcentre_open311request
                (ticket_id, partner_id, service_id, token, lat, long, address_id, email,
                 device_id, account_id, media_url, attributes, requested_at)
            SELECT t.id, %s, s.id, gen_random_uuid(),
                   30.2 + random() / 5, 120.1 + random() / 5, '', '', '', '', '',
                   '{"water_cut": "no"}'::jsonb, t.received_at
            FROM tickets_ticket t JOIN callcentre_open311service s USING (fault_type_id)
            """,
            [partner.pk],
        )
        cursor.execute("VACUUM (ANALYZE) callcentre_open311request")
        cursor.execute(
            "SELECT t.number FROM callcentre_open311request r "
            "JOIN tickets_ticket t ON t.id = r.ticket_id ORDER BY random() LIMIT 200"
        )
        return [row[0] for row in cursor.fetchall()]


def _filing(service_code: str) -> dict:
    """A POST's form: a new caller each time, with the repair's attributes."""
    serial = random.randrange(10**8)
    return {
        "api_key": KEY,
        "service_code": service_code,
        "lat": f"{30.2 + random.random() / 5:.6f}",
        "long": f"{120.1 + random.random() / 5:.6f}",
        "address_string": "锦华路18号锦华苑",
        "description": f"厨房水管接头漏水 压测 {serial}",
        "first_name": "张",
        "phone": f"139{serial:08d}",
        "attribute[building]": "3",
        "attribute[unit]": "2",
        "attribute[room]": "501",
        "attribute[water_cut]": "yes",
        "attribute[pipe_diameter]": "20",
    }


def _client(url: str, send: Callable, expected: int):
    """A factory of requests (``send(client)``), one keep-alive client per thread, each
    answering with the server's time; an answer other than ``expected``, one with no rows, or
    one without ``Server-Timing`` is a failure."""
    import httpx

    from tests.bench.load import SERVER_TIMING

    def make():
        client = httpx.Client(base_url=url, timeout=30)

        def request() -> str | float:
            try:
                response = send(client)
            except httpx.HTTPError as error:
                return f"{type(error).__name__}: {error}"
            if response.status_code != expected:
                return f"{response.status_code}: {response.text[:200]}"
            # Checked without parsing: the client's JSON parse is not the server's time.
            if not response.content.startswith(b"[{"):
                return "no rows"
            timing = SERVER_TIMING.search(response.headers.get("Server-Timing", ""))
            return float(timing[1]) if timing else "no Server-Timing"

        return request, client.close

    return make


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    from tests.bench.run import _environment, _quiet, gunicorn

    # The cache every process shares in production: Redis (the rate limit counts in it).
    os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/2")
    env = _environment(args)
    started = datetime.now(UTC)
    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from django.db import connections
    from django.utils import timezone

    from tests.bench import load
    from tests.bench.dataset import dataset_prepare

    dataset = dataset_prepare(tickets=args.requests, days=args.days, fresh=True, log=_say)
    numbers = _open311_load()
    connections.close_all()
    now = timezone.localtime()
    week_start = (now - timedelta(days=30)).isoformat(timespec="seconds")
    week_end = (now - timedelta(days=23)).isoformat(timespec="seconds")
    database = urlparse(args.database_url).path.lstrip("/")
    reads = {
        "default": ("no filter: the newest 1,000 of 90 days", lambda: {}),
        "open": ("`status=open`", lambda: {"status": "open"}),
        "service_week": (
            f"`service_code={dataset.fault_type_code}` over a week a month ago",
            lambda: {
                "service_code": dataset.fault_type_code,
                "start_date": week_start,
                "end_date": week_end,
            },
        ),
        "ten": (
            "`service_request_id=` ten numbers",
            lambda: {"service_request_id": ",".join(random.sample(numbers, 10))},
        ),
        "one": (
            "`service_request_id=` one number",
            lambda: {"service_request_id": random.choice(numbers)},
        ),
    }
    phases: dict[str, load.PhaseResult] = {}
    with gunicorn(workers=args.workers, env=env, log=ROOT / "var" / "bench-open311.log") as (
        url,
        pid,
    ):
        _say(f"gunicorn at {url} ({args.workers} sync workers)")
        _quiet(args.quiet_wait)
        _say(f"POST: {args.clients} clients, {args.warmup:g} + {args.seconds:g} s")
        phases["post"] = load.run_phase(
            name="post",
            what="`POST /open311/v2/requests.json`",
            make_client=_client(
                url,
                lambda client: client.post(REQUESTS, data=_filing(dataset.fault_type_code)),
                expected=201,
            ),
            concurrency=args.clients,
            seconds=args.seconds,
            warmup=args.warmup,
            database=database,
            web_master=pid,
        )
        _report(phases["post"])
        for name, (what, params) in reads.items():
            _quiet(args.quiet_wait)
            _say(f"GET {name}: 1 client, {args.warmup:g} + {args.seconds / 2:g} s")
            phases[name] = load.run_phase(
                name=name,
                what=what,
                make_client=_client(
                    url,
                    lambda client, params=params: client.get(
                        REQUESTS, params={"api_key": KEY, **params()}
                    ),
                    expected=200,
                ),
                concurrency=1,
                seconds=args.seconds / 2,
                warmup=args.warmup,
                database=database,
                web_master=pid,
            )
            _report(phases[name])
    return _write(args, started, dataset, phases)


def _report(phase) -> None:
    _say(
        f"  {phase.requests:,} requests, {phase.per_second:,.0f}/s, p50 "
        f"{phase.percentile_ms(50):.1f} ms, p95 {phase.percentile_ms(95):.1f} ms, p99 "
        f"{phase.percentile_ms(99):.1f} ms (server p95 {phase.server_percentile_ms(95):.1f} "
        f"ms), {phase.errors} errors; {_cores(phase)}"
    )
    for sample in phase.error_samples:
        _say(f"    {sample}")


def _cores(phase) -> str:
    return "cores busy: " + ", ".join(
        f"{group} {cores:.2f}" for group, cores in phase.cpu_cores.items()
    )


def _write(args, started: datetime, dataset, phases: dict) -> int:
    post = phases["post"]
    post_ok = post.errors == 0 and post.requests and post.percentile_ms(99) <= POST_TARGET_P99_MS
    lines = [
        "# Open311 benchmark: filing and reading requests",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores; load average "
        f"{os.getloadavg()[0]:.2f}; gunicorn with {args.workers} sync workers",
        f"- the database: {dataset.tickets:,} tickets over {args.days} days, every one filed "
        f"through Open311 (loaded in {dataset.load_seconds:.0f} s)",
        f"- command: `{os.environ.get('BENCH_COMMAND', 'scripts/bench.sh --suite open311')}`",
        "",
        f"## Filing: {args.clients} clients at once",
        "",
        f"- {post.what}, a new caller each time, form-encoded with the partner's key and the "
        f"repair's attributes: {post.requests:,} requests in {post.seconds:g} s "
        f"({post.per_second:,.0f}/s), {post.errors} errors",
        f"- as the clients saw it (queueing for a worker included; the figure judged): p50 "
        f"{post.percentile_ms(50):.1f} ms, p95 {post.percentile_ms(95):.1f} ms, "
        f"**p99 {post.percentile_ms(99):.1f} ms** (target ≤ {POST_TARGET_P99_MS:.0f} ms): "
        f"{'PASS' if post_ok else 'FAIL'}",
        f"- server time (`Server-Timing`): p50 {post.server_percentile_ms(50):.1f} ms, p99 "
        f"{post.server_percentile_ms(99):.1f} ms; server CPU (web and PostgreSQL) "
        f"{post.server_cpu_ms:.1f} ms a request; {_cores(post)}",
        "",
        "## Reading: `GET /open311/v2/requests.json`, one client",
        "",
        "Judged as the board's and the callback queue's pages are: the p95 server time "
        "(`Server-Timing`, all of Django's middleware). The client's time adds gunicorn's "
        "write and the Python client reading the answer (545 KB for 1,000 requests).",
        "",
        "| what | requests | server p50 ms | server p95 ms | client p50 ms | client p95 ms "
        "| errors | verdict |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    passed = bool(post_ok)
    for name, phase in phases.items():
        if name == "post":
            continue
        ok = (
            phase.errors == 0
            and phase.requests
            and phase.server_percentile_ms(95) <= GET_TARGET_P95_MS
        )
        passed = passed and bool(ok)
        lines.append(
            f"| {phase.what} | {phase.requests:,} | {phase.server_percentile_ms(50):.1f} | "
            f"**{phase.server_percentile_ms(95):.1f}** | {phase.percentile_ms(50):.1f} | "
            f"{phase.percentile_ms(95):.1f} | {phase.errors} | {'PASS' if ok else 'FAIL'} |"
        )
    lines += [
        "",
        f"Targets: filing p99 ≤ {POST_TARGET_P99_MS:.0f} ms at {args.clients} clients; every "
        f"read p95 ≤ {GET_TARGET_P95_MS:.0f} ms. Result: **{'PASS' if passed else 'FAIL'}**.",
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    _say(f"written to {args.output}")
    return 0 if passed else 1
