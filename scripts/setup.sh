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
