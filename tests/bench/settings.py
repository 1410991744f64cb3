"""Settings of the benchmark: the product's, with the bench URLs and the bench database.

Read by gunicorn (``DJANGO_SETTINGS_MODULE=tests.bench.settings``) and by ``tests.bench.run``;
the environment still wins, so a run can point at another server.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/callcentre_bench")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("DB_CONN_MAX_AGE", "60")
os.environ.setdefault("DEBUG", "0")

from callcentre.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# Plain HTTP on the loopback: no redirect to HTTPS, no HSTS header.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
