#!/usr/bin/env bash
# Benchmark ticket creation end to end on PostgreSQL with a million tickets: the full API path
# under gunicorn, a bare DRF create and raw INSERTs, plus EXPLAIN of the overdue queries.
# Results go to tests/bench/results/latest.md. Flags: see `scripts/bench.sh --help`
# (--tickets 1000000 --seconds 20 --clients 8 --fresh ...). Exits 1 when a target is missed.
# `--suite intake` benchmarks the caller panel and the FAQ search instead (1M calls, 500k
# tickets, 5,000 FAQ entries; results in tests/bench/results/intake.md; see
# `scripts/bench.sh --suite intake --help`). `--suite board` benchmarks the dispatcher's
# board, its poll and the crew list (1M tickets, 100k open; results in
# tests/bench/results/board.md; see `scripts/bench.sh --suite board --help`). `--suite
# followups` benchmarks the agent's callback queue and the nightly job that schedules the day's
# callbacks (1M closed tickets, 20k of the day, 200k callbacks; results in
# tests/bench/results/followups.md; see `scripts/bench.sh --suite followups --help`).
# `--suite alerts` benchmarks the overdue sweep with nothing new and with 1,000 new alerts
# (1M tickets, 100k open, 3.3M alerts; results in tests/bench/results/alerts.md; see
# `scripts/bench.sh --suite alerts --help`). `--suite reports` benchmarks the shift, daily,
# weekly and monthly reports' figures (a month of 1.5M tickets and five months before it at a
# quarter of the volume; results in tests/bench/results/reports.md; see
# `scripts/bench.sh --suite reports --help`). `--suite staffing` sizes a day by Erlang C and
# Erlang A, then times the wallboard's live partial (1M calls, 300 seats; results in
# tests/bench/results/staffing.md; see `scripts/bench.sh --suite staffing --help`);
# `--suite open311` benchmarks Open311 partners filing requests at once and reading 90 days
# of 100,000 requests (results in tests/bench/results/open311.md); `--suite outages`
# benchmarks the telephone switch's question with 500,000 customers and 50 outages, and an
# outage telling 20,000 of them (results in tests/bench/results/outages.md); `--suite all`
# runs all nine. `--suite storm` plays the whole system (gunicorn, Celery worker and beat)
# under a storm's calls with Locust at 1x, 2x and 5x its peak of 1,000 calls in 10 minutes,
# then a soak (results in tests/bench/results/storm.md; see `scripts/bench.sh --suite storm
# --help`); `all` leaves it out.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# The load generator of the storm, the `bench` extra, beside the dev tools setup.sh installs.
.venv/bin/python -c "import locust" 2>/dev/null || .venv/bin/python -m pip install -q -e ".[dev,bench]"

services_up

export BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/callcentre_bench}"
export BENCH_COMMAND="scripts/bench.sh${*:+ $*}"
exec .venv/bin/python -m tests.bench.run "$@"
