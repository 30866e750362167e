# ruff: noqa: F811 -- pytest fixtures imported from test_simulator_support are redefined as arguments
"""AI gathers and AI assistants: the events their endings cause, partial results and message
history only when the command asked for them, and script steps that do not fit."""

from telnyx_ivr.simulator import AIResult, EndConversation, HangUp, Press, Silence

from .test_simulator_support import answered_call, api, receiver, sim  # noqa: F401

SCHEMA = {"type": "object", "properties": {"age": {"type": "integer"}, "city": {"type": "string"}}}
HISTORY = (
    {"role": "assistant", "content": "Your age and city?"},
    {"role": "user", "content": "29, Paris"},
)


def payloads(receiver, sim, call):
    sim.wait_idle()
    return [(b["data"]["event_type"], b["data"]["payload"]) for b in receiver.bodies(call)[2:]]


def test_partial_results_and_history_updates_sent_when_asked(sim, api, receiver):
    step = AIResult(
        {"age": 29, "city": "Paris"},
        partial_results=({"age": 29}, {"age": 29, "city": "Paris"}),
        message_history=HISTORY,
    )
    call = answered_call(sim, api, receiver, script=[step])
    api.post(
        call,
        "gather_using_ai",
        parameters=SCHEMA,
        greeting="Your age and city?",
        send_partial_results=True,
        send_message_history_updates=True,
    )
    events = payloads(receiver, sim, call)
    assert [name for name, _ in events] == [
        "call.conversation.created",
        "call.ai_gather.partial_results",
        "call.ai_gather.partial_results",
        "call.ai_gather.message_history_updated",
        "call.ai_gather.message_history_updated",
        "call.ai_gather.ended",
        "call.conversation.ended",
    ]
    assert events[1][1]["partial_results"] == {"age": 29}
    assert events[2][1]["partial_results"] == {"age": 29, "city": "Paris"}
    assert events[3][1]["message_history"] == [HISTORY[0]]
    assert events[4][1]["message_history"] == list(HISTORY)
    ended = events[5][1]
    assert ended["result"] == {"age": 29, "city": "Paris"}
    assert ended["message_history"] == list(HISTORY)
    assert ended["status"] == "valid"


def test_partial_results_not_sent_unless_asked(sim, api, receiver):
    step = AIResult({"age": 40}, partial_results=({"age": 40},), message_history=HISTORY)
    call = answered_call(sim, api, receiver, script=[step])
    api.post(call, "gather_using_ai", parameters=SCHEMA)
    names = [name for name, _ in payloads(receiver, sim, call)]
    assert names == ["call.conversation.created", "call.ai_gather.ended", "call.conversation.ended"]
    assert any("partial results not sent" in e["text"] for e in call.transcript)


def test_invalid_ending_and_silence(sim, api, receiver):
    call = answered_call(
        sim,
        api,
        receiver,
        script=[AIResult({"age": -1}, status="invalid")],
        when_script_ends="wait",
    )
    api.post(call, "gather_using_ai", parameters=SCHEMA)
    ended = dict(payloads(receiver, sim, call))["call.ai_gather.ended"]
    assert (ended["status"], ended["result"]) == ("invalid", {"age": -1})
    call.stay_silent()
    api.post(call, "gather_using_ai", parameters=SCHEMA)
    sim.wait_idle()
    ended = receiver.bodies(call)[-2]["data"]["payload"]
    assert (ended["status"], ended["result"]) == ("invalid", {})


def test_message_history_defaults_to_the_commands_then_the_greeting(sim, api, receiver):
    call = answered_call(sim, api, receiver, script=[AIResult({"age": 3})])
    context = [{"role": "system", "content": "The caller is a member."}]
    api.post(call, "gather_using_ai", parameters=SCHEMA, greeting="Age?", message_history=context)
    ended = dict(payloads(receiver, sim, call))["call.ai_gather.ended"]
    assert ended["message_history"] == [*context, {"role": "assistant", "content": "Age?"}]


def test_gather_ended_speech_is_heard_after_the_gather(sim, api, receiver):
    call = answered_call(sim, api, receiver, script=[AIResult({"age": 3})])
    api.post(
        call, "gather_using_ai", parameters=SCHEMA, greeting="Age?", gather_ended_speech="Thanks!"
    )
    sim.wait_idle()
    assert [e["prompt"] for e in call.transcript if e["kind"] == "heard"] == ["Age?", "Thanks!"]


def test_caller_hanging_up_during_an_ai_gather(sim, api, receiver):
    call = answered_call(sim, api, receiver, script=[HangUp()])
    api.post(call, "gather_using_ai", parameters=SCHEMA)
    call.wait_for_end()
    names = [name for name, _ in payloads(receiver, sim, call)]
    assert names == ["call.conversation.created", "call.conversation.ended", "call.hangup"]


def test_a_step_that_does_not_fit_fails_and_hangs_up(sim, api, receiver):
    call = answered_call(sim, api, receiver, script=[Press("1")])
    api.post(call, "gather_using_ai", parameters=SCHEMA)
    call.wait_for_end()
    assert call.failures == [
        'script step press "1" does not fit gather_using_ai; the caller hangs up'
    ]
    assert receiver.events(call)[-1] == "call.hangup"


def test_ai_assistant_ends_when_the_script_says(sim, api, receiver):
    call = answered_call(sim, api, receiver, when_script_ends="wait")
    api.post(call, "ai_assistant_start", greeting="How can I help?")
    call.wait_for_prompt()
    assert receiver.events(call)[2:] == ["call.conversation.created"]
    call.end_conversation(duration_sec=12)
    sim.wait_idle()
    assert receiver.events(call)[2:] == [
        "call.conversation.created",
        "call.conversation.ended",
        "call.conversation_insights.generated",
    ]
    assert receiver.bodies(call)[3]["data"]["payload"]["duration_sec"] == 12
    # The conversation is over: a new assistant may start.
    assert api.post(call, "ai_assistant_start").status_code == 200


def test_silence_ends_an_ai_assistant_conversation(sim, api, receiver):
    call = answered_call(sim, api, receiver, script=[Silence(), EndConversation()])
    api.post(call, "ai_assistant_start")
    sim.wait_idle()
    assert "call.conversation.ended" in receiver.events(call)
