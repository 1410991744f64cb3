#!/usr/bin/env bash
# Shared setup: a virtualenv with the project's dependencies, and compiled translations.
# Sourced by run.sh, test.sh and bench.sh; safe to run again (it skips what is done).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

apt_install() {
  # Debian packages the project needs; installed once, only when missing.
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  else
    echo "Please install with your package manager: $*" >&2
    return 1
  fi
}

services_up() {
  # PostgreSQL and Redis for the tests and the benchmark: installed from Debian's packages
  # when missing, started when down.
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
}

command -v msgfmt >/dev/null 2>&1 || apt_install gettext

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.deps-$(sha256sum pyproject.toml | cut -c1-16)-${EXTRAS:-dev}"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[${EXTRAS:-dev}]"
  rm -f .venv/.deps-*
  touch "$stamp"
fi
mkdir -p "${VAR_DIR:-var}/static"
.venv/bin/python manage.py compilemessages -v0 --ignore=.venv
