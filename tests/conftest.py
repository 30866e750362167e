import os
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from project.celery import app as celery_app
from telnyx_ivr.broker import set_celery_setting
from telnyx_ivr.testing import WebhookSigner

from . import services
from .celery_worker import WorkerProcess
from .telnyx_api_stub import telnyx_api  # noqa: F401  (fixture: loopback Telnyx API)

pytest_plugins = [
    "tests.call_fixtures",
    "tests.e2e_support",
    "tests.browser_support",
    "tests.played_calls",
]

# Each test session publishes to a queue of its own, so parallel sessions sharing one Redis
# never take each other's tasks, and a developer's running worker never sees test tasks.
TEST_QUEUE = f"telnyx-ivr-test-{uuid.uuid4().hex[:10]}"


# Property tests: a few hundred examples in the normal run; HYPOTHESIS_PROFILE=benchmark (see
# bench/fuzz_webhook.py) for the long run. Examples share the test's database transaction.
for _name, _examples in (("default", 300), ("benchmark", 10_000)):
    hypothesis_settings.register_profile(
        _name,
        max_examples=_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_configure(config):
    # Pages are rendered here without `collectstatic` having run, so static URLs are the plain
    # names; the hashed, compressed files the example project serves are tested under gunicorn
    # (tests/test_production_server.py).
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    broker = services.redis_url() if services.redis_reachable() else "memory://"
    configure_celery(
        broker_url=broker,
        broker_transport_options={},
        task_default_queue=TEST_QUEUE,
        broker_connection_retry_on_startup=False,
    )


def configure_celery(**values):
    """Set Celery settings of this process. Celery 5.6 reads a setting by its Django name
    (CELERY_TASK_DEFAULT_QUEUE, from project/settings.py) before its own, so a plain
    ``conf.task_default_queue = ...`` was ignored: the tests' tasks went to the "celery"
    queue no worker of theirs reads, and only the rescue loops, 3 s later, took the events."""
    for name, value in values.items():
        set_celery_setting(celery_app, name, value)


def _purge_test_queue():
    if celery_app.conf.broker_url.startswith("redis"):
        import redis

        with redis.Redis.from_url(celery_app.conf.broker_url) as client:
            client.delete(TEST_QUEUE)


def pytest_unconfigure(config):
    if celery_app.conf.broker_url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(celery_app.conf.broker_url)
        client.delete(TEST_QUEUE, f"_kombu.binding.{TEST_QUEUE}")


@pytest.fixture
def signer():
    return WebhookSigner()


@pytest.fixture
def ivr_settings_for(settings):
    """Set TELNYX_IVR keys for one test: ``ivr_settings_for(PUBLIC_KEYS=[...])``."""

    def apply(**values):
        settings.TELNYX_IVR = {**getattr(settings, "TELNYX_IVR", {}), **values}

    return apply


@pytest.fixture
def signed(signer, ivr_settings_for):
    """A signer whose public key the app is configured with."""
    ivr_settings_for(PUBLIC_KEYS=[signer.public_key])
    return signer


@pytest.fixture
def postgres():
    services.require_postgres()


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start real Celery workers on Redis against the test database: ``start_worker(env={})``.

    Environment values reach the worker's settings (e.g. TELNYX_API_BASE_URL, TELNYX_PUBLIC_KEY),
    since ``override_settings`` in this process cannot.
    """
    services.require_redis()
    if connection.vendor == "sqlite" and not settings.DATABASES["default"]["TEST"].get("NAME"):
        pytest.fail("SQLite test database must be a file for a worker process to share it")
    # Tasks that tests without a worker queued are of no use here: start on an empty queue.
    _purge_test_queue()
    started = []

    def start(env=None, name="worker"):
        worker = WorkerProcess(
            broker_url=celery_app.conf.broker_url,
            queue=TEST_QUEUE,
            log_path=tmp_path / f"{name}-{len(started)}.log",
            env=env,
            name=name,
        )
        started.append(worker)
        return worker.wait_ready()

    yield start
    for worker in started:
        worker.stop()


def wait_for(predicate, timeout=20, interval=0.05, message="condition"):
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {message}")
