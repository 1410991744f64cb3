#!/usr/bin/env bash
# Set up and run the whole system on the embedded default: SQLite, the filesystem broker,
# demo data; web server, Celery worker and Celery beat. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

export DEMO_MODE="${DEMO_MODE:-1}"
export DEBUG="${DEBUG:-0}"
export SECURE_HSTS_SECONDS="${SECURE_HSTS_SECONDS:-0}"
# The demo's telephone switch secret; `manage.py cti_call` uses it to play the switch.
export CTI_SHARED_SECRET="${CTI_SHARED_SECRET:-demo-cti-secret}"
PORT="${PORT:-8000}"
# Text messages go to a table the admin shows ("Text messages sent"), and link back here.
export SMS_BACKEND="${SMS_BACKEND:-dispatch.sms.DatabaseSmsBackend}"
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://127.0.0.1:${PORT}}"
PY=.venv/bin/python
VAR="${VAR_DIR:-var}"
# kombu's filesystem broker expects its folders to exist.
mkdir -p "$VAR/log" "$VAR/broker/queue" "$VAR/broker/processed" "$VAR/broker/control"

# The completion slip's PDF needs a Chinese font; without it the slip's Chinese is boxes.
if ! fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  apt_install fonts-noto-cjk || echo "Without fonts-noto-cjk the PDF slips show boxes for Chinese." >&2
fi

$PY manage.py migrate --no-input -v0
$PY manage.py collectstatic --no-input -v0
$PY manage.py demo_data -v0

pids=()
cleanup() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

.venv/bin/celery -A callcentre worker --loglevel=INFO --concurrency=2 >"$VAR/log/worker.log" 2>&1 &
pids+=($!)
.venv/bin/celery -A callcentre beat --loglevel=INFO --pidfile= >"$VAR/log/beat.log" 2>&1 &
pids+=($!)
.venv/bin/gunicorn callcentre.wsgi --bind "127.0.0.1:${PORT}" --workers 2 --threads 4 \
  --access-logfile "$VAR/log/web-access.log" --error-logfile "$VAR/log/web.log" &
pids+=($!)

cat <<TXT

  Repair call centre is running at http://127.0.0.1:${PORT}/
  (logs in $VAR/log/; Ctrl-C stops everything)

TXT
$PY manage.py shell -v0 -c "
from callcentre.demo import DEMO_PASSWORD, demo_logins
from django.utils import translation
translation.activate('en')
print('  Demo sign-ins, password %s:' % DEMO_PASSWORD)
for role, username in demo_logins():
    print('    %-18s %s' % (role, username))
print()
"
wait -n "${pids[@]}"
