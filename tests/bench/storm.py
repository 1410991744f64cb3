"""The storm: the whole system under a burst-main storm's calls, then a soak.

``scripts/bench.sh --suite storm`` loads an ordinary centre (``--tickets`` past tickets over
90 days, ``tests.bench.dataset``) and the storm's staff (``tests.bench.storm_dataset``) into
its own database, ``callcentre_storm``, rebuilt each run, with Redis database 5 as broker and
shared cache; then starts what production runs: gunicorn (``--workers`` sync workers),
a Celery worker and Celery beat (the product's schedule: the overdue sweep every minute,
the outbox retries, the callbacks, the reports). Locust (headless, ``storm_locust.py``)
plays the storm at each ``--multiplier`` of its peak, 1,000 calls in 10 minutes, for
``--seconds`` each; then a ``--soak-minutes`` soak at 1x while the memory of every process
is sampled.

After each phase it waits for Celery to drain (the broker's queue empty and no text message
left in the outbox) and counts in the database what Locust was told was done: calls, CTI
events, tickets, linked calls, every crew and dispatcher step, and the messages sent.

Targets, at every multiplier: no 5xx and no other unexpected answer; p95 <= 500 ms and
p99 <= 1 s for every page and endpoint; the calls offered at >= 95 % of the multiplier's
rate (a load generator that could not keep up did not test it); Celery drained within 60 s
of the end; nothing acknowledged missing from the database; in the soak, no process's memory
growing by 10 % or more after its warm-up. Results go to ``tests/bench/results/storm.md``;
it exits 1 when a target is missed.
"""

import argparse
import logging
import os
import secrets
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results" / "storm.md"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/callcentre_storm"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/bench.sh --suite storm",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument(
        "--multiplier",
        default="1,2,5",
        help="storm peaks to play, comma-separated; 1 = 100 calls a minute (%(default)s)",
    )
    parser.add_argument(
        "--seconds", type=float, default=300, help="seconds per multiplier (%(default)s)"
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=15,
        help="first seconds of each phase left out of the latency figures (%(default)s)",
    )
    parser.add_argument(
        "--soak-minutes",
        type=float,
        default=30,
        help="minutes of the soak at 1x after the multipliers; 0 for none (%(default)s)",
    )
    parser.add_argument(
        "--tickets", type=int, default=150_000, help="past tickets in the database (%(default)s)"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers (4)")
    parser.add_argument(
        "--concurrency", type=int, default=2, help="Celery worker processes (%(default)s)"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=20,
        help="before each phase, wait up to this many seconds for other work on the machine",
    )
    parser.add_argument("--fresh", action="store_true", help="accepted: the database is rebuilt")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_STORM_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="dropped and recreated; its name must contain 'storm' or 'bench' (%(default)s)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_STORM_REDIS_URL", DEFAULT_REDIS_URL),
        help="broker and shared cache, a database of its own: flushed (%(default)s)",
    )
    parser.add_argument(
        "--var-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "callcentre-storm",
        help="logs, the servers' VAR_DIR, Locust's files (%(default)s)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="(%(default)s)")
    args = parser.parse_args(argv)
    name = urlparse(args.database_url).path
    if "storm" not in name and "bench" not in name:
        parser.error("--database-url must name a database with 'storm' in it: it is dropped")
    try:
        args.multipliers = [float(value) for value in args.multiplier.split(",")]
    except ValueError:
        parser.error("--multiplier takes numbers separated by commas, e.g. 1,2,5")
    return args


def _say(message: str) -> None:
    print(f"[bench storm {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def _environment(args: argparse.Namespace) -> dict[str, str]:
    """Set, for this process and every server it starts, the settings of the storm."""
    # Full pages name static files: whitenoise wants the folder, though none is served.
    (args.var_dir / "static").mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.bench.settings",
            "DATABASE_URL": args.database_url,
            "DB_CONN_MAX_AGE": "60",
            "CELERY_BROKER_URL": args.redis_url,
            "CACHE_URL": args.redis_url,
            "VAR_DIR": str(args.var_dir),
            "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-" + "x" * 50),
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Plain HTTP on the loopback: cookies marked Secure would never come back.
            "SECURE_COOKIES": "0",
            "CTI_SHARED_SECRET": secrets.token_hex(16),
            # Messages land in a table, where they are counted against the outbox.
            "SMS_BACKEND": "dispatch.sms.DatabaseSmsBackend",
            # Every simulated customer comes from 127.0.0.1: the per-address limit of real
            # customers would refuse all but the first twenty look-ups of the hour.
            "STATUS_LOOKUPS_PER_HOUR": str(10**9),
            "LOG_LEVEL": "INFO",
        }
    )
    return dict(os.environ)


@contextmanager
def _server(name: str, command: list[str], *, env: dict, log: Path):
    """Run one of the product's processes for the block; yield its pid."""
    with log.open("w") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            time.sleep(1)
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited at once; see {log}")
            yield process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_for_worker(log: Path) -> None:
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the Celery worker did not start; see {log}")
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    env = _environment(args)
    started = datetime.now(UTC)
    import django

    django.setup()
    # The product logs at INFO; httpx would log gunicorn's readiness checks.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    import redis
    from django.db import connections

    from tests.bench import storm_report
    from tests.bench.dataset import dataset_prepare
    from tests.bench.run import gunicorn
    from tests.bench.storm_dataset import alerts_catch_up, storm_staff_create
    from tests.bench.storm_measure import MemorySampler, phase_run

    broker = redis.Redis.from_url(args.redis_url)
    broker.flushdb()
    dataset = dataset_prepare(tickets=args.tickets, days=90, fresh=True, log=_say)
    staff = storm_staff_create(cti_secret=env["CTI_SHARED_SECRET"], log=_say)
    alerts_catch_up(log=_say)
    connections.close_all()

    bin_dir = Path(sys.executable).parent
    logs = args.var_dir
    worker_log, beat_log = logs / "celery-worker.log", logs / "celery-beat.log"
    celery = [str(bin_dir / "celery"), "-A", "callcentre"]
    phases = []
    soak = None
    with ExitStack() as stack:
        url, web = stack.enter_context(
            gunicorn(workers=args.workers, env=env, log=logs / "gunicorn.log")
        )
        worker = stack.enter_context(
            _server(
                "the Celery worker",
                [
                    *celery,
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--concurrency",
                    str(args.concurrency),
                    "--hostname",
                    "storm@%h",
                    "--without-mingle",
                    "--without-gossip",
                ],
                env=env,
                log=worker_log,
            )
        )
        _wait_for_worker(worker_log)
        beat = stack.enter_context(
            _server(
                "Celery beat",
                [
                    *celery,
                    "beat",
                    "--loglevel",
                    "INFO",
                    "--pidfile",
                    str(logs / "celery-beat.pid"),
                ],
                env=env,
                log=beat_log,
            )
        )
        _say(
            f"gunicorn at {url} ({args.workers} workers), Celery worker (pid {worker}, "
            f"{args.concurrency} processes), beat (pid {beat}); logs in {logs}"
        )
        memory = stack.enter_context(
            MemorySampler({"gunicorn": web, "celery worker": worker, "celery beat": beat})
        )
        common = {
            "url": url,
            "staff": staff,
            "broker": broker,
            "var_dir": args.var_dir,
            "worker_log": worker_log,
            "pids": {"web": web, "worker": worker, "beat": beat},
            "quiet_wait": args.quiet_wait,
            "say": _say,
        }
        for multiplier in args.multipliers:
            phases.append(
                phase_run(
                    multiplier=multiplier,
                    seconds=args.seconds,
                    warmup=args.warmup,
                    **common,
                )
            )
        if args.soak_minutes > 0:
            memory.mark("soak")
            soak = phase_run(
                multiplier=1, seconds=args.soak_minutes * 60, warmup=args.warmup, **common
            )
            soak.memory = memory.since("soak")
    page, passed = storm_report.render(
        args=args,
        started=started,
        dataset=dataset,
        phases=phases,
        soak=soak,
        command=os.environ.get("BENCH_COMMAND")
        or "python -m tests.bench.run --suite storm " + " ".join(argv or sys.argv[1:]),
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(page, encoding="utf-8")
    print(page)
    _say(f"written to {args.output}")
    return 0 if passed else 1
