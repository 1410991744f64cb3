"""Benchmark the reports' figures: ``scripts/bench.sh --suite reports``.

1. Make the reports database hold a month of ``--tickets`` tickets (the last full month
   before the day it was loaded) and ``--history-days`` days before it at
   ``--history-share`` of the volume, with their extensions, complaints, callbacks,
   accountability records, calls and dispatchers' notes (reused when it already does;
   ``tests/bench/reports_dataset.py``).
2. Wait for any other benchmark on the machine to finish (``--others-wait``), then, before
   each kind, for the rest of the machine to use under a quarter of a core.
3. Each kind's figures (``reports.services.FIGURES``) in this process, in autocommit as the
   beat's job computes them, after one unmeasured run: the monthly over the month
   (``--monthly-runs``), the daily over the busiest day and over an ordinary weekday
   (``--daily-runs`` each), the weekly over the busiest day's week (``--weekly-runs``), the
   shift over the busiest day's day shift (``--shift-runs``). Wall time, the time in SQL,
   every statement with the function of ``reports`` that ran it.
4. The same figures once over smaller periods (the month before, a day, a week and a shift
   of the history at a quarter of the volume; the busiest day's night shift): the query
   count of each kind must be the same over all of them.
5. EXPLAIN of every statement of the last run of each kind (no statement of the daily or
   shift report may read a ticket, callback, call, complaint or extension table from end to
   end), and EXPLAIN (ANALYZE, BUFFERS) of the slowest ones.
6. ``report_generate`` of each kind once (the figures stored as the beat's job stores them).
7. Print the results and write them to ``tests/bench/results/reports.md``.

Exits 1 when the slowest monthly run is over 15 s, the p95 of a day's daily runs is over
2 s, a kind's query count differs between runs or periods, or a plan of the daily or shift
report reads one of those tables from end to end.
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
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/callcentre_bench_reports"
VAR_DIR = ROOT / "var" / "bench-reports"
MONTHLY_TARGET_SECONDS = 15.0
DAILY_TARGET_SECONDS = 2.0
QUIET_CORES = 0.25
# The tables a report over a day or a shift must read along an index: they grow with every
# month of history. (A week is a tenth of this database's tickets, enough for a scan from end
# to end to be the cheaper plan; a month half of them.)
GROWING_TABLES = (
    "tickets_ticket",
    "followups_callback",
    "callcentre_call",
    "followups_complaint",
    "tickets_extensionrequest",
)
_SCAN = re.compile(
    r"(Seq Scan|Parallel Seq Scan|Index Scan|Index Only Scan|Parallel Index Scan|"
    r"Parallel Index Only Scan|Bitmap Heap Scan|Parallel Bitmap Heap Scan|Bitmap Index Scan)"
    r"(?: using (\S+))? on (\S+)"
)
_BITMAP_INDEX = re.compile(r"Bitmap Index Scan on (\S+)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scripts/bench.sh --suite reports",
        description=__doc__,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    parser.add_argument("--suite", default="reports", help=argparse.SUPPRESS)
    add = parser.add_argument
    add("--tickets", type=int, default=1_500_000, help="tickets in the month (%(default)s)")
    add(
        "--history-days",
        type=int,
        default=150,
        help="days of history before the month (%(default)s)",
    )
    add(
        "--history-share",
        type=float,
        default=0.25,
        help="the history's daily volume, as a share of the month's (%(default)s)",
    )
    add("--monthly-runs", type=int, default=3, help="measured monthly runs (%(default)s)")
    add("--daily-runs", type=int, default=7, help="measured daily runs per day (%(default)s)")
    add("--weekly-runs", type=int, default=3, help="measured weekly runs (%(default)s)")
    add("--shift-runs", type=int, default=5, help="measured shift runs (%(default)s)")
    add(
        "--explain-top",
        type=int,
        default=4,
        help="EXPLAIN ANALYZE this many of the slowest statements of each kind (%(default)s)",
    )
    add(
        "--quiet-wait",
        type=float,
        default=30,
        help="before each kind, wait up to this many seconds for other work on the machine\n"
        "to use under a quarter of a core (%(default)s)",
    )
    add(
        "--others-wait",
        type=float,
        default=900,
        help="before measuring, wait up to this many seconds for other benchmarks to end\n"
        "(%(default)s)",
    )
    add("--profile", action="store_true", help="cProfile one monthly run")
    add("--fresh", action="store_true", help="drop and reload the database even if reusable")
    add(
        "--database-url",
        default=os.environ.get("BENCH_REPORTS_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="the reports database, dropped and recreated; its name must contain 'bench'\n"
        "(BENCH_REPORTS_DATABASE_URL or %(default)s)",
    )
    add("--output", type=Path, help="where to write the results (tests/bench/results/reports.md)")
    return parser


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.output is None:
        args.output = RESULTS / "reports.md"
    if "bench" not in urlparse(args.database_url).path:
        parser.error("--database-url must name a database with 'bench' in it: it is dropped")
    if min(args.monthly_runs, args.daily_runs, args.weekly_runs, args.shift_runs) < 1:
        parser.error("every kind needs a measured run at least")
    if not 0 < args.history_share <= 1 or args.history_days < 0:
        parser.error("--history-share is a share (0 to 1], --history-days not negative")
    return args


def _environment(args: argparse.Namespace) -> dict[str, str]:
    """The ticket suite's environment, with the files of this suite in a folder of its own."""
    from tests.bench.run import _environment as bench_environment

    (VAR_DIR / "static").mkdir(parents=True, exist_ok=True)
    os.environ["VAR_DIR"] = str(VAR_DIR)
    return bench_environment(args)


def _say(message: str) -> None:
    print(f"[bench reports {datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


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


# -- the machine ------------------------------------------------------------------------------


def other_benchmarks() -> list[str]:
    """Return the command lines of the benchmarks running on the machine, but this one (and
    the ``--suite all`` that started it)."""
    from tests.bench.load import _processes

    processes = {pid: (ppid, cmdline) for pid, ppid, cmdline in _processes()}
    mine, pid = set(), os.getpid()
    while pid in processes and pid not in mine:
        mine.add(pid)
        pid = processes[pid][0]
    return [
        cmdline
        for pid, (_ppid, cmdline) in processes.items()
        if pid not in mine and "tests.bench" in cmdline and "python" in cmdline
    ]


@dataclass
class Busy:
    """How busy the machine was: other benchmarks seen, the load average, and waiting."""

    others_at_start: list[str] = field(default_factory=list)
    waited_seconds: float = 0.0
    others_when_measuring: list[str] = field(default_factory=list)
    load_at_start: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_when_measuring: tuple[float, float, float] = (0.0, 0.0, 0.0)
    still_busy: list[str] = field(default_factory=list)  # kinds begun with the machine busy
    before: dict[str, float] = field(default_factory=dict)  # other work's cores, per kind


def wait_for_others(max_seconds: float, busy: Busy) -> None:
    started = time.monotonic()
    busy.others_at_start = other_benchmarks()
    busy.load_at_start = os.getloadavg()
    others = busy.others_at_start
    while others and time.monotonic() - started < max_seconds:
        _say(f"another benchmark is running ({others[0][:80]}); waiting")
        time.sleep(15)
        others = other_benchmarks()
    busy.waited_seconds = time.monotonic() - started
    busy.others_when_measuring = others
    busy.load_when_measuring = os.getloadavg()
    if others:
        _say("other benchmarks still running; measuring anyway")


def _quiet(max_seconds: float, busy: Busy, kind: str) -> None:
    from tests.bench.load import wait_for_quiet

    if max_seconds <= 0:
        return
    cores = wait_for_quiet(threshold=QUIET_CORES, max_seconds=max_seconds)
    busy.before[kind] = cores
    if cores >= QUIET_CORES:
        busy.still_busy.append(f"{kind} ({cores:.2f} cores)")
        _say(f"the machine is still busy ({cores:.2f} cores used by other work); going on")


# -- a run ------------------------------------------------------------------------------------


@dataclass
class Statement:
    site: str  # the functions of ``reports`` that ran it, innermost first
    sql: str
    params: tuple
    seconds: float


class Recorder:
    """An execute wrapper: each statement, its parameters, its time and where it ran."""

    def __init__(self) -> None:
        self.statements: list[Statement] = []
        self.reports = str(ROOT / "reports")

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds = time.perf_counter() - started
            self.statements.append(Statement(self._site(), sql, tuple(params or ()), seconds))

    def _site(self) -> str:
        names = []
        frame = sys._getframe(2)
        while frame is not None and len(names) < 2:
            path = frame.f_code.co_filename
            if path.startswith(self.reports):
                name = f"{Path(path).stem}.{frame.f_code.co_name}"
                if name not in names:
                    names.append(name)
            frame = frame.f_back
        return " ← ".join(names) or "?"


@dataclass
class Run:
    kind: str
    label: str
    seconds: float
    statements: list[Statement]
    cores: dict[str, float]
    size: int  # of the figures as JSON, in bytes

    @property
    def queries(self) -> int:
        return len(self.statements)

    @property
    def sql_seconds(self) -> float:
        return sum(statement.seconds for statement in self.statements)


def measure(kind: str, period, *, label: str, profiler=None) -> Run:
    """Compute the figures of ``kind`` for ``period`` once, as the beat's job does."""
    from django.core.serializers.json import DjangoJSONEncoder
    from django.db import connection

    from reports.services import FIGURES

    recorder = Recorder()
    cpu = _meter()
    with connection.execute_wrapper(recorder):
        if profiler:
            profiler.enable()
        began = time.perf_counter()
        figures = FIGURES[kind](period=period)
        seconds = time.perf_counter() - began
        if profiler:
            profiler.disable()
    cores = cpu.stop()
    size = len(json.dumps(figures, cls=DjangoJSONEncoder))
    return Run(kind, label, seconds, recorder.statements, cores, size)


def stored(kind: str, period) -> tuple[float, int]:
    """Run ``report_generate`` once; return its seconds and its queries."""
    from django.db import connection
    from django.utils import timezone

    from reports.services import report_generate

    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        began = time.perf_counter()
        report_generate(kind=kind, period=period, now=timezone.now())
        seconds = time.perf_counter() - began
    return seconds, len(recorder.statements)


# -- plans ------------------------------------------------------------------------------------


@dataclass
class Plan:
    kind: str
    site: str
    seconds: float  # as the run timed it
    scans: list[str]  # "Seq Scan on tickets_ticket", "Index Scan using … on …"
    full_reads: list[str]  # growing tables read from end to end
    text: str = ""  # EXPLAIN (ANALYZE, BUFFERS), for the slowest
    planning_ms: float = 0.0
    execution_ms: float = 0.0
    jit_ms: float = 0.0


def _explain(statement: Statement, *, analyze: bool) -> str:
    from django.db import connection

    options = "ANALYZE, BUFFERS" if analyze else "COSTS OFF"
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ({options}) {statement.sql}", statement.params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _scans(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        match = _SCAN.search(line)
        if match:
            node, index, table = match.groups()
            if node == "Bitmap Index Scan":
                continue
            found.append(f"{node} {f'using {index} ' if index else ''}on {table}")
        bitmap = _BITMAP_INDEX.search(line)
        if bitmap:
            found.append(f"Bitmap Index Scan on {bitmap.group(1)}")
    return found


def plans_of(run: Run, *, top: int) -> list[Plan]:
    """Every statement's scans (plain EXPLAIN), and EXPLAIN ANALYZE of the ``top`` slowest."""
    slowest = sorted(run.statements, key=lambda s: s.seconds, reverse=True)[:top]
    plans = []
    for statement in run.statements:
        scans = _scans(_explain(statement, analyze=False))
        full = sorted(
            {
                scan.rsplit(" on ", 1)[1]
                for scan in scans
                if "Seq Scan" in scan and scan.rsplit(" on ", 1)[1] in GROWING_TABLES
            }
        )
        plan = Plan(run.kind, statement.site, statement.seconds, scans, full)
        if statement in slowest:
            plan.text = _explain(statement, analyze=True)
            plan.planning_ms = _number(r"Planning Time: ([\d.]+) ms", plan.text)
            plan.execution_ms = _number(r"Execution Time: ([\d.]+) ms", plan.text)
            plan.jit_ms = _number(r"Timing: .*Total ([\d.]+) ms", plan.text)
        plans.append(plan)
    return plans


def _number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    return float(found.group(1)) if found else 0.0


# -- the verdict ------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    from tests.bench.board import percentile as nearest_rank

    return nearest_rank(values, pct)


@dataclass
class Verdict:
    monthly_max: float
    daily_p95: dict[str, float]  # per day measured
    counts: dict[str, list[int]]  # per kind, every run's and period's count
    full_reads: list[str]  # "daily: tickets_ticket (selectors.daily_figures)"

    @property
    def monthly_ok(self) -> bool:
        return self.monthly_max <= MONTHLY_TARGET_SECONDS

    @property
    def daily_ok(self) -> bool:
        return all(p95 <= DAILY_TARGET_SECONDS for p95 in self.daily_p95.values())

    @property
    def counts_ok(self) -> bool:
        return all(len(set(counts)) == 1 for counts in self.counts.values())

    @property
    def plans_ok(self) -> bool:
        return not self.full_reads

    @property
    def passed(self) -> bool:
        return self.monthly_ok and self.daily_ok and self.counts_ok and self.plans_ok


def _mark(ok: bool) -> str:
    return "PASS" if ok else "**FAIL**"


# -- the page ---------------------------------------------------------------------------------


def _period_text(period) -> str:
    from django.utils import timezone

    start, end = timezone.localtime(period.start), timezone.localtime(period.end)
    if end - start == timedelta(days=1) and start.hour == 0:
        return f"{start:%Y-%m-%d} ({start:%a})"
    if start.hour == 0 and end.hour == 0 and start.day == 1 and end.day == 1:
        return f"{start:%Y-%m}"
    if start.hour == 0 and end.hour == 0:
        return f"{start:%Y-%m-%d} – {end - timedelta(days=1):%m-%d}"
    return f"{start:%Y-%m-%d %H:%M} – {end:%m-%d %H:%M}"


def _site_table(runs: list[Run]) -> list[str]:
    """Each statement of the runs (in order, by the function that ran it), its median ms."""
    lines = ["| # | run by | median ms | share |", "| --: | --- | --: | --: |"]
    total = statistics.median(run.seconds for run in runs) * 1000
    for n, statements in enumerate(zip(*(run.statements for run in runs), strict=True), 1):
        ms = statistics.median(statement.seconds for statement in statements) * 1000
        lines.append(f"| {n} | `{statements[0].site}` | {ms:,.1f} | {ms / total:.0%} |")
    sql = statistics.median(run.sql_seconds for run in runs) * 1000
    lines.append(f"| | Python (the rest) | {total - sql:,.1f} | {(total - sql) / total:.0%} |")
    return lines


def render(
    *,
    started: datetime,
    elapsed: float,
    command: str,
    postgres: str,
    settings_line: str,
    dataset,
    periods: dict,
    measured: dict[str, list[Run]],
    smaller: list[Run],
    plans: dict[str, list[Plan]],
    generated: dict[str, tuple[float, int]],
    busy: Busy,
    result: Verdict,
    profile: str,
) -> str:
    from tests.bench.report import machine

    cores, cpu, memory, kernel = machine()
    states = ", ".join(f"{state} {n:,}" for state, n in sorted(dataset.states.items()))
    busiest = dataset.busiest_day_tickets
    monthly = measured["monthly"]
    lines = [
        "# Reports benchmark: the shift, daily, weekly and monthly figures",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {started:%Y-%m-%d %H:%M} UTC |",
        f"| command | `{command}` |",
        f"| machine | {cores} cores ({cpu}), {memory:.1f} GiB RAM, Linux {kernel} |",
        f"| PostgreSQL | {postgres}, {settings_line} |",
        f"| the month | {_period_text(dataset.month)}: {dataset.tickets:,} tickets ({states}); "
        f"the busiest day {_period_text(dataset.busiest_day)} with {busiest:,}; "
        f"{dataset.complaints:,} complaints; extension requests "
        + ", ".join(f"{state} {n:,}" for state, n in sorted(dataset.extensions.items()))
        + f"; {dataset.callbacks_done_in_month:,} callbacks done in it |",
        f"| the history | {dataset.history_tickets:,} tickets over the {dataset.history_days} "
        "days before the month (a quarter of its daily volume); callbacks over all of it: "
        + ", ".join(f"{state} {n:,}" for state, n in sorted(dataset.callbacks.items()))
        + f"; {dataset.accountability:,} accountability records; {dataset.calls:,} calls "
        f"(the month's); {dataset.unclosed_plans:,} dispatchers' notes |",
        f"| reference | {dataset.districts} districts, {dataset.communities:,} communities, "
        f"{dataset.crews} crews |",
        "| sizes | " + ", ".join(f"{t} {s}" for t, s in dataset.sizes.items()) + " |",
        "| load | "
        + (
            f"reused (loaded {dataset.now:%Y-%m-%d %H:%M} UTC in {dataset.load_seconds:.0f} s; "
            f"{dataset.removed_reports} reports of earlier runs deleted)"
            if dataset.reused
            else f"loaded in {dataset.load_seconds:.0f} s"
        )
        + " |",
        "| machine's load | "
        + (
            "other benchmarks at the start: "
            + "; ".join(f"`{c[:70]}`" for c in busy.others_at_start)
            + f", waited {busy.waited_seconds:.0f} s for them"
            if busy.others_at_start
            else "no other benchmark running at the start"
        )
        + (
            "; **still running when measuring**: "
            + "; ".join(f"`{c[:70]}`" for c in busy.others_when_measuring)
            if busy.others_when_measuring
            else ""
        )
        + f"; load average {busy.load_at_start[0]:.2f} at the start, "
        f"{busy.load_when_measuring[0]:.2f} when measuring"
        + "; the rest of the machine just before each kind (cores, over a second): "
        + ", ".join(f"{kind} {cores:.2f}" for kind, cores in busy.before.items())
        + (
            "; began with other work over a quarter of a core: " + ", ".join(busy.still_busy)
            if busy.still_busy
            else ""
        )
        + " |",
        f"| run took | {elapsed / 60:.1f} min |",
        "",
        "## Verdict",
        "",
        f"- monthly over {_period_text(periods['monthly'])}, {len(monthly)} runs: slowest "
        f"**{result.monthly_max:.2f} s** (each: "
        + ", ".join(f"{run.seconds:.2f}" for run in monthly)
        + f"; target ≤ {MONTHLY_TARGET_SECONDS:g} s): {_mark(result.monthly_ok)}",
        *(
            f"- daily over {label}: p95 **{p95:.2f} s** (target ≤ {DAILY_TARGET_SECONDS:g} s): "
            f"{_mark(p95 <= DAILY_TARGET_SECONDS)}"
            for label, p95 in result.daily_p95.items()
        ),
        "- the same query count in every run and over every period, per kind: "
        + "; ".join(f"{kind} {sorted(set(counts))}" for kind, counts in result.counts.items())
        + f": {_mark(result.counts_ok)}",
        "- no statement of the daily or shift report reads "
        + ", ".join(GROWING_TABLES)
        + " from end to end"
        + (": " + "; ".join(result.full_reads) if result.full_reads else "")
        + f": {_mark(result.plans_ok)}",
        "",
        f"**{'PASS' if result.passed else 'FAIL'}**",
        "",
        "## Method",
        "",
        "Each kind's figures are computed in this process by the function the beat's job "
        "calls (`reports.services.FIGURES[kind](period=…)`), in autocommit, after one "
        "unmeasured run of the same period; *seconds* is its wall time, *SQL* the time in "
        "`cursor.execute` (an execute wrapper, which also records each statement and the "
        "function of `reports` that ran it), *Python* the rest. Before each kind the run "
        f"waits up to the `--quiet-wait` for other work to use under {QUIET_CORES} of a "
        "core; the CPU columns say what the client (this process), PostgreSQL serving the "
        "database and everything else used during each run; PostgreSQL's parallel workers "
        "start and end within a statement, unseen by the meter, so *other* holds them too "
        "(the monthly and weekly reports' scans use two).",
        "",
        "## Figures",
        "",
        "| report | period | tickets in it | runs | p50 s | p95 s | max s | SQL s (median) "
        "| queries | figures (JSON) | CPU cores (median run) |",
        "| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: | --- |",
    ]
    for key, runs in measured.items():
        seconds = [run.seconds for run in runs]
        middle = sorted(runs, key=lambda run: run.seconds)[len(runs) // 2]
        lines.append(
            f"| {runs[0].kind} | {runs[0].label} | {periods['tickets'][key]:,} | {len(runs)} "
            f"| {percentile(seconds, 50):.2f} | **{percentile(seconds, 95):.2f}** "
            f"| {max(seconds):.2f} | {statistics.median(r.sql_seconds for r in runs):.2f} "
            f"| {runs[0].queries} | {middle.size / 1024:,.0f} KiB | {_cores(middle.cores)} |"
        )
    lines += [
        "",
        "Each run, in order (s): "
        + "; ".join(
            f"{key} " + ", ".join(f"{run.seconds:.2f}" for run in runs)
            for key, runs in measured.items()
        )
        + ".",
        "",
        "The query count over smaller periods (one run each):",
        "",
        "| report | period | tickets in it | seconds | queries |",
        "| --- | --- | --: | --: | --: |",
        *(
            f"| {run.kind} | {run.label} | {periods['tickets'][run.label]:,} "
            f"| {run.seconds:.2f} | {run.queries} |"
            for run in smaller
        ),
        "",
        "`report_generate` (the figures, then stored in `reports_report.figures` in a "
        "transaction, as the beat's job does), once each: "
        + "; ".join(
            f"{kind} {seconds:.2f} s, {queries} queries"
            for kind, (seconds, queries) in generated.items()
        )
        + ".",
    ]
    for key, runs in measured.items():
        lines += ["", f"### Where the time goes: {key}", "", *_site_table(runs)]
    lines += [
        "",
        "## Plans",
        "",
        "Every statement of the last run of each kind, EXPLAINed: the tables it reads and "
        "how (*Seq Scan*: from end to end). The daily and shift reports must read the growing "
        "tables along an index; a week is a tenth of this database's tickets and a month "
        "half, where a scan of the whole table is the cheaper plan (it would not be over "
        "years of history).",
        "",
        "| report | # | run by | ms (the run) | scans |",
        "| --- | --: | --- | --: | --- |",
    ]
    for kind, kind_plans in plans.items():
        for n, plan in enumerate(kind_plans, 1):
            scans = "; ".join(dict.fromkeys(plan.scans))
            lines.append(f"| {kind} | {n} | `{plan.site}` | {plan.seconds * 1000:,.1f} | {scans} |")
    for kind, kind_plans in plans.items():
        for plan in sorted(
            (plan for plan in kind_plans if plan.text), key=lambda p: -p.execution_ms
        ):
            lines += [
                "",
                f"`{kind}`: `{plan.site}`, EXPLAIN (ANALYZE, BUFFERS): planning "
                f"{plan.planning_ms:.1f} ms, execution {plan.execution_ms:,.1f} ms"
                + (f" (JIT {plan.jit_ms:,.0f} ms of it)" if plan.jit_ms else "")
                + ":",
                "",
                "```",
                plan.text,
                "```",
            ]
    if profile:
        lines += ["", "## cProfile: one monthly run", "", "```", profile, "```"]
    lines.append("")
    return "\n".join(lines)


def _profile_text(profiler, top: int = 25) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    text = out.getvalue()
    body = text[text.find("   ncalls") :] if "   ncalls" in text else text
    return body.replace(str(ROOT) + "/", "").rstrip()


# -- main -------------------------------------------------------------------------------------


def _periods(dataset) -> tuple[dict, list]:
    """The periods measured (by key), and the smaller ones compared (kind, period)."""
    from django.utils import timezone

    from reports.periods import day_of, month_of, shift_of, week_of

    busiest = dataset.busiest_day
    weekdays = sorted(
        (count, day)
        for day, count in dataset.days.items()
        if day.weekday() < 5 and day != timezone.localtime(busiest.start).date()
    )
    ordinary_day = weekdays[len(weekdays) // 2][1]
    ordinary = day_of(timezone.make_aware(datetime.combine(ordinary_day, datetime.min.time())))
    noon = busiest.start + timedelta(hours=12)
    history = dataset.month.start - timedelta(days=14) + timedelta(hours=12)
    measured = {
        "monthly": ("monthly", dataset.month),
        "daily, the busiest day": ("daily", busiest),
        "daily, an ordinary weekday": ("daily", ordinary),
        "weekly": ("weekly", week_of(busiest.start)),
        "shift": ("shift", shift_of(noon)),
    }
    smaller = [
        ("monthly", month_of(dataset.month.start - timedelta(days=1))),
        ("daily", day_of(history)),
        ("weekly", week_of(history)),
        ("shift", shift_of(busiest.start + timedelta(hours=23))),
        ("shift", shift_of(history)),
    ]
    return measured, smaller


def _tickets_in(period) -> int:
    from tickets.models import Ticket

    return Ticket.objects.filter(received_at__gte=period.start, received_at__lt=period.end).count()


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    _environment(args)
    started, clock = datetime.now(UTC), time.monotonic()

    import django

    django.setup()
    from django.db import connection

    from tests.bench.reports_dataset import reports_dataset_prepare

    busy = Busy()
    dataset = reports_dataset_prepare(
        tickets=args.tickets,
        history_days=args.history_days,
        history_share=args.history_share,
        fresh=args.fresh,
        log=_say,
    )
    _say(
        f"{dataset.tickets:,} tickets in {_period_text(dataset.month)} (busiest day "
        f"{_period_text(dataset.busiest_day)}: {dataset.busiest_day_tickets:,}), "
        f"{dataset.history_tickets:,} before it"
    )
    measured_periods, smaller_periods = _periods(dataset)
    tickets = {key: _tickets_in(period) for key, (_kind, period) in measured_periods.items()}
    runs_of = {
        "monthly": args.monthly_runs,
        "daily": args.daily_runs,
        "weekly": args.weekly_runs,
        "shift": args.shift_runs,
    }
    wait_for_others(args.others_wait, busy)

    measured: dict[str, list[Run]] = {}
    profile = ""
    for key, (kind, period) in measured_periods.items():
        _quiet(args.quiet_wait, busy, key)
        label = _period_text(period)
        warm = measure(kind, period, label=label)
        _say(f"{key} over {label}: warm-up {warm.seconds:.2f} s, {warm.queries} queries")
        measured[key] = []
        for _ in range(runs_of[kind]):
            run = measure(kind, period, label=label)
            measured[key].append(run)
            _say(
                f"  {run.seconds:.2f} s (SQL {run.sql_seconds:.2f} s), {run.queries} queries; "
                f"CPU cores: {_cores(run.cores)}"
            )
        if kind == "monthly" and args.profile:
            profiler = cProfile.Profile()
            measure(kind, period, label=label, profiler=profiler)
            profile = _profile_text(profiler)

    smaller = []
    for kind, period in smaller_periods:
        text = _period_text(period)
        tickets[text] = _tickets_in(period)
        run = measure(kind, period, label=text)
        smaller.append(run)
        _say(f"{kind} over {text} ({tickets[text]:,} tickets): {run.seconds:.2f} s, "
             f"{run.queries} queries")  # fmt: skip

    _say("EXPLAIN every statement of each kind's last run")
    plans: dict[str, list[Plan]] = {}
    for runs in measured.values():
        kind = runs[-1].kind
        if kind in plans:
            continue
        plans[kind] = plans_of(runs[-1], top=args.explain_top)
        for plan in plans[kind]:
            if plan.full_reads:
                _say(f"  {kind} {plan.site}: reads {', '.join(plan.full_reads)} in full")

    generated = {}
    for kind, period in measured_periods.values():
        if kind not in generated:
            generated[kind] = stored(kind, period)
    from reports.models import Report

    Report.objects.filter(generated_at__gte=started).delete()

    counts: dict[str, list[int]] = {}
    for run in [*(run for runs in measured.values() for run in runs), *smaller]:
        counts.setdefault(run.kind, []).append(run.queries)
    result = Verdict(
        monthly_max=max(run.seconds for run in measured["monthly"]),
        daily_p95={
            runs[0].label: percentile([run.seconds for run in runs], 95)
            for key, runs in measured.items()
            if runs[0].kind == "daily"
        },
        counts=counts,
        full_reads=[
            f"{plan.kind}: {', '.join(plan.full_reads)} (`{plan.site}`)"
            for kind, kind_plans in plans.items()
            if kind in ("daily", "shift")
            for plan in kind_plans
            if plan.full_reads
        ],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('shared_buffers'), "
            "current_setting('work_mem'), current_setting('jit'), "
            "current_setting('max_parallel_workers_per_gather')"
        )
        version, shared_buffers, work_mem, jit, parallel = cursor.fetchone()
    page = render(
        started=started,
        elapsed=time.monotonic() - clock,
        command=os.environ.get("BENCH_COMMAND")
        or shlex.join(["python", "-m", "tests.bench.run", "--suite", "reports", *(argv or [])]),
        postgres=version,
        settings_line=f"shared_buffers {shared_buffers}, work_mem {work_mem}, jit {jit}, "
        f"max_parallel_workers_per_gather {parallel}",
        dataset=dataset,
        periods={"monthly": dataset.month, "tickets": tickets},
        measured=measured,
        smaller=smaller,
        plans=plans,
        generated=generated,
        busy=busy,
        result=result,
        profile=profile,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(page, encoding="utf-8")
    print()
    print(page)
    _say(f"written to {args.output}")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
