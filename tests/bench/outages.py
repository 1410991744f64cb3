"""The outage benchmark: the switch asking about callers while 50 outages are in force, and
one outage telling 20,000 customers.

``scripts/bench.sh --suite outages`` builds its own database (``callcentre_bench_outages``,
rebuilt each run): ``--addresses`` known customers (one service address each) spread over
2,000 communities of 40 districts, and ``--notices`` outages in force over districts,
communities and buildings. Then:

1. Under gunicorn (``--workers`` sync workers), the switch's ``GET /api/v1/cti/notices/``
   signed as the switch signs it, one client, for a random known caller (one in ten a
   number never heard of). Target: p99 ≤ 10 ms (server time, ``Server-Timing``, as the
   other reads are judged; the client's time is reported beside it).
2. Publishing an outage whose area holds ``--fan-out`` customers, through the service the
   page calls: what the page waits for is timed apart from the fan-out the task then runs
   (every message written to the outbox, keyed once per customer and change). Target: the
   fan-out queued in ≤ 10 s; and the same task run again queues nothing.

Results go to ``tests/bench/results/outages.md``; it exits 1 when a target is missed or a
request failed.
"""

import argparse
import logging
import os
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results" / "outages.md"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/callcentre_bench_outages"
# Tasks the bench queues (the outbox's sends) go to a broker database no test reads.
BROKER_URL = "redis://127.0.0.1:6379/3"
SECRET = "bench-cti-secret"
SWITCH_TARGET_P99_MS = 10.0
FAN_OUT_TARGET_S = 10.0
DISTRICTS, COMMUNITIES_PER_DISTRICT = 40, 50


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench.sh --suite outages",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    add = parser.add_argument
    add("--addresses", type=int, default=500_000, help="known customers (%(default)s)")
    add("--notices", type=int, default=50, help="outages in force (%(default)s)")
    add("--fan-out", type=int, default=20_000, help="customers the published one tells")
    add("--seconds", type=float, default=20, help="measured seconds of the switch's asks")
    add("--warmup", type=float, default=3, help="unmeasured seconds first (%(default)s)")
    add("--workers", type=int, default=2, help="gunicorn sync workers (%(default)s)")
    add("--quiet-wait", type=float, default=20, help="wait this long for a quiet machine")
    add("--fresh", action="store_true", help="accepted: the database is rebuilt each run")
    add(
        "--database-url",
        default=os.environ.get("BENCH_OUTAGES_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="the bench database, dropped and recreated; its name must contain 'bench'",
    )
    add("--output", type=Path, default=RESULTS, help="(%(default)s)")
    args = parser.parse_args(argv)
    if "bench" not in urlparse(args.database_url).path:
        parser.error("--database-url must name a database with 'bench' in it: it is dropped")
    communities = DISTRICTS * COMMUNITIES_PER_DISTRICT
    if args.fan_out > args.addresses or args.fan_out % (args.addresses // communities or 1):
        parser.error("--fan-out must be a whole number of communities' customers")
    return args


def _say(message: str) -> None:
    print(f"[bench outages {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def _load(args) -> dict:
    """The districts, communities, customers and their addresses, in a few statements; then
    the outages in force. Return what the phases need."""
    from django.core.management import call_command
    from django.db import connection

    from outages.models import Outage, OutageBuilding
    from staffing.models import User
    from tests.bench.dataset import _recreate_database

    _recreate_database()
    call_command("migrate", verbosity=0, interactive=False)
    per_community = args.addresses // (DISTRICTS * COMMUNITIES_PER_DISTRICT)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO dispatch_district (code, name, is_active) "
            "SELECT 'd' || n, '片区' || n, true FROM generate_series(1, %s) n",
            [DISTRICTS],
        )
        cursor.execute(
            "INSERT INTO dispatch_community (district_id, name) "
            "SELECT d.id, d.name || '小区' || n FROM dispatch_district d, "
            "generate_series(1, %s) n",
            [COMMUNITIES_PER_DISTRICT],
        )
        # Caller n lives in the (n mod communities)-th community, building n mod 30.
        cursor.execute(
            "INSERT INTO callcentre_caller (phone, name, customer_type, language, created_at, "
            "updated_at) SELECT '+86139' || lpad(n::text, 8, '0'), '', 'residential', "
            "'zh-hans', now(), now() FROM generate_series(1, %s) n",
            [args.addresses],
        )
        cursor.execute(
            """
            INSERT INTO callcentre_calleraddress
                (caller_id, community_id, address, building, unit, room, last_used_at)
            SELECT c.id, m.id, '人民路 ' || c.id || ' 号', (c.id % 30 + 1)::text, '1', '101',
                   now() - (c.id % 365) * interval '1 day'
            FROM callcentre_caller c
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM dispatch_community) m
              ON m.k = c.id % (SELECT count(*) FROM dispatch_community)
            """
        )
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("SELECT id FROM dispatch_community ORDER BY id")
        community_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT id FROM dispatch_district ORDER BY id")
        district_ids = [row[0] for row in cursor.fetchall()]
    dispatcher = User.objects.create_superuser("bench-dispatcher", password=None)
    now = datetime.now(UTC)
    rng = random.Random(311)
    for n in range(args.notices):
        outage = Outage.objects.create(
            kind=Outage.Kind.PLANNED,
            supply=Outage.Supply.WATER,
            title=f"压测停水 {n}",
            reason="压测",
            customer_text="请提前储水。",
            starts_at=now - timedelta(hours=1),
            expected_end_at=now + timedelta(hours=6),
            published_at=now - timedelta(days=1),
            published_by=dispatcher,
        )
        if n % 5 == 0:  # one in five a whole district
            outage.districts.set([rng.choice(district_ids)])
        elif n % 5 in (1, 2):  # two in five a few communities
            outage.communities.set(rng.sample(community_ids, 5))
        else:  # the rest some buildings of a community
            community = rng.choice(community_ids)
            OutageBuilding.objects.bulk_create(
                OutageBuilding(outage=outage, community_id=community, building=str(building))
                for building in rng.sample(range(1, 31), 3)
            )
    return {
        "dispatcher": dispatcher,
        "community_ids": community_ids,
        "per_community": per_community,
    }


def _switch_client(url: str, addresses: int):
    """One keep-alive client per thread asking as the switch does, answering with the
    server's time."""
    import httpx

    from callcentre.cti import cti_signature
    from tests.bench.load import SERVER_TIMING

    def make():
        client = httpx.Client(base_url=url, timeout=30)

        def request() -> str | float:
            known = random.random() < 0.9
            serial = random.randint(1, addresses) if known else random.randint(10**7, 10**8 - 1)
            path = f"/api/v1/cti/notices/?number=139{serial:08d}"
            stamp = str(int(time.time()))
            headers = {
                "X-CTI-Timestamp": stamp,
                "X-CTI-Signature": cti_signature(
                    secret=SECRET, timestamp=stamp, body=path.encode()
                ),
            }
            try:
                response = client.get(path, headers=headers)
            except httpx.HTTPError as error:
                return f"{type(error).__name__}: {error}"
            if response.status_code != 200:
                return f"{response.status_code}: {response.text[:200]}"
            timing = SERVER_TIMING.search(response.headers.get("Server-Timing", ""))
            return float(timing[1]) if timing else "no Server-Timing"

        return request, client.close

    return make


def _fan_out(args, world) -> dict:
    """Publish the outage over ``--fan-out`` customers as the page does, then run its task."""
    from django.db import transaction

    from dispatch.models import Community, OutboundMessage
    from outages import services
    from outages.models import OutageChange

    communities = args.fan_out // world["per_community"]
    chosen = world["community_ids"][-communities:]

    started = time.perf_counter()
    with transaction.atomic():  # the page's request: the notice and its change, then commit
        outage = services.outage_publish(
            actor=world["dispatcher"],
            supply="water",
            title="压测：二十个小区停水",
            reason="压测",
            customer_text="请提前储水。",
            starts_at=datetime.now(UTC) + timedelta(days=2),
            expected_end_at=datetime.now(UTC) + timedelta(days=2, hours=6),
            communities=list(Community.objects.filter(pk__in=chosen)),
        )
    page_seconds = time.perf_counter() - started
    change = OutageChange.objects.select_related("outage").get(outage=outage)
    started = time.perf_counter()
    queued = services.outage_notify(change=change)
    fan_out_seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = services.outage_notify(change=change)
    again_seconds = time.perf_counter() - started
    in_outbox = OutboundMessage.objects.filter(kind="outage_published").count()
    return {
        "page_ms": page_seconds * 1000,
        "queued": queued,
        "fan_out_s": fan_out_seconds,
        "again": again,
        "again_s": again_seconds,
        "in_outbox": in_outbox,
    }


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    os.environ["BENCH_CELERY_BROKER_URL"] = BROKER_URL
    os.environ["CTI_SHARED_SECRET"] = SECRET
    from tests.bench.run import _environment, _quiet, gunicorn

    env = _environment(args)
    started = datetime.now(UTC)
    import django

    django.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from django.db import connections

    from callcentre.celery import app
    from tests.bench import load

    load_started = time.monotonic()
    world = _load(args)
    load_seconds = time.monotonic() - load_started
    _say(f"{args.addresses:,} customers and {args.notices} outages loaded in {load_seconds:.0f} s")
    connections.close_all()
    database = urlparse(args.database_url).path.lstrip("/")
    with gunicorn(workers=args.workers, env=env, log=ROOT / "var" / "bench-outages.log") as (
        url,
        pid,
    ):
        _quiet(args.quiet_wait)
        _say(f"the switch asks: 1 client, {args.warmup:g} + {args.seconds:g} s")
        switch = load.run_phase(
            name="switch",
            what="`GET /api/v1/cti/notices/?number=`",
            make_client=_switch_client(url, args.addresses),
            concurrency=1,
            seconds=args.seconds,
            warmup=args.warmup,
            database=database,
            web_master=pid,
        )
    _say(
        f"  {switch.requests:,} asks, server p50 {switch.server_percentile_ms(50):.1f} ms, p99 "
        f"{switch.server_percentile_ms(99):.1f} ms; client p99 {switch.percentile_ms(99):.1f} "
        f"ms; {switch.errors} errors"
    )
    _quiet(args.quiet_wait)
    fan_out = _fan_out(args, world)
    _say(
        f"  published in {fan_out['page_ms']:.0f} ms; {fan_out['queued']:,} messages queued in "
        f"{fan_out['fan_out_s']:.1f} s; again: {fan_out['again']} in {fan_out['again_s']:.1f} s"
    )
    app.control.purge()  # the sends the fan-out queued: no worker runs here
    return _write(args, started, load_seconds, switch, fan_out)


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _write(args, started, load_seconds, switch, fan_out) -> int:
    switch_ok = (
        switch.errors == 0
        and switch.requests > 0
        and switch.server_percentile_ms(99) <= SWITCH_TARGET_P99_MS
    )
    fan_out_ok = (
        fan_out["fan_out_s"] <= FAN_OUT_TARGET_S
        and fan_out["queued"] == args.fan_out
        and fan_out["again"] == 0
        and fan_out["in_outbox"] == args.fan_out
    )
    lines = [
        "# Outage benchmark: the switch's question and the fan-out",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores; gunicorn with "
        f"{args.workers} sync workers",
        f"- the database: {args.addresses:,} customers with a service address each, over "
        f"{DISTRICTS * COMMUNITIES_PER_DISTRICT:,} communities; {args.notices} outages in force "
        f"(districts, communities, buildings); loaded in {load_seconds:.0f} s",
        f"- command: `{os.environ.get('BENCH_COMMAND', 'scripts/bench.sh --suite outages')}`",
        "",
        "## The switch asks: `GET /api/v1/cti/notices/?number=`, one client",
        "",
        f"- {switch.requests:,} signed asks in {switch.seconds:g} s, nine in ten a known caller; "
        f"{switch.errors} errors",
        f"- server time p50 {switch.server_percentile_ms(50):.1f} ms, "
        f"**p99 {switch.server_percentile_ms(99):.1f} ms** (target ≤ "
        f"{SWITCH_TARGET_P99_MS:.0f} ms): {_verdict(switch_ok)}",
        f"- client time p50 {switch.percentile_ms(50):.1f} ms, p99 "
        f"{switch.percentile_ms(99):.1f} ms",
        "",
        f"## Publishing to {args.fan_out:,} customers",
        "",
        f"- the page's part (the notice, its area and its change written, committed): "
        f"{fan_out['page_ms']:.0f} ms; the customers are told by a task after it",
        f"- the task: **{fan_out['queued']:,} messages queued in {fan_out['fan_out_s']:.1f} s** "
        f"(target ≤ {FAN_OUT_TARGET_S:.0f} s), {fan_out['in_outbox']:,} in the outbox: "
        f"{_verdict(fan_out_ok)}",
        f"- the same task again (a retry, a second worker): {fan_out['again']} queued, in "
        f"{fan_out['again_s']:.1f} s",
        "",
        f"Result: **{_verdict(switch_ok and fan_out_ok)}**.",
        "",
    ]
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    _say(f"written to {args.output}")
    return 0 if switch_ok and fan_out_ok else 1
