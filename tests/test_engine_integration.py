"""The engine with real parts: signed webhooks through the live endpoint, real Celery workers
on Redis, the database (PostgreSQL in CI), and a loopback server standing in for Telnyx."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Call, Command, WebhookEvent
from telnyx_ivr.testing import event_body

from .conftest import wait_for

pytestmark = pytest.mark.redis

EXAMPLES = Path(__file__).resolve().parent.parent / "telnyx_ivr" / "examples"


@pytest.fixture
def ivr_stack(live_server, start_worker, signed, telnyx_api, ivr_settings_for):
    """Menus loaded, and a factory for workers configured like the web side."""
    ivr_settings_for(API_KEY="KEY_integration", API_BASE_URL=telnyx_api.base_url)
    import_definition(json.loads((EXAMPLES / "classic_tree.json").read_text()), publish=True)
    env = {
        "TELNYX_PUBLIC_KEY": signed.public_key,
        "TELNYX_API_KEY": "KEY_integration",
        "TELNYX_API_BASE_URL": telnyx_api.base_url,
    }
    return lambda name="worker": start_worker(env=env, name=name)


class Line:
    """Posts one call's signed webhooks to the live server over real HTTP."""

    def __init__(self, live_server, signer, ccid):
        self.url = f"{live_server.url}/telnyx/webhook/"
        self.signer, self.ccid = signer, ccid
        self.clock = datetime.now(UTC)
        self.lock = threading.Lock()

    def envelope(self, event_type, **payload):
        with self.lock:
            self.clock += timedelta(milliseconds=10)
            occurred = self.clock
        return event_body(
            event_type,
            {
                "call_control_id": self.ccid,
                "call_leg_id": "leg",
                "call_session_id": "sess",
                "connection_id": "conn",
                "from": "+15550001111",
                "to": "+15550002222",
                **payload,
            },
            occurred_at=occurred,
        )

    def post(self, envelope):
        body = json.dumps(envelope).encode()
        response = requests.post(self.url, data=body, headers=self.signer.sign(body), timeout=10)
        assert response.status_code == 200, response.text
        return response


def test_two_workers_and_a_burst_of_events_send_each_command_once(
    ivr_stack, live_server, signed, telnyx_api
):
    ivr_stack("worker-a")
    ivr_stack("worker-b")
    line = Line(live_server, signed, "v3:burst")
    # What Telnyx can deliver at once: call.answered only ever follows our answer command, so
    # it comes in a second burst. Each burst mixes in events the engine only records, and
    # every event is delivered twice, as Telnyx's retries can do.
    first = [
        line.envelope("call.initiated", direction="incoming", state="parked"),
        line.envelope("call.unknown.future_event"),
        line.envelope("call.playback.started"),
    ]
    second = [
        line.envelope("call.answered"),
        line.envelope("call.speak.started"),
        line.envelope("call.dtmf.received", digit="2"),
    ]
    burst = first + second
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(line.post, first * 2))
    # The stub hears a command before the worker commits "sent": wait for the row.
    wait_for(
        lambda: Command.objects.filter(action="answer", status="sent").exists(),
        message="the answer to the first burst",
    )
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(line.post, second * 2))

    wait_for(
        lambda: (
            not WebhookEvent.objects.filter(call_control_id="v3:burst", status="pending").exists()
            and Command.objects.filter(action="gather_using_speak", status="sent").exists()
        ),
        message="both workers to drain the bursts",
    )
    assert WebhookEvent.objects.filter(call_control_id="v3:burst").count() == len(burst)
    actions = [r.action for r in telnyx_api.requests]
    assert actions == ["answer", "gather_using_speak"]
    assert len({r.json["command_id"] for r in telnyx_api.requests}) == 2
    call = Call.objects.get(call_control_id="v3:burst")
    assert (call.status, call.current_node) == ("active", "main")
    assert list(Command.objects.filter(call=call).values_list("status", flat=True)) == [
        "sent",
        "sent",
    ]

    # The caller presses 2: the gather's reply, delivered twice at once.
    gather = telnyx_api.requests_for("gather_using_speak")[0].json
    ended = line.envelope(
        "call.gather.ended", digits="2", status="valid", client_state=gather["client_state"]
    )
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(line.post, [ended, ended]))
    wait_for(
        lambda: (
            Command.objects.filter(call=call, status="sent").count() >= 3
            and not WebhookEvent.objects.filter(status="pending").exists()
        ),
        message="the support menu's command",
    )
    call.refresh_from_db()
    assert call.current_node == "support"
    assert len(telnyx_api.requests) == 3
    assert telnyx_api.requests[2].json["client_state"] != gather["client_state"]


def test_a_failing_command_is_retried_through_the_queue(ivr_stack, live_server, signed, telnyx_api):
    ivr_stack()
    telnyx_api.enqueue(status=503, action="answer", body={"errors": [{"code": "1", "title": "x"}]})
    line = Line(live_server, signed, "v3:retry")
    line.post(line.envelope("call.initiated", direction="incoming"))
    command = wait_for(
        lambda: Command.objects.filter(call__call_control_id="v3:retry", status="sent").first(),
        message="the answer to be resent and accepted",
    )
    assert command.attempts == 2
    answers = telnyx_api.requests_for("answer")
    assert len(answers) == 2
    assert answers[0].json["command_id"] == answers[1].json["command_id"] == command.command_id
