"""Settings of the benchmark: the product's, with the bench URLs and the bench database.

Read by gunicorn (``DJANGO_SETTINGS_MODULE=tests.bench.settings``) and by ``tests.bench.run``;
the environment still wins, so a run can point at another server.
"""

import os
import time

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/callcentre_bench")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("DB_CONN_MAX_AGE", "60")
os.environ.setdefault("DEBUG", "0")

from callcentre.settings import *  # noqa: F403
from callcentre.settings import MIDDLEWARE, STORAGES


def server_timing(get_response):
    """Middleware: tell the client the server's time, ``Server-Timing: app;dur=<ms>``, from
    before the first middleware to after the last (what a benchmark's server time is), and
    the CPU time the process spent on it, ``cpu;dur=<ms>`` (a sync worker serves one request
    at a time), which other work on a shared machine changes far less than the wall time."""

    def middleware(request):
        started, cpu = time.perf_counter(), time.process_time()
        response = get_response(request)
        response["Server-Timing"] = (
            f"app;dur={(time.perf_counter() - started) * 1000:.2f}, "
            f"cpu;dur={(time.process_time() - cpu) * 1000:.2f}"
        )
        return response

    return middleware


ROOT_URLCONF = "tests.bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
MIDDLEWARE = ["tests.bench.settings.server_timing", *MIDDLEWARE]
# Plain HTTP on the loopback: no redirect to HTTPS, no HSTS header.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
# Full pages name static files; the manifest storage would need a `collectstatic` (over a
# minute) first. The benchmark serves no static file, and a manifest look-up is a dict read.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
