"""The staffing benchmark: Erlang C's requirement for a day of 48 half-hour intervals, and
Erlang A's for the same day with callers who hang up.

``scripts/bench.sh --suite staffing`` sizes a day of 48 intervals at 2,000 calls each (200
erlangs at a 180 s handle time, some 220 agents an interval) for 80 % in 20 s with an
occupancy cap and shrinkage, the way the planning page does, and times the whole day over
many repetitions: first by Erlang C, then by Erlang A with callers patient for a minute on
average. It needs no database. Results go to ``tests/bench/results/staffing.md``.
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

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "bench" / "results" / "staffing.md"
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
    parser = argparse.ArgumentParser(prog="scripts/bench.sh --suite staffing")
    parser.add_argument("--repeat", type=int, default=200, help="days sized (%(default)s)")
    parser.add_argument("--quiet-wait", type=float, help="accepted for --suite all; unused")
    parser.add_argument("--fresh", action="store_true", help="accepted for --suite all; unused")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callcentre.settings")
    from staffing import erlang

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
        "",
    ]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    sys.stdout.write("\n".join(lines))
    return 0 if verdict == patient_verdict == "PASS" else 1


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
