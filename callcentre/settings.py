"""Settings, read once from the environment.

Unset variables give the embedded setup (SQLite, kombu's filesystem broker) that the one-command
demo runs on; ``DATABASE_URL`` and ``CELERY_BROKER_URL`` switch to PostgreSQL and Redis.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
# Demo mode allows the demo data command to create users with known passwords and shows
# those logins on the sign-in page. Never set it on a real centre's system.
DEMO_MODE = env_bool("DEMO_MODE")
SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-embedded-key-set-SECRET_KEY-in-production")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_celery_beat",
    "phonenumber_field",
    "staffing",
    "tickets",
    "dispatch",
    "callcentre",
    "followups",
    "reports",
    "outages",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "callcentre.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "callcentre.middleware.PrivateNoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tickets.middleware.ApplicationErrorMiddleware",
]

ROOT_URLCONF = "callcentre.urls"
WSGI_APPLICATION = "callcentre.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "staffing.context_processors.navigation",
            ],
        },
    },
    {
        # For the few partials drawn hundreds of times a minute (the board's lanes), where
        # Django's engine would take most of the request: values arrive ready and translated.
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "callcentre.templating.environment",
            "trim_blocks": True,
            "lstrip_blocks": True,
        },
    },
]
# Forms draw through Django's own Jinja2 copies of its form templates (the same HTML, at a
# third of the cost); widgets with only a Django template, the admin's, through that.
FORM_RENDERER = "callcentre.templating.FormRenderer"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'callcentre.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: WAL lets readers run beside the one writer, and
    # IMMEDIATE transactions queue writers instead of failing them with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Two things SQLite cannot build, which PostgreSQL does: the extra columns of the calls'
    # ringing index (SQLite reads them from the table) and the sampling rates' uniqueness
    # across blanks. Known and accepted for the embedded default; not a warning at each start.
    SILENCED_SYSTEM_CHECKS = ["models.W040", "models.W047"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "staffing.User"
AUTHENTICATION_BACKENDS = ["staffing.backends.RoleBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# A shift is eight to twelve hours; a session lasts a long shift and not much more.
SESSION_COOKIE_AGE = 13 * 60 * 60

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploads (repair photos) are served by the app after an access check, never as static files.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "media/"
# A phone photo is 2–6 MB; larger is refused with a message, not half-stored.
PHOTO_MAX_BYTES = int(os.environ.get("PHOTO_MAX_BYTES", str(8 * 1024 * 1024)))
PHOTOS_PER_TICKET = 12
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

PHONENUMBER_DEFAULT_REGION = "CN"
PHONENUMBER_DEFAULT_FORMAT = "NATIONAL"

# Open311: who partners write to, where they ask for a key, and how often a client without
# one may ask (each partner's own limit is set with its key, in the administration).
OPEN311_CONTACT = os.environ.get("OPEN311_CONTACT", "客服中心 0571-12345678, open311@example.com")
OPEN311_KEY_SERVICE = os.environ.get(
    "OPEN311_KEY_SERVICE", "Ask the centre's supervisor for a partner key."
)
OPEN311_ANONYMOUS_PER_MINUTE = int(os.environ.get("OPEN311_ANONYMOUS_PER_MINUTE", "60"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so that a request without credentials is told 401 with the scheme.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "tickets.errors.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {"token": os.environ.get("TOKEN_THROTTLE_RATE", "20/min")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Repair call centre API",
    "DESCRIPTION": "Tickets, their SLA lifecycle and the actions that move them.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "callcentre.schema_hooks.document_sign_in_errors",
    ],
    "ENUM_NAME_OVERRIDES": {
        "TicketStateEnum": "tickets.choices.State",
        "ExtensionStateEnum": "tickets.choices.ExtensionState",
        "ChannelEnum": "tickets.choices.Channel",
        # A new ticket's channel: every channel but a callback's complaint.
        "IntakeChannelEnum": "tickets.choices.INTAKE_CHANNELS",
        "MilestoneEnum": "tickets.choices.Milestone",
        "AlertMilestoneEnum": "tickets.choices.AlertMilestone",
        "ExtensionCauseEnum": "tickets.choices.ExtensionCause",
    },
}

# Where text messages go: the log, the console, a file, a table (the demo's choice, readable
# in the admin) or an HTTP gateway at SMS_GATEWAY_URL with SMS_GATEWAY_TOKEN.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "dispatch.sms.LogSmsBackend")
SMS_FILE_PATH = Path(os.environ.get("SMS_FILE_PATH", VAR_DIR / "sms.log"))
SMS_GATEWAY_URL = os.environ.get("SMS_GATEWAY_URL", "")
SMS_GATEWAY_TOKEN = os.environ.get("SMS_GATEWAY_TOKEN", "")
# Outbound calls (the SMS gateway) refuse loopback, private and link-local addresses; an
# in-house relay's network is named here to allow it: "10.20.0.0/24,fd00::/64".
OUTBOUND_ALLOWED_NETWORKS = env_list("OUTBOUND_ALLOWED_NETWORKS", "")
# The address customers are sent in text messages (the status page and the slip).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://localhost:8000").rstrip("/")

# A dispatched crew accepts within this many minutes, or the ticket goes back to the board.
CREW_ACCEPT_MINUTES = int(os.environ.get("CREW_ACCEPT_MINUTES", "15"))
# Public status look-ups allowed per client address per hour.
STATUS_LOOKUPS_PER_HOUR = int(os.environ.get("STATUS_LOOKUPS_PER_HOUR", "20"))

# The telephone switch signs its events with this secret; unset, CTI events are refused.
CTI_SHARED_SECRET = os.environ.get("CTI_SHARED_SECRET", "")
# How far a signed event's timestamp may be from now, in seconds, before it is a replay.
CTI_MAX_SKEW = int(os.environ.get("CTI_MAX_SKEW", "300"))

# Open tickets of the same fault in the same community this many hours back are shown to
# the agent as possibly the same incident.
RELATED_TICKET_HOURS = int(os.environ.get("RELATED_TICKET_HOURS", "6"))
# ... and in communities whose centre is this close (0 for the same community only).
RELATED_TICKET_RADIUS_KM = float(os.environ.get("RELATED_TICKET_RADIUS_KM", "0.5"))
# The overdue sweep looks back this far past its watermark for rows written late, and a
# first sweep (no watermark yet) this far back for what went overdue before it ran.
ALERT_SWEEP_OVERLAP_MINUTES = int(os.environ.get("ALERT_SWEEP_OVERLAP_MINUTES", "15"))
ALERT_SWEEP_FIRST_LOOKBACK_HOURS = int(os.environ.get("ALERT_SWEEP_FIRST_LOOKBACK_HOURS", "24"))

# A shared cache (Redis) in production, so that every process sees an edit at once. Without
# CACHE_URL, each process keeps its own, and what every process must agree on (the board's
# version, the status page's rate limit) goes to files under VAR_DIR.
CACHE_URL = os.environ.get("CACHE_URL")
# How long the board's lanes drawn for one version are kept for other dispatchers (0: never).
BOARD_LANES_CACHE_SECONDS = int(os.environ.get("BOARD_LANES_CACHE_SECONDS", "60"))
# Redis down reads as an empty cache (callcentre/cache.py): pages are slower, not broken; the
# short timeouts keep a request from waiting on a Redis that does not answer.
_REDIS_CACHE = {
    "BACKEND": "callcentre.cache.DegradingRedisCache",
    "LOCATION": CACHE_URL,
    "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
}
CACHES = {
    "default": (
        _REDIS_CACHE if CACHE_URL else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    ),
    "shared": (
        _REDIS_CACHE
        if CACHE_URL
        else {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
        }
    ),
}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
else:
    # A broker that is down must not hold a web request for long: the caller gets an
    # error instead, and the work is retried from the database by the periodic jobs.
    # A task sent while it is down fails at once, neither publish nor connection tried
    # again (kombu would wait 2 s and try once more): every task sent from a request has its
    # row in the database, and beat's jobs (messages-retry, exports-resume, the sweep) send
    # it again. A connection the broker dropped is opened afresh without a retry; after a
    # send that failed, the process sends none for a few seconds (callcentre.celery.Task), so
    # a request that sends several waits one timeout. The worker's own reconnecting is set
    # apart (broker_connection_retry).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 1,
        "socket_timeout": 1,
        "max_retries": 0,
    }
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 5 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 4 * 60
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# The whole periodic schedule, one commented entry per job. The database scheduler copies it
# into django-celery-beat's tables, where a supervisor can change times in the admin.
CELERY_BEAT_SCHEDULE = {
    # Text messages still waiting (the broker was down, the gateway refused) are tried again.
    "messages-retry": {
        "task": "dispatch.tasks.messages_retry",
        "schedule": 60.0,
    },
    # An outage's customers not yet told of a change (the broker was down) are told now.
    "outages-notify-pending": {
        "task": "outages.tasks.outage_notify_pending",
        "schedule": 60.0,
    },
    # A crew that has not accepted its ticket in time gives it back to the board.
    "assignments-expire": {
        "task": "dispatch.tasks.assignments_expire",
        "schedule": 60.0,
    },
    # The overdue sweep: warnings, breaches, escalations and overdue alarms on every stored
    # deadline, each raised once; the rules send some on by text message.
    "alerts-sweep": {
        "task": "tickets.tasks.alerts_sweep",
        "schedule": 60.0,
    },
    # Callbacks the rules ask for, from the tickets dispatched, received or closed since.
    "callbacks-schedule": {
        "task": "followups.tasks.callbacks_schedule",
        "schedule": 300.0,
    },
    # Key and special accounts whose half-yearly callback comes near.
    "account-callbacks-schedule": {
        "task": "followups.tasks.account_callbacks_schedule",
        "schedule": crontab(hour=6, minute=0),
    },
    # The reports of the periods that have just ended (the shift report at each shift
    # change); each (kind, period) once, and an approved one is never touched.
    "reports-produce": {
        "task": "reports.tasks.reports_produce",
        "schedule": 300.0,
    },
    # Exports no worker took (the broker was down) or whose worker died are sent again.
    "exports-resume": {
        "task": "reports.tasks.exports_resume",
        "schedule": 60.0,
    },
    # Old receipts of crew actions (kept so that a retried submission does not act twice).
    "action-receipts-clear": {
        "task": "tickets.tasks.action_receipts_clear",
        "schedule": crontab(hour=4, minute=20),
    },
    # Just after midnight, when yesterday has ended: how well it was forecast and rostered
    # (and any day of the week before that the job missed).
    "staffing-accuracy-record": {
        "task": "staffing.tasks.accuracy_catch_up",
        "schedule": crontab(hour=0, minute=20),
    },
    # The call forecast of the next 14 days, from the days up to yesterday; today's stays as
    # it was stored before it began.
    "staffing-forecast-store": {
        "task": "staffing.tasks.forecast_store",
        "schedule": crontab(hour=0, minute=25),
    },
    # Expired sign-in sessions pile up in the session table; clear them nightly, off-peak.
    "sessions-clear-expired": {
        "task": "callcentre.tasks.sessions_clear_expired",
        "schedule": crontab(hour=4, minute=10),
    },
}

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and not DEMO_MODE)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
# Every answer's Content-Security-Policy (callcentre.middleware): scripts and styles from
# this site's own files only, never inline, so that injected markup cannot run or restyle.
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}
# Answers under these paths may carry personal data whoever asks (the API, a ticket's
# public status): never stored by a browser or a proxy, like every answer to a signed-in user.
PRIVATE_PATH_PREFIXES = ["/api/", "/open311/", "/status/"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}
