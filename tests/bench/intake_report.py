"""The intake benchmark's results as a markdown page, and its verdict."""

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

from tests.bench.intake import (
    BIG_TABLES,
    HttpPhase,
    Measure,
    Plan,
    QueryCount,
    Round,
    _table_of,
    faq_url,
    percentile,
)
from tests.bench.intake_dataset import IntakeDataset
from tests.bench.intake_faq import QUERIES
from tests.bench.report import BUSY_CORES, machine


@dataclass(frozen=True)
class Verdict:
    target: float
    caller_p95: float
    caller_heavy_p95: float
    faq_p95: float
    heavy_queries: int
    light_queries: int
    caller_query_counts: tuple[int, ...]  # every known caller of the count table
    plans_ok: bool
    http_errors: int

    @property
    def caller_ok(self) -> bool:
        return self.caller_p95 <= self.target and self.caller_heavy_p95 <= self.target

    @property
    def faq_ok(self) -> bool:
        return self.faq_p95 <= self.target

    @property
    def queries_ok(self) -> bool:
        return len(set(self.caller_query_counts)) == 1

    @property
    def passed(self) -> bool:
        return (
            self.caller_ok
            and self.faq_ok
            and self.queries_ok
            and self.plans_ok
            and self.http_errors == 0
        )


def _ms(measures: list[Measure], page: str, kind: str | None = None) -> list[float]:
    return [m.ms for m in measures if m.page == page and (kind is None or m.kind == kind)]


def verdict(
    *,
    measures: list[Measure],
    counts: list[QueryCount],
    plans: list[Plan],
    http: list[HttpPhase],
    target: float,
) -> Verdict:
    known = [c for c in counts if c.label.endswith("caller")]
    by_label = {c.label: len(c.queries) for c in counts}
    return Verdict(
        target=target,
        caller_p95=percentile(_ms(measures, "caller"), 95),
        caller_heavy_p95=percentile(_ms(measures, "caller", "heavy"), 95),
        faq_p95=percentile(_ms(measures, "faq"), 95),
        heavy_queries=by_label["heaviest caller"],
        light_queries=by_label["one-call caller"],
        caller_query_counts=tuple(len(c.queries) for c in known),
        plans_ok=all(plan.ok for plan in plans),
        http_errors=sum(phase.errors for phase in http),
    )


def _mark(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _figures(values: list[float]) -> str:
    return " | ".join(f"{percentile(values, p):.1f}" for p in (50, 95, 99))


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def _usual(values: list[int]) -> str:
    """The values a column took: one number, or the range with the most common first."""
    counter = Counter(values)
    if len(counter) == 1:
        return str(values[0])
    common = counter.most_common(1)[0][0]
    return f"{common} ({min(values)}–{max(values)})"


def _page_table(
    measures: list[Measure], page: str, kinds: list[str], extra: dict[str, str], extra_name: str
) -> list[str]:
    lines = [
        f"| kind | requests | p50 ms | p95 ms | p99 ms | CPU ms (mean) | SQL ms (mean) "
        f"| queries | {extra_name} |",
        "| --- | --: | --: | --: | --: | --: | --: | --: | --- |",
    ]
    for kind in [*kinds, None]:
        chosen = [m for m in measures if m.page == page and (kind is None or m.kind == kind)]
        if not chosen:
            continue
        name = "**all**" if kind is None else kind
        lines.append(
            f"| {name} | {len(chosen):,} | {_figures([m.ms for m in chosen])} "
            f"| {_mean([m.cpu_ms for m in chosen]):.1f} | {_mean([m.sql_ms for m in chosen]):.2f} "
            f"| {_usual([m.queries for m in chosen])} | {extra.get(kind or '', '')} |"
        )
    return lines


def _rounds(measures: list[Measure], rounds: list[Round], page: str) -> str:
    parts = []
    for info in rounds:
        values = [m.ms for m in measures if m.page == page and m.round == info.number]
        parts.append(f"{percentile(values, 95):.1f}")
    return " / ".join(parts)


def _history(dataset: IntakeDataset) -> dict[str, str]:
    out = {}
    for kind, samples in dataset.samples.items():
        calls = sorted(s.calls for s in samples)
        tickets = sorted(s.tickets for s in samples)
        if not calls or calls[-1] == 0:
            out[kind] = "no history" if kind == "unknown" else "not a whole number yet"
            continue
        out[kind] = (
            f"{calls[0]:,}–{calls[-1]:,} calls (median {calls[len(calls) // 2]:,}), "
            f"{tickets[0]:,}–{tickets[-1]:,} tickets"
        )
    return out


def render(
    *,
    started: datetime,
    elapsed: float,
    command: str,
    postgres: str,
    shared_buffers: str,
    dataset: IntakeDataset,
    args,
    measures: list[Measure],
    rounds: list[Round],
    counts: list[QueryCount],
    plans: list[Plan],
    http: list[HttpPhase],
    matches: dict[str, int],
    holding: dict[str, int],
    wrong_search_text: int,
    profiles: dict[str, str],
    result: Verdict,
    mixes: dict[str, dict[str, int]],
) -> str:
    cores, cpu, memory, kernel = machine()
    loaded = (
        f"reused (loaded {dataset.loaded_at:%Y-%m-%d %H:%M} UTC in {dataset.load_seconds:.0f} s)"
        if dataset.reused
        else f"loaded in this run in {dataset.load_seconds:.0f} s"
    )
    sizes = ", ".join(f"{table} {size}" for table, size in sorted(dataset.sizes.items()))
    lines = [
        "# Call intake benchmark: the caller panel (screen pop) and the FAQ search",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {started:%Y-%m-%d %H:%M} UTC |",
        f"| command | `{command}` |",
        f"| machine | {cores} cores ({cpu}), {memory:.1f} GiB RAM, Linux {kernel} |",
        f"| PostgreSQL | {postgres}, shared_buffers {shared_buffers} |",
        f"| database | {dataset.calls:,} calls, {dataset.tickets:,} tickets, "
        f"{dataset.callers:,} callers with {dataset.addresses:,} addresses, "
        f"{dataset.faq_entries:,} FAQ entries ({dataset.faq_published:,} published) over "
        f"{dataset.days} days; {loaded} |",
        f"| sizes (with indexes) | {sizes} |",
        "| settings | `tests.bench.settings` (`DEBUG` off, the product's middleware), "
        "signed in as an agent with a session |",
        f"| run took | {elapsed / 60:.1f} min |",
        "",
        "## Verdict",
        "",
        f"- caller panel p95: **{result.caller_p95:.1f} ms** over the mix, "
        f"**{result.caller_heavy_p95:.1f} ms** for the heavy callers alone "
        f"(target ≤ {result.target:.0f} ms for both): **{_mark(result.caller_ok)}**",
        f"- SQL queries per panel: heaviest caller {result.heavy_queries}, one-call caller "
        f"{result.light_queries} (every known caller: "
        f"{', '.join(map(str, result.caller_query_counts))}); the count does not grow with "
        f"history: **{_mark(result.queries_ok)}**",
        f"- FAQ search p95: **{result.faq_p95:.1f} ms** (target ≤ {result.target:.0f} ms): "
        f"**{_mark(result.faq_ok)}**",
        f"- no Seq Scan on {', '.join(f'`{t}`' for t in BIG_TABLES)} in the heavy caller's "
        f"plans: **{_mark(result.plans_ok)}**",
    ]
    if http:
        lines.append(
            f"- errors under gunicorn: {result.http_errors}: **{_mark(result.http_errors == 0)}**"
        )
    lines += [
        f"- `search_text` of the loaded FAQ entries equal to `callcentre.search.search_text()`: "
        f"{dataset.faq_entries - wrong_search_text:,} of {dataset.faq_entries:,}",
        "",
        f"## Overall: **{_mark(result.passed)}**",
        "",
        "## Caller panel, in process: `GET /console/caller/?caller_phone=…`",
        "",
        "Server time: wall time around Django's test `Client.get` (the whole middleware stack, "
        "session and user lookup, the view, the template), "
        f"{args.requests:,} requests after {args.warmup} warm-up ones, alternating with the FAQ "
        f"search request by request, in {len(rounds)} rounds. Mix: "
        + ", ".join(f"{kind} {share} %" for kind, share in mixes["caller"].items())
        + ". Numbers are typed as agents type them (national digits, sometimes `+86 …`); "
        "*invalid* are numbers still being typed, withheld or malformed.",
        "",
        *_page_table(
            measures, "caller", list(mixes["caller"]), _history(dataset), "history of the numbers"
        ),
        "",
        f"p95 by round: {_rounds(measures, rounds, 'caller')} ms; other work on the machine "
        "by round: " + " / ".join(f"{r.cores['other']:.2f}" for r in rounds) + " cores.",
        "",
    ]
    kind_matches = {
        kind: f"{min(matches[q] for q in queries):,}–{max(matches[q] for q in queries):,}"
        for kind, queries in QUERIES.items()
    }
    lines += [
        "## FAQ search, in process: `GET /console/faq/?faq_query=…`",
        "",
        f"Same method, {args.requests:,} requests. Mix: "
        + ", ".join(f"{kind} {share} %" for kind, share in mixes["faq"].items())
        + ". The last column is how many entries the search finds for the kind's queries "
        "(`faq_search(limit=10**6)`); it shows ten.",
        "",
        *_page_table(measures, "faq", list(mixes["faq"]), kind_matches, "entries found"),
        "",
        f"p95 by round: {_rounds(measures, rounds, 'faq')} ms.",
        "",
        "*Holding a term*: published entries whose `search_text` holds a term of the query "
        "(a word or character pair, or the single character of a one-character query), "
        "which the search should find.",
        "",
        "| kind | query | entries found | holding a term | p50 ms | p95 ms |",
        "| --- | --- | --: | --: | --: | --: |",
    ]
    missing = []
    for kind, queries in QUERIES.items():
        for query in queries:
            url = faq_url(query)
            values = [m.ms for m in measures if m.page == "faq" and m.url == url]
            lines.append(
                f"| {kind} | {query} | {matches[query]:,} | {holding[query]:,} "
                f"| {percentile(values, 50):.1f} | {percentile(values, 95):.1f} |"
            )
            if matches[query] != holding[query]:
                missing.append(f"{query} ({matches[query]:,} of {holding[query]:,})")
    if missing:
        lines += [
            "",
            "**Note**: the search finds another number of entries than hold a term of the "
            f"query for {', '.join(missing)}.",
        ]
    lines += [
        "",
        "## SQL queries per request (`CaptureQueriesContext`)",
        "",
        "| request | history | queries | tables, in order |",
        "| --- | --- | --: | --- |",
    ]
    for count in counts:
        tables = ", ".join(_table_of(sql) for sql in count.queries)
        lines.append(
            f"| {count.label} `{unquote(count.url)}` | {count.history} | {len(count.queries)} "
            f"| {tables} |"
        )
    heaviest = next(c for c in counts if c.label == "heaviest caller")
    lines += ["", "The heaviest caller's queries:", "", "```sql"]
    lines += [sql if len(sql) < 600 else sql[:600] + " …" for sql in heaviest.queries]
    lines += [
        "```",
        "",
        "## EXPLAIN (ANALYZE, BUFFERS)",
        "",
        "The SELECTs of the heaviest and of the lightest heavy caller's panel and of two FAQ "
        "searches (rows above), run again under EXPLAIN (ANALYZE, BUFFERS).",
        "The session's and the user's lookups (primary keys) are left out. *Filtered* is "
        "how many rows the plan read and threw away (`Rows Removed by Filter`).",
        "",
        "| request | table | ms | rows | filtered | scans | buffers | |",
        "| --- | --- | --: | --: | --: | --- | --- | --- |",
    ]
    for plan in plans:
        lines.append(
            f"| {plan.label} | `{plan.table}` | {plan.execution_ms:.2f} | {plan.rows:,} "
            f"| {plan.filtered:,} | {'<br>'.join(f'`{s}`' for s in plan.scans)} | {plan.buffers} "
            f"| {_mark(plan.ok) if plan.label.endswith('caller') else 'info'} |"
        )
    for plan in plans:
        if plan.label.endswith("caller") and plan.filtered > 10 * max(plan.rows, 1):
            lines += [
                "",
                f"**Note**: for the {plan.label}, the `{plan.table}` query read and threw away "
                f"{plan.filtered:,} rows to return {plan.rows}: the number of queries does not "
                "grow with history, but this query's work does "
                "(`python -m tests.bench.intake_experiments` tries an index).",
            ]
    if http:
        lines += [
            "",
            "## Under gunicorn",
            "",
            f"{args.workers} sync workers, {http[0].clients} concurrent keep-alive `httpx` "
            f"clients with the agent's session cookie, {args.http_seconds:g} s per page in two "
            "rounds, the pages alternating; the same mixes. *Client* is the latency the "
            "clients saw (it includes waiting for a free worker); *server* is gunicorn's own "
            "request time from its access log (`%(D)s`).",
            "",
            "| page | requests | req/s | client p50 / p95 / p99 ms | server p50 / p95 / p99 ms "
            "| errors | CPU cores: client / web / PostgreSQL / other |",
            "| --- | --: | --: | --- | --- | --: | --- |",
        ]
        for phase in http:
            client = " / ".join(
                f"{percentile(phase.latencies, p) * 1000:.1f}" for p in (50, 95, 99)
            )
            server = " / ".join(f"{percentile(phase.server, p) * 1000:.1f}" for p in (50, 95, 99))
            cpu = phase.cores
            lines.append(
                f"| {phase.page} | {len(phase.latencies):,} | {phase.per_second:,.0f} | {client} "
                f"| {server} | {phase.errors} | {cpu['client']:.2f} / {cpu['web']:.2f} / "
                f"{cpu['postgres']:.2f} / {cpu['other']:.2f} |"
            )
            for sample in phase.error_samples:
                lines.append(f"  - error: `{sample}`")
    busy = [r.number for r in rounds if r.cores["other"] > BUSY_CORES]
    if busy:
        lines += [
            "",
            f"**Caution**: other work used over {BUSY_CORES} cores during round(s) "
            f"{', '.join(map(str, busy))}; the latencies there overstate this machine's. The CPU "
            "ms column hardly depends on it.",
        ]
    for label, text in profiles.items():
        lines += ["", f"## cProfile: {label}", "", "```", text, "```"]
    lines.append("")
    return "\n".join(lines)
