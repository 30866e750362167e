# ruff: noqa: F811 -- pytest fixtures imported from test_simulator_support are redefined as arguments
"""How DTMF gathers end: the status rules on their own, then through the simulator
(dtmf.received per key, gather.ended's digits and status, retries within maximum_tries)."""

import itertools

import pytest

from telnyx_ivr.simulator import GatherRules, HangUp, Press, Silence, collect

from .test_simulator_support import answered_call, api, receiver, sim  # noqa: F401


def rules(**values):
    return GatherRules.from_command(values, with_tries=True)


@pytest.mark.parametrize(
    ("keys", "values", "digits", "status", "heard"),
    [
        ("1", {"maximum_digits": 1}, "1", "valid", "1"),
        ("5", {"valid_digits": "123", "maximum_digits": 1}, "5", "invalid", "5"),
        ("1", {"minimum_digits": 2, "maximum_digits": 4}, "1", "invalid", "1"),
        ("123", {"maximum_digits": 2}, "12", "valid", "12"),
        ("12#", {}, "12", "valid", "12#"),
        ("1#9", {"maximum_digits": 4}, "1", "valid", "1#"),
        ("#", {}, "", "invalid", "#"),
        ("12*", {"terminating_digit": "*", "maximum_digits": 5}, "12", "valid", "12*"),
        ("1*", {"terminating_digit": "", "maximum_digits": 5}, "1*", "valid", "1*"),
        ("", {}, "", "timeout", ""),
        ("19", {"valid_digits": "123", "maximum_digits": 2}, "19", "invalid", "19"),
    ],
    ids=[
        "valid",
        "invalid-digit",
        "too-few",
        "too-many-stops-at-maximum",
        "terminating-digit-not-in-digits",
        "keys-after-terminator-ignored",
        "terminator-alone",
        "other-terminating-digit",
        "no-terminating-digit",
        "no-key-times-out",
        "one-invalid-among-valid",
    ],
)
def test_collect_computes_digits_and_status(keys, values, digits, status, heard):
    result = collect(keys, rules(**values))
    assert (result.digits, result.status, result.heard) == (digits, status, heard)


def test_defaults_are_the_apis():
    default = rules()
    assert (default.minimum_digits, default.maximum_digits) == (1, 128)
    assert (default.valid_digits, default.terminating_digit) == ("0123456789#*", "#")
    assert default.maximum_tries == 3
    assert GatherRules.from_command({"maximum_tries": 5}, with_tries=False).maximum_tries == 1


def gather_events(receiver, sim, call):
    sim.wait_idle()
    return [
        (
            b["data"]["event_type"],
            b["data"]["payload"].get("digit"),
            b["data"]["payload"].get("digits"),
            b["data"]["payload"].get("status"),
        )
        for b in receiver.bodies(call)[2:]
    ]


@pytest.mark.parametrize(
    ("step", "command", "expected"),
    [
        (Press("3"), {"maximum_digits": 1}, [("dtmf", "3"), ("ended", "3", "valid")]),
        (
            Press("7"),
            {"maximum_digits": 1, "valid_digits": "123"},
            [("dtmf", "7"), ("ended", "7", "invalid")],
        ),
        (
            Press("1"),
            {"minimum_digits": 3, "maximum_digits": 3},
            [("dtmf", "1"), ("ended", "1", "invalid")],
        ),
        (Press("12"), {"maximum_digits": 1}, [("dtmf", "1"), ("ended", "1", "valid")]),
        (Press("45#"), {}, [("dtmf", "4"), ("dtmf", "5"), ("dtmf", "#"), ("ended", "45", "valid")]),
        (Silence(), {}, [("ended", "", "timeout")]),
    ],
    ids=["valid", "invalid-digit", "too-few", "too-many", "terminating-digit", "timeout"],
)
def test_gather_ended_through_the_simulator(sim, api, receiver, step, command, expected):
    call = answered_call(sim, api, receiver, script=[step], when_script_ends="wait")
    api.post(call, "gather_using_speak", payload="Menu", voice="female", maximum_tries=1, **command)
    got = gather_events(receiver, sim, call)
    want = [
        ("call.dtmf.received", e[1], None, None)
        if e[0] == "dtmf"
        else ("call.gather.ended", None, e[1], e[2])
        for e in expected
    ]
    assert got == want


def test_caller_hanging_up_ends_the_gather_with_call_hangup(sim, api, receiver):
    call = answered_call(sim, api, receiver, script=[HangUp("originator_cancel")])
    api.post(call, "gather_using_speak", payload="Menu", voice="female", client_state="YQ==")
    call.wait_for_end()
    bodies = receiver.bodies(call)[2:]
    assert [b["data"]["event_type"] for b in bodies] == ["call.gather.ended", "call.hangup"]
    assert bodies[0]["data"]["payload"]["status"] == "call_hangup"
    hangup = bodies[1]["data"]["payload"]
    assert (hangup["hangup_cause"], hangup["hangup_source"]) == ("originator_cancel", "caller")
    assert hangup["sip_hangup_cause"] == "487"
    assert all(b["data"]["payload"]["client_state"] == "YQ==" for b in bodies)
    assert call.outcome["ended_by"] == "caller"


def test_maximum_tries_reprompts_within_one_command(sim, api, receiver):
    call = answered_call(sim, api, receiver, script=[Press("9"), Silence(), Press("2")])
    api.post(
        call,
        "gather_using_speak",
        payload="Press 1 or 2",
        invalid_payload="Not valid.",
        voice="female",
        valid_digits="12",
        maximum_digits=1,
        maximum_tries=3,
    )
    assert gather_events(receiver, sim, call) == [
        ("call.dtmf.received", "9", None, None),
        ("call.dtmf.received", "2", None, None),
        ("call.gather.ended", None, "2", "valid"),
    ]
    heard = [e["prompt"] for e in call.transcript if e["kind"] == "heard"]
    # First try, the invalid prompt then the menu after "9", the menu again after silence.
    assert heard == ["Press 1 or 2", "Not valid.", "Press 1 or 2", "Press 1 or 2"]


def test_tries_running_out_reports_the_last_try(sim, api, receiver):
    call = answered_call(sim, api, receiver, script=[Press("9"), Press("8")])
    api.post(
        call,
        "gather_using_speak",
        payload="Menu",
        voice="f",
        valid_digits="12",
        maximum_digits=1,
        maximum_tries=2,
    )
    events = gather_events(receiver, sim, call)
    assert events[-1] == ("call.gather.ended", None, "8", "invalid")
    assert [e[1] for e in events if e[0] == "call.dtmf.received"] == ["9", "8"]


def test_gather_using_audio_replays_the_invalid_audio_on_retry(sim, api, receiver):
    call = answered_call(sim, api, receiver, script=[Press("9"), Press("1")])
    api.post(
        call,
        "gather_using_audio",
        audio_url="http://x/menu.wav",
        invalid_audio_url="http://x/invalid.wav",
        valid_digits="12",
        maximum_digits=1,
        maximum_tries=2,
    )
    sim.wait_idle()
    assert receiver.events(call)[2:] == [
        "call.playback.started",
        "call.playback.ended",
        "call.dtmf.received",
        "call.playback.started",
        "call.playback.ended",
        "call.dtmf.received",
        "call.gather.ended",
    ]
    heard = [e["prompt"] for e in call.transcript if e["kind"] == "heard"]
    assert heard == ["http://x/menu.wav", "http://x/invalid.wav", "http://x/menu.wav"]


def test_plain_gather_has_one_try(sim, api, receiver):
    call = answered_call(
        sim, api, receiver, script=[Press("9"), Press("1")], when_script_ends="wait"
    )
    api.post(call, "gather", valid_digits="12", maximum_digits=1, maximum_tries=3)
    assert gather_events(receiver, sim, call)[-1] == ("call.gather.ended", None, "9", "invalid")
    assert [step.describe() for step in call.caller.remaining_steps] == ['press "1"']


def test_gaps_between_keys_space_the_dtmf_webhooks(sim, api, receiver):
    call = answered_call(sim, api, receiver, script=[Press("123", gap=0.15)])
    api.post(call, "gather", maximum_digits=3)
    sim.wait_idle()
    dtmf = [w for w in call.webhooks if w.event_type == "call.dtmf.received"]
    assert [w.payload["digit"] for w in dtmf] == ["1", "2", "3"]
    gaps = [b.sent_monotonic - a.sent_monotonic for a, b in itertools.pairwise(dtmf)]
    assert all(gap >= 0.14 for gap in gaps), gaps
