"""The storm's results page, and its verdict against the targets."""

import os
from collections import defaultdict
from datetime import datetime

from tests.bench.load import _percentile

P95_TARGET_MS = 500
P99_TARGET_MS = 1000
RATE_SHARE = 0.95
DRAIN_TARGET_SECONDS = 60
MEMORY_GROWTH_PERCENT = 10


def _endpoints(phase) -> list[dict]:
    """Per page or endpoint: latency over the measured window (after the warm-up), answers
    counted over the whole phase."""
    timed: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "5xx": 0, "errors": 0})
    start = phase.began + phase.warmup
    for name, started, ms, status, wanted, cpu_ms in phase.samples:
        tally = counts[name]
        tally["n"] += 1
        if status >= 500:
            tally["5xx"] += 1
        elif not wanted:
            tally["errors"] += 1
        if started >= start:
            timed[name].append(ms)
            if cpu_ms is not None:
                cpu[name].append(cpu_ms)
    rows = []
    for name in sorted(counts):
        values = timed.get(name, [])
        p95, p99 = _percentile(values, 95), _percentile(values, 99)
        spent = cpu.get(name, [])
        rows.append(
            {
                "name": name,
                "n": counts[name]["n"],
                "5xx": counts[name]["5xx"],
                "errors": counts[name]["errors"],
                "p50": _percentile(values, 50),
                "p95": p95,
                "p99": p99,
                "max": max(values, default=float("nan")),
                "cpu": sum(spent) / len(spent) if spent else float("nan"),
                "cpu_total": sum(spent),
                "measured": bool(values),
                "ok": bool(values) and p95 <= P95_TARGET_MS and p99 <= P99_TARGET_MS,
            }
        )
    return rows


def _phase_lines(phase, title: str) -> tuple[list[str], list[str]]:
    """Return the phase's section and the targets it missed."""
    missed = []
    rows = _endpoints(phase)
    target_rate = 100 * phase.multiplier
    lines = [
        f"## {title}",
        "",
        f"- users: {', '.join(f'{n} {kind}' for kind, n in phase.users.items())}; "
        f"{phase.seconds:g} s, latency after the first {phase.warmup:g} s",
        f"- calls offered: **{phase.calls_per_minute:.0f} a minute** (target "
        f"{target_rate:g}; 85 % put through to agents, 15 % abandoned)",
        "- CPU cores: " + ", ".join(f"{group} {cores:.2f}" for group, cores in phase.cpu.items()),
        "",
        "| page or endpoint | requests | p50 ms | p95 ms | p99 ms | max ms | 5xx | other "
        "errors | server CPU ms | target |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    if phase.calls_per_minute < RATE_SHARE * target_rate:
        missed.append(f"{title}: calls offered {phase.calls_per_minute:.0f}/min")
    for row in rows:
        if row["measured"] and not row["ok"]:
            missed.append(f"{title}: {row['name']} p95 {row['p95']:.0f} / p99 {row['p99']:.0f}")
        if row["5xx"] or row["errors"]:
            missed.append(f"{title}: {row['name']} {row['5xx']} 5xx, {row['errors']} errors")
        if not row["measured"]:
            verdict = "not timed: warm-up only"
        elif row["ok"] and not row["5xx"] and not row["errors"]:
            verdict = "met"
        else:
            verdict = "**missed**"
        lines.append(
            f"| `{row['name']}` | {row['n']:,} | {row['p50']:.0f} | {row['p95']:.0f} | "
            f"{row['p99']:.0f} | {row['max']:.0f} | {row['5xx']} | {row['errors']} | "
            f"{row['cpu']:.1f} | {verdict} |"
        )
    window = phase.seconds - phase.warmup
    web_cores = sum(row["cpu_total"] for row in rows) / 1000 / window
    per_call = web_cores * 60 / phase.calls_per_minute if phase.calls_per_minute else 0
    lines += [
        "",
        f"The web workers' CPU, from each answer's `Server-Timing: cpu;dur=`: {web_cores:.2f} "
        f"cores, **{per_call * 1000:.0f} ms per call offered** (every page of the storm "
        f"counted, the dispatchers' and crews' too); the full storm peak at this multiplier "
        f"would need {per_call * target_rate / 60:.2f} cores of web CPU alone.",
    ]
    for name, samples in sorted(phase.failures.items()):
        lines.append(f"\n- failures of `{name}`, e.g.: " + "; ".join(f"`{s}`" for s in samples))
    drained = phase.drain_seconds
    if drained is None or drained > DRAIN_TARGET_SECONDS:
        missed.append(f"{title}: Celery drained in {drained} s ({phase.drain_left})")
    if drained is None:
        drain = f"Celery did **not** drain: {phase.drain_left}"
    else:
        drain = (
            f"Celery's queue was at most {phase.queue_max:,} tasks deep during the phase and "
            f"drained **{drained:.1f} s** after the load generator stopped (target ≤ "
            f"{DRAIN_TARGET_SECONDS} s)"
        )
    sweeps = (
        f"overdue sweeps (beat, every minute) during the phase: {len(phase.sweeps)}, the "
        f"slowest {max(phase.sweeps, default=0):.2f} s; {phase.alerts:,} alerts raised"
    )
    lines += [
        "",
        f"{drain}; {sweeps}.",
        "",
        "| counted | acknowledged to the load generator | in the database | lost |",
        "|---|--:|--:|--:|",
    ]
    for what, acked, stored in phase.counts:
        lost = max(0, acked - stored)
        if lost:
            missed.append(f"{title}: {lost} {what} lost")
        shown = f"**{lost}**" if lost else "0"
        lines.append(f"| {what} | {acked:,} | {stored:,} | {shown} |")
    sent = sum(by.get("sent", 0) for by in phase.messages.values())
    unsent = sum(n for by in phase.messages.values() for s, n in by.items() if s != "sent")
    kinds = ", ".join(f"{kind} {sum(by.values()):,}" for kind, by in sorted(phase.messages.items()))
    if unsent or sent != phase.sms_delivered:
        missed.append(
            f"{title}: {unsent} messages not sent; {sent} sent, {phase.sms_delivered} taken"
        )
    refused = phase.acks.get("links_refused_closed", 0)
    lines += [
        "",
        f"Text messages queued: {kinds or 'none'}; sent {sent:,}, not sent {unsent}, taken by "
        f"the gateway (`SmsRecord`) {phase.sms_delivered:,}. Links refused because a "
        f"dispatcher closed the ticket meanwhile (the right answer): {refused}; repeated CTI "
        f"events answered as repeats: {phase.acks.get('cti_duplicates', 0):,}.",
        "",
    ]
    return lines, missed


def _memory_lines(memory: dict) -> tuple[list[str], list[str]]:
    lines = [
        "| process | after warm-up MiB | end MiB | max MiB | growth | flat |",
        "|---|--:|--:|--:|--:|---|",
    ]
    missed = []
    for label, figure in memory.items():
        flat = figure["growth"] < MEMORY_GROWTH_PERCENT
        if not flat:
            missed.append(f"soak: {label} grew {figure['growth']:.1f} %")
        lines.append(
            f"| {label} | {figure['start']:.1f} | {figure['end']:.1f} | {figure['max']:.1f} | "
            f"{figure['growth']:+.1f} % | {'yes' if flat else '**no**'} |"
        )
    if not memory:
        missed.append("soak: no memory samples")
    return lines, missed


def render(*, args, started: datetime, dataset, phases: list, soak, command: str):
    """Return the results page and whether every target was met."""
    lines = [
        "# Storm benchmark: the whole system under a storm's calls",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC; {os.cpu_count()} cores; load average at the "
        f"end {os.getloadavg()[0]:.2f}",
        f"- gunicorn {args.workers} sync workers, Celery worker {args.concurrency} processes, "
        "Celery beat; PostgreSQL, Redis (broker and shared cache); Locust on the same machine",
        f"- the database: {dataset.tickets:,} past tickets over 90 days (loaded in "
        f"{dataset.load_seconds:.0f} s)",
        f"- command: `{command}`",
        "",
        f"Targets at every multiplier: no 5xx and no other unexpected answer; p95 ≤ "
        f"{P95_TARGET_MS} ms and p99 ≤ {P99_TARGET_MS} ms for every page and endpoint; calls "
        f"offered at ≥ {RATE_SHARE:.0%} of the rate; Celery drained within "
        f"{DRAIN_TARGET_SECONDS} s; nothing acknowledged missing from the database. In the "
        f"soak, also every process's memory growing by less than {MEMORY_GROWTH_PERCENT} % "
        "after its warm-up.",
        "",
    ]
    missed: list[str] = []
    for phase in phases:
        section, failed = _phase_lines(phase, f"{phase.multiplier:g}× the storm peak")
        lines += section
        missed += failed
    if soak is not None:
        section, failed = _phase_lines(soak, f"Soak: {soak.seconds / 60:g} minutes at 1×")
        memory, memory_missed = _memory_lines(soak.memory)
        lines += [*section, "Memory (resident set) of every process:", "", *memory, ""]
        missed += failed + memory_missed
    passed = not missed
    lines += [f"Result: **{'PASS' if passed else 'FAIL'}**.", ""]
    lines += [f"- missed: {item}" for item in missed]
    return "\n".join(lines) + "\n", passed
