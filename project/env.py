"""Environment parsing for the example project (a host site can do this however it likes)."""

import os
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

# dj-database-url reads many more schemes; the example project installs only these drivers.
_SCHEMES = {"postgres", "postgresql", "sqlite"}


def database_from_url(url):
    """Turn ``postgres://user:pass@host:port/name`` or ``sqlite:///path`` into a DATABASES entry."""
    scheme = urlsplit(url).scheme
    if scheme not in _SCHEMES:
        raise ImproperlyConfigured(
            f"DATABASE_URL scheme {scheme!r} is not supported; use postgres:// or sqlite:///"
        )
    if scheme == "sqlite":
        return dj_database_url.parse(url)
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    config["PORT"] = str(config["PORT"] or "")  # as Django's settings docs write it
    return config


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]
