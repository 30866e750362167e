"""Settings of the example host project. Every value that varies comes from the environment."""

import os
from pathlib import Path

from celery.schedules import crontab

from .env import database_from_url, env_bool, env_list

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("IVR_VAR_DIR", BASE_DIR / "var"))

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-example-project-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: runserver then serves static files through WhiteNoise too, as
    # gunicorn does in production.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    # The read API: its filters, its OpenAPI schema, and the docs page's files.
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "telnyx_ivr",
    "project",  # the example's own commands (demo_user)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the collected static files (admin CSS, the menu editor's and Test call page's
    # scripts) from gunicorn itself: no separate web server is needed in front of it.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "project.wsgi.application"

DATABASES = {
    "default": database_from_url(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Tests run a Celery worker in another process, so the test database must be a file.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    # IMMEDIATE takes the write lock when a transaction begins, so concurrent writers (web
    # server and worker) wait their turn instead of failing with "database is locked"; it
    # also serialises the engine's per-call work, which SELECT ... FOR UPDATE does not on
    # SQLite. More than one worker still wants PostgreSQL.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # `collectstatic` writes each file under a content-hashed name, gzip and brotli beside it;
    # pages link the hashed names, which WhiteNoise serves with far-future cache headers.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The read API at /telnyx/api/ (staff only): a logged-in admin's session in the browser, or a
# staff user's name and password from curl and scripts (over HTTPS in production).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.BasicAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# --- Telnyx IVR ---------------------------------------------------------------------------
TELNYX_IVR = {
    "API_KEY": os.environ.get("TELNYX_API_KEY"),
    "API_BASE_URL": os.environ.get("TELNYX_API_BASE_URL", "https://api.telnyx.com/v2"),
    "PUBLIC_KEYS": env_list("TELNYX_PUBLIC_KEY"),
    # Only for `python dev.py run` and tests: the local Telnyx stand-in's signing key.
    "SIMULATOR_SIGNING_KEY": os.environ.get("IVR_SIMULATOR_SIGNING_KEY"),
    # Unset: the app's default, this site's webhook on http://127.0.0.1:8000.
    "SIMULATOR_WEBHOOK_URL": os.environ.get("IVR_SIMULATOR_WEBHOOK_URL") or None,
}

# --- Celery -------------------------------------------------------------------------------
# Without CELERY_BROKER_URL the broker is a folder on disk: nothing to install, and tasks
# still run in a separate worker process (`celery -A project worker`), never in the request.
# It is kombu's folder transport writing each message whole (telnyx_ivr.folder_broker, which
# project/celery.py registers under this URL's name).
FOLDER_BROKER_URL = "telnyx-ivr-folder://"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or FOLDER_BROKER_URL
if CELERY_BROKER_URL in (FOLDER_BROKER_URL, "filesystem://"):
    _queue_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "control_folder": str(VAR_DIR / "broker-control"),
        # The folder is polled, and a caller waits for every poll: kombu's default of 1 s
        # would be heard at each step, and 0.1 s was half of a step's time. A look at an
        # empty folder costs microseconds. Redis pushes instead and needs no such thing.
        "polling_interval": 0.005,
    }
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # A task a worker took and never acknowledged (the worker was killed) comes back after
        # this long. It need not be short: a worker's rescue loop (telnyx_ivr.dispatch) takes
        # up the event within seconds. It must be longer than any task runs.
        "visibility_timeout": 300,
        # A hung Redis must not hang whoever talks to it for ever (the publishing thread).
        "socket_timeout": 5,
        "socket_connect_timeout": 2,
    }
# Keep reconnecting to a broker that went away, however long it is gone.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE") or "celery"
# Celery closes the worker's database connections around every task unless told to keep
# them: a new PostgreSQL connection per call step cost more than the step's queries. Kept,
# the IVR's tasks check them first (CONN_MAX_AGE, CONN_HEALTH_CHECKS), as a request would.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "requeue-stale-telnyx-events": {
        "task": "telnyx_ivr.tasks.requeue_stale_events",
        "schedule": 60.0,
    },
    "roll-up-telnyx-call-log": {
        "task": "telnyx_ivr.tasks.roll_up_call_log",
        "schedule": 60.0,
    },
    # Nightly; it prunes nothing until TELNYX_IVR["RETENTION_DAYS"] is set.
    "prune-telnyx-call-log": {
        "task": "telnyx_ivr.tasks.prune_call_log",
        "schedule": crontab(hour=3, minute=30),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "telnyx_ivr": {"handlers": ["console"], "level": os.environ.get("IVR_LOG_LEVEL", "INFO")},
    },
}

for _folder in (VAR_DIR, STATIC_ROOT, VAR_DIR / "broker", VAR_DIR / "broker-control"):
    _folder.mkdir(parents=True, exist_ok=True)
