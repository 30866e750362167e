"""The health report: the health/ endpoint, manage.py ivr_health and compose's healthcheck."""

import json
import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from celery import current_app
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import resolve
from django.utils import timezone

from telnyx_ivr.health_endpoint import health
from telnyx_ivr.models import Call, Command, WebhookEvent

from . import services
from .stack import free_port

ROOT = Path(__file__).resolve().parent.parent
URL = "/telnyx/health/"
BROKER_PASSWORD = "hunter2-broker-pw"


@pytest.fixture
def broker_at(monkeypatch):
    """Point this process's Celery app at another broker URL for one test."""

    conf = current_app.conf
    before = conf["broker_url"]

    def point(url):
        # Celery reads CELERY_BROKER_URL from the environment before its configuration.
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        conf["broker_url"] = url

    yield point
    conf["broker_url"] = before


def details(response):
    return {name: check["detail"] for name, check in response.json()["checks"].items()}


def late_event(seconds, event_type="call.gather.ended", status=WebhookEvent.Status.PENDING):
    event = WebhookEvent.objects.create(
        event_id=f"evt-{seconds}-{event_type}",
        event_type=event_type,
        raw_body="{}",
        payload={},
        status=status,
    )
    received = timezone.now() - timedelta(seconds=seconds)
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=received)
    return event


def late_command(seconds, call, action="gather_using_speak", attempts=0):
    command = Command.objects.create(
        call=call, action=action, body={}, command_id=f"cmd-{seconds}", attempts=attempts
    )
    Command.objects.filter(pk=command.pk).update(
        created_at=timezone.now() - timedelta(seconds=seconds)
    )
    return command


# --- the endpoint -----------------------------------------------------------------------------


def test_the_example_project_serves_it_at_telnyx_health():
    assert resolve(URL).func is health


@pytest.mark.django_db
def test_a_healthy_site_answers_200_and_only_ok_to_the_public(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]
    assert client.head(URL).status_code == 200


@pytest.mark.django_db
def test_staff_see_what_each_check_found(admin_client):
    response = admin_client.get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert list(body["checks"]) == ["database", "broker", "events", "commands"]
    assert all(check["ok"] for check in body["checks"].values())
    found = details(response)
    assert found["database"].endswith(" ms")
    assert "answered in" in found["broker"] or "no broker is used" in found["broker"]
    assert found["events"] == "no webhook event has waited more than 30 s"
    assert found["commands"] == "no command has waited more than 30 s to be sent"


@pytest.mark.django_db
def test_events_waiting_too_long_are_named_with_the_oldest(client, admin_client):
    oldest = late_event(95.2)
    late_event(61, "call.answered")
    late_event(40, "call.speak.ended")
    late_event(5, "call.hangup")  # pending, but not for long
    late_event(500, "call.initiated", status=WebhookEvent.Status.PROCESSED)
    public = client.get(URL)
    assert public.status_code == 503
    assert public.json() == {"status": "not ok"}  # nothing about the calls to strangers
    response = admin_client.get(URL)
    assert response.status_code == 503
    assert details(response)["events"] == (
        "3 events have waited more than 30 s to be processed; the oldest 95 s: "
        f"event {oldest.event_id} (call.gather.ended)"
    )
    assert response.json()["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_the_waits_allowed_are_settings(admin_client, ivr_settings_for):
    late_event(95)
    ivr_settings_for(HEALTH_EVENT_WAIT_SECONDS=120)
    response = admin_client.get(URL)
    assert response.status_code == 200
    assert details(response)["events"] == (
        "no webhook event has waited more than 120 s (1 event pending)"
    )


@pytest.mark.django_db
def test_commands_stuck_pending_are_named_with_the_oldest(admin_client):
    call = Call.objects.create(call_control_id="v3:stuck-call")
    oldest = late_command(70.2, call, action="answer", attempts=2)
    late_command(31, call)
    late_command(3, call)
    sent = late_command(400, call)
    Command.objects.filter(pk=sent.pk).update(status=Command.Status.SENT)
    # Refused long ago, but its retry is due only now: waiting for it is not being late.
    retrying = late_command(300, call, attempts=1)
    Command.objects.filter(pk=retrying.pk).update(retry_at=timezone.now())
    response = admin_client.get(URL)
    assert response.status_code == 503
    assert details(response)["commands"] == (
        "2 commands have waited more than 30 s to be sent; the oldest 70 s: answer on call "
        f"v3:stuck-call (command {oldest.command_id}, tried 2 times)"
    )


@pytest.mark.django_db
def test_one_late_event_is_said_in_the_singular(admin_client):
    event = late_event(45, "call.answered")
    assert details(admin_client.get(URL))["events"] == (
        "1 event has waited more than 30 s to be processed; the oldest 45 s: "
        f"event {event.event_id} (call.answered)"
    )


@pytest.mark.django_db
def test_checks_can_be_chosen_and_unknown_ones_are_named(admin_client, client):
    late_event(95)
    only = admin_client.get(URL, {"check": "database,broker"})
    assert only.status_code == 200  # the late event is not asked about
    assert list(only.json()["checks"]) == ["database", "broker"]
    assert client.get(URL, {"check": "database"}).json() == {"status": "ok"}
    bad = client.get(URL, {"check": "database,disk"})
    assert bad.status_code == 400
    assert bad.json() == {
        "error": "unknown_check",
        "detail": "unknown check(s): 'disk'; the checks are database, broker, events, commands",
    }
    assert client.get(URL, {"check": ""}).status_code == 400


@pytest.mark.django_db
def test_only_get_and_head(client):
    assert client.post(URL).status_code == 405


# --- the broker -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_broker_that_is_down_is_reported_at_once_without_its_password(admin_client, broker_at):
    port = free_port()  # nothing listens there
    broker_at(f"redis://:{BROKER_PASSWORD}@127.0.0.1:{port}/0")
    started = time.monotonic()
    response = admin_client.get(URL)
    took = time.monotonic() - started
    assert response.status_code == 503
    broker = response.json()["checks"]["broker"]
    assert broker["ok"] is False
    assert broker["detail"].startswith(
        f"cannot reach the broker at redis://:***@127.0.0.1:{port}/0:"
    )
    assert "Connection refused" in broker["detail"]
    assert BROKER_PASSWORD not in response.content.decode()
    assert took < 1.5  # redis-py alone would retry for seconds
    assert response.json()["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_a_broker_that_never_answers_counts_as_down_within_the_timeout(
    admin_client, broker_at, ivr_settings_for
):
    ivr_settings_for(HEALTH_BROKER_TIMEOUT_SECONDS=0.3)
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        broker_at(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        started = time.monotonic()
        response = admin_client.get(URL)
        took = time.monotonic() - started
    assert response.status_code == 503
    detail = details(response)["broker"]
    assert detail.startswith("cannot reach the broker at redis://127.0.0.1:") or (
        "did not answer within 0.3 s" in detail
    )
    assert took < 1.0


@pytest.mark.redis
@pytest.mark.django_db
def test_a_broker_that_is_up_is_reported_ok(admin_client, broker_at):
    services.require_redis()
    broker_at(services.redis_url())
    response = admin_client.get(URL)
    assert response.status_code == 200
    detail = details(response)["broker"]
    assert detail.startswith("the broker at redis://")
    assert "answered in" in detail


# --- manage.py ivr_health ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_gives_the_same_report_and_exit_status(capsys, broker_at):
    call_command("ivr_health")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["database", "broker", "events", "commands"]
    assert all(": ok: " in line for line in lines)

    event = late_event(95.2)
    broker_at(f"redis://:{BROKER_PASSWORD}@127.0.0.1:{free_port()}/0")
    with pytest.raises(CommandError) as failed:
        call_command("ivr_health")
    assert failed.value.returncode == 1
    assert str(failed.value) == "Not healthy: broker, events."
    out = capsys.readouterr().out
    assert (
        "events: NOT OK: 1 event has waited more than 30 s to be processed; the oldest 95 s: "
        f"event {event.event_id} (call.gather.ended)"
    ) in out
    assert "broker: NOT OK: cannot reach the broker at redis://:***@" in out
    assert BROKER_PASSWORD not in out

    with pytest.raises(CommandError):
        call_command("ivr_health", "--json", "--check", "events")
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "not ok"
    assert list(report["checks"]) == ["events"]


def run_managed(args, **env):
    """Run manage.py in a child process with the environment changed by ``env``."""
    child_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_database_that_is_down_is_reported_by_the_command_and_the_endpoint(tmp_path):
    """Both in a process of their own whose database is a server that is not there."""
    password = "s3cret-database-pw"
    env = {
        "DATABASE_URL": f"postgres://ivr:{password}@127.0.0.1:{free_port()}/ivr",
        "CELERY_BROKER_URL": "memory://",
        "IVR_VAR_DIR": str(tmp_path),
    }
    result = run_managed(["ivr_health"], **env)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("database: NOT OK: the database did not answer: OperationalError:")
    assert "Connection refused" in lines[0]
    assert lines[1].startswith("broker: ok: ")
    assert lines[2:] == [
        "events: NOT OK: not checked: the database did not answer",
        "commands: NOT OK: not checked: the database did not answer",
    ]
    assert result.stderr.strip() == "CommandError: Not healthy: database, events, commands."
    assert password not in result.stdout + result.stderr

    probe = (
        "from django.test import Client; import json;"
        f"r = Client().get({URL!r}); print(r.status_code, json.dumps(r.json()))"
    )
    served = run_managed(["shell", "-v", "0", "-c", probe], **env)
    assert served.stdout.strip() == '503 {"status": "not ok"}', served.stderr
    assert "Traceback" not in served.stderr
    assert password not in served.stdout + served.stderr


# --- docker compose -------------------------------------------------------------------------------


def compose_probe():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]["web"]["healthcheck"]["test"]


def test_compose_probes_the_health_endpoint():
    probe = compose_probe()
    assert probe[:3] == ["CMD", "python", "-c"]
    assert f"http://127.0.0.1:8000{URL}" in probe[3]


@pytest.mark.django_db(transaction=True)
def test_the_compose_probe_passes_on_a_healthy_site_and_fails_on_a_503(live_server):
    code = compose_probe()[3].replace("http://127.0.0.1:8000", live_server.url)
    healthy = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
    assert healthy.returncode == 0, healthy.stderr
    late_event(95)
    unhealthy = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
    assert unhealthy.returncode == 1
    assert b"HTTP Error 503" in unhealthy.stderr
