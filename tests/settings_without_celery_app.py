"""A host site's settings whose package never loads its Celery app (the missing
``from .celery import app as celery_app``), for tests/test_system_checks.py."""

SECRET_KEY = "settings-without-celery-app"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "telnyx_ivr",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
ROOT_URLCONF = "telnyx_ivr.urls"
USE_TZ = True
TELNYX_IVR = {
    "API_KEY": "KEY_settings_without_celery_app",
    "PUBLIC_KEYS": ["11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="],
}
