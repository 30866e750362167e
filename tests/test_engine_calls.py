"""The call's life: call.initiated, call.answered, call.hangup, and recorded-only events."""

import pytest

from telnyx_ivr.engine import decide
from telnyx_ivr.engine.state import ACTIVE, ANSWERING, ENDED, NEW, TRANSFERRING, UNMANAGED

from .test_engine_support import (
    CALL_ID,
    CALLED,
    CALLER,
    NOW,
    CallDriver,
    classic_menu,
    cs_of,
    facts,
    menu,
    node,
    to,
    tts,
    without_cs,
)

INITIATED = {"direction": "incoming", "from": CALLER, "to": CALLED, "state": "parked"}


def test_incoming_claimed_call_is_answered():
    event = facts("call.initiated", INITIATED, at=NOW)
    decision = decide(None, classic_menu(), event, now=NOW)
    [command] = decision.commands
    assert command.action == "answer"
    assert without_cs(command.params) == {}
    assert cs_of(command) == {"c": CALL_ID, "n": None, "s": 0}
    assert "command_id" not in command.params
    state = decision.state
    assert state.status == ANSWERING
    assert state.call_control_id == CALL_ID
    assert state.call_session_id == "sess-1"
    assert state.direction == "incoming"
    assert state.variables == {"caller_number": CALLER, "called_number": CALLED}
    assert state.started_at == NOW
    assert state.answered is False
    assert decision.signals == [
        (
            "call_started",
            {"call_control_id": CALL_ID, "from": CALLER, "to": CALLED, "direction": "incoming"},
        )
    ]
    assert decision.ignored is False


@pytest.mark.parametrize(
    ("direction", "definition", "why"),
    [
        ("incoming", None, "no menu claims this call"),
        ("outgoing", None, "outgoing call"),
        ("outgoing", "classic", "outgoing call"),
    ],
)
def test_unclaimed_and_outgoing_calls_are_recorded_and_left_alone(direction, definition, why):
    definition = classic_menu() if definition == "classic" else None
    event = facts("call.initiated", {**INITIATED, "direction": direction}, at=NOW)
    decision = decide(None, definition, event, now=NOW)
    assert decision.commands == []
    assert decision.signals == []
    assert decision.state.status == UNMANAGED
    assert why in decision.note
    # Later events of an unmanaged call are recorded, never acted on; hang-up still ends it.
    later = decide(decision.state, None, facts("call.answered"), now=NOW)
    assert later.commands == []
    assert later.state.status == UNMANAGED
    ended = decide(
        later.state, None, facts("call.hangup", {"hangup_cause": "normal_clearing"}), now=NOW
    )
    assert ended.state.status == ENDED
    assert ended.commands == []


def test_answered_runs_the_entry_node():
    driver = CallDriver(classic_menu())
    driver.feed("call.initiated", INITIATED)
    decision = driver.feed("call.answered")
    command = driver.only_command(decision)
    assert command.action == "gather_using_speak"
    assert cs_of(command) == {"c": CALL_ID, "n": "main", "s": 1}
    state = decision.state
    assert state.status == ACTIVE
    assert state.answered is True
    assert state.answered_at == driver.clock
    assert (state.node, state.step, state.tries) == ("main", 1, 1)
    [opened] = decision.steps
    assert (opened.kind, opened.step, opened.node, opened.node_kind) == (
        "opened",
        1,
        "main",
        "speak_menu",
    )
    assert opened.at == driver.clock


def test_answered_with_a_missing_entry_node_hangs_up():
    definition = menu({"other": node("hangup", prompt=None)}, entry="nowhere")
    driver = CallDriver(definition)
    driver.feed("call.initiated", INITIATED)
    decision = driver.feed("call.answered")
    command = driver.only_command(decision)
    assert command.action == "hangup"
    assert without_cs(command.params) == {}
    assert "'nowhere' is not in the menu" in decision.note


def test_hangup_closes_the_call_and_its_open_step():
    driver = CallDriver(classic_menu())
    driver.start()
    decision = driver.feed(
        "call.hangup",
        {"hangup_cause": "normal_clearing", "hangup_source": "caller", "sip_hangup_cause": "200"},
        cs=None,
    )
    assert decision.commands == []
    state = decision.state
    assert state.status == ENDED
    assert (state.hangup_cause, state.hangup_source, state.sip_hangup_cause) == (
        "normal_clearing",
        "caller",
        "200",
    )
    assert state.ended_at == driver.clock
    [closed] = decision.steps
    assert (closed.kind, closed.step, closed.node, closed.outcome, closed.tries) == (
        "closed",
        1,
        "main",
        "hangup",
        1,
    )
    assert (
        "call_ended",
        {
            "hangup_cause": "normal_clearing",
            "hangup_source": "caller",
            "sip_hangup_cause": "200",
            "answered": True,
        },
    ) in decision.signals
    assert [name for name, _ in decision.signals] == ["step_completed", "call_ended"]


@pytest.mark.parametrize(
    "cause",
    [
        "normal_clearing",
        "originator_cancel",
        "user_busy",
        "timeout",
        "call_rejected",
        "no_answer",
        "time_limit",
        "not_found",
        "unspecified",
        "some_future_cause",
    ],
)
def test_every_hangup_cause_is_kept_as_given(cause):
    driver = CallDriver(classic_menu())
    driver.feed("call.initiated", INITIATED)
    decision = driver.feed("call.hangup", {"hangup_cause": cause, "hangup_source": "callee"})
    assert decision.state.status == ENDED
    assert decision.state.hangup_cause == cause
    assert decision.state.answered is False
    assert decision.steps == []  # no node was visited


def test_hangup_while_transferring_closes_the_transfer_step_as_transferred():
    driver = CallDriver(classic_menu())
    driver.start()
    driver.gather_ended("valid", "1")
    assert driver.state.status == TRANSFERRING
    decision = driver.feed("call.hangup", {"hangup_cause": "normal_clearing"}, cs=None)
    [closed] = decision.steps
    assert (closed.node, closed.outcome) == ("sales", "transferred")


def test_events_after_the_call_ended_are_ignored():
    driver = CallDriver(classic_menu())
    driver.start()
    driver.feed("call.hangup", {"hangup_cause": "normal_clearing"}, cs=None)
    decision = driver.gather_ended("call_hangup")
    assert decision.ignored is True
    assert decision.ignored_reason == "the call has already ended"
    assert decision.commands == []
    assert decision.steps == []


@pytest.mark.parametrize(
    "event_type",
    [
        "call.dtmf.received",
        "call.playback.started",
        "call.speak.started",
        "call.conversation.created",
        "call.conversation_insights.generated",
        "call.bridged",
        "call.machine.detection.ended",
        "call.recording.saved",
        "call.something.new",
    ],
)
def test_other_events_are_recorded_and_send_nothing(event_type):
    driver = CallDriver(classic_menu())
    driver.start()
    before = driver.state
    decision = driver.feed(event_type, {"digit": "1"})
    assert decision.commands == []
    assert decision.steps == []
    assert decision.ignored is False
    assert decision.note == f"{event_type}; recorded"
    # Nothing but the seen event ids changes.
    after = decision.state.to_dict()
    expected = before.to_dict()
    expected["seen_event_ids"] = after["seen_event_ids"]
    assert after == expected


def test_call_initiated_twice_with_different_ids_answers_once():
    driver = CallDriver(classic_menu())
    first = driver.feed("call.initiated", INITIATED)
    second = driver.feed("call.initiated", INITIATED)
    assert [c.action for c in first.commands] == ["answer"]
    assert second.commands == []
    assert second.ignored_reason == "call.initiated was already processed for this call"


def test_call_answered_twice_with_different_ids_runs_the_entry_node_once():
    driver = CallDriver(classic_menu())
    driver.feed("call.initiated", INITIATED)
    answer_cs = driver.last_cs
    driver.feed("call.answered")
    again = driver.feed("call.answered", cs=answer_cs)
    assert again.commands == []
    assert again.ignored is True
    assert again.ignored_reason.startswith("late: it belongs to step 0")
    # The same without client_state: the step is not waiting for call.answered.
    again = driver.feed("call.answered", cs=None)
    assert again.commands == []
    assert again.ignored_reason == "step 1 is not waiting for call.answered"


def test_answered_without_client_state_still_starts_the_menu():
    driver = CallDriver(classic_menu())
    driver.feed("call.initiated", INITIATED)
    decision = driver.feed("call.answered", cs=None)
    assert [c.action for c in decision.commands] == ["gather_using_speak"]


def test_events_before_call_initiated_are_recorded_and_do_not_block_it():
    """A worker can see call.hangup's sibling events before call.initiated was stored."""
    decision = decide(None, classic_menu(), facts("call.speak.started"), now=NOW)
    assert decision.state.status == NEW
    assert decision.ignored is True
    assert decision.commands == []
    later = decide(decision.state, classic_menu(), facts("call.initiated", INITIATED), now=NOW)
    assert [c.action for c in later.commands] == ["answer"]


def test_answered_with_no_menu_given_is_ignored():
    driver = CallDriver(classic_menu())
    driver.feed("call.initiated", INITIATED)
    decision = driver.feed("call.answered", menu=None)
    assert decision.commands == []
    assert decision.ignored_reason == "no menu definition was given for this call"
    assert decision.state.status == ANSWERING


@pytest.mark.parametrize(
    ("event_type", "payload"),
    [
        ("call.speak.ended", {"status": "completed"}),
        ("call.gather.ended", {"status": "valid", "digits": "1"}),
    ],
)
def test_acting_events_without_a_menu_are_ignored_not_crashing(event_type, payload):
    definition = menu(
        {"main": node("announcement", prompt="hi", routes=[to("main")])},
        prompts={"hi": tts("Hello")},
    )
    driver = CallDriver(definition)
    driver.start()
    decision = driver.feed(event_type, payload, menu=None)
    assert decision.commands == []
    assert decision.ignored is True
    assert decision.state.node == "main"


def test_occurred_at_missing_uses_now():
    decision = decide(None, classic_menu(), facts("call.initiated", INITIATED), now=NOW)
    assert decision.state.started_at == NOW


def test_prompt_in_entry_node_renders_caller_number():
    definition = menu(
        {"main": node("announcement", prompt="hi", routes=[to("bye")]), "bye": node("hangup")},
        prompts={"hi": tts("Hello {{ caller_number }}, you called {{ called_number }}.")},
    )
    driver = CallDriver(definition)
    command = driver.only_command(driver.start())
    assert command.params["payload"] == f"Hello {CALLER}, you called {CALLED}."
