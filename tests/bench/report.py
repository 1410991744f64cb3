"""The benchmark's results as a small markdown page."""

import os
import platform
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tests.bench.dataset import Dataset
from tests.bench.explain import PlanCheck
from tests.bench.load import PhaseResult

# The targets: the full creation path against the bare DRF create of the same run.
MIN_RATIO = 0.60
MAX_P99_MS = 50.0
# Other processes using more than this during a phase make its figures doubtful.
BUSY_CORES = 0.25


@dataclass(frozen=True)
class Environment:
    """Where the run happened."""

    cores: int
    cpu: str
    memory_gib: float
    kernel: str
    postgres: str
    shared_buffers: str
    table_size: str


def machine() -> tuple[int, str, float, str]:
    """Return (cores, CPU model, memory GiB, kernel) of this machine."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return len(os.sched_getaffinity(0)), cpu, kib / 1024**2, platform.release()


@dataclass(frozen=True)
class Verdict:
    ratio: float
    p99_ms: float
    errors: int
    plans_ok: bool

    @property
    def ratio_ok(self) -> bool:
        return self.ratio >= MIN_RATIO

    @property
    def p99_ok(self) -> bool:
        return self.p99_ms <= MAX_P99_MS

    @property
    def passed(self) -> bool:
        return self.ratio_ok and self.p99_ok and self.errors == 0 and self.plans_ok


def verdict(phases: dict[str, PhaseResult], plans: list[PlanCheck]) -> Verdict:
    full, bare = phases["full"], phases["bare"]
    return Verdict(
        ratio=full.per_second / bare.per_second if bare.per_second else 0.0,
        p99_ms=full.percentile_ms(99),
        errors=sum(phase.errors for phase in phases.values()),
        plans_ok=all(plan.uses_index for plan in plans),
    )


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def render(
    *,
    started: datetime,
    elapsed: float,
    command: str,
    environment: Environment,
    dataset: Dataset,
    phases: dict[str, PhaseResult],
    plans: list[PlanCheck],
    result: Verdict,
    clients: int,
    workers: int,
    seconds: float,
) -> str:
    """Return the results page."""
    full, bare = phases["full"], phases["bare"]
    cpu_ratio = bare.server_cpu_ms / full.server_cpu_ms
    loaded = (
        f"reused (loaded {dataset.loaded_at:%Y-%m-%d %H:%M} UTC in {dataset.load_seconds:.0f} s)"
        if dataset.reused
        else f"loaded in this run in {dataset.load_seconds:.0f} s"
    )
    lines = [
        "# Ticket creation benchmark",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {started:%Y-%m-%d %H:%M} UTC |",
        f"| command | `{command}` |",
        f"| machine | {environment.cores} cores ({environment.cpu}), "
        f"{environment.memory_gib:.1f} GiB RAM, Linux {environment.kernel} |",
        f"| PostgreSQL | {environment.postgres}, shared_buffers {environment.shared_buffers} |",
        f"| database | {dataset.tickets:,} tickets ({environment.table_size} with indexes), "
        f"{loaded} |",
        f"| web server | gunicorn, {workers} sync workers, settings `tests.bench.settings` |",
        f"| run took | {elapsed / 60:.1f} min |",
        "",
    ]
    lines += [
        f"## Ticket creation: {seconds:g} s per phase after a warm-up",
        "",
        f"Full and bare alternate in {phases['full'].rounds} rounds of "
        f"{seconds / phases['full'].rounds:g} s each, so other work on the machine weighs on "
        "both alike; raw runs once.",
        "",
        "| phase | concurrency | requests | req/s | p50 ms | p99 ms | errors "
        "| CPU cores: client / web / PostgreSQL / other | server CPU ms/request |",
        "| --- | --: | --: | --: | --: | --: | --: | --- | --: |",
    ]
    for phase in phases.values():
        cpu = phase.cpu_cores
        lines.append(
            f"| **{phase.name}**: {phase.what} | {phase.concurrency} | {phase.requests:,} "
            f"| {phase.per_second:,.0f} | {phase.percentile_ms(50):.1f} "
            f"| {phase.percentile_ms(99):.1f} | {phase.errors} "
            f"| {cpu['client']:.2f} / {cpu['web']:.2f} / {cpu['postgres']:.2f} "
            f"/ {cpu['other']:.2f} | {phase.server_cpu_ms:.1f} |"
        )
    lines += [
        "",
        f"- full / bare: **{result.ratio:.0%}** (target ≥ {MIN_RATIO:.0%}): "
        f"**{_mark(result.ratio_ok)}**",
        f"- full p99: **{result.p99_ms:.1f} ms** (target ≤ {MAX_P99_MS:.0f} ms): "
        f"**{_mark(result.p99_ok)}**",
        f"- errors (non-2xx or failed INSERTs): {result.errors}: **{_mark(result.errors == 0)}**",
        f"- server CPU per request (web + PostgreSQL): full {full.server_cpu_ms:.1f} ms, bare "
        f"{bare.server_cpu_ms:.1f} ms; bare / full = {cpu_ratio:.0%}, roughly the throughput "
        "ratio of a CPU-bound server, whatever else runs on the machine.",
        f"- {clients} HTTP clients, one keep-alive `httpx.Client` per thread; 'other' is CPU "
        "that processes outside the benchmark used during the phase.",
    ]
    busy = [name for name, phase in phases.items() if phase.cpu_cores["other"] > BUSY_CORES]
    if busy:
        lines.append(
            f"- **Caution**: other work used over {BUSY_CORES} cores during "
            f"{', '.join(busy)}; those figures understate this machine."
        )
    for phase in phases.values():
        for sample in phase.error_samples:
            lines.append(f"  - {phase.name} error: `{sample}`")
    lines += [
        "",
        "## Open tickets past a deadline: EXPLAIN (ANALYZE, BUFFERS)",
        "",
        "| milestone | query | rows | ms | scan | range | |",
        "| --- | --- | --: | --: | --- | --- | --- |",
    ]
    for plan in plans:
        lines.append(
            f"| {plan.milestone} | `{plan.query}` | {plan.rows:,} | {plan.execution_ms:.1f} "
            f"| `{plan.scan}` | `{plan.condition}` | {_mark(plan.uses_index)} |"
        )
    lines += [
        "",
        f"Every overdue query range-scans its partial index: **{_mark(result.plans_ok)}**",
        "",
        f"## Overall: **{_mark(result.passed)}**",
        "",
    ]
    return "\n".join(lines)
