#!/usr/bin/env bash
# Set up and run lint and the whole test suite on PostgreSQL and Redis, starting them (and
# installing them from Debian's packages) when they are not there.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

# PostgreSQL and Redis, over real connections.
services_up
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
.venv/bin/djlint --lint --profile jinja */jinja2
$PY manage.py makemigrations --check --dry-run -v1
$PY manage.py check --fail-level WARNING
$PY manage.py spectacular --validate --fail-on-warn >/dev/null

echo "== tests"
.venv/bin/pytest -n 2 --dist loadgroup "$@"
