"""Scripted calls through the AI intake example, end to end with a real worker: the AI gather
ending valid (routes on the result, which is stored on the call) and invalid (DTMF fallback),
and the caller hanging up mid-call."""

import pytest

from telnyx_ivr.models import Call
from telnyx_ivr.simulator import AIResult, ExpectEnd, ExpectHeard, HangUp, Press, Silence

from .e2e_support import (
    AI_NUMBER,
    CALLER_NUMBER,
    acted_on,
    assert_command_ids_unique,
    assert_commands_match_rows,
    client_state,
    heard,
    prompt_text,
)

pytestmark = pytest.mark.redis

HISTORY = [
    {"role": "assistant", "content": "Hello! Can you tell me your name, your age and the city?"},
    {"role": "user", "content": "I'm Ann, 34, from Chicago."},
]
TTS = {"payload_type": "text", "voice": "Telnyx.KokoroTTS.af", "language": "en-US"}
TTS = {**TTS, "service_level": "premium"}


def gather_using_ai_body(document):
    """The body the intake node must send: its AI fields, the schema as ``parameters``."""
    node = document["nodes"]["intake"]
    return {
        "parameters": document["ai_schemas"]["caller_details"]["schema"],
        "assistant": node["assistant"],
        "greeting": node["greeting"],
        "gather_ended_speech": node["gather_ended_speech"],
        "interruption_settings": node["interruption_settings"],
        "language": "en",
        "send_message_history_updates": False,
        "send_partial_results": False,
        "transcription": node["transcription"],
        "user_response_timeout_ms": 10000,
        "voice": "Telnyx.KokoroTTS.af",
    }


def body_of(record):
    return {k: v for k, v in record.body.items() if k not in ("command_id", "client_state")}


def nodes_of(call):
    return [client_state(r)["n"] if r.action != "answer" else None for r in acted_on(call)]


def conversation_id_of(call, record):
    return call.command_replies[record.command_id][1]["conversation_id"]


def test_valid_result_in_a_listed_city_goes_to_the_local_office(e2e):
    result = {"name": "Ann", "age": 34, "city": "Chicago"}
    call = e2e.run(
        AI_NUMBER,
        [
            ExpectHeard("Can you tell me your name"),
            AIResult(result, message_history=HISTORY),
            ExpectHeard("Connecting you to our Chicago office"),
            ExpectEnd(by="caller", transferred_to="+15550100201"),
        ],
    )
    call.assert_expectations()
    doc = e2e.ai
    assert heard(call) == [
        doc["nodes"]["intake"]["greeting"],
        doc["nodes"]["intake"]["gather_ended_speech"],
        "Thanks, Ann. Connecting you to our Chicago office.",
    ]
    records = acted_on(call)
    assert [r.action for r in records] == ["answer", "gather_using_ai", "speak", "transfer"]
    assert nodes_of(call) == [None, "intake", "local", "local_transfer"]
    assert body_of(records[1]) == gather_using_ai_body(doc)
    assert body_of(records[2]) == {
        "payload": "Thanks, Ann. Connecting you to our Chicago office.",
        **TTS,
    }
    assert body_of(records[3]) == {"to": "+15550100201", "timeout_secs": 30}
    assert_command_ids_unique(call)
    row = assert_commands_match_rows(call)

    assert row.variables["details"] == result
    assert row.variables["details_messages"] == HISTORY
    assert row.state["conversation_id"] == conversation_id_of(call, records[1])
    intake = row.steps.get(node_key="intake")
    assert (intake.node_kind, intake.outcome, intake.result) == ("ai_gather", "valid", result)
    assert (row.status, row.hangup_source) == (Call.Status.ENDED, "caller")
    assert row.steps.get(node_key="local_transfer").outcome == "transferred"


def test_valid_result_elsewhere_thanks_the_caller_and_says_goodbye(e2e):
    result = {"name": "Bo", "age": 51, "city": "Austin"}
    call = e2e.run(AI_NUMBER, [AIResult(result), ExpectEnd(by="app")])
    call.assert_expectations()
    thanks = (
        "Thank you, Bo. We have noted that you are 51 and live in Austin. "
        f"Someone will call you back on {CALLER_NUMBER}."
    )
    goodbye = prompt_text(e2e.ai, "goodbye")
    assert heard(call)[2:] == [thanks, goodbye]
    records = acted_on(call)
    assert [r.action for r in records] == ["answer", "gather_using_ai", "speak", "speak", "hangup"]
    assert nodes_of(call) == [None, "intake", "thanks", "goodbye", "goodbye"]
    assert [body_of(r) for r in records[2:]] == [
        {"payload": thanks, **TTS},
        {"payload": goodbye, **TTS},
        {},
    ]
    assert_command_ids_unique(call)
    row = assert_commands_match_rows(call)
    assert row.variables["details"] == result
    # Without a scripted history the simulated assistant's history is its greeting.
    assert row.variables["details_messages"] == [
        {"role": "assistant", "content": e2e.ai["nodes"]["intake"]["greeting"]}
    ]
    assert row.steps.get(node_key="intake").result == result
    assert (row.status, row.hangup_source) == (Call.Status.ENDED, "callee")


def test_invalid_result_falls_back_to_the_dtmf_menu(e2e):
    partial = {"name": "Cy"}
    call = e2e.run(
        AI_NUMBER,
        [
            AIResult(partial, status="invalid"),
            ExpectHeard("Press 1 to talk to a person"),
            Press("1"),
            ExpectEnd(by="caller", transferred_to="+15550100202"),
        ],
    )
    call.assert_expectations()
    fallback = prompt_text(e2e.ai, "fallback_menu")
    assert heard(call)[2:] == [fallback]
    records = acted_on(call)
    assert [r.action for r in records] == [
        "answer",
        "gather_using_ai",
        "gather_using_speak",
        "transfer",
    ]
    assert nodes_of(call) == [None, "intake", "fallback", "operator"]
    assert body_of(records[2]) == {
        "payload": fallback,
        **TTS,
        "valid_digits": "12",
        "minimum_digits": 1,
        "maximum_digits": 1,
        "maximum_tries": 1,
        "terminating_digit": "#",
        "timeout_millis": 10000,
        "inter_digit_timeout_millis": 5000,
    }
    assert body_of(records[3]) == {"to": "+15550100202", "timeout_secs": 30}
    assert_command_ids_unique(call)
    row = assert_commands_match_rows(call)
    intake = row.steps.get(node_key="intake")
    assert (intake.outcome, intake.result) == ("invalid", partial)
    assert row.variables["details"] == partial
    assert row.variables["fallback_choice"] == "1"


def test_silence_then_trying_again_reaches_the_ai_a_second_time(e2e):
    result = {"name": "Di", "age": 29, "city": "New York"}
    call = e2e.run(
        AI_NUMBER,
        [Silence(), Press("2"), AIResult(result), ExpectEnd(transferred_to="+15550100201")],
    )
    call.assert_expectations()
    records = acted_on(call)
    assert [r.action for r in records] == [
        "answer",
        "gather_using_ai",
        "gather_using_speak",
        "gather_using_ai",
        "speak",
        "transfer",
    ]
    assert body_of(records[3]) == body_of(records[1])
    first, second = (conversation_id_of(call, records[i]) for i in (1, 3))
    assert first != second
    row = assert_commands_match_rows(call)
    assert row.state["conversation_id"] == second
    assert row.variables["details"] == result
    intakes = list(row.steps.filter(node_key="intake").order_by("step"))
    assert [(s.outcome, s.result) for s in intakes] == [("invalid", {}), ("valid", result)]


def test_caller_hangs_up_during_the_ai_gather(e2e):
    call = e2e.run(AI_NUMBER, [HangUp("originator_cancel"), ExpectEnd(by="caller")])
    call.assert_expectations()
    assert [r.action for r in acted_on(call)] == ["answer", "gather_using_ai"]
    row = assert_commands_match_rows(call)
    assert (row.status, row.hangup_cause, row.hangup_source) == (
        Call.Status.ENDED,
        "originator_cancel",
        "caller",
    )
    intake = row.steps.get(node_key="intake")
    assert intake.ended_at is not None
    assert intake.outcome == "hangup"
    assert "details" not in row.variables


def test_caller_hangs_up_during_an_announcement(e2e):
    call = e2e.run(
        AI_NUMBER,
        [
            AIResult({"name": "Ed", "age": 40, "city": "Boston"}),
            HangUp("normal_clearing", during_announcement=True),
        ],
    )
    call.assert_expectations()
    # The thanks announcement starts, the caller leaves: nothing more is sent.
    assert [r.action for r in acted_on(call)] == ["answer", "gather_using_ai", "speak"]
    row = assert_commands_match_rows(call)
    assert (row.status, row.hangup_source) == (Call.Status.ENDED, "caller")
    thanks = row.steps.get(node_key="thanks")
    assert thanks.ended_at is not None
    assert thanks.outcome == "call_hangup"
