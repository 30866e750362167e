# ruff: noqa: F811 -- pytest fixtures imported from test_simulator_support are redefined as arguments
"""Scripted calls against a tiny app: expectations (held and failing, with their messages),
the transcript as data and text, reply times, signatures, step-by-step driving, waits."""

import base64
import json

import pytest
from nacl.signing import SigningKey

from telnyx_ivr.simulator import (
    ExpectCommand,
    ExpectEnd,
    ExpectHeard,
    HangUp,
    Press,
    ScriptedCaller,
    ScriptError,
    Silence,
    SimulatorTimeout,
    TelnyxSimulator,
    parse_script,
)
from telnyx_ivr.simulator.script import AIResult, EndConversation

from .test_simulator_support import Api, answered_call, api, receiver, sim  # noqa: F401


def state(**values):
    return base64.b64encode(json.dumps(values).encode()).decode()


def menu_app(sim):
    """A two-branch IVR, reacting to webhooks the way the app does: answer, menu, then
    "1" plays Sales and hangs up, "2" transfers, anything else says goodbye and hangs up."""
    api = Api(sim)

    def on_event(body):
        data = body["data"]
        call_id, payload = data["payload"]["call_control_id"], data["payload"]
        if call_id not in {c.call_control_id for c in sim.calls}:
            return  # a transfer's new leg
        event = data["event_type"]
        if event == "call.initiated":
            api.post(call_id, "answer", client_state=state(step="answer"))
        elif event == "call.answered":
            api.post(
                call_id,
                "gather_using_speak",
                payload="Press 1 for sales, 2 for support",
                voice="female",
                valid_digits="12",
                maximum_digits=1,
                maximum_tries=1,
                client_state=state(step="menu"),
            )
        elif event == "call.gather.ended":
            if payload["status"] == "valid" and payload["digits"] == "1":
                api.post(
                    call_id,
                    "speak",
                    payload="Sales, goodbye",
                    voice="female",
                    client_state=state(step="sales"),
                )
            elif payload["status"] == "valid" and payload["digits"] == "2":
                api.post(call_id, "transfer", to="+15550009999")
            else:
                api.post(
                    call_id,
                    "speak",
                    payload="Goodbye",
                    voice="female",
                    client_state=state(step="bye"),
                )
        elif event == "call.speak.ended" and payload["status"] == "completed":
            api.post(call_id, "hangup")

    return on_event


@pytest.fixture
def app(sim, receiver):
    receiver.on_event = menu_app(sim)
    return sim


def test_a_scripted_call_through_the_menu_holds_its_expectations(app, receiver):
    call = app.start_call(
        from_="+15551112222",
        to="+15553334444",
        script=[
            ExpectCommand("answer"),
            ExpectCommand("gather_using_speak"),
            ExpectHeard("press 1 for sales"),
            Press("1"),
            ExpectCommand("speak"),
            ExpectHeard("Sales"),
            ExpectCommand("hangup"),
            ExpectEnd(by="app", cause="normal_clearing"),
        ],
    )
    outcome = call.wait_for_end()
    assert outcome["ended_by"] == "app"
    assert call.failures == []
    call.assert_expectations()
    assert [c.action for c in call.commands] == ["answer", "gather_using_speak", "speak", "hangup"]
    assert receiver.events(call) == [
        "call.initiated",
        "call.answered",
        "call.dtmf.received",
        "call.gather.ended",
        "call.speak.started",
        "call.speak.ended",
        "call.hangup",
    ]
    assert all(d["verified"] for d in receiver.deliveries)
    assert len(call.checks()) == 7
    assert all(held for _, held, _ in call.checks())


def test_transcript_records_commands_webhooks_prompts_keys_and_the_end(app, receiver):
    call = app.start_call(script=[Press("1")])
    call.wait_for_end()
    answers = {c.action: c for c in call.commands}
    assert answers["answer"].in_reply_to == "call.initiated"
    assert answers["gather_using_speak"].in_reply_to == "call.answered"
    assert answers["speak"].in_reply_to == "call.gather.ended"
    assert answers["hangup"].in_reply_to == "call.speak.ended"
    for command in call.commands:
        assert 0 <= command.reply_seconds < 5
        assert command.command_id
        assert isinstance(command.body.get("client_state", ""), str)
    assert all(w.status == 200 for w in call.webhooks)
    kinds = [(e["kind"], e["text"]) for e in call.transcript]
    assert ("heard", 'menu: "Press 1 for sales, 2 for support"') in kinds
    assert ("caller", "pressed 1") in kinds
    assert ("heard", 'speak: "Sales, goodbye"') in kinds
    assert kinds[-2][0] == "ended" or kinds[-1][0] == "ended"
    text = call.transcript_text()
    assert text.startswith(f"Simulated call {call.call_control_id} from +15550000001")
    assert "gather_using_speak -> 200" in text
    assert "ms after call.answered" in text
    assert "call.gather.ended -> 200" in text
    assert "hung up by the app (normal_clearing)" in text
    # The data form serialises.
    json.dumps([c.as_dict() for c in call.commands])
    json.dumps([w.as_dict() for w in call.webhooks])
    assert [c.action for c in app.commands] == [c.action for c in call.commands]
    assert len(app.webhooks) == len(call.webhooks)


def test_failing_expectations_say_what_was_expected_and_what_happened(app, receiver):
    call = app.start_call(
        script=[
            ExpectHeard("Welcome to Acme"),
            Press("2"),
            ExpectCommand("hangup"),
            ExpectEnd(by="app", transferred_to="+15550000000"),
        ]
    )
    call.wait_for_end()
    failures = call.failures
    assert failures[0] == (
        'expected to hear "Welcome to Acme" before gather_using_speak got step 1 (press "2");'
        ' heard "Press 1 for sales, 2 for support"'
    )
    assert failures[1].startswith(
        "expected the next command to be hangup, but the app sent transfer {'to': '+15550009999'"
    )
    assert failures[2] == (
        "expected the call to end: ended by was 'caller', not 'app'; transferred to was "
        "'+15550009999', not '+15550000000'"
    )
    assert len(failures) == 3
    assert not call.passed
    with pytest.raises(AssertionError, match="expectations failed") as raised:
        call.assert_expectations()
    assert 'FAIL  hear "Welcome to Acme"' in str(raised.value)
    assert "Expectations: 0 held, 3 failed" in call.transcript_text()


def test_the_caller_hangs_up_when_the_script_runs_out(app, receiver):
    call = app.start_call(script=[])
    outcome = call.wait_for_end()
    assert outcome["ended_by"] == "caller"
    assert receiver.events(call)[-2:] == ["call.gather.ended", "call.hangup"]
    assert receiver.bodies(call)[-2]["data"]["payload"]["status"] == "call_hangup"


def test_unused_steps_fail_the_call(app, receiver):
    call = app.start_call(script=[Press("1"), Press("2")])
    call.wait_for_end()
    assert call.failures == ['the call ended with 1 script step(s) unused: press "2"']


def test_a_different_command_fails_the_expectation(sim, api, receiver):
    call = answered_call(
        sim, api, receiver, script=[ExpectCommand("answer"), ExpectCommand("speak"), Silence()]
    )
    api.post(call, "gather", maximum_digits=1)
    sim.wait_idle()
    assert call.failures == [
        "expected the next command to be speak, but the app sent gather {'maximum_digits': 1}"
    ]


def test_command_expected_but_none_came_before_the_end(sim, receiver):
    call = sim.start_call(script=[ExpectCommand("answer"), ExpectHeard("Welcome")])
    sim.hang_up(call)
    call.wait_for_end()
    assert call.failures == [
        "expected command answer before the call ended; none came",
        'expected to hear "Welcome" before the call ended; heard nothing',
    ]


def test_no_input_path_through_the_app(app, receiver):
    call = app.start_call(script=[Silence(), ExpectHeard("goodbye")])
    call.wait_for_end()
    call.assert_expectations()
    ended = [b for b in receiver.bodies(call) if b["data"]["event_type"] == "call.gather.ended"]
    assert ended[0]["data"]["payload"]["status"] == "timeout"


def test_step_by_step_driving_without_a_script(app, receiver):
    call = app.start_call()
    assert call.wait_for_prompt() == "gather_using_speak"
    assert call.waiting_for_caller
    assert not call.ended
    call.press("3")
    call.wait_for_end()
    assert [c.action for c in call.commands][-2:] == ["speak", "hangup"]
    assert ("heard", 'speak: "Goodbye"') in [(e["kind"], e["text"]) for e in call.transcript]


def test_hang_up_by_the_caller_during_an_announcement(sim, api, receiver):
    call = answered_call(
        sim, api, receiver, script=[HangUp("normal_clearing", during_announcement=True)]
    )
    api.post(call, "speak", payload="Long message", voice="female")
    call.wait_for_end()
    bodies = receiver.bodies(call)[2:]
    assert [b["data"]["event_type"] for b in bodies] == [
        "call.speak.started",
        "call.speak.ended",
        "call.hangup",
    ]
    assert bodies[1]["data"]["payload"]["status"] == "call_hangup"
    assert bodies[2]["data"]["payload"]["hangup_source"] == "caller"


def test_sim_hang_up_ends_the_call_with_a_cause(sim, api, receiver):
    call = answered_call(sim, api, receiver, when_script_ends="wait")
    api.post(call, "gather_using_speak", payload="Menu", voice="female")
    sim.hang_up(call, cause="user_busy")
    assert call.wait_for_end()["hangup_cause"] == "user_busy"
    bodies = receiver.bodies(call)[2:]
    assert [b["data"]["event_type"] for b in bodies] == ["call.gather.ended", "call.hangup"]
    assert bodies[1]["data"]["payload"]["sip_hangup_cause"] == "486"
    sim.hang_up(call)  # already ended: nothing more
    sim.wait_idle()
    assert len(receiver.bodies(call)) == 4


def test_signatures_verify_only_with_the_simulators_public_key(sim, receiver):
    receiver.public_key = base64.b64encode(bytes(SigningKey.generate().verify_key)).decode()
    sim.start_call()
    sim.wait_idle()
    assert receiver.deliveries[0]["verified"] is False
    assert "does not match" in receiver.deliveries[0]["error"]


def test_a_given_signing_key_gives_a_known_public_key(receiver):
    key = SigningKey.generate()
    with TelnyxSimulator(receiver.url, signing_key=key, api_key="k") as simulator:
        assert simulator.public_key == base64.b64encode(bytes(key.verify_key)).decode()
        assert simulator.api_key == "k"
        assert simulator.api_base_url == f"http://127.0.0.1:{simulator.port}/v2"


def test_wait_until_times_out_with_a_clear_message(sim):
    call = sim.start_call()
    with pytest.raises(
        SimulatorTimeout, match=r"timed out after 0\.2 s waiting for call"
    ) as raised:
        call.wait_for_end(timeout=0.2)
    assert "Simulated call" in str(raised.value)


def test_stop_is_clean_and_idempotent(receiver):
    simulator = TelnyxSimulator(receiver.url).start()
    base = simulator.api_base_url
    simulator.stop()
    simulator.stop()
    import requests

    with pytest.raises(requests.ConnectionError):
        requests.post(f"{base}/calls/x/actions/answer", json={}, timeout=1)


def test_parse_script_builds_steps_from_plain_data():
    steps = parse_script(
        [
            {"press": "12", "gap": 0.1},
            {"silent": True},
            {"hangup": "user_busy", "during_announcement": True},
            {"ai_result": {"age": 3}, "status": "invalid", "partial_results": [{"age": 3}]},
            {"end_conversation": True, "duration_sec": 5},
            {"expect_heard": "Welcome"},
            {"expect_command": "hangup"},
            {"expect_end": {"by": "app", "cause": "normal_clearing"}},
        ]
    )
    assert steps == [
        Press("12", gap=0.1),
        Silence(),
        HangUp("user_busy", during_announcement=True),
        AIResult({"age": 3}, status="invalid", partial_results=({"age": 3},)),
        EndConversation(5),
        ExpectHeard("Welcome"),
        ExpectCommand("hangup"),
        ExpectEnd(by="app", cause="normal_clearing"),
    ]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"press": "1"}, "a script is a list of steps"),
        (["press 1"], "script step 1: expected an object"),
        ([{"silent": True}, {"dance": 1}], "script step 2: unknown step ['dance']"),
        ([{"press": "1", "gapp": 1}], "script step 1: unexpected key(s) gapp"),
        ([{"press": ""}], "script step 1: press needs at least one key"),
        ([{"press": "1", "gap": "soon"}], "script step 1: could not convert"),
        ([{"ai_result": {}, "status": "maybe"}], "status must be valid or invalid"),
        ([{"ai_result": [1]}], "ai_result must be an object"),
        ([{"expect_end": {"by": "app", "when": 1}}], "unexpected key(s) when"),
    ],
)
def test_parse_script_errors_say_where(items, message):
    with pytest.raises(ScriptError) as raised:
        parse_script(items)
    assert message in str(raised.value)


def test_caller_option_is_checked():
    with pytest.raises(ScriptError, match="when_script_ends"):
        ScriptedCaller(when_script_ends="dance")
