# ruff: noqa: F811 -- pytest fixtures imported from test_simulator_support are redefined as arguments
"""Every Call Control command against the simulator: its reply, and the webhooks it causes
(names, order, envelope and payload fields and types) as the reference describes them."""

import base64
import json
import re
import uuid
from datetime import datetime

import pytest

from telnyx_ivr.simulator import AIResult, EndConversation, Press, ScriptedCaller

from .test_simulator_support import COMMON_FIELDS, answered_call, api, receiver, sim  # noqa: F401

STATE = base64.b64encode(json.dumps({"node": "menu"}).encode()).decode()
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

# The event's own payload fields and their types, from the reference's payloads/ and docs.
EVENT_FIELDS = {
    "call.initiated": {"direction": str, "state": str, "start_time": str},
    "call.answered": {"start_time": str},
    "call.bridged": {},
    "call.speak.started": {},
    "call.speak.ended": {"status": str},
    "call.playback.started": {"overlay": bool},
    "call.playback.ended": {"overlay": bool, "status": str},
    "call.dtmf.received": {"digit": str},
    "call.gather.ended": {"digits": str, "status": str},
    "call.conversation.created": {"conversation_id": str},
    "call.ai_gather.partial_results": {"partial_results": dict, "message_history": list},
    "call.ai_gather.message_history_updated": {"message_history": list},
    "call.ai_gather.ended": {"result": dict, "message_history": list, "status": str},
    "call.conversation.ended": {
        "conversation_id": str,
        "assistant_id": str,
        "duration_sec": int,
        "calling_party_type": str,
        "llm_model": str,
        "stt_model": str,
        "tts_provider": str,
        "tts_model_id": str,
        "tts_voice_id": str,
    },
    "call.conversation_insights.generated": {"conversation_id": str},
    "call.hangup": {"hangup_cause": str, "hangup_source": str, "sip_hangup_cause": str},
}


def assert_envelope(body, receiver, *, client_state):
    """The body is a full Telnyx envelope with the common payload fields and typed fields."""
    assert set(body) == {"data", "meta"}
    data = body["data"]
    assert data["record_type"] == "event"
    assert uuid.UUID(data["id"]).version == 4
    assert ISO_Z.match(data["occurred_at"]), data["occurred_at"]
    datetime.fromisoformat(data["occurred_at"].replace("Z", "+00:00"))
    assert body["meta"] == {"attempt": 1, "delivered_to": receiver.url}
    payload = data["payload"]
    for name in COMMON_FIELDS:
        assert name in payload, f"{data['event_type']} lacks payload.{name}"
    for name in ("call_control_id", "call_leg_id", "call_session_id", "connection_id"):
        assert isinstance(payload[name], str)
        assert payload[name]
    assert payload["client_state"] == client_state
    for name, kind in EVENT_FIELDS[data["event_type"]].items():
        assert isinstance(payload.get(name), kind), (
            f"{data['event_type']}.payload.{name} is {payload.get(name)!r}, not {kind.__name__}"
        )


def after(receiver, sim, call, before):
    sim.wait_idle()
    return receiver.bodies(call)[before:]


def types(bodies):
    return [body["data"]["event_type"] for body in bodies]


def test_start_call_sends_call_initiated_incoming_and_parked(sim, receiver):
    call = sim.start_call(from_="+15551230001", to="+15559870002", connection_id="1234567890")
    sim.wait_idle()
    (body,) = receiver.bodies()
    assert body["data"]["event_type"] == "call.initiated"
    assert_envelope(body, receiver, client_state=None)
    payload = body["data"]["payload"]
    assert payload["direction"] == "incoming"
    assert payload["state"] == "parked"
    assert payload["from"] == "+15551230001"
    assert payload["to"] == "+15559870002"
    assert payload["connection_id"] == "1234567890"
    assert payload["call_control_id"] == call.call_control_id
    assert payload["call_session_id"] == call.call_session_id
    assert receiver.deliveries[0]["verified"], receiver.deliveries[0]["error"]


def test_answer_replies_ok_and_sends_call_answered_with_client_state(sim, api, receiver):
    call = sim.start_call()
    response = api.post(call, "answer", client_state=STATE)
    assert response.status_code == 200
    assert response.json() == {"data": {"result": "ok"}}
    bodies = after(receiver, sim, call, 1)
    assert types(bodies) == ["call.answered"]
    assert_envelope(bodies[0], receiver, client_state=STATE)


def test_speak_sends_started_then_ended_completed(sim, api, receiver):
    call = answered_call(sim, api, receiver)
    response = api.post(
        call, "speak", payload="Welcome to Acme", voice="female", client_state=STATE
    )
    assert response.json() == {"data": {"result": "ok"}}
    bodies = after(receiver, sim, call, 2)
    assert types(bodies) == ["call.speak.started", "call.speak.ended"]
    for body in bodies:
        assert_envelope(body, receiver, client_state=STATE)
    assert bodies[1]["data"]["payload"]["status"] == "completed"
    assert any(e["kind"] == "heard" and e["prompt"] == "Welcome to Acme" for e in call.transcript)


def test_playback_start_sends_started_then_ended_with_media_url(sim, api, receiver):
    call = answered_call(sim, api, receiver)
    url = "https://example.com/hello.wav"
    assert api.post(call, "playback_start", audio_url=url).status_code == 200
    bodies = after(receiver, sim, call, 2)
    assert types(bodies) == ["call.playback.started", "call.playback.ended"]
    for body in bodies:
        assert_envelope(body, receiver, client_state=None)
        assert body["data"]["payload"]["media_url"] == url
    assert bodies[1]["data"]["payload"]["status"] == "completed"


def test_playback_stop_ends_a_playing_playback_cancelled(sim, api, receiver):
    caller = ScriptedCaller(when_script_ends="wait", announcement_seconds=30)
    call = answered_call(sim, api, receiver, caller=caller)
    api.post(call, "playback_start", media_name="greeting", client_state=STATE)
    assert types(after(receiver, sim, call, 2)) == ["call.playback.started"]
    response = api.post(call, "playback_stop", client_state=STATE)
    assert response.json() == {"data": {"result": "ok"}}
    bodies = after(receiver, sim, call, 3)
    assert types(bodies) == ["call.playback.ended"]
    assert_envelope(bodies[0], receiver, client_state=STATE)
    assert bodies[0]["data"]["payload"]["status"] == "cancelled"
    assert bodies[0]["data"]["payload"]["media_name"] == "greeting"


def test_timed_announcement_ends_completed_after_its_time(sim, api, receiver):
    caller = ScriptedCaller(when_script_ends="wait", announcement_seconds=0.2)
    call = answered_call(sim, api, receiver, caller=caller)
    api.post(call, "speak", payload="Hold on", voice="female")
    sim.wait_until(lambda: len(receiver.bodies(call)) == 4, 3)
    assert types(receiver.bodies(call)[2:]) == ["call.speak.started", "call.speak.ended"]


def test_playback_stop_with_nothing_playing_sends_nothing(sim, api, receiver):
    call = answered_call(sim, api, receiver)
    assert api.post(call, "playback_stop").status_code == 200
    assert after(receiver, sim, call, 2) == []


def test_gather_sends_dtmf_per_key_then_gather_ended_echoing_gather_id(sim, api, receiver):
    call = answered_call(sim, api, receiver, script=[Press("42")])
    response = api.post(
        call,
        "gather",
        gather_id="g-1",
        maximum_digits=2,
        valid_digits="0123456789",
        client_state=STATE,
    )
    assert response.json() == {"data": {"result": "ok"}}
    bodies = after(receiver, sim, call, 2)
    assert types(bodies) == ["call.dtmf.received", "call.dtmf.received", "call.gather.ended"]
    for body in bodies:
        assert_envelope(body, receiver, client_state=STATE)
    assert [b["data"]["payload"]["digit"] for b in bodies[:2]] == ["4", "2"]
    ended = bodies[2]["data"]["payload"]
    assert (ended["digits"], ended["status"], ended["gather_id"]) == ("42", "valid", "g-1")


def test_gather_using_speak_sends_dtmf_then_gather_ended(sim, api, receiver):
    call = answered_call(sim, api, receiver, script=[Press("1")])
    response = api.post(
        call,
        "gather_using_speak",
        payload="Press 1 for sales",
        voice="female",
        maximum_digits=1,
        maximum_tries=1,
        client_state=STATE,
    )
    assert response.status_code == 200
    bodies = after(receiver, sim, call, 2)
    assert types(bodies) == ["call.dtmf.received", "call.gather.ended"]
    for body in bodies:
        assert_envelope(body, receiver, client_state=STATE)
    assert bodies[1]["data"]["payload"]["digits"] == "1"


def test_gather_using_audio_plays_then_gathers(sim, api, receiver):
    call = answered_call(sim, api, receiver, script=[Press("2")])
    url = "https://example.com/menu.mp3"
    api.post(
        call,
        "gather_using_audio",
        audio_url=url,
        maximum_digits=1,
        maximum_tries=1,
        client_state=STATE,
    )
    bodies = after(receiver, sim, call, 2)
    assert types(bodies) == [
        "call.playback.started",
        "call.playback.ended",
        "call.dtmf.received",
        "call.gather.ended",
    ]
    for body in bodies:
        assert_envelope(body, receiver, client_state=STATE)
    assert bodies[0]["data"]["payload"]["media_url"] == url
    assert bodies[3]["data"]["payload"]["status"] == "valid"


def test_gather_stop_ends_the_open_gather_cancelled(sim, api, receiver):
    call = answered_call(sim, api, receiver, when_script_ends="wait")
    api.post(call, "gather_using_speak", payload="Menu", voice="female", client_state=STATE)
    assert after(receiver, sim, call, 2) == []
    assert call.waiting_for_caller
    assert api.post(call, "gather_stop", client_state=STATE).status_code == 200
    bodies = after(receiver, sim, call, 2)
    assert types(bodies) == ["call.gather.ended"]
    assert_envelope(bodies[0], receiver, client_state=STATE)
    assert bodies[0]["data"]["payload"]["status"] == "cancelled"


def test_gather_using_ai_returns_conversation_id_and_sends_its_events(sim, api, receiver):
    call = answered_call(sim, api, receiver, script=[AIResult({"age": 29, "city": "Paris"})])
    response = api.post(
        call,
        "gather_using_ai",
        greeting="Your age and city?",
        client_state=STATE,
        parameters={"type": "object", "properties": {"age": {"type": "integer"}}},
    )
    data = response.json()["data"]
    assert data["result"] == "ok"
    assert uuid.UUID(data["conversation_id"])
    bodies = after(receiver, sim, call, 2)
    assert types(bodies) == [
        "call.conversation.created",
        "call.ai_gather.ended",
        "call.conversation.ended",
    ]
    for body in bodies:
        assert_envelope(body, receiver, client_state=STATE)
    assert bodies[0]["data"]["payload"]["conversation_id"] == data["conversation_id"]
    ended = bodies[1]["data"]["payload"]
    assert ended["result"] == {"age": 29, "city": "Paris"}
    assert ended["status"] == "valid"
    assert ended["message_history"] == [{"role": "assistant", "content": "Your age and city?"}]
    assert "created_at" in bodies[2]["data"]


def test_ai_assistant_start_returns_conversation_id_and_sends_its_events(sim, api, receiver):
    call = answered_call(sim, api, receiver, script=[EndConversation(duration_sec=7)])
    response = api.post(
        call,
        "ai_assistant_start",
        greeting="Hi",
        client_state=STATE,
        assistant={"id": "assistant-42"},
    )
    conversation_id = response.json()["data"]["conversation_id"]
    bodies = after(receiver, sim, call, 2)
    assert types(bodies) == [
        "call.conversation.created",
        "call.conversation.ended",
        "call.conversation_insights.generated",
    ]
    for body in bodies:
        assert_envelope(body, receiver, client_state=STATE)
        assert body["data"]["payload"]["conversation_id"] == conversation_id
    assert bodies[1]["data"]["payload"]["duration_sec"] == 7
    assert bodies[1]["data"]["payload"]["assistant_id"] == "assistant-42"


def test_ai_assistant_stop_and_add_messages_reply_ok_without_webhooks(sim, api, receiver):
    call = answered_call(sim, api, receiver, when_script_ends="wait")
    api.post(call, "ai_assistant_start", greeting="Hi")
    assert types(after(receiver, sim, call, 2)) == ["call.conversation.created"]
    response = api.post(
        call, "ai_assistant_add_messages", messages=[{"role": "system", "content": "be brief"}]
    )
    assert response.json() == {"data": {"result": "ok"}}
    assert api.post(call, "ai_assistant_stop").json() == {"data": {"result": "ok"}}
    assert types(after(receiver, sim, call, 3)) == []
    # Stopped: a new assistant may start.
    assert api.post(call, "ai_assistant_start").status_code == 200


def test_transfer_answered_sends_new_leg_bridged_answered(sim, api, receiver):
    caller = ScriptedCaller(hang_up_after_transfer=False)
    call = answered_call(sim, api, receiver, caller=caller)
    response = api.post(call, "transfer", to="+15557654321", client_state=STATE)
    assert response.json() == {"data": {"result": "ok"}}
    bodies = after(receiver, sim, call, 2)
    assert types(bodies) == ["call.initiated", "call.bridged", "call.answered"]
    for body in bodies:
        assert_envelope(body, receiver, client_state=STATE)
    new_leg = bodies[0]["data"]["payload"]
    assert new_leg["direction"] == "outgoing"
    assert new_leg["to"] == "+15557654321"
    assert new_leg["call_control_id"] != call.call_control_id
    assert bodies[1]["data"]["payload"]["call_control_id"] == call.call_control_id
    assert bodies[2]["data"]["payload"]["call_control_id"] == new_leg["call_control_id"]


def test_transfer_then_caller_hangs_up_by_default(sim, api, receiver):
    call = answered_call(sim, api, receiver)
    api.post(call, "transfer", to="+15557654321")
    assert call.wait_for_end() == {
        "ended_by": "caller",
        "hangup_cause": "normal_clearing",
        "transferred_to": "+15557654321",
        "duration_seconds": call.outcome["duration_seconds"],
    }
    assert types(receiver.bodies(call)[-1:]) == ["call.hangup"]


def test_transfer_not_answered_hangs_up_the_new_leg_only(sim, api, receiver):
    caller = ScriptedCaller(transfer_outcome="no_answer", when_script_ends="wait")
    call = answered_call(sim, api, receiver, caller=caller)
    api.post(call, "transfer", to="+15557654321")
    bodies = after(receiver, sim, call, 2)
    assert types(bodies) == ["call.initiated", "call.hangup"]
    hangup = bodies[1]["data"]["payload"]
    assert hangup["hangup_cause"] == "no_answer"
    assert hangup["call_control_id"] == bodies[0]["data"]["payload"]["call_control_id"]
    assert not call.ended
    assert api.post(call, "speak", payload="Sorry", voice="female").status_code == 200


def test_hangup_sends_call_hangup_and_later_commands_get_90018(sim, api, receiver):
    call = answered_call(sim, api, receiver)
    assert api.post(call, "hangup", client_state=STATE).json() == {"data": {"result": "ok"}}
    bodies = after(receiver, sim, call, 2)
    assert types(bodies) == ["call.hangup"]
    assert_envelope(bodies[0], receiver, client_state=STATE)
    payload = bodies[0]["data"]["payload"]
    assert (payload["hangup_cause"], payload["hangup_source"]) == ("normal_clearing", "callee")
    assert payload["sip_hangup_cause"] == "200"
    response = api.post(call, "speak", payload="Hello", voice="female")
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "90018"
    assert call.outcome["ended_by"] == "app"


@pytest.mark.parametrize("action", ["gather", "speak", "gather_using_ai", "playback_start"])
def test_commands_before_answer_get_90034(sim, api, receiver, action):
    call = sim.start_call()
    response = api.post(
        call,
        action,
        payload="x",
        voice="female",
        audio_url="http://x/a.wav",
        parameters={"type": "object"},
    )
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["code"] == "90034"
    assert error["title"] == "Call not answered yet"
    assert types(after(receiver, sim, call, 1)) == []


def test_unknown_call_control_id_gets_90015(sim, api):
    response = api.post("v3:nope", "answer")
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["code"] == "90015"
    assert error["source"] == {"pointer": "/call_control_id"}


@pytest.mark.parametrize(
    ("action", "body", "pointer"),
    [
        ("speak", {"voice": "female"}, "/payload"),
        ("speak", {"payload": "Hi"}, "/voice"),
        ("speak", {"payload": "  ", "voice": "female"}, "/payload"),
        ("gather_using_speak", {"voice": "female"}, "/payload"),
        ("gather_using_ai", {"greeting": "Hi"}, "/parameters"),
        ("playback_start", {}, "/audio_url"),
        ("transfer", {}, "/to"),
    ],
)
def test_missing_required_parameter_gets_10004(sim, api, receiver, action, body, pointer):
    call = answered_call(sim, api, receiver)
    response = api.post(call, action, body)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert (error["code"], error["source"]["pointer"]) == ("10004", pointer)
    assert error["title"] == "Missing required parameter"
    assert types(after(receiver, sim, call, 2)) == []
    assert call.commands[-1].status == 422
    assert call.commands[-1].error_code == "10004"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"maximum_digits": 129}, "10033"),
        ({"minimum_digits": 0}, "10033"),
        ({"minimum_digits": 3, "maximum_digits": 2}, "10033"),
        ({"terminating_digit": "x"}, "10032"),
        ({"payload_type": "html"}, "10032"),
        ({"client_state": "not base64!"}, "10002"),
    ],
)
def test_invalid_gather_values_get_422(sim, api, receiver, body, code):
    call = answered_call(sim, api, receiver, script=[Press("1")])
    response = api.post(call, "gather_using_speak", {"payload": "Menu", "voice": "f", **body})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == code
    assert types(after(receiver, sim, call, 2)) == []


def test_greeting_over_3000_characters_gets_10033(sim, api, receiver):
    call = answered_call(sim, api, receiver)
    response = api.post(call, "gather_using_ai", parameters={"type": "object"}, greeting="a" * 3001)
    assert response.json()["errors"][0]["code"] == "10033"


def test_second_ai_assistant_gets_90061(sim, api, receiver):
    call = answered_call(sim, api, receiver, when_script_ends="wait")
    assert api.post(call, "ai_assistant_start").status_code == 200
    response = api.post(call, "ai_assistant_start")
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "90061"


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_bad_api_key_gets_401_with_a_telnyx_error_body(sim, receiver, key):
    import requests

    call = sim.start_call()
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = requests.post(
        f"{sim.api_base_url}/calls/{call.call_control_id}/actions/answer",
        json={},
        headers=headers,
        timeout=5,
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "10009"
    sim.wait_idle()
    assert types(receiver.bodies(call)) == ["call.initiated"]
    assert call.commands == []


def test_unknown_action_gets_404_and_bad_json_400(sim, api, receiver):
    import requests

    call = sim.start_call()
    assert api.post(call, "fly_to_the_moon").status_code == 404
    response = requests.post(
        f"{sim.api_base_url}/calls/{call.call_control_id}/actions/answer",
        data=b"{not json",
        headers={"Authorization": f"Bearer {sim.api_key}"},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"].startswith("body is not JSON")


def test_repeated_command_id_is_answered_but_acted_on_once(sim, api, receiver):
    call = sim.start_call()
    first = api.post(call, "answer", command_id="cmd-1")
    second = api.post(call, "answer", command_id="cmd-1")
    assert first.json() == second.json() == {"data": {"result": "ok"}}
    sim.wait_idle()
    assert types(receiver.bodies(call)) == ["call.initiated", "call.answered"]
    assert [c.duplicate for c in call.commands] == [False, True]
    # The same id on a gather_using_ai returns the first answer's conversation_id.
    ai1 = api.post(call, "gather_using_ai", parameters={"type": "object"}, command_id="cmd-2")
    ai2 = api.post(call, "gather_using_ai", parameters={"type": "object"}, command_id="cmd-2")
    assert ai1.json() == ai2.json()
    sim.wait_idle()
    assert receiver.events(call).count("call.conversation.created") == 1


def test_command_id_is_per_call(sim, api, receiver):
    first, second = sim.start_call(), sim.start_call()
    api.post(first, "answer", command_id="same")
    api.post(second, "answer", command_id="same")
    sim.wait_idle()
    assert receiver.events(first).count("call.answered") == 1
    assert receiver.events(second).count("call.answered") == 1


@pytest.mark.parametrize(
    ("action", "body", "pointer"),
    [
        ("speak", {"payload": 5, "voice": "female"}, "/payload"),
        ("transfer", {"to": ["+1"]}, "/to"),
        ("gather_using_ai", {"parameters": {}, "assistant": "nope"}, "/assistant"),
        ("gather_using_ai", {"parameters": {}, "message_history": "hi"}, "/message_history"),
        ("gather", {"maximum_digits": "3"}, "/maximum_digits"),
    ],
)
def test_wrongly_typed_parameters_get_a_clear_422(sim, api, receiver, action, body, pointer):
    call = answered_call(sim, api, receiver, when_script_ends="wait")
    response = api.post(call, action, body)
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    assert error["source"]["pointer"] == pointer
    assert error["detail"]
    assert call.failures == []
