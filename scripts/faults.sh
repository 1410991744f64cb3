#!/usr/bin/env bash
# Inject the faults of issue 10 for real and check by counts that nothing was lost or doubled:
# Redis stopped for 60 s under load, a Celery worker SIGKILLed mid-task, beat running twice,
# PostgreSQL restarted under load, Redis frozen (SIGSTOP) for 30 s under load, PostgreSQL
# crashed (stop -m immediate) under load, a worker SIGKILLed mid-export and the export
# resumed. Runs its own PostgreSQL (port 5433) and Redis (6390) from /tmp, never the shared
# 5432/6379, and the app (gunicorn on 8791, a worker, beat) on them.
# Results go to tests/faults/results/<scenario>.md; exits 1 when a check fails.
# `scripts/faults.sh --scenario redis` (worker, beat, postgres, redis-frozen,
# postgres-immediate, export) runs one; see --help.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || apt_install postgresql
command -v redis-server >/dev/null 2>&1 || apt_install redis-server

exec .venv/bin/python -m tests.faults.run "$@"
