"""System checks that catch a site that would take calls and then fail them in silence: no API
key, commands sent to a local stand-in, and a Celery app that has nowhere to queue tasks."""

import logging
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from project.celery import app as celery_app
from telnyx_ivr.broker import log_problem
from telnyx_ivr.checks import check_call_control_api, check_celery_broker
from telnyx_ivr.models import WebhookEvent
from telnyx_ivr.signals import webhook_event_processed, webhook_event_stored
from telnyx_ivr.testing import event_body

from .conftest import configure_celery

ROOT = Path(__file__).resolve().parent.parent


def ids(messages):
    return [message.id for message in messages]


@contextmanager
def celery_conf(**values):
    saved = {name: celery_app.conf[name] for name in values}
    # Celery reads CELERY_BROKER_URL from the environment before its own setting (CI sets it).
    environment = os.environ.pop("CELERY_BROKER_URL", None) if "broker_url" in values else None
    configure_celery(**values)
    try:
        yield
    finally:
        configure_celery(**saved)
        if environment is not None:
            os.environ["CELERY_BROKER_URL"] = environment


# --- the API key and base URL ---------------------------------------------------------------


def test_no_api_key_without_debug_is_an_error_that_names_the_setting(settings):
    settings.DEBUG = False
    settings.TELNYX_IVR = {"PUBLIC_KEYS": []}
    [error] = check_call_control_api()
    assert error.id == "telnyx_ivr.E004"
    assert 'TELNYX_IVR["API_KEY"] is not set' in error.msg
    assert "environment" in error.hint


def test_an_api_key_passes_and_debug_needs_none(settings):
    settings.DEBUG = False
    settings.TELNYX_IVR = {"API_KEY": "KEY_live_secret"}
    assert check_call_control_api() == []
    settings.DEBUG = True
    settings.TELNYX_IVR = {}
    assert check_call_control_api() == []


def test_the_check_fails_manage_py_check_and_never_shows_the_key(settings):
    settings.DEBUG = False
    settings.TELNYX_IVR = {}
    with pytest.raises(SystemCheckError, match=r"telnyx_ivr\.E004"):
        call_command("check")
    settings.TELNYX_IVR = {"API_KEY": "KEY_must_not_be_shown", "API_BASE_URL": "http://[::1]/v2"}
    with pytest.raises(SystemCheckError) as raised:
        call_command("check", "--fail-level", "WARNING")
    assert "telnyx_ivr.W003" in str(raised.value)
    assert "KEY_must_not_be_shown" not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8001/v2",
        "http://localhost:8001/v2",
        "http://[::1]:8001/v2",
        "http://127.10.0.3/v2",
        "http://sim.localhost/v2",
    ],
)
def test_a_loopback_api_base_url_without_debug_is_a_warning(settings, url):
    settings.DEBUG = False
    settings.TELNYX_IVR = {"API_KEY": "KEY_x", "API_BASE_URL": url}
    [warning] = check_call_control_api()
    assert warning.id == "telnyx_ivr.W003"
    assert repr(url) in warning.msg


@pytest.mark.parametrize("url", ["https://api.telnyx.com/v2", "http://10.0.0.8/v2", "http://x/v2"])
def test_other_api_base_urls_pass(settings, url):
    settings.DEBUG = False
    settings.TELNYX_IVR = {"API_KEY": "KEY_x", "API_BASE_URL": url}
    assert check_call_control_api() == []


def test_a_loopback_api_base_url_is_fine_with_debug(settings):
    settings.DEBUG = True
    settings.TELNYX_IVR = {"API_KEY": "KEY_x", "API_BASE_URL": "http://127.0.0.1:8001/v2"}
    assert check_call_control_api() == []


# --- the Celery broker ----------------------------------------------------------------------


def test_a_configured_broker_passes():
    assert celery_app.conf.broker_url  # the suite's own (Redis, or memory://)
    assert check_celery_broker() == []


def test_an_app_without_a_broker_is_an_error_without_debug_and_a_warning_with(settings):
    with celery_conf(broker_url=None):
        settings.DEBUG = False
        [error] = check_celery_broker()
        assert error.id == "telnyx_ivr.E005"
        assert "The Celery app 'project' has no broker configured" in error.msg
        assert "amqp://guest@localhost//" in error.msg
        assert "CELERY_BROKER_URL" in error.hint
        settings.DEBUG = True
        assert ids(check_celery_broker()) == ["telnyx_ivr.W004"]


def test_eager_tasks_need_no_broker(settings):
    settings.DEBUG = False
    with celery_conf(broker_url=None, task_always_eager=True):
        assert check_celery_broker() == []


def test_a_site_that_never_loads_its_celery_app_fails_check():
    """What happens when yourproject/__init__.py lacks ``from .celery import app``: Celery's
    fallback app is current. Only a fresh process shows it (this one has the example's app)."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"},
        "DJANGO_SETTINGS_MODULE": "tests.settings_without_celery_app",
    }
    done = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "telnyx_ivr.E005" in done.stderr
    assert "No Celery app of your project is loaded in this process" in done.stderr
    assert "from .celery import app as celery_app" in done.stderr


@pytest.mark.django_db(transaction=True)
def test_queueing_an_event_without_a_broker_logs_an_error(client, signed, caplog):
    """gunicorn and the worker run no system checks, so each queued event says it too."""
    caplog.set_level(logging.ERROR, logger="telnyx_ivr.broker")
    with celery_conf(broker_url="memory://"):
        assert signed.post(client, "/telnyx/webhook/", event_body("call.hangup")).status_code == 200
    assert caplog.records == []
    # No broker at all: publishing would block on amqp://localhost, so only the log is tested.
    with celery_conf(broker_url=None):
        log_problem()
    [record] = caplog.records
    assert record.levelname == "ERROR"
    assert "The Celery app 'project' has no broker configured" in record.getMessage()
    assert "CELERY_BROKER_URL" in record.getMessage()


# --- the order of the event signals ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_eager_processing_sends_stored_before_processed(client, signed, ivr_settings_for):
    ivr_settings_for(API_KEY="KEY_x", API_BASE_URL="http://127.0.0.1:9/v2")
    heard = []

    def on_stored(sender, event, **kwargs):
        heard.append(("stored", event.event_type))

    def on_processed(sender, event, **kwargs):
        heard.append(("processed", event.event_type))

    webhook_event_stored.connect(on_stored)
    webhook_event_processed.connect(on_processed)
    try:
        with celery_conf(task_always_eager=True, task_eager_propagates=True):
            response = signed.post(client, "/telnyx/webhook/", event_body("call.hangup"))
    finally:
        webhook_event_stored.disconnect(on_stored)
        webhook_event_processed.disconnect(on_processed)
    assert response.status_code == 200
    assert heard == [("stored", "call.hangup"), ("processed", "call.hangup")]


@pytest.mark.django_db(transaction=True)
def test_a_failing_stored_receiver_is_logged_and_the_event_is_still_processed(
    client, signed, ivr_settings_for, caplog
):
    ivr_settings_for(API_KEY="KEY_x", API_BASE_URL="http://127.0.0.1:9/v2")

    def broken(sender, event, **kwargs):
        raise RuntimeError("host receiver bug")

    webhook_event_stored.connect(broken)
    try:
        with celery_conf(task_always_eager=True, task_eager_propagates=True):
            response = signed.post(client, "/telnyx/webhook/", event_body("call.hangup"))
    finally:
        webhook_event_stored.disconnect(broken)
    assert response.status_code == 200
    assert WebhookEvent.objects.get().status == WebhookEvent.Status.PROCESSED
    assert any("webhook_event_stored receiver" in r.getMessage() for r in caplog.records)
