"""Announcement, transfer, hang-up, AI gather and AI assistant nodes, and the host helpers."""

import pytest

from telnyx_ivr.engine import (
    add_ai_messages,
    apply_command_result,
    stop_ai_assistant,
    stop_gather,
)

from .test_engine_support import (
    AI_SCHEMA,
    CALL_ID,
    CALLED,
    CALLER,
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


def announcement_menu(prompt, routes=None):
    return menu(
        {
            "main": node(
                "announcement",
                prompt="p",
                routes=routes if routes is not None else [to("broken", "error"), to("next")],
            ),
            "next": node("hangup", prompt=None),
            "broken": node("hangup", prompt=None),
        },
        prompts={"p": prompt},
    )


# --- announcement ---------------------------------------------------------------------------


def test_tts_announcement_speaks_with_prompt_settings_over_menu_defaults():
    prompt = tts(
        "<speak>Hi {{ caller_number }} &amp; {{ nickname }}</speak>",
        payload_type="ssml",
        voice="Polly.Brian",
        language="en-GB",
        voice_settings={"type": "telnyx", "voice_speed": 1.1},
    )
    driver = CallDriver(announcement_menu(prompt))
    driver.feed("call.initiated", {"direction": "incoming", "from": "<b>&", "to": CALLED})
    command = driver.only_command(driver.feed("call.answered"))
    assert command.action == "speak"
    assert without_cs(command.params) == {
        "payload": "<speak>Hi &lt;b&gt;&amp; &amp; </speak>",
        "payload_type": "ssml",
        "voice": "Polly.Brian",
        "language": "en-GB",
        "service_level": "premium",
        "voice_settings": {"type": "telnyx", "voice_speed": 1.1},
    }
    assert cs_of(command) == {"c": CALL_ID, "n": "main", "s": 1}


def test_menu_without_tts_defaults_sends_only_what_is_set():
    definition = announcement_menu(tts("Hello"))
    definition["menu"].update(voice="", language=None, service_level=None)
    driver = CallDriver(definition)
    command = driver.only_command(driver.start())
    assert without_cs(command.params) == {
        "payload": "Hello",
        "payload_type": "text",
        "voice": "female",
    }


def test_audio_announcement_plays_back():
    driver = CallDriver(announcement_menu(audio(url="https://example.com/a.mp3")))
    command = driver.only_command(driver.start())
    assert command.action == "playback_start"
    assert without_cs(command.params) == {"audio_url": "https://example.com/a.mp3"}


@pytest.mark.parametrize(
    ("status", "next_node"),
    [
        ("completed", "next"),
        ("unknown", "next"),
        ("file_not_found", "broken"),
        ("failed", "broken"),
        ("call_hangup", None),
        ("cancelled", None),
        ("cancelled_amd", None),
    ],
)
def test_playback_announcement_statuses(status, next_node):
    driver = CallDriver(announcement_menu(audio(media_name="m")))
    driver.start()
    decision = driver.feed("call.playback.ended", {"status": status, "status_detail": "404"})
    closed = [s for s in decision.steps if s.kind == "closed"]
    assert [(s.node, s.outcome) for s in closed] == [("main", status)]
    if next_node is None:
        assert decision.commands == []
        assert decision.state.node == "main"
        assert decision.state.step_open is False
    else:
        assert decision.state.node == next_node
        assert [c.action for c in decision.commands] == ["hangup"]


def test_failed_playback_without_error_route_takes_the_default():
    driver = CallDriver(announcement_menu(audio(media_name="m"), routes=[to("next")]))
    driver.start()
    decision = driver.feed("call.playback.ended", {"status": "file_not_found"})
    assert decision.state.node == "next"


@pytest.mark.parametrize(
    ("status", "continues"), [("completed", True), ("call_hangup", False), ("cancelled_amd", False)]
)
def test_speak_announcement_statuses(status, continues):
    driver = CallDriver(announcement_menu(tts("Hello")))
    driver.start()
    decision = driver.feed("call.speak.ended", {"status": status})
    assert [c.action for c in decision.commands] == (["hangup"] if continues else [])


def test_announcement_waits_for_the_ended_event_of_its_own_command():
    driver = CallDriver(announcement_menu(tts("Hello")))
    driver.start()
    decision = driver.feed("call.playback.ended", {"status": "completed"})
    assert decision.commands == []
    assert driver.state.node == "main"
    assert driver.feed("call.speak.started").commands == []
    assert driver.feed("call.speak.ended", {"status": "completed"}).state.node == "next"


def test_announcement_without_prompt_hangs_up_instead_of_stranding_the_caller():
    definition = announcement_menu(tts("x"))
    del definition["prompts"]["p"]
    driver = CallDriver(definition)
    decision = driver.start()
    assert [c.action for c in decision.commands] == ["hangup"]
    assert [(s.kind, s.outcome) for s in decision.steps] == [("opened", ""), ("closed", "error")]
    assert "prompt 'p' is not in the menu" in decision.note


# --- transfer and hang-up -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digit", "expected"),
    [
        ("1", {"to": "+15550001111"}),
        ("0", {"to": "sip:operator@example.com", "from": CALLED, "timeout_secs": 30}),
    ],
)
def test_transfer_nodes_send_transfer(digit, expected):
    driver = CallDriver(classic_menu())
    driver.start()
    decision = driver.gather_ended("valid", digit)
    command = driver.only_command(decision)
    assert command.action == "transfer"
    assert without_cs(command.params) == expected
    assert decision.state.status == "transferring"
    # Events of the transfer are recorded; nothing else is sent.
    for event_type in ("call.bridged", "call.answered", "call.speak.ended"):
        later = driver.feed(event_type, {"status": "completed"})
        assert later.commands == []


def test_hangup_node_says_goodbye_then_hangs_up_when_the_speech_ends():
    driver = CallDriver(classic_menu())
    driver.start()
    driver.gather_ended("timeout")
    driver.gather_ended("timeout")
    say = driver.only_command(driver.gather_ended("timeout"))
    assert (say.action, say.params["payload"]) == ("speak", "Goodbye.")
    decision = driver.feed("call.speak.ended", {"status": "completed"})
    command = driver.only_command(decision)
    assert command.action == "hangup"
    assert cs_of(command) == cs_of(say)  # same step
    assert decision.state.phase == "hanging_up"
    ended = driver.feed("call.hangup", {"hangup_cause": "normal_clearing"}, cs=None)
    assert [(s.node, s.outcome) for s in ended.steps] == [("goodbye", "hangup")]


@pytest.mark.parametrize(
    ("event_type", "status", "hangs_up"),
    [
        ("call.speak.ended", "completed", True),
        ("call.speak.ended", "cancelled_amd", True),
        ("call.speak.ended", "call_hangup", False),
        ("call.playback.ended", "completed", True),
        ("call.playback.ended", "file_not_found", True),
        ("call.playback.ended", "failed", True),
        ("call.playback.ended", "unknown", True),
        ("call.playback.ended", "cancelled", True),
        ("call.playback.ended", "cancelled_amd", True),
        ("call.playback.ended", "call_hangup", False),
    ],
)
def test_goodbye_statuses(event_type, status, hangs_up):
    prompt = tts("Bye") if event_type == "call.speak.ended" else audio(media_name="bye")
    definition = menu({"main": node("hangup", prompt="bye")}, prompts={"bye": prompt})
    driver = CallDriver(definition)
    driver.start()
    decision = driver.feed(event_type, {"status": status})
    assert [c.action for c in decision.commands] == (["hangup"] if hangs_up else [])


def test_hangup_node_without_prompt_hangs_up_directly():
    driver = CallDriver(menu({"main": node("hangup", prompt=None)}))
    command = driver.only_command(driver.start())
    assert command.action == "hangup"
    assert cs_of(command) == {"c": CALL_ID, "n": "main", "s": 1}


# --- AI gather ------------------------------------------------------------------------------

AI_RESULT = {"name": "Ada", "age": 29, "city": "Rome"}
HISTORY = [
    {"role": "assistant", "content": "What is your name, age and city?"},
    {"role": "user", "content": "Ada, 29, Rome."},
]


def ai_driver():
    driver = CallDriver(classic_menu())
    driver.start()
    driver.gather_ended("valid", "2")
    decision = driver.gather_ended("valid", "2")
    return driver, decision


def test_ai_gather_sends_gather_using_ai_with_the_schema():
    driver, decision = ai_driver()
    command = driver.only_command(decision)
    assert command.action == "gather_using_ai"
    assert without_cs(command.params) == {
        "parameters": AI_SCHEMA,
        "greeting": f"Hi {CALLER}, what is your name, age and city?",
        "voice": "Telnyx.KokoroTTS.af",
        "user_response_timeout_ms": 15000,
        "send_partial_results": True,
        "send_message_history_updates": True,
        "gather_ended_speech": "Thanks!",
    }
    assert cs_of(command) == {"c": CALL_ID, "n": "details", "s": 3}


def test_ai_partial_results_and_history_are_stored_on_the_call():
    driver, _ = ai_driver()
    partial = driver.feed(
        "call.ai_gather.partial_results",
        {"partial_results": {"name": "Ada"}, "message_history": HISTORY[:1]},
    )
    assert partial.commands == []
    assert partial.state.ai_partial_results == {"name": "Ada"}
    assert partial.state.ai_message_history == HISTORY[:1]
    updated = driver.feed("call.ai_gather.message_history_updated", {"message_history": HISTORY})
    assert updated.commands == []
    assert updated.state.ai_message_history == HISTORY
    assert updated.state.ai_partial_results == {"name": "Ada"}


@pytest.mark.parametrize(
    ("status", "result", "next_node"),
    [
        ("valid", {"name": "Ada", "age": 29, "city": "Paris"}, "sales"),  # condition holds
        ("valid", AI_RESULT, "thanks"),  # unconditional valid route
        ("invalid", {"name": "Ada"}, "age_dtmf"),  # DTMF fallback
        ("something_else", AI_RESULT, "goodbye"),  # default
    ],
)
def test_ai_gather_ended_stores_result_and_routes(status, result, next_node):
    driver, _ = ai_driver()
    decision = driver.feed(
        "call.ai_gather.ended", {"status": status, "result": result, "message_history": HISTORY}
    )
    state = decision.state
    assert state.node == next_node
    assert state.variables["details"] == result
    assert state.variables["details_messages"] == HISTORY
    assert (
        "ai_gather_completed",
        {"node": "details", "status": status, "result": result, "message_history": HISTORY},
    ) in decision.signals
    closed = [s for s in decision.steps if s.kind == "closed"]
    assert [(s.node, s.outcome, s.result) for s in closed] == [("details", status, result)]


def test_ai_result_renders_in_later_prompts():
    driver, _ = ai_driver()
    decision = driver.feed(
        "call.ai_gather.ended", {"status": "valid", "result": AI_RESULT, "message_history": HISTORY}
    )
    command = driver.only_command(decision)
    assert command.params["payload"] == "Thank you Ada from Rome."


def test_ai_gather_without_save_as_saves_under_the_node_key():
    definition = classic_menu()
    definition["nodes"]["details"]["save_as"] = None
    definition["menu"]["entry_node"] = "details"
    driver = CallDriver(definition)
    driver.start()
    decision = driver.feed("call.ai_gather.ended", {"status": "invalid", "result": {}})
    assert decision.state.variables["details"] == {}
    assert decision.state.variables["details_messages"] == []


def test_ai_gather_invalid_falls_back_to_the_dtmf_gather():
    driver, _ = ai_driver()
    decision = driver.feed("call.ai_gather.ended", {"status": "invalid", "result": {}})
    command = driver.only_command(decision)
    assert command.action == "gather"
    assert without_cs(command.params) == {
        "minimum_digits": 1,
        "maximum_digits": 3,
        "valid_digits": "0123456789*",
        "terminating_digit": "#",
        "timeout_millis": 8000,
        "inter_digit_timeout_millis": 3000,
        "initial_timeout_millis": 4000,
    }
    # Invalid age: the audio retry prompt, then the gather again; then valid digits saved.
    retry = driver.only_command(driver.gather_ended("invalid", "9999"))
    assert without_cs(retry.params) == {"media_name": "enter-age-again"}
    driver.feed("call.playback.ended", {"status": "completed"})
    done = driver.gather_ended("valid", "42")
    assert done.state.variables["age"] == "42"
    assert done.state.node == "thanks"


def test_conversation_events_during_an_ai_gather_are_only_recorded():
    driver, _ = ai_driver()
    for event_type in ("call.conversation.created", "call.conversation.ended"):
        decision = driver.feed(event_type, {"conversation_id": "conv-1"})
        assert decision.commands == []
    assert driver.state.node == "details"
    assert driver.state.phase == "ai_gather"


def test_ai_updates_outside_an_ai_gather_are_ignored():
    driver = CallDriver(classic_menu())
    driver.start()
    decision = driver.feed("call.ai_gather.partial_results", {"partial_results": {"x": 1}})
    assert decision.ignored_reason == "step 1 runs no AI gather"
    assert decision.state.ai_partial_results is None


def test_conversation_id_from_the_command_result_is_stored():
    driver, _ = ai_driver()
    state = apply_command_result(
        driver.state, "gather_using_ai", {"result": "ok", "conversation_id": "c-1"}
    )
    assert state.conversation_id == "c-1"
    assert driver.state.conversation_id == ""  # the input is left alone
    assert (
        apply_command_result(state, "speak", {"conversation_id": "other"}).conversation_id == "c-1"
    )
    assert apply_command_result(state, "ai_assistant_start", None).conversation_id == "c-1"


# --- AI assistant ---------------------------------------------------------------------------


def assistant_menu():
    return menu(
        {
            "main": node(
                "ai_assistant",
                assistant={"id": "assistant-123"},
                greeting="Hello {{ caller_number }}",
                voice="Telnyx.KokoroTTS.af",
                voice_settings=None,
                transcription={"model": "distil-whisper/distil-large-v2"},
                interruption_settings=None,
                routes=[to("bye")],
            ),
            "bye": node("hangup", prompt=None),
        }
    )


def test_ai_assistant_starts_and_continues_on_conversation_ended():
    driver = CallDriver(assistant_menu())
    command = driver.only_command(driver.start())
    assert command.action == "ai_assistant_start"
    assert without_cs(command.params) == {
        "assistant": {"id": "assistant-123"},
        "greeting": f"Hello {CALLER}",
        "voice": "Telnyx.KokoroTTS.af",
        "transcription": {"model": "distil-whisper/distil-large-v2"},
    }
    decision = driver.feed(
        "call.conversation.ended", {"conversation_id": "conv-9", "duration_sec": 3}
    )
    assert decision.state.node == "bye"
    assert decision.state.conversation_id == "conv-9"
    closed = [s for s in decision.steps if s.kind == "closed"]
    assert [(s.node, s.outcome) for s in closed] == [("main", "conversation_ended")]


def test_host_can_stop_the_assistant_and_add_messages():
    driver = CallDriver(assistant_menu())
    driver.start()
    stop = stop_ai_assistant(driver.state)
    [command] = stop.commands
    assert (command.action, without_cs(command.params)) == ("ai_assistant_stop", {})
    assert cs_of(command) == {"c": CALL_ID, "n": "main", "s": 1}
    messages = [{"role": "system", "content": "The caller is a VIP."}]
    add = add_ai_messages(driver.state, messages)
    [command] = add.commands
    assert (command.action, without_cs(command.params)) == (
        "ai_assistant_add_messages",
        {"messages": messages},
    )
    assert stop.state.to_dict() == driver.state.to_dict()


def test_host_helpers_refuse_when_nothing_runs():
    driver = CallDriver(classic_menu())
    driver.start()
    for decision in (stop_ai_assistant(driver.state), add_ai_messages(driver.state, [])):
        assert decision.commands == []
        assert decision.ignored_reason == "no AI assistant running"
    with pytest.raises(ValueError, match="messages must be a list"):
        add_ai_messages(driver.state, "hello")


def test_host_can_stop_a_dtmf_gather_and_the_cancelled_gather_ends_the_step():
    driver = CallDriver(classic_menu())
    driver.start()
    decision = stop_gather(driver.state)
    [command] = decision.commands
    assert (command.action, without_cs(command.params)) == ("gather_stop", {})
    assert cs_of(command) == {"c": CALL_ID, "n": "main", "s": 1}
    driver.last_cs = cs_of(command)
    ended = driver.gather_ended("cancelled")
    assert ended.commands == []
    assert [(s.kind, s.outcome) for s in ended.steps] == [("closed", "cancelled")]
    assert stop_gather(driver.state).ignored_reason == "no DTMF gather in progress"
