# ruff: noqa: F811  (fixtures are imported from the support module by name)
"""The simulator's control API, through SimulatorClient, as ivr_simulate and the admin use it."""

import pytest
import requests

from telnyx_ivr.simulator.control import ControlError, SimulatorClient, SimulatorUnavailable

from .test_simulator_support import api, receiver, sim  # noqa: F401


@pytest.fixture
def control(sim):
    return SimulatorClient(sim.api_base_url, sim.api_key)


def test_status_names_the_key_and_addresses(control, sim):
    status = control.status()
    assert status["public_key"] == sim.public_key
    assert status["api_base_url"] == sim.api_base_url
    assert status["calls"] == []


def test_start_drive_and_read_a_call(control, sim, api, receiver):
    started = control.start_call("+15550001111", "+15550002222")
    call_id = started["id"]
    assert (started["from"], started["to"], started["state"]) == (
        "+15550001111",
        "+15550002222",
        "parked",
    )
    assert api.post(call_id, "answer").status_code == 200
    api.post(call_id, "gather_using_speak", payload="Press 1", voice="female", maximum_digits=1)
    sim.call(call_id).wait_for_prompt(5)
    waiting = control.call(call_id)
    assert waiting["waiting_for_caller"] is True
    assert waiting["prompt"] == "gather_using_speak"
    assert "Press 1" in waiting["transcript_text"]

    pressed = control.step(call_id, {"press": "1"})
    sim.wait_idle()
    assert "call.gather.ended" in receiver.events(sim.call(call_id))
    assert pressed["waiting_for_caller"] is False

    ended = control.step(call_id, {"hangup": True})
    assert ended["ended"] is True
    assert ended["outcome"]["hangup_cause"] == "normal_clearing"
    with pytest.raises(ControlError, match="has ended") as error:
        control.step(call_id, {"press": "2"})
    assert error.value.status == 409


def test_a_script_runs_by_itself(control, sim, api):
    started = control.start_call("+1555", "+1666", script=[{"press": "7"}])
    api.post(started["id"], "answer")
    api.post(started["id"], "gather", maximum_digits=1)
    sim.wait_idle()
    done = control.call(started["id"])
    assert any(entry["text"] == "pressed 7" for entry in done["transcript"])
    assert 'gather ended valid with digits "7"' in done["transcript_text"]


@pytest.mark.parametrize(
    ("step", "message"),
    [({"dance": True}, "dance"), ({"press": ""}, "at least one key")],
)
def test_bad_steps_are_400_with_the_reason(control, step, message):
    call_id = control.start_call("+1555", "+1666")["id"]
    with pytest.raises(ControlError, match=message) as error:
        control.step(call_id, step)
    assert error.value.status == 400


def test_bad_requests(control, sim):
    with pytest.raises(ControlError, match='"from"'):
        control.start_call("", "+1666")
    with pytest.raises(ControlError, match="no simulated call") as error:
        control.call("v3:nope")
    assert error.value.status == 404
    raw = requests.post(
        f"{control.root}/_simulator/calls",
        data=b"[1]",
        headers={"Authorization": f"Bearer {sim.api_key}"},
        timeout=5,
    )
    assert (raw.status_code, raw.json()["error"]) == (400, "the body must be a JSON object")


def test_the_key_is_required(sim):
    with pytest.raises(SimulatorUnavailable, match="refused the API key"):
        SimulatorClient(sim.api_base_url, "wrong-key").status()


def test_nothing_listening_is_reported_clearly():
    with pytest.raises(SimulatorUnavailable, match="no simulator answers"):
        SimulatorClient("http://127.0.0.1:9/v2", "k", timeout=1).status()
