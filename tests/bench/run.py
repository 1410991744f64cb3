"""The benchmarks: ``python -m tests.bench.run [--suite
tickets|intake|board|followups|alerts|reports|all] --help``.

``--suite intake`` runs ``tests.bench.intake`` (the caller panel and the FAQ search);
``--suite board`` runs ``tests.bench.board`` (the dispatcher's board and the crew's list);
``--suite followups`` runs ``tests.bench.followups`` (the callback queue and the batch job);
``--suite alerts`` runs ``tests.bench.alerts`` (the overdue sweep);
``--suite reports`` runs ``tests.bench.reports`` (the shift, daily, weekly and monthly figures);
``--suite staffing`` runs ``tests.bench.staffing`` (Erlang C and A for a day, the wallboard);
``--suite open311`` runs ``tests.bench.open311`` (partners filing and reading requests);
``--suite outages`` runs ``tests.bench.outages`` (the switch's question, the SMS fan-out);
``--suite all`` runs every suite, one after the other; the default is ticket creation:

1. Make the bench database hold ``--tickets`` tickets (reused when it already does).
2. EXPLAIN the overdue queries: each must range-scan its partial index.
3. Under gunicorn: the full API create and the bare DRF create, ``--clients`` clients each,
   alternating in ``--rounds`` rounds.
4. Raw single-row INSERTs over ``--raw-connections`` connections.
5. Print the results and write them to ``tests/bench/results/latest.md``.

Exits 1 when a target is missed, a request failed or a query does not use its index.
"""

import argparse
import logging
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

if TYPE_CHECKING:
    from tests.bench.load import PhaseResult

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/callcentre_bench"
# Unmeasured seconds before each round after the first (the server is warm by then).
ROUND_WARMUP = 1.0
SUITES = (
    "tickets",
    "intake",
    "board",
    "followups",
    "alerts",
    "reports",
    "staffing",
    "open311",
    "outages",
    "storm",
    "all",
)
# The storm plays the whole system for most of an hour (a 30-minute soak): run on its own.
ALL_SUITES = [suite for suite in SUITES if suite not in ("storm", "all")]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench.sh", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--suite",
        choices=SUITES,
        default="tickets",
        help="tickets: this benchmark; intake: the caller panel and the FAQ search\n"
        "(`--suite intake --help`); board: the dispatcher's board and the crew list\n"
        "(`--suite board --help`); followups: the callback queue and the batch job\n"
        "(`--suite followups --help`); alerts: the overdue sweep (`--suite alerts --help`);\n"
        "reports: the shift, daily, weekly and monthly figures (`--suite reports --help`);\n"
        "staffing: Erlang for a day and the wallboard (`--suite staffing --help`);\n"
        "open311: filing and reading Open311 requests (`--suite open311 --help`);\n"
        "outages: the switch's question and the SMS fan-out (`--suite outages --help`);\n"
        "all: every suite, each with its defaults (%(default)s)",
    )
    parser.add_argument(
        "--tickets", type=int, default=1_000_000, help="tickets in the database (%(default)s)"
    )
    parser.add_argument("--days", type=int, default=90, help="days they spread over (%(default)s)")
    parser.add_argument(
        "--seconds", type=float, default=20, help="measured seconds per phase (%(default)s)"
    )
    parser.add_argument(
        "--warmup", type=float, default=3, help="unmeasured seconds first (%(default)s)"
    )
    parser.add_argument(
        "--clients", type=int, default=8, help="concurrent HTTP clients (%(default)s)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="split the full and bare phases into this many alternating rounds (%(default)s)",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="gunicorn sync workers (%(default)s)"
    )
    parser.add_argument(
        "--raw-connections", type=int, default=2, help="raw INSERT connections (%(default)s)"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="drop and reload the database even if reusable"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=20,
        help="before each round, wait up to this many seconds for other work on the machine\n"
        "to use under a quarter of a core (%(default)s)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="the bench database, dropped and recreated; its name must contain 'bench'\n"
        "(%(default)s)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        help="where to write the results (tests/bench/results/latest.md)",
    )
    args = parser.parse_args(argv)
    if args.output is None:
        args.output = RESULTS / "latest.md"
    if "bench" not in urlparse(args.database_url).path:
        parser.error("--database-url must name a database with 'bench' in it: it is dropped")
    return args


def _environment(args: argparse.Namespace) -> dict[str, str]:
    """Set, for this process and gunicorn, the settings the benchmark runs with."""
    wanted = {
        "DJANGO_SETTINGS_MODULE": "tests.bench.settings",
        "DATABASE_URL": args.database_url,
        "DB_CONN_MAX_AGE": "60",
        "CELERY_BROKER_URL": os.environ.get("BENCH_CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-" + "x" * 50),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    os.environ.update(wanted)
    return dict(os.environ)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(*, workers: int, env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """Run gunicorn with ``workers`` sync workers; yield its base URL and master pid."""
    import httpx

    port = _free_port()
    log.unlink(missing_ok=True)  # the log of this run only
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "callcentre.wsgi",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        "--error-logfile",
        str(log),
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603 - our own command
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {log}")
            try:
                httpx.options(f"{url}/bench/bare-tickets/", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not answer; see {log}") from None
                time.sleep(0.2)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _say(message: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the suite ``--suite`` names (ticket creation by default)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    chooser = argparse.ArgumentParser(add_help=False)
    chooser.add_argument("--suite", choices=SUITES, default="tickets")
    chosen, rest = chooser.parse_known_args(argv)
    if chosen.suite == "intake":
        from tests.bench import intake

        return intake.main(rest)
    if chosen.suite == "board":
        from tests.bench import board

        return board.main(rest)
    if chosen.suite == "followups":
        from tests.bench import followups

        return followups.main(rest)
    if chosen.suite == "alerts":
        from tests.bench import alerts

        return alerts.main(rest)
    if chosen.suite == "reports":
        from tests.bench import reports

        return reports.main(rest)
    if chosen.suite == "staffing":
        from tests.bench import staffing

        return staffing.main(rest)
    if chosen.suite == "open311":
        from tests.bench import open311

        return open311.main(rest)
    if chosen.suite == "outages":
        from tests.bench import outages

        return outages.main(rest)
    if chosen.suite == "storm":
        from tests.bench import storm

        return storm.main(rest)
    if chosen.suite == "all":
        return _all_suites(rest)
    return tickets_main(rest)


def _all_suites(argv: list[str]) -> int:
    """Run each suite in its own process (each sets Django up on its own database)."""
    parser = argparse.ArgumentParser(
        prog="scripts/bench.sh --suite all",
        description="Ticket creation, call intake, the board, the follow-ups, the overdue "
        "sweep, the reports, the staffing, Open311, then the outages, each with its defaults.",
    )
    parser.add_argument("--fresh", action="store_true", help="reload every database")
    parser.add_argument("--quiet-wait", type=float, help="passed on to every suite")
    args = parser.parse_args(argv)
    shared = ["--fresh"] if args.fresh else []
    if args.quiet_wait is not None:
        shared += ["--quiet-wait", str(args.quiet_wait)]
    status = 0
    for suite in ALL_SUITES:
        command = [sys.executable, "-m", "tests.bench.run", "--suite", suite, *shared]
        status = max(status, subprocess.call(command, cwd=ROOT))  # noqa: S603 - our command
    return status


def tickets_main(argv: list[str] | None = None) -> int:
    """The ticket-creation benchmark."""
    args = _arguments(argv)
    env = _environment(args)
    started, clock = datetime.now(UTC), time.monotonic()

    import django

    django.setup()
    # The product logs at INFO; httpx would log every request of the load generator.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from django.db import connection, connections
    from django.utils import timezone

    from tests.bench import load, report
    from tests.bench.dataset import bench_conninfo, dataset_prepare
    from tests.bench.explain import overdue_plans

    dataset = dataset_prepare(tickets=args.tickets, days=args.days, fresh=args.fresh, log=_say)

    _say("EXPLAIN the overdue queries")
    plans = overdue_plans(now=timezone.now())
    for plan in plans:
        _say(
            f"  {plan.milestone:<9} {plan.query:<26} {plan.rows:>7,} rows  "
            f"{'ok' if plan.uses_index else 'NOT A RANGE SCAN OF ITS INDEX'}: {plan.scan}"
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('shared_buffers'), "
            "pg_size_pretty(pg_total_relation_size('tickets_ticket'))"
        )
        postgres, shared_buffers, table_size = cursor.fetchone()
    connections.close_all()

    bodies = load.TicketBodies(dataset, day=timezone.localtime())
    phases: dict[str, load.PhaseResult] = {}
    common = {
        "concurrency": args.clients,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "database": urlparse(args.database_url).path.lstrip("/"),
    }
    round_seconds = args.seconds / args.rounds
    RESULTS.mkdir(exist_ok=True)
    with gunicorn(workers=args.workers, env=env, log=RESULTS / "gunicorn.log") as (url, pid):
        _say(f"gunicorn at {url} (master pid {pid}, {args.workers} sync workers)")
        http = {
            "full": (
                "`POST /api/v1/tickets/` (token auth, validation, number, deadlines, event)",
                load.http_client(
                    url,
                    "/api/v1/tickets/",
                    bodies.api,
                    headers={"Authorization": f"Token {dataset.token}"},
                ),
            ),
            "bare": (
                "`POST /bench/bare-tickets/` (plain `ModelSerializer`, no auth, no event)",
                load.http_client(url, "/bench/bare-tickets/", bodies.bare),
            ),
        }
        # Full and bare alternate in rounds, so that other work on a shared machine weighs
        # on both alike and the ratio stays fair.
        rounds: dict[str, list[load.PhaseResult]] = {name: [] for name in http}
        for number in range(args.rounds):
            for name, (what, client) in http.items():
                warmup = args.warmup if number == 0 else ROUND_WARMUP
                _quiet(args.quiet_wait)
                _say(
                    f"phase {name}, round {number + 1}/{args.rounds}: {args.clients} clients, "
                    f"{warmup:g} + {round_seconds:g} s"
                )
                rounds[name].append(
                    load.run_phase(
                        name=name,
                        what=what,
                        make_client=client,
                        web_master=pid,
                        **{**common, "seconds": round_seconds, "warmup": warmup},
                    )
                )
                _summary(rounds[name][-1])
                if not rounds[name][-1].requests:
                    samples = "\n".join(rounds[name][-1].error_samples)
                    raise SystemExit(f"every {name} request failed, e.g.:\n{samples}")
        phases.update({name: load.merge(parts) for name, parts in rounds.items()})

    _quiet(args.quiet_wait)
    _say(f"phase raw: {args.raw_connections} connections, {args.warmup:g} + {args.seconds:g} s")
    phases["raw"] = load.run_phase(
        name="raw",
        what="single-row psycopg `INSERT` into `tickets_ticket`, autocommit",
        make_client=load.raw_insert_client(bench_conninfo(), bodies),
        **{**common, "concurrency": args.raw_connections},
    )
    _summary(phases["raw"])

    cores, cpu, memory, kernel = report.machine()
    result = report.verdict(phases, plans)
    page = report.render(
        started=started,
        elapsed=time.monotonic() - clock,
        command=os.environ.get("BENCH_COMMAND")
        or shlex.join(["python", "-m", "tests.bench.run", *(argv or sys.argv[1:])]),
        environment=report.Environment(
            cores=cores,
            cpu=cpu,
            memory_gib=memory,
            kernel=kernel,
            postgres=postgres,
            shared_buffers=shared_buffers,
            table_size=table_size,
        ),
        dataset=dataset,
        phases=phases,
        plans=plans,
        result=result,
        clients=args.clients,
        workers=args.workers,
        seconds=args.seconds,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(page, encoding="utf-8")
    print()
    print(page)
    _say(f"written to {args.output}")
    return 0 if result.passed else 1


def _quiet(max_seconds: float) -> None:
    from tests.bench.load import wait_quietly

    wait_quietly(max_seconds, say=_say)


def _summary(phase: "PhaseResult") -> None:
    cpu = ", ".join(f"{group} {cores:.2f}" for group, cores in phase.cpu_cores.items())
    _say(
        f"  {phase.per_second:,.0f} req/s, p50 {phase.percentile_ms(50):.1f} ms, "
        f"p99 {phase.percentile_ms(99):.1f} ms, {phase.errors} errors; CPU cores: {cpu}"
    )


if __name__ == "__main__":
    sys.exit(main())
