"""DTMF nodes (speak_menu, audio_menu, gather): the gather commands, every
call.gather.ended status, re-asking, tries running out, repeat, back and callable routes."""

import pytest

from .test_engine_support import (
    CALL_ID,
    CALLER,
    DIGITS,
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

WELCOME = (
    f"Hello {CALLER}. Press 1 for sales, 2 for support, 0 for an operator, 9 to hear this again."
)
SPEAK_DIGITS = {
    "minimum_digits": 1,
    "maximum_digits": 1,
    "valid_digits": "0123456789*",
    "terminating_digit": "#",
    "timeout_millis": 8000,
    "inter_digit_timeout_millis": 3000,
    "maximum_tries": 1,
}
MAIN_GATHER = {
    "payload": WELCOME,
    "payload_type": "text",
    "voice": "AWS.Polly.Joanna",
    "language": "en-US",
    "service_level": "premium",
    **SPEAK_DIGITS,
}
STOP_STATUSES = ["call_hangup", "cancelled", "cancelled_amd"]


def dtmf_menu(kind, **fields):
    """One DTMF node ``main`` of ``kind`` with invalid/no-input prompts and routes."""
    prompts = {
        "speak": tts("Pick one."),
        "song": audio(url="https://example.com/menu.mp3"),
        "bad": tts("Bad choice."),
        "silence": audio(media_name="say-something"),
        "bye": tts("Bye."),
    }
    main = node(
        kind,
        invalid_prompt="bad",
        no_input_prompt="silence",
        digits=DIGITS,
        routes=[
            to("one", "digits", digits="1"),
            to("invalid_end", "invalid"),
            to("silent_end", "no_input"),
            to("fallback"),
        ],
        **fields,
    )
    if kind == "speak_menu":
        main["prompt"] = "speak"
    elif kind == "audio_menu":
        main["prompt"] = "song"
    nodes = {"main": main}
    for key in ("one", "invalid_end", "silent_end", "fallback"):
        nodes[key] = node("hangup", prompt=None)
    return menu(nodes, prompts=prompts)


# --- the gather commands -----------------------------------------------------------------


def test_speak_menu_sends_gather_using_speak_with_rendered_prompt_and_digit_rules():
    driver = CallDriver(classic_menu())
    command = driver.only_command(driver.start())
    assert command.action == "gather_using_speak"
    assert without_cs(command.params) == MAIN_GATHER
    assert cs_of(command) == {"c": CALL_ID, "n": "main", "s": 1}


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        (audio(url="https://example.com/menu.mp3"), {"audio_url": "https://example.com/menu.mp3"}),
        (audio(media_name="menu-media"), {"media_name": "menu-media"}),
    ],
)
def test_audio_menu_sends_gather_using_audio(prompt, expected):
    definition = dtmf_menu("audio_menu")
    definition["prompts"]["song"] = prompt
    driver = CallDriver(definition)
    command = driver.only_command(driver.start())
    assert command.action == "gather_using_audio"
    assert without_cs(command.params) == {**expected, **SPEAK_DIGITS}


def test_plain_gather_sends_gather_without_maximum_tries():
    definition = dtmf_menu("gather")
    definition["nodes"]["main"]["digits"] = {**DIGITS, "initial_timeout_millis": 4000}
    driver = CallDriver(definition)
    command = driver.only_command(driver.start())
    assert command.action == "gather"
    expected = {k: v for k, v in SPEAK_DIGITS.items() if k != "maximum_tries"}
    assert without_cs(command.params) == {**expected, "initial_timeout_millis": 4000}


def test_missing_digit_rules_take_the_api_defaults():
    definition = dtmf_menu("gather")
    definition["nodes"]["main"]["digits"] = {}
    driver = CallDriver(definition)
    command = driver.only_command(driver.start())
    assert without_cs(command.params) == {
        "minimum_digits": 1,
        "maximum_digits": 128,
        "valid_digits": "0123456789#*",
        "terminating_digit": "#",
        "timeout_millis": 60000,
        "inter_digit_timeout_millis": 5000,
    }


# --- every call.gather.ended status, for every DTMF kind -------------------------------------

DTMF_KINDS = ["speak_menu", "audio_menu", "gather"]


@pytest.mark.parametrize("kind", DTMF_KINDS)
@pytest.mark.parametrize(
    ("status", "digits", "next_node"),
    [("valid", "1", "one"), ("valid", "5", "fallback")],
)
def test_valid_digits_take_their_route_or_the_default(kind, status, digits, next_node):
    driver = CallDriver(dtmf_menu(kind, save_as="choice"))
    driver.start()
    decision = driver.gather_ended(status, digits)
    assert decision.state.node == next_node
    assert decision.state.variables["choice"] == digits
    closed = [s for s in decision.steps if s.kind == "closed"]
    assert [(s.node, s.outcome, s.digits, s.tries) for s in closed] == [
        ("main", "valid", digits, 1)
    ]
    assert [c.action for c in decision.commands] == ["hangup"]
    assert cs_of(decision.commands[0]) == {"c": CALL_ID, "n": next_node, "s": 2}
    completed = [data for name, data in decision.signals if name == "step_completed"]
    assert completed == [
        {
            "node": "main",
            "node_kind": kind,
            "step": 1,
            "outcome": "valid",
            "digits": digits,
            "result": None,
            "tries": 1,
        }
    ]


@pytest.mark.parametrize("kind", DTMF_KINDS)
@pytest.mark.parametrize(
    ("status", "retry_action", "retry_params"),
    [
        ("invalid", "speak", {"payload": "Bad choice."}),
        ("timeout", "playback_start", {"media_name": "say-something"}),
    ],
)
def test_invalid_and_timeout_ask_again_with_their_prompt(kind, status, retry_action, retry_params):
    driver = CallDriver(dtmf_menu(kind))
    first = driver.only_command(driver.start())
    decision = driver.gather_ended(status, "7" if status == "invalid" else "")
    state = decision.state
    assert (state.node, state.step, state.visit_step, state.tries) == ("main", 2, 1, 2)
    command = driver.only_command(decision)
    if kind == "speak_menu" and retry_action == "speak":
        # One command: the retry text followed by the menu prompt.
        assert command.action == "gather_using_speak"
        assert command.params["payload"] == "Bad choice. Pick one."
        assert without_cs(command.params) == {
            **without_cs(first.params),
            "payload": "Bad choice. Pick one.",
        }
    else:
        assert command.action == retry_action
        for name, value in retry_params.items():
            assert command.params[name] == value
        # The gather follows when the retry prompt ends, in the same step.
        ended = "call.speak.ended" if retry_action == "speak" else "call.playback.ended"
        follow = driver.feed(ended, {"status": "completed"})
        again = driver.only_command(follow)
        assert again.action == first.action
        assert without_cs(again.params) == without_cs(first.params)
        assert cs_of(again) == {"c": CALL_ID, "n": "main", "s": 2}
    assert cs_of(command) == {"c": CALL_ID, "n": "main", "s": 2}
    [retried] = decision.steps
    assert (retried.kind, retried.step, retried.seq, retried.outcome, retried.tries) == (
        "retried",
        1,
        2,
        status,
        2,
    )


@pytest.mark.parametrize("kind", DTMF_KINDS)
@pytest.mark.parametrize("status", STOP_STATUSES)
def test_hangup_and_cancelled_gathers_close_the_step_and_send_nothing(kind, status):
    driver = CallDriver(dtmf_menu(kind))
    driver.start()
    decision = driver.gather_ended(status)
    assert decision.commands == []
    [closed] = decision.steps
    assert (closed.kind, closed.node, closed.outcome) == ("closed", "main", status)
    assert decision.state.step_open is False
    # Nothing is waiting any more: a stray gather.ended for this step is ignored.
    stray = driver.gather_ended("valid", "1")
    assert stray.commands == []
    assert stray.ignored is True


@pytest.mark.parametrize("kind", DTMF_KINDS)
def test_unknown_gather_status_keeps_the_caller_moving_along_the_default_route(kind):
    driver = CallDriver(dtmf_menu(kind))
    driver.start()
    decision = driver.gather_ended("something_new", "1")
    assert decision.state.node == "fallback"


# --- tries running out ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "route_node", "outcome"),
    [("invalid", "invalid_end", "invalid"), ("timeout", "silent_end", "timeout")],
)
def test_tries_run_out_into_the_invalid_or_no_input_route(status, route_node, outcome):
    driver = CallDriver(dtmf_menu("speak_menu"))
    driver.start()
    for expected_try in (2, 3):
        decision = driver.gather_ended(status, "7")
        assert decision.state.tries == expected_try
        assert decision.state.node == "main"
        if status == "timeout":  # audio retry prompt first, then the gather
            driver.feed("call.playback.ended", {"status": "completed"})
    decision = driver.gather_ended(status, "7")
    assert decision.state.node == route_node
    closed = [s for s in decision.steps if s.kind == "closed"]
    assert [(s.node, s.outcome, s.tries) for s in closed] == [("main", outcome, 3)]
    assert [c.action for c in decision.commands] == ["hangup"]


def test_classic_menu_runs_out_of_tries_into_goodbye_prompt():
    driver = CallDriver(classic_menu())
    driver.start()
    driver.gather_ended("invalid", "7")
    driver.gather_ended("timeout")
    decision = driver.gather_ended("invalid", "8")
    command = driver.only_command(decision)
    assert command.action == "speak"
    assert without_cs(command.params) == {
        "payload": "Goodbye.",
        "payload_type": "text",
        "voice": "AWS.Polly.Joanna",
        "language": "en-US",
        "service_level": "premium",
    }
    assert decision.state.node == "goodbye"
    assert decision.state.step == 4


def test_the_last_try_decides_the_route_when_outcomes_mix():
    driver = CallDriver(dtmf_menu("gather"))
    driver.start()
    driver.gather_ended("invalid", "7")
    driver.feed("call.speak.ended", {"status": "completed"})
    driver.gather_ended("invalid", "7")
    driver.feed("call.speak.ended", {"status": "completed"})
    decision = driver.gather_ended("timeout")
    assert decision.state.node == "silent_end"


@pytest.mark.parametrize("status", ["invalid", "timeout"])
def test_tries_run_out_into_the_default_route_when_there_is_no_specific_one(status):
    definition = dtmf_menu("speak_menu")
    definition["nodes"]["main"]["routes"] = [to("fallback")]
    definition["nodes"]["main"]["digits"] = {**DIGITS, "maximum_tries": 1}
    driver = CallDriver(definition)
    driver.start()
    decision = driver.gather_ended(status, "7")
    assert decision.state.node == "fallback"


@pytest.mark.parametrize(("maximum_tries", "asks"), [(1, 1), (2, 2), (None, 3), (0, 1)])
def test_maximum_tries_counts_the_asks(maximum_tries, asks):
    definition = dtmf_menu("speak_menu")
    definition["nodes"]["main"]["digits"] = {**DIGITS, "maximum_tries": maximum_tries}
    driver = CallDriver(definition)
    driver.start()
    gathers = 1
    for _ in range(5):  # bounded: a regression must fail, not hang
        decision = driver.gather_ended("invalid", "7")
        gathers += sum(c.action == "gather_using_speak" for c in decision.commands)
        if driver.state.node != "main":
            break
    assert gathers == asks
    assert driver.state.node == "invalid_end"


# --- re-ask rendering -----------------------------------------------------------------------


def test_speak_menu_reask_joins_text_retry_and_ssml_menu_prompt_as_ssml():
    driver = CallDriver(classic_menu())
    driver.start()
    driver.gather_ended("valid", "2")  # support, an SSML prompt with its own voice
    decision = driver.gather_ended("invalid", "5")
    command = driver.only_command(decision)
    assert command.action == "gather_using_speak"
    assert without_cs(command.params) == {
        "payload": "<speak>Sorry, that is not a valid choice. Support. Press 1 for opening "
        "hours, 2 to leave your details, star to go back.</speak>",
        "payload_type": "ssml",
        "voice": "Telnyx.KokoroTTS.af",
        "language": "en-US",
        "service_level": "premium",
        **SPEAK_DIGITS,
    }


def test_reask_without_a_prompt_asks_the_same_question_again():
    driver = CallDriver(classic_menu())
    driver.start()
    first = driver.only_command(driver.gather_ended("valid", "2"))
    decision = driver.gather_ended("timeout")  # support has no no_input_prompt
    again = driver.only_command(decision)
    assert without_cs(again.params) == without_cs(first.params)
    assert cs_of(again)["s"] == cs_of(first)["s"] + 1


def test_speak_menu_with_an_audio_retry_prompt_plays_it_then_gathers():
    driver = CallDriver(dtmf_menu("speak_menu"))
    first = driver.only_command(driver.start())
    decision = driver.gather_ended("timeout")
    assert without_cs(driver.only_command(decision).params) == {"media_name": "say-something"}
    again = driver.only_command(driver.feed("call.playback.ended", {"status": "completed"}))
    assert without_cs(again.params) == without_cs(first.params)


@pytest.mark.parametrize(
    ("status", "gathers"),
    [
        ("completed", True),
        ("file_not_found", True),
        ("failed", True),
        ("unknown", True),
        ("call_hangup", False),
        ("cancelled", False),
        ("cancelled_amd", False),
    ],
)
def test_retry_prompt_playback_statuses(status, gathers):
    driver = CallDriver(dtmf_menu("audio_menu"))
    driver.start()
    driver.gather_ended("timeout")
    decision = driver.feed("call.playback.ended", {"status": status})
    if gathers:
        assert [c.action for c in decision.commands] == ["gather_using_audio"]
        assert decision.state.phase == "gather"
    else:
        assert decision.commands == []
        [closed] = decision.steps
        assert (closed.outcome, closed.tries) == (status, 2)


@pytest.mark.parametrize(
    ("status", "gathers"), [("completed", True), ("call_hangup", False), ("cancelled_amd", False)]
)
def test_retry_prompt_speak_statuses(status, gathers):
    driver = CallDriver(dtmf_menu("gather"))
    driver.start()
    driver.gather_ended("invalid", "7")
    decision = driver.feed("call.speak.ended", {"status": status})
    assert [c.action for c in decision.commands] == (["gather"] if gathers else [])


def test_retry_prompt_ended_twice_gathers_once():
    driver = CallDriver(dtmf_menu("gather"))
    driver.start()
    driver.gather_ended("invalid", "7")
    driver.feed("call.speak.ended", {"status": "completed"})
    decision = driver.feed("call.speak.ended", {"status": "completed"})
    assert decision.commands == []


def test_audio_menu_playback_events_during_the_gather_are_only_recorded():
    driver = CallDriver(dtmf_menu("audio_menu"))
    driver.start()
    for event_type in ("call.playback.started", "call.playback.ended", "call.dtmf.received"):
        decision = driver.feed(event_type, {"status": "completed", "digit": "1"})
        assert decision.commands == []
        assert decision.ignored is False
    assert driver.state.phase == "gather"
    assert driver.gather_ended("valid", "1").state.node == "one"


# --- repeat and back ------------------------------------------------------------------------


def test_repeat_asks_the_same_node_again_with_tries_reset():
    driver = CallDriver(classic_menu())
    first = driver.only_command(driver.start())
    driver.gather_ended("invalid", "7")  # try 2
    decision = driver.gather_ended("valid", "9")
    state = decision.state
    assert (state.node, state.tries, state.step, state.visit_step) == ("main", 1, 3, 3)
    assert [(s.kind, s.step, s.node, s.outcome) for s in decision.steps] == [
        ("closed", 1, "main", "valid"),
        ("opened", 3, "main", ""),
    ]
    again = driver.only_command(decision)
    assert without_cs(again.params) == without_cs(first.params)
    assert state.back_stack == []


def test_back_returns_to_the_previous_menu_and_repeats_at_the_top():
    driver = CallDriver(classic_menu())
    driver.start()
    decision = driver.gather_ended("valid", "2")
    assert (decision.state.node, decision.state.back_stack) == ("support", ["main"])
    decision = driver.gather_ended("valid", "*")
    assert (decision.state.node, decision.state.back_stack) == ("main", [])
    assert decision.commands[0].params["payload"] == WELCOME
    decision = driver.gather_ended("valid", "*")  # at the top: repeat
    assert (decision.state.node, decision.state.back_stack) == ("main", [])
    assert decision.state.tries == 1
    assert "back at the top: repeat" in decision.note


def test_back_from_an_announcement_returns_to_the_menu_that_led_there():
    driver = CallDriver(classic_menu())
    driver.start()
    driver.gather_ended("valid", "2")
    decision = driver.gather_ended("valid", "1")  # hours, an announcement
    assert (decision.state.node, decision.state.back_stack) == ("hours", ["main", "support"])
    decision = driver.feed("call.playback.ended", {"status": "completed"})
    assert (decision.state.node, decision.state.back_stack) == ("support", ["main"])


def test_back_stack_is_bounded():
    definition = menu(
        {
            "main": node("gather", digits=DIGITS, routes=[to("other")]),
            "other": node("gather", digits=DIGITS, routes=[to("main")]),
        }
    )
    driver = CallDriver(definition)
    driver.start()
    for _ in range(40):
        driver.gather_ended("valid", "1")
    assert len(driver.state.back_stack) == 32
    assert driver.state.back_stack[-1] == "other"


# --- callable routes ------------------------------------------------------------------------


def callable_menu(default_route=None):
    main = node(
        "speak_menu",
        prompt="speak",
        digits=DIGITS,
        routes=[
            {"when": "digits", "digits": "1", "target": "callable", "callable": "host.pick"},
            default_route or to("fallback"),
        ],
    )
    nodes = {
        "main": main,
        "vip": node("hangup", prompt=None),
        "fallback": node("hangup", prompt=None),
    }
    return menu(nodes, prompts={"speak": tts("Pick.")})


def test_callable_route_gets_the_variables_and_picks_the_node():
    calls = []

    def resolver(path, variables):
        calls.append((path, variables))
        return "vip"

    definition = callable_menu()
    definition["nodes"]["main"]["save_as"] = "choice"
    driver = CallDriver(definition, resolve_callable=resolver)
    driver.start()
    decision = driver.gather_ended("valid", "1")
    assert decision.state.node == "vip"
    assert calls == [
        ("host.pick", {"caller_number": CALLER, "called_number": "+15559870000", "choice": "1"})
    ]


def _raises(path, variables):
    raise LookupError("account service down")


@pytest.mark.parametrize(
    ("resolver", "problem"),
    [
        (_raises, "raised LookupError: account service down"),
        (lambda path, variables: "no_such_node", "returned 'no_such_node'"),
        (lambda path, variables: None, "returned None"),
        (None, "no resolver was given"),
    ],
)
def test_failing_callable_takes_the_default_route(resolver, problem):
    driver = CallDriver(callable_menu(), resolve_callable=resolver)
    driver.start()
    decision = driver.gather_ended("valid", "1")
    assert decision.state.node == "fallback"
    assert problem in decision.note


def test_failing_callable_as_the_default_route_hangs_up():
    calls = []

    def resolver(path, variables):
        calls.append(path)
        _raises(path, variables)

    default = {"when": "default", "target": "callable", "callable": "host.pick"}
    driver = CallDriver(callable_menu(default), resolve_callable=resolver)
    driver.start()
    decision = driver.gather_ended("valid", "5")
    assert calls == ["host.pick"]  # asked once, not again as its own fallback
    command = driver.only_command(decision)
    assert command.action == "hangup"
    assert without_cs(command.params) == {}
    assert cs_of(command) == {"c": CALL_ID, "n": None, "s": 2}
    assert decision.state.phase == "hanging_up"
    assert "hanging up: callable 'host.pick' raised LookupError" in decision.note


def test_callable_default_route_that_works_is_followed():
    default = {"when": "default", "target": "callable", "callable": "host.pick"}
    driver = CallDriver(callable_menu(default), resolve_callable=lambda p, v: "vip")
    driver.start()
    assert driver.gather_ended("valid", "5").state.node == "vip"


def test_callable_result_pushes_the_menu_on_the_back_stack():
    driver = CallDriver(callable_menu(), resolve_callable=lambda p, v: "vip")
    driver.start()
    assert driver.gather_ended("valid", "1").state.back_stack == ["main"]
