"""Late, duplicated, out-of-order and foreign events: recorded, never acted on twice."""

import json

import pytest

from telnyx_ivr.engine import CallState, decide

from .test_engine_support import (
    CALL_ID,
    CALLED,
    CALLER,
    NOW,
    CallDriver,
    classic_menu,
    facts,
)

INITIATED = {"direction": "incoming", "from": CALLER, "to": CALLED}


def state_without_seen_ids(state):
    data = state.to_dict()
    data.pop("seen_event_ids")
    return data


def full_classic_call():
    """A call through most of the classic tree, ending with a hang-up."""
    driver = CallDriver(classic_menu())
    driver.start()
    driver.feed("call.dtmf.received", {"digit": "7"})
    driver.gather_ended("invalid", "7")
    driver.gather_ended("valid", "2")
    driver.gather_ended("valid", "1")
    driver.feed("call.playback.started")
    driver.feed("call.playback.ended", {"status": "completed"})
    driver.gather_ended("valid", "2")
    driver.feed("call.ai_gather.partial_results", {"partial_results": {"name": "Ada"}})
    driver.feed("call.ai_gather.ended", {"status": "invalid", "result": {}})
    driver.gather_ended("valid", "42")
    driver.feed("call.speak.ended", {"status": "completed"})
    driver.feed("call.hangup", {"hangup_cause": "normal_clearing"}, cs=None)
    return driver


def test_the_full_classic_call_walks_the_expected_nodes():
    driver = full_classic_call()
    actions = [c.action for d in driver.decisions for c in d.commands]
    assert actions == [
        "answer",
        "gather_using_speak",  # main
        "gather_using_speak",  # main again after invalid
        "gather_using_speak",  # support
        "playback_start",  # hours
        "gather_using_speak",  # back to support
        "gather_using_ai",  # details
        "gather",  # age_dtmf
        "speak",  # thanks
        "hangup",
    ]
    assert driver.state.status == "ended"
    assert driver.state.variables["age"] == "42"


def test_every_event_fed_again_to_the_state_it_produced_sends_nothing():
    driver = full_classic_call()
    state = None
    for decision in driver.decisions:
        event = _event_of(driver, decision)
        again = decide(decision.state, classic_menu(), event, now=NOW)
        assert again.commands == [], event.event_type
        assert again.steps == []
        assert again.signals == []
        assert again.ignored is True
        assert again.ignored_reason.startswith("duplicate of event")
        assert again.state.to_dict() == decision.state.to_dict()
        state = decision.state
    assert state.status == "ended"


def test_reprocessing_every_event_of_a_finished_call_sends_nothing_even_with_new_ids():
    driver = full_classic_call()
    final = driver.state
    for decision in driver.decisions:
        event = _event_of(driver, decision)
        renamed = facts(
            event.event_type,
            event.payload,
            cs=event.client_state,
            event_id="new-" + event.event_id,
            at=event.occurred_at,
        )
        again = decide(final, classic_menu(), renamed, now=NOW)
        assert again.commands == []
        assert again.ignored_reason == "the call has already ended"


def _event_of(driver, decision):
    return driver.events[driver.decisions.index(decision)]


def test_late_gather_ended_of_an_earlier_step_is_ignored():
    driver = CallDriver(classic_menu())
    driver.start()
    step1 = driver.last_cs
    driver.gather_ended("invalid", "7")  # the call moves to step 2
    before = driver.state
    late = driver.feed("call.gather.ended", {"status": "valid", "digits": "1"}, cs=step1)
    assert late.ignored is True
    assert late.ignored_reason == "late: it belongs to step 1, the call is at step 2"
    assert late.commands == []
    assert late.steps == []
    assert state_without_seen_ids(late.state) == state_without_seen_ids(before)


@pytest.mark.parametrize(
    "event_type",
    ["call.dtmf.received", "call.speak.ended", "call.ai_gather.partial_results", "call.answered"],
)
def test_any_late_event_is_reported_as_ignored(event_type):
    driver = CallDriver(classic_menu())
    driver.start()
    step1 = driver.last_cs
    driver.gather_ended("valid", "2")
    late = driver.feed(event_type, {"status": "completed"}, cs=step1)
    assert late.ignored is True
    assert late.ignored_reason.startswith("late:")
    assert late.commands == []


def test_the_same_outcome_sent_twice_with_different_ids_acts_once():
    driver = CallDriver(classic_menu())
    driver.start()
    cs = driver.last_cs
    first = driver.feed("call.gather.ended", {"status": "valid", "digits": "2"}, cs=cs)
    second = driver.feed("call.gather.ended", {"status": "valid", "digits": "2"}, cs=cs)
    assert len(first.commands) == 1
    assert second.commands == []
    assert second.ignored_reason.startswith("late: it belongs to step 1")


def test_gather_ended_before_call_answered_is_recorded_and_answered_still_starts_the_menu():
    """Out of order: a gather.ended naming step 1 reaches a call still waiting for
    call.answered (step 0). It cannot come from this state, so it is recorded, not acted on,
    and call.answered afterwards runs the entry node as usual."""
    driver = CallDriver(classic_menu())
    driver.feed("call.initiated", INITIATED)
    early = driver.feed(
        "call.gather.ended",
        {"status": "valid", "digits": "1"},
        cs={"c": CALL_ID, "n": "main", "s": 1},
    )
    assert early.ignored is True
    assert early.ignored_reason == "it names step 1, which this call has not reached (at step 0)"
    assert early.commands == []
    assert early.state.status == "answering"
    answered = driver.feed("call.answered", cs={"c": CALL_ID, "n": None, "s": 0})
    assert [c.action for c in answered.commands] == ["gather_using_speak"]
    assert answered.state.step == 1


def test_gather_ended_without_client_state_before_answered_is_ignored():
    driver = CallDriver(classic_menu())
    driver.feed("call.initiated", INITIATED)
    early = driver.gather_ended("valid", "1")
    assert early.commands == []
    assert early.ignored_reason == "step 0 is not waiting for call.gather.ended"


@pytest.mark.parametrize(
    ("cs", "reason"),
    [
        (None, "it carries no client_state of this engine, so no step claims it"),
        ("aGF2ZSBhIG5pY2UgZGF5ID1d", "it carries no client_state of this engine"),
        ({"data_center": "ch1"}, "it carries no client_state of this engine"),
        ({"c": "v3:other-call", "n": "main", "s": 1}, "its client_state names another call"),
        ({"c": CALL_ID, "n": "support", "s": 1}, "it names node 'support' but step 1 is at node"),
    ],
)
def test_gather_ended_that_no_step_claims_is_ignored(cs, reason):
    driver = CallDriver(classic_menu())
    driver.start()
    decision = driver.feed("call.gather.ended", {"status": "valid", "digits": "1"}, cs=cs)
    assert decision.commands == []
    assert decision.ignored is True
    assert decision.ignored_reason.startswith(reason)
    assert driver.state.node == "main"


def test_hangup_with_an_old_client_state_still_ends_the_call():
    driver = CallDriver(classic_menu())
    driver.start()
    step1 = driver.last_cs
    driver.gather_ended("valid", "2")
    decision = driver.feed("call.hangup", {"hangup_cause": "user_busy"}, cs=step1)
    assert decision.ignored is False
    assert decision.state.status == "ended"
    assert [(s.node, s.outcome) for s in decision.steps] == [("support", "hangup")]


def test_hangup_before_anything_else_creates_an_ended_call():
    decision = decide(
        None, None, facts("call.hangup", {"hangup_cause": "originator_cancel"}), now=NOW
    )
    assert decision.state.status == "ended"
    assert decision.state.call_control_id == CALL_ID
    late_initiated = decide(
        decision.state, classic_menu(), facts("call.initiated", INITIATED), now=NOW
    )
    assert late_initiated.commands == []
    assert late_initiated.ignored_reason == "the call has already ended"


def test_decide_never_modifies_the_state_it_is_given():
    driver = CallDriver(classic_menu())
    driver.start()
    state = driver.state
    snapshot = json.dumps(state.to_dict(), sort_keys=True)
    decide(
        state,
        classic_menu(),
        facts("call.gather.ended", {"status": "valid", "digits": "2"}, cs=driver.last_cs),
        now=NOW,
    )
    assert json.dumps(state.to_dict(), sort_keys=True) == snapshot


def test_deciding_from_a_json_round_tripped_state_gives_the_same_decision():
    driver = CallDriver(classic_menu())
    driver.start()
    driver.gather_ended("valid", "2")
    stored = CallState.from_dict(json.loads(json.dumps(driver.state.to_dict())))
    event = facts(
        "call.gather.ended", {"status": "valid", "digits": "1"}, cs=driver.last_cs, at=NOW
    )
    a = decide(driver.state, classic_menu(), event, now=NOW)
    b = decide(stored, classic_menu(), event, now=NOW)
    assert a.commands == b.commands
    assert a.state.to_dict() == b.state.to_dict()
    assert a.steps == b.steps


def test_seen_event_ids_are_bounded():
    driver = CallDriver(classic_menu())
    driver.start()
    for _ in range(100):
        driver.feed("call.dtmf.received", {"digit": "1"})
    assert len(driver.state.seen_event_ids) == 64
