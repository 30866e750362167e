"""Whether the outside services a test needs are here, and what to do when they are not.

Locally a missing PostgreSQL or Redis skips the tests that need it. In CI (``CI`` or
``IVR_REQUIRE_SERVICES`` set) it fails them: a green CI must mean they ran.
"""

import os
import socket
from urllib.parse import urlsplit

import pytest
from django.db import connection


def services_required():
    return any(
        os.environ.get(name, "").lower() in {"1", "true", "yes"}
        for name in ("CI", "IVR_REQUIRE_SERVICES")
    )


def missing(reason):
    if services_required():
        pytest.fail(f"{reason} (required in CI)", pytrace=False)
    pytest.skip(reason)


def require_postgres():
    if connection.vendor != "postgresql":
        missing("needs PostgreSQL: set DATABASE_URL=postgres://...")


def redis_url():
    return os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/0"


def redis_reachable(url=None):
    parts = urlsplit(url or redis_url())
    if parts.scheme not in {"redis", "rediss"}:
        return False
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 1):
            return True
    except OSError:
        return False


def require_redis():
    url = redis_url()
    if not url.startswith("redis"):
        missing(f"needs a Redis broker: CELERY_BROKER_URL is {url!r}")
    if not redis_reachable(url):
        missing(f"needs Redis at {url}, which does not answer")


def require_redis_server():
    """The ``redis-server`` program, for tests that start a Redis of their own."""
    from shutil import which

    if which("redis-server") is None:
        missing("needs redis-server (Debian: apt-get install redis-server)")
