"""A broker outage, on the real stack: gunicorn, a Celery worker, and a Redis this test starts
on a port of its own and stops (by its PID) while calls come in.

- the webhook answers at once whether Redis is up, down or hung;
- what arrives during the outage is processed within seconds by the worker's rescue loop,
  straight from the database, so callers hear their next step;
- the worker survives Redis coming back, and the queue works again;
- a worker killed (SIGKILL) in the middle of a task: its event is taken up by another worker
  within seconds, not after Redis's visibility timeout.
"""

import json
import time
import uuid
from pathlib import Path

import pytest
import requests
from django.urls import reverse

from telnyx_ivr import examples
from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Command, WebhookEvent
from telnyx_ivr.testing import WebhookSigner, event_body

from . import services
from .celery_worker import WorkerProcess
from .stack import ProductionServer, RedisServer

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
SLOW_MARKER_ENV = "IVR_TEST_SLOW_ROUTE_FILE"


@pytest.fixture
def redis_server(tmp_path):
    services.require_redis_server()
    server = RedisServer(tmp_path).start()
    yield server
    if server.process and server.process.poll() is None:
        server.resume()
    server.stop()


@pytest.fixture
def stack(tmp_path, redis_server, telnyx_api, transactional_db):
    """gunicorn and one worker on this test's Redis, commands to the loopback Telnyx API."""
    services.require_redis()
    import_definition(json.loads(examples.read("classic_tree")), publish=True)
    signer = WebhookSigner()
    queue = f"telnyx-ivr-outage-{uuid.uuid4().hex[:8]}"
    settings_env = {
        "CELERY_BROKER_URL": redis_server.url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "TELNYX_API_BASE_URL": telnyx_api.base_url,
        "TELNYX_API_KEY": "KEY_outage_test",
        "TELNYX_PUBLIC_KEY": signer.public_key,
    }
    web = ProductionServer(tmp_path / "var", tmp_path / "gunicorn.log", signer.public_key)
    web.env.update(settings_env)
    web.start()
    workers = []

    def start_worker(name="worker", env=None):
        worker = WorkerProcess(
            broker_url=redis_server.url,
            queue=queue,
            log_path=tmp_path / f"{name}.log",
            env={**settings_env, **(env or {})},
            name=name,
        )
        workers.append(worker)
        return worker.wait_ready()

    class Stack:
        pass

    stack = Stack()
    stack.web, stack.redis, stack.api, stack.signer = web, redis_server, telnyx_api, signer
    stack.start_worker = start_worker
    stack.url = web.url + reverse("telnyx_ivr:webhook")
    yield stack
    for worker in workers:
        worker.stop()
    web.stop()


def deliver(stack, event_type, ccid, **payload):
    body = json.dumps(
        event_body(
            event_type,
            {"call_control_id": ccid, "from": "+15550001111", "to": "+15550000100", **payload},
        )
    ).encode()
    began = time.perf_counter()
    answer = requests.post(
        stack.url,
        data=body,
        headers={"Content-Type": "application/json", **stack.signer.sign(body)},
        timeout=10,
    )
    return answer, time.perf_counter() - began


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.05)
    pytest.fail(f"no {what} within {timeout} s")


def answered(stack, ccids):
    sent = {r.path.split("/")[3] for r in stack.api.requests if r.action == "answer"}
    return set(ccids) <= sent


@pytest.mark.parametrize("outage", ["down", "hung"])
def test_an_outage_never_holds_up_a_webhook_and_callers_are_answered_anyway(stack, outage):
    worker = stack.start_worker()
    first, _ = deliver(stack, "call.initiated", "v3:before", direction="incoming")
    assert first.status_code == 200
    wait_for(lambda: answered(stack, ["v3:before"]), 15, "answer before the outage")

    if outage == "down":
        stack.redis.stop()
    else:
        stack.redis.pause()  # accepts connections, answers nothing
    ccids = [f"v3:during-{index}" for index in range(10)]
    times = []
    for ccid in ccids:
        answer, seconds = deliver(stack, "call.initiated", ccid, direction="incoming")
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "stored"
        times.append(seconds)
    assert max(times) < 1.0, times  # Telnyx waits 2 s; the broker is not asked
    began = time.monotonic()
    # The worker's rescue loop answers them from the database, the broker still away.
    done = wait_for(lambda: answered(stack, ccids), 20, "answers during the outage")
    print(f"\nanswered during the outage ({outage}) within {done - began:.1f} s")
    assert set(
        WebhookEvent.objects.filter(call_control_id__in=ccids).values_list("status", flat=True)
    ) == {"processed"}

    connected = worker.output().count("Connected to redis")
    if outage == "down":
        stack.redis.start()
        wait_for(
            lambda: worker.output().count("Connected to redis") > connected,
            30,
            "the worker to reconnect",
        )
    else:
        stack.redis.resume()
    assert worker.process.poll() is None, worker.output()
    after, _ = deliver(stack, "call.initiated", "v3:after", direction="incoming")
    assert after.status_code == 200
    began = time.monotonic()
    done = wait_for(lambda: answered(stack, ["v3:after"]), 15, "an answer after the outage")
    assert done - began < 3  # through the queue again, not waiting for a rescue
    assert worker.process.poll() is None, worker.output()


def test_a_worker_killed_mid_task_leaves_its_event_to_another_within_seconds(stack, tmp_path):
    menu = json.loads(examples.read("classic_tree"))
    for route in menu["nodes"]["main"]["routes"]:
        if route.get("digits") == "1":  # press 1: a host's routing code, slow in the victim
            route.update(target="callable", callable="tests.slow_routes.slow_then_sales")
            route.pop("node")
    import_definition(menu, publish=True)
    marker = tmp_path / "slow"
    marker.touch()
    victim = stack.start_worker("victim", {SLOW_MARKER_ENV: str(marker)})
    ccid = "v3:killed"
    deliver(stack, "call.initiated", ccid, direction="incoming")
    wait_for(lambda: answered(stack, [ccid]), 15, "the answer")
    answer = next(r for r in stack.api.requests if r.action == "answer")
    deliver(stack, "call.answered", ccid, client_state=answer.json["client_state"])
    wait_for(
        lambda: any(r.action == "gather_using_speak" for r in stack.api.requests), 15, "gather"
    )
    gather = [r for r in stack.api.requests if r.action == "gather_using_speak"][-1]
    deliver(
        stack,
        "call.gather.ended",
        ccid,
        client_state=gather.json["client_state"],
        digits="1",
        status="valid",
    )
    wait_for(lambda: "slow route entered" in victim.output(), 15, "the victim in the slow route")
    victim.process.kill()  # SIGKILL, mid-task: the task is never acknowledged
    killed = time.monotonic()
    stack.start_worker("survivor")
    done = wait_for(
        lambda: any(r.action == "transfer" for r in stack.api.requests),
        30,
        "the transfer by the surviving worker",
    )
    print(f"\nevent of the killed worker taken up {done - killed:.1f} s after the kill")
    assert done - killed < 15  # Redis's visibility timeout (300 s) did not decide it
    assert [r.json["to"] for r in stack.api.requests if r.action == "transfer"] == ["+15550100001"]
    wait_for(
        lambda: Command.objects.filter(
            call__call_control_id=ccid, action="transfer", status="sent"
        ).exists(),
        10,
        "the transfer stored as sent",
    )
