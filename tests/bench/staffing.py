"""The staffing benchmark: Erlang C's requirement for a day of 48 half-hour intervals,
Erlang A's for the same day with callers who hang up, and the wallboard's live partial with
a million calls.

``scripts/bench.sh --suite staffing`` sizes a day of 48 intervals at 2,000 calls each (200
erlangs at a 180 s handle time, some 220 agents an interval) for 80 % in 20 s with an
occupancy cap and shrinkage, the way the planning page does, and times the whole day over
many repetitions: first by Erlang C, then by Erlang A with callers patient for a minute on
average. Then it times the wallboard (``tests.bench.wallboard``) on its own database.
Results go to ``tests/bench/results/staffing.md``.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results" / "staffing.md"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/callcentre_bench_staffing"
TARGET_MS = 50.0
INTERVALS = 48
CALLS = 2000
PATIENCE_SECONDS = 60


def _day() -> list[dict]:
    # Handle times vary across the day (longer calls at night), so no interval repeats.
    return [
        {
            "calls": CALLS,
            "interval_minutes": 30,
            "aht_seconds": 170 + (interval % 12) * 2,
            "target_seconds": 20,
            "service_level": 0.8,
            "max_occupancy": 0.9,
            "shrinkage": 0.3,
        }
        for interval in range(INTERVALS)
    ]


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    from tests.bench.run import _environment

    _environment(args)
    import django

    django.setup()
    from staffing import erlang
    from tests.bench import wallboard

    day = _day()
    erlang.required(**day[0])  # warm up
    runs, staffings = _time(erlang, day, args.repeat)
    patient_day = [{**interval, "patience_seconds": PATIENCE_SECONDS} for interval in day]
    erlang.required(**patient_day[0])
    patient_runs, patient_staffings = _time(erlang, patient_day, args.repeat)
    agents = [staffing.agents for staffing in staffings]
    patient_agents = [staffing.agents for staffing in patient_staffings]
    abandoned = [staffing.probability_of_abandon for staffing in patient_staffings]
    p50, p95, verdict = _verdict(runs)
    patient_p50, patient_p95, patient_verdict = _verdict(patient_runs)
    lines = [
        "# Staffing benchmark: Erlang C and Erlang A for a day of 48 intervals",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()};"
        f" {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}",
        f"- the day: {INTERVALS} half-hour intervals of {CALLS:,} calls, handle time 170–192 s,"
        " 80 % in 20 s, occupancy at most 90 %, shrinkage 30 %",
        f"- agents per interval: {min(agents)}–{max(agents)} on the phones",
        f"- {args.repeat} days sized: p50 **{p50:.2f} ms**, p95 **{p95:.2f} ms**,"
        f" max {runs[-1]:.2f} ms for the whole day (target ≤ {TARGET_MS:.0f} ms): {verdict}",
        f"- Erlang A, the same day with callers patient for {PATIENCE_SECONDS} s on average:"
        f" {min(patient_agents)}–{max(patient_agents)} agents on the phones,"
        f" {min(abandoned):.2%}–{max(abandoned):.2%} of calls abandoned",
        f"- {args.repeat} days sized by Erlang A: p50 **{patient_p50:.2f} ms**,"
        f" p95 **{patient_p95:.2f} ms**, max {patient_runs[-1]:.2f} ms for the whole day"
        f" (target ≤ {TARGET_MS:.0f} ms): {patient_verdict}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    passed = verdict == patient_verdict == "PASS"
    if args.calls:
        board = _wallboard(args)
        lines += wallboard.wallboard_lines(board)
        sys.stdout.write("\n".join(wallboard.wallboard_lines(board)) + "\n")
        passed = passed and board.passed
    RESULTS.write_text("\n".join([*lines, ""]), encoding="utf-8")
    return 0 if passed else 1


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench.sh --suite staffing", description=__doc__)
    add = parser.add_argument
    add("--repeat", type=int, default=200, help="days sized (%(default)s)")
    add(
        "--calls",
        type=int,
        default=1_000_000,
        help="calls in all; 0 skips the wallboard (%(default)s)",
    )
    add("--today", type=int, default=12_000, help="calls of the day by 16:40 (%(default)s)")
    add("--days", type=int, default=90, help="days the other calls spread over (%(default)s)")
    add("--requests", type=int, default=1000, help="measured wallboard requests (%(default)s)")
    add("--warmup", type=int, default=100, help="unmeasured requests first (%(default)s)")
    add("--rounds", type=int, default=4, help="measured rounds (%(default)s)")
    add(
        "--quiet-wait",
        type=float,
        default=10,
        help="before each round, wait up to this many seconds for other work on the machine "
        "to use under a quarter of a core (%(default)s)",
    )
    add("--fresh", action="store_true", help="drop and reload the database even if reusable")
    add(
        "--database-url",
        default=os.environ.get("BENCH_STAFFING_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="the wallboard's database, dropped and recreated; its name must contain 'bench' "
        "(%(default)s)",
    )
    args = parser.parse_args(argv)
    if "bench" not in urlparse(args.database_url).path:
        parser.error("--database-url must name a database with 'bench' in it: it is dropped")
    return args


def _say(message: str) -> None:
    print(f"[bench staffing {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


def _quiet(max_seconds: float) -> None:
    from tests.bench.load import wait_quietly

    wait_quietly(max_seconds, say=_say)


def _wallboard(args: argparse.Namespace):
    from tests.bench import wallboard

    dataset = wallboard.wallboard_dataset_prepare(
        calls=args.calls, today=args.today, days=args.days, fresh=args.fresh, log=_say
    )
    _say(f"the wallboard: {args.requests} requests in {args.rounds} rounds")
    return wallboard.wallboard_measure(
        dataset,
        requests=args.requests,
        warmup=args.warmup,
        rounds=args.rounds,
        quiet=lambda: _quiet(args.quiet_wait),
    )


def _time(erlang: ModuleType, day: list[dict], repeat: int) -> tuple[list[float], list]:
    """Return the milliseconds of each of ``repeat`` sizings of ``day``, sorted, and the last
    sizing's figures."""
    runs, staffings = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        staffings = [erlang.required(**interval) for interval in day]
        runs.append((time.perf_counter() - started) * 1000)
    runs.sort()
    return runs, staffings


def _verdict(runs: list[float]) -> tuple[float, float, str]:
    p95 = runs[int(0.95 * (len(runs) - 1))]
    return statistics.median(runs), p95, "PASS" if p95 <= TARGET_MS else "FAIL"
