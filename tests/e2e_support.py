"""End-to-end calls: the Telnyx simulator, the live webhook endpoint and a real Celery worker.

The ``e2e`` fixture gives an ``E2E``: a ``TelnyxSimulator`` whose webhooks go to the live
server's ``/telnyx/webhook/``, both example menus imported and published, and a worker
process configured (through its environment) with the simulator's API URL, API key and
public key. ``e2e.run(to, script)`` plays one call and waits until the app has processed
every event of it. The helpers below read what the caller heard and what the app sent.
"""

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from telnyx_ivr.menus.io import import_definition
from telnyx_ivr.models import Call, Command, WebhookEvent
from telnyx_ivr.simulator import ScriptedCaller, TelnyxSimulator

from .conftest import wait_for
from .office_hours import open_around_the_clock

EXAMPLES = Path(__file__).resolve().parent.parent / "telnyx_ivr" / "examples"
CALLER_NUMBER = "+15550009999"
CLASSIC_NUMBER = "+15550100100"  # any number: the classic tree is the default menu
AI_NUMBER = "+15550100200"  # the AI intake menu's number
CALL_TIMEOUT = 30


def example(name):
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def prompt_text(document, key):
    return document["prompts"][key]["text"]


@dataclass
class E2E:
    sim: TelnyxSimulator
    classic: dict
    ai: dict

    def run(self, to, script, *, timeout=CALL_TIMEOUT, from_=CALLER_NUMBER, **caller_options):
        """Play one call from ``from_`` to ``to`` with ``script``; return it once it has
        ended and the app has processed everything it caused."""
        caller = ScriptedCaller(script, **caller_options)
        call = self.sim.start_call(from_=from_, to=to, caller=caller)
        call.wait_for_end(timeout=timeout)
        settle(timeout)
        return call


def settle(timeout=CALL_TIMEOUT):
    """Wait until no event is pending and no command waits to be sent (retries included)."""
    wait_for(
        lambda: (
            not WebhookEvent.objects.filter(status=WebhookEvent.Status.PENDING).exists()
            and not Command.objects.filter(status=Command.Status.PENDING).exists()
        ),
        timeout=timeout,
        message="the worker to process every event and send every command",
    )


@pytest.fixture
def e2e(live_server, start_worker, ivr_settings_for):
    with TelnyxSimulator(webhook_url=f"{live_server.url}/telnyx/webhook/") as sim:
        # The web side (live server, this process) verifies the simulator's signatures; the
        # test process also gets the API settings, for tasks it runs itself.
        ivr_settings_for(
            PUBLIC_KEYS=[sim.public_key], API_KEY=sim.api_key, API_BASE_URL=sim.api_base_url
        )
        classic, ai = example("classic_tree"), example("ai_intake")
        for document in (classic, ai):
            import_definition(document, publish=True)
        open_around_the_clock()  # tests/office_hours.py says why
        start_worker(
            env={
                "TELNYX_API_BASE_URL": sim.api_base_url,
                "TELNYX_API_KEY": sim.api_key,
                "TELNYX_PUBLIC_KEY": sim.public_key,
            }
        )
        yield E2E(sim=sim, classic=classic, ai=ai)


# --- reading a call ------------------------------------------------------------------------


def heard(call):
    """Every prompt the caller heard, in order (rendered text or audio URL)."""
    return [entry["prompt"] for entry in call.transcript if entry["kind"] == "heard"]


def acted_on(call):
    """The commands the simulator accepted and acted on: answered 200, not a repeat."""
    return [r for r in call.commands if r.status == 200 and not r.duplicate]


def client_state(record):
    value = record.body.get("client_state")
    assert isinstance(value, str), f"{record.action} has no client_state"
    return json.loads(base64.b64decode(value))


def assert_command_ids_unique(call):
    """Each command acted on has its own command_id; repeats only ever reuse one."""
    ids = [r.command_id for r in acted_on(call)]
    assert all(ids), "a command without command_id"
    assert len(set(ids)) == len(ids), f"command_id reused for different commands: {ids}"


def assert_commands_match_rows(call):
    """The app stored one Command row per command the simulator acted on, each sent."""
    row = Call.objects.get(call_control_id=call.call_control_id)
    rows = list(row.commands.order_by("pk").values_list("action", "command_id", "status"))
    received = [(r.action, r.command_id, "sent") for r in acted_on(call)]
    assert rows == received
    return row


def normalised_transcript(call):
    """What the caller lived through, without times, ids, webhooks or command attempts:
    prompts heard, keys pressed, gathers, transfers and the end."""
    kinds = {"heard", "caller", "gather", "transfer", "ended"}
    return [(e["kind"], e["text"]) for e in call.transcript if e["kind"] in kinds]


def normalised_commands(call):
    """The commands acted on, each as (action, body) without command_id and with the
    client_state decoded and stripped of the call's id."""
    result = []
    for record in acted_on(call):
        body = {k: v for k, v in record.body.items() if k not in ("command_id", "client_state")}
        state = client_state(record)
        assert state.pop("c") == call.call_control_id
        result.append((record.action, body, state))
    return result
