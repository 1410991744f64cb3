#!/usr/bin/env bash
# Set up and run lint and the whole test suite on PostgreSQL and Redis, starting them (and
# installing them from Debian's packages) when they are not there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

# PostgreSQL and Redis, over real connections.
command -v pg_ctlcluster >/dev/null 2>&1 || apt_install postgresql
command -v redis-server >/dev/null 2>&1 || apt_install redis-server
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
# Debian's Chromium for the browser tests; Playwright never downloads a browser here.
[ -x /usr/bin/chromium ] || apt_install chromium

export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/callcentre}"
# The checks below connect to the database itself; the tests make their own test_ copy.
db_name="${DATABASE_URL##*/}"
if ! psql "${DATABASE_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db_name'" | grep -q 1; then
  psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE \"$db_name\""
fi
export CELERY_BROKER_URL="${TEST_CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}"
export DEMO_MODE=1
PY=.venv/bin/python

echo "== lint"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/djlint --lint templates */templates
$PY manage.py makemigrations --check --dry-run -v1
$PY manage.py check --fail-level WARNING
$PY manage.py spectacular --validate --fail-on-warn >/dev/null

echo "== tests"
.venv/bin/pytest -n 2 --dist loadgroup "$@"
