"""The staffing benchmark: Erlang C's requirement for a day of 48 half-hour intervals.

``scripts/bench.sh --suite staffing`` sizes a day of 48 intervals at 2,000 calls each (200
erlangs at a 180 s handle time, some 220 agents an interval) for 80 % in 20 s with an
occupancy cap and shrinkage, the way the planning page does, and times the whole day over
many repetitions. It needs no database. Results go to ``tests/bench/results/staffing.md``.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results" / "staffing.md"
TARGET_MS = 50.0
INTERVALS = 48
CALLS = 2000


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
    parser = argparse.ArgumentParser(prog="scripts/bench.sh --suite staffing")
    parser.add_argument("--repeat", type=int, default=200, help="days sized (%(default)s)")
    parser.add_argument("--quiet-wait", type=float, help="accepted for --suite all; unused")
    parser.add_argument("--fresh", action="store_true", help="accepted for --suite all; unused")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcentre.settings")
    from staffing import erlang

    day = _day()
    erlang.required(**day[0])  # warm up
    runs, agents = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        agents = [erlang.required(**interval).agents for interval in day]
        runs.append((time.perf_counter() - started) * 1000)
    runs.sort()
    p50 = statistics.median(runs)
    p95 = runs[int(0.95 * (len(runs) - 1))]
    verdict = "PASS" if p95 <= TARGET_MS else "FAIL"
    lines = [
        "# Staffing benchmark: Erlang C for a day of 48 intervals",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; Python {platform.python_version()};"
        f" {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}",
        f"- the day: {INTERVALS} half-hour intervals of {CALLS:,} calls, handle time 170–192 s,"
        " 80 % in 20 s, occupancy at most 90 %, shrinkage 30 %",
        f"- agents per interval: {min(agents)}–{max(agents)} on the phones",
        f"- {args.repeat} days sized: p50 **{p50:.2f} ms**, p95 **{p95:.2f} ms**,"
        f" max {runs[-1]:.2f} ms for the whole day (target ≤ {TARGET_MS:.0f} ms): {verdict}",
        "",
    ]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    sys.stdout.write("\n".join(lines))
    return 0 if verdict == "PASS" else 1
