"""The core's decision when a command fails for good (``core.command_failed``): pure, no
database, no network. The runner's side is in tests/test_command_fallback.py."""

import copy

import pytest

from telnyx_ivr.analytics.outcomes import classify
from telnyx_ivr.engine.core import DEFAULT_APOLOGY, command_failed

from .test_engine_support import (
    DIGITS,
    NOW,
    CallDriver,
    audio,
    classic_menu,
    cs_of,
    menu,
    node,
    to,
    tts,
    without_cs,
)

REASON = "gather_using_speak failed: HTTP 429: 10011 Too many requests"
APOLOGY_SPEECH = {
    "payload": "Sorry, we are having technical trouble. Please call again later.",
    "payload_type": "text",
    "voice": "AWS.Polly.Joanna",
    "language": "en-US",
    "service_level": "premium",
}


def fail(driver, action, *, tries=3, http_status=429, reason=REASON, definition="same"):
    """Apply a failure of ``action`` to the driver's state, as the runner would."""
    decision = command_failed(
        driver.state,
        driver.menu if definition == "same" else definition,
        action,
        tries=tries,
        http_status=http_status,
        reason=reason,
        now=NOW,
    )
    driver.state = decision.state
    if decision.commands:
        driver.last_cs = cs_of(decision.commands[-1])
    return decision


def actions(decision):
    return [command.action for command in decision.commands]


def with_failure(definition, **on_failure):
    definition = copy.deepcopy(definition)
    plan = {"prompt": None, "text": None, "then": "hangup", "to": None}
    definition["menu"]["on_command_failure"] = {**plan, **on_failure}
    return definition


def test_the_built_in_apology_is_the_one_documented():
    assert APOLOGY_SPEECH["payload"] == DEFAULT_APOLOGY


def test_a_gather_refused_for_good_says_sorry_then_hangs_up():
    driver = CallDriver(classic_menu())
    gather = driver.only_command(driver.start())
    assert gather.action == "gather_using_speak"
    given = driver.state
    before = given.to_dict()

    decision = fail(driver, "gather_using_speak")

    assert given.to_dict() == before  # the input state is never modified
    [speak] = decision.commands
    assert speak.action == "speak"
    assert without_cs(speak.params) == APOLOGY_SPEECH
    assert cs_of(speak)["s"] == cs_of(gather)["s"] + 1  # late events of the gather are ignored
    assert decision.note == (
        "Telnyx refused gather_using_speak after 3 tries: saying sorry, then hanging up"
    )
    [closed] = decision.steps
    assert (closed.kind, closed.node, closed.outcome) == ("closed", "main", "error")
    state = decision.state
    assert (state.failure, state.fallback, state.phase, state.awaiting) == (
        REASON,
        "gather_using_speak",
        "apology",
        "call.speak.ended",
    )

    hangup = driver.only_command(driver.feed("call.speak.ended", {"status": "completed"}))
    assert hangup.action == "hangup"
    assert "apology said, hanging up" in driver.decisions[-1].note
    ended = driver.feed(
        "call.hangup", {"hangup_cause": "normal_clearing", "hangup_source": "callee"}
    )
    assert "the menu hung up" in ended.note
    outcome = classify(driver.state)
    assert (outcome.outcome, outcome.node, outcome.ended_by) == ("failed", "main", "app")


ENTRY_NODES = {
    "speak_menu": (
        node("speak_menu", prompt="ask", invalid_prompt=None, no_input_prompt=None, digits=DIGITS,
             routes=[{"when": "default", "target": "repeat"}]),
        "gather_using_speak",
    ),
    "audio_menu": (
        node("audio_menu", prompt="jingle", invalid_prompt=None, no_input_prompt=None,
             digits=DIGITS, routes=[{"when": "default", "target": "repeat"}]),
        "gather_using_audio",
    ),
    "gather": (
        node("gather", invalid_prompt=None, no_input_prompt=None, digits=DIGITS,
             routes=[{"when": "default", "target": "repeat"}]),
        "gather",
    ),
    "ai_gather": (
        node("ai_gather", ai_schema="who", greeting="Hi", routes=[to("bye")]),
        "gather_using_ai",
    ),
    "ai_assistant": (node("ai_assistant", greeting="Hi", routes=[to("bye")]), "ai_assistant_start"),
    "tts announcement": (node("announcement", prompt="ask", routes=[to("bye")]), "speak"),
    "audio announcement": (
        node("announcement", prompt="jingle", routes=[to("bye")]),
        "playback_start",
    ),
    "transfer": (node("transfer", to="+15550001111", timeout_secs=None, **{"from": None}),
                 "transfer"),
    "goodbye": (node("hangup", prompt="ask"), "speak"),
}  # fmt: skip


def entry_menu(entry_node, **on_failure):
    definition = menu(
        {"main": entry_node, "bye": node("hangup", prompt=None)},
        prompts={"ask": tts("Press a key."), "jingle": audio(url="https://example.com/j.mp3")},
        ai_schemas={"who": {"description": "", "schema": {"type": "object"}}},
    )
    return with_failure(definition, **on_failure) if on_failure else definition


@pytest.mark.parametrize("name", ENTRY_NODES)
def test_every_command_of_a_node_gets_the_apology(name):
    entry_node, action = ENTRY_NODES[name]
    driver = CallDriver(entry_menu(entry_node))
    assert actions(driver.start()) == [action]

    decision = fail(driver, action, tries=1, http_status=500)

    assert actions(decision) == ["speak"]
    assert decision.commands[0].params["payload"] == DEFAULT_APOLOGY
    assert decision.note == f"Telnyx refused {action}: saying sorry, then hanging up"
    assert [(s.kind, s.node, s.outcome) for s in decision.steps] == [("closed", "main", "error")]
    assert decision.state.status == "active"  # a transfer that failed is not a transfer
    assert decision.state.transferred_to == ""
    assert actions(driver.feed("call.speak.ended", {"status": "completed"})) == ["hangup"]


@pytest.mark.parametrize("name", ENTRY_NODES)
def test_every_command_of_a_node_can_lead_to_a_transfer(name):
    entry_node, action = ENTRY_NODES[name]
    driver = CallDriver(entry_menu(entry_node, then="transfer", to="sip:desk@example.com"))
    driver.start()

    decision = fail(driver, action)

    assert actions(decision) == ["speak"]
    assert decision.note.endswith("saying sorry, then transferring to sip:desk@example.com")
    transfer = driver.only_command(driver.feed("call.speak.ended", {"status": "completed"}))
    assert (transfer.action, without_cs(transfer.params)) == (
        "transfer",
        {"to": "sip:desk@example.com"},
    )
    assert (driver.state.status, driver.state.transferred_to) == (
        "transferring",
        "sip:desk@example.com",
    )
    driver.feed("call.hangup", {"hangup_cause": "normal_clearing", "hangup_source": "callee"})
    outcome = classify(driver.state)
    # The failure wins: a call the fallback handed on still counts as failed.
    assert (outcome.outcome, outcome.ended_by, outcome.node) == ("failed", "transfer", "main")


def test_a_hangup_that_fails_is_sent_once_more_without_an_apology():
    driver = CallDriver(entry_menu(node("hangup", prompt=None)))
    assert actions(driver.start()) == ["hangup"]

    again = fail(driver, "hangup", reason="hangup failed: HTTP 503")

    assert actions(again) == ["hangup"]
    assert again.note == "Telnyx refused hangup after 3 tries: hanging up (once more)"
    gave_up = fail(driver, "hangup")
    assert gave_up.commands == []
    assert "giving up" in gave_up.note
    assert driver.state.failure == "hangup failed: HTTP 503"  # the first reason is kept


def test_an_unanswered_call_is_hung_up_without_an_apology():
    driver = CallDriver(classic_menu())
    driver.feed("call.initiated", {"direction": "incoming", "from": "+1555", "to": "+1556"})

    decision = fail(driver, "answer", reason="answer failed: HTTP 500")

    assert actions(decision) == ["hangup"]
    assert "never answered" in decision.note
    assert (decision.state.failure, decision.state.awaiting) == (
        "answer failed: HTTP 500",
        "call.hangup",
    )


def test_an_apology_that_fails_hangs_up_and_a_hangup_that_fails_then_gives_up():
    driver = CallDriver(classic_menu())
    driver.start()
    fail(driver, "gather_using_speak")

    hangup = fail(driver, "speak", reason="speak failed: HTTP 500")
    assert actions(hangup) == ["hangup"]
    assert hangup.note == "Telnyx refused speak after 3 tries: hanging up (the fallback failed too)"
    assert hangup.steps == []  # the menu's step was closed already

    last = fail(driver, "hangup")
    assert (last.commands, last.ignored) == ([], False)
    assert last.note == (
        "Telnyx refused hangup after 3 tries: giving up: the hangup of the fallback failed "
        "too, nothing more is sent"
    )
    assert driver.state.failure == REASON
    assert (driver.state.phase, driver.state.awaiting) == ("", "")


def test_a_fallback_transfer_that_fails_hangs_up():
    driver = CallDriver(with_failure(classic_menu(), then="transfer", to="+15550009999"))
    driver.start()
    fail(driver, "gather_using_speak")
    driver.feed("call.speak.ended", {"status": "completed"})

    decision = fail(driver, "transfer")

    assert actions(decision) == ["hangup"]
    assert (decision.state.status, decision.state.transferred_to) == ("active", "")
    assert decision.state.ending == "menu_error"


def test_the_apology_can_be_a_prompt_of_the_menu():
    definition = classic_menu()
    definition["prompts"]["sorry"] = tts("Sorry {{ caller_number }}.", voice="Telnyx.Ana")
    driver = CallDriver(with_failure(definition, prompt="sorry"))
    driver.start()

    [speak] = fail(driver, "gather_using_speak").commands

    assert without_cs(speak.params)["payload"] == "Sorry +15551230000."
    assert without_cs(speak.params)["voice"] == "Telnyx.Ana"


def test_an_audio_apology_waits_for_its_playback_to_end():
    driver = CallDriver(with_failure(classic_menu(), prompt="hours"))
    driver.start()

    [play] = fail(driver, "gather_using_speak").commands

    assert (play.action, without_cs(play.params)) == (
        "playback_start",
        {"audio_url": "https://example.com/hours.mp3"},
    )
    assert driver.feed("call.speak.ended", {"status": "completed"}).commands == []
    assert actions(driver.feed("call.playback.ended", {"status": "completed"})) == ["hangup"]


def test_the_apology_can_be_text_with_the_calls_variables():
    driver = CallDriver(with_failure(classic_menu(), text="We are sorry, {{ caller_number }}."))
    driver.start()

    [speak] = fail(driver, "gather_using_speak").commands

    assert speak.params["payload"] == "We are sorry, +15551230000."
    assert speak.params["voice"] == "AWS.Polly.Joanna"  # the menu's default voice


def test_a_missing_apology_prompt_falls_back_to_the_built_in_one():
    driver = CallDriver(with_failure(classic_menu(), prompt="no_such_prompt"))
    driver.start()

    decision = fail(driver, "gather_using_speak")

    assert decision.commands[0].params["payload"] == DEFAULT_APOLOGY


def test_a_failed_apology_still_leads_on_but_a_caller_hanging_up_stops_it():
    driver = CallDriver(classic_menu())
    driver.start()
    fail(driver, "gather_using_speak")
    assert actions(driver.feed("call.speak.ended", {"status": "failed"})) == ["hangup"]

    other = CallDriver(classic_menu())
    other.start()
    fail(other, "gather_using_speak")
    hung_up = other.feed("call.speak.ended", {"status": "call_hangup"})
    assert hung_up.commands == []
    assert "the caller hung up during the apology" in hung_up.note


def test_the_failed_gathers_own_late_result_is_ignored():
    """Unanswered three times, the gather may still have reached Telnyx: its result is late."""
    driver = CallDriver(classic_menu())
    driver.start()
    gather_cs = driver.last_cs
    fail(driver, "gather_using_speak", http_status=None)

    late = driver.feed("call.gather.ended", {"status": "valid", "digits": "1"}, cs=gather_cs)

    assert late.ignored
    assert late.commands == []


def test_host_commands_that_fail_leave_the_menu_running():
    driver = CallDriver(classic_menu())
    driver.start()
    before = driver.state.copy()

    decision = fail(driver, "gather_stop", tries=1, reason="gather_stop failed: HTTP 500")

    assert decision.commands == []
    assert decision.note == (
        "Telnyx refused gather_stop: the menu carries on (it was not the menu's own command)"
    )
    assert (decision.state.phase, decision.state.node, decision.state.step) == (
        before.phase,
        before.node,
        before.step,
    )
    assert decision.state.failure == "gather_stop failed: HTTP 500"


def test_nothing_is_done_for_a_call_that_has_ended():
    driver = CallDriver(classic_menu())
    driver.start()
    driver.feed("call.hangup", {"hangup_cause": "normal_clearing", "hangup_source": "caller"})

    decision = fail(driver, "gather_using_speak")

    assert (decision.commands, decision.ignored) == ([], True)
    assert decision.state.failure == ""
    assert decision.note.endswith("nothing to do, the call has ended")


@pytest.mark.parametrize(
    ("tries", "http_status", "said"),
    [
        (0, None, "speak was refused before it was sent"),
        (1, 503, "Telnyx refused speak"),
        (3, None, "Telnyx did not answer speak after 3 tries"),
        (2, 429, "Telnyx refused speak after 2 tries"),
    ],
)
def test_the_note_says_how_the_command_failed(tries, http_status, said):
    driver = CallDriver(entry_menu(ENTRY_NODES["tts announcement"][0]))
    driver.start()

    decision = fail(driver, "speak", tries=tries, http_status=http_status, reason="")

    assert decision.note == f"{said}: saying sorry, then hanging up"
    assert decision.state.failure == said  # without a reason, the note's words
