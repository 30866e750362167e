"""Each validation rule with a failing case: a CommandValidationError naming the parameter and
the rule, raised before any request reaches the (loopback) Telnyx API."""

import pytest

from telnyx_ivr.telnyx import client_state
from telnyx_ivr.telnyx.client import get_client
from telnyx_ivr.telnyx.commands import validate
from telnyx_ivr.telnyx.errors import CommandValidationError, TelnyxError

CALL = "v3:call-validation"
SCHEMA = {"type": "object", "properties": {"age": {"type": "integer"}}}
SPEAK = {"payload": "Hello", "voice": "female"}
AI = {"parameters": SCHEMA}


def tool(**fields):
    return {"assistant": {"tools": [fields]}}


def webhook_tool(**overrides):
    webhook = {"name": "n", "description": "d", "url": "https://example.com", **overrides}
    return {"type": "webhook", "webhook": webhook}


# (id, action, params, parameter named, rule code, words the message must contain)
FAILING = [
    # ranges
    ("min-digits-0", "gather", {"minimum_digits": 0}, "minimum_digits", "minimum", "at least 1"),
    (
        "max-digits-129",
        "gather_using_audio",
        {"maximum_digits": 129},
        "maximum_digits",
        "maximum",
        "at most 128",
    ),
    (
        "min-digits-129",
        "gather",
        {"minimum_digits": 129},
        "minimum_digits",
        "maximum",
        "at most 128",
    ),
    (
        "min-over-max",
        "gather_using_speak",
        {**SPEAK, "minimum_digits": 5, "maximum_digits": 3},
        "minimum_digits",
        "min_le_max",
        "5 > 3",
    ),
    (
        "min-over-max-audio",
        "gather_using_audio",
        {"minimum_digits": 4, "maximum_digits": 2},
        "minimum_digits",
        "min_le_max",
        "maximum_digits",
    ),
    (
        "max-tries-0",
        "gather_using_audio",
        {"maximum_tries": 0},
        "maximum_tries",
        "minimum",
        "at least 1",
    ),
    ("timeout-0", "gather", {"timeout_millis": 0}, "timeout_millis", "positive", "positive"),
    (
        "inter-digit-negative",
        "gather_using_speak",
        {**SPEAK, "inter_digit_timeout_millis": -5},
        "inter_digit_timeout_millis",
        "positive",
        "positive",
    ),
    (
        "initial-timeout-0",
        "gather",
        {"initial_timeout_millis": 0},
        "initial_timeout_millis",
        "positive",
        "positive",
    ),
    (
        "user-response-timeout-0",
        "gather_using_ai",
        {**AI, "user_response_timeout_ms": 0},
        "user_response_timeout_ms",
        "positive",
        "positive",
    ),
    (
        "transfer-timeout-4",
        "transfer",
        {"to": "+1", "timeout_secs": 4},
        "timeout_secs",
        "minimum",
        "at least 5",
    ),
    (
        "transfer-timeout-601",
        "transfer",
        {"to": "+1", "timeout_secs": 601},
        "timeout_secs",
        "maximum",
        "at most 600",
    ),
    (
        "time-limit-0",
        "transfer",
        {"to": "+1", "time_limit_secs": 0},
        "time_limit_secs",
        "positive",
        "positive",
    ),
    (
        "voice-speed-low",
        "gather_using_speak",
        {**SPEAK, "voice_settings": {"type": "telnyx", "voice_speed": 0.05}},
        "voice_settings.voice_speed",
        "minimum",
        "at least 0.1",
    ),
    (
        "voice-speed-high",
        "gather_using_ai",
        {**AI, "voice_settings": {"type": "telnyx", "voice_speed": 2.5}},
        "voice_settings.voice_speed",
        "maximum",
        "at most 2",
    ),
    (
        "rime-speed-0",
        "speak",
        {**SPEAK, "voice_settings": {"type": "rime", "voice_speed": 0}},
        "voice_settings.voice_speed",
        "positive",
        "positive",
    ),
    # types
    ("digits-as-text", "gather", {"minimum_digits": "1"}, "minimum_digits", "type", "an integer"),
    ("digits-as-bool", "gather", {"maximum_digits": True}, "maximum_digits", "type", "an integer"),
    (
        "flag-as-text",
        "gather_using_ai",
        {**AI, "send_partial_results": "yes"},
        "send_partial_results",
        "type",
        "a boolean",
    ),
    (
        "sample-rate-int",
        "speak",
        {**SPEAK, "voice_settings": {"type": "resemble", "sample_rate": 8000}},
        "voice_settings.sample_rate",
        "type",
        "a string",
    ),
    # required
    (
        "speak-gather-no-payload",
        "gather_using_speak",
        {"voice": "female"},
        "payload",
        "required",
        "is required",
    ),
    (
        "speak-gather-no-voice",
        "gather_using_speak",
        {"payload": "Hi"},
        "voice",
        "required",
        "is required",
    ),
    ("speak-no-payload", "speak", {"voice": "female"}, "payload", "required", "is required"),
    ("speak-no-voice", "speak", {"payload": "Hi"}, "voice", "required", "is required"),
    (
        "speak-empty-payload",
        "speak",
        {"payload": "  ", "voice": "female"},
        "payload",
        "empty",
        "must not be empty",
    ),
    (
        "ai-no-parameters",
        "gather_using_ai",
        {"greeting": "Hi"},
        "parameters",
        "required",
        "is required",
    ),
    ("transfer-no-to", "transfer", {"from": "+1"}, "to", "required", "is required"),
    (
        "playback-nothing",
        "playback_start",
        {"loop": 2},
        "audio_url/media_name/playback_content",
        "one_of_required",
        "is required",
    ),
    # parameters must be a JSON Schema (checked against the meta-schema)
    (
        "parameters-not-object",
        "gather_using_ai",
        {"parameters": "age"},
        "parameters",
        "type",
        "an object",
    ),
    (
        "parameters-bad-type",
        "gather_using_ai",
        {"parameters": {"type": "bar"}},
        "parameters",
        "json_schema",
        "not a valid JSON Schema",
    ),
    (
        "parameters-sdk-example",
        "gather_using_ai",
        {"parameters": {"properties": "bar", "required": "bar", "type": "bar"}},
        "parameters",
        "json_schema",
        "not a valid JSON Schema",
    ),
    (
        "parameters-nested",
        "gather_using_ai",
        {"parameters": {"type": "object", "properties": {"age": {"minimum": "ten"}}}},
        "parameters",
        "json_schema",
        "/properties/age/minimum",
    ),
    (
        "tool-body-schema",
        "gather_using_ai",
        {**AI, **tool(**webhook_tool(body_parameters={"required": "age"}))},
        "assistant.tools[0].webhook.body_parameters",
        "json_schema",
        "not a valid JSON Schema",
    ),
    # exclusive pairs
    (
        "audio-and-media",
        "gather_using_audio",
        {"audio_url": "https://a/x.wav", "media_name": "x"},
        "media_name",
        "exclusive",
        "together with audio_url",
    ),
    (
        "invalid-audio-and-media",
        "gather_using_audio",
        {"invalid_audio_url": "https://a/x.wav", "invalid_media_name": "x"},
        "invalid_media_name",
        "exclusive",
        "together with invalid_audio_url",
    ),
    (
        "playback-two-sources",
        "playback_start",
        {"audio_url": "https://a/x.wav", "playback_content": "AAAA"},
        "playback_content",
        "exclusive",
        "together with audio_url",
    ),
    (
        "transfer-audio-and-media",
        "transfer",
        {"to": "+1", "audio_url": "https://a/x.wav", "media_name": "x"},
        "media_name",
        "exclusive",
        "together with audio_url",
    ),
    (
        "overlay-other-leg",
        "playback_start",
        {"audio_url": "https://a/x.wav", "overlay": True, "target_legs": "both"},
        "target_legs",
        "overlay_target",
        "'self'",
    ),
    # enumerations
    (
        "payload-type",
        "gather_using_speak",
        {**SPEAK, "payload_type": "xml"},
        "payload_type",
        "enum",
        "text, ssml",
    ),
    (
        "service-level",
        "speak",
        {**SPEAK, "service_level": "gold"},
        "service_level",
        "enum",
        "basic, premium",
    ),
    (
        "speak-language",
        "gather_using_speak",
        {**SPEAK, "language": "en"},
        "language",
        "enum",
        "en-US",
    ),
    (
        "ai-language",
        "gather_using_ai",
        {**AI, "language": "en-US"},
        "language",
        "enum",
        "one of af, sq",
    ),
    (
        "target-legs",
        "speak",
        {**SPEAK, "target_legs": "all"},
        "target_legs",
        "enum",
        "self, opposite, both",
    ),
    (
        "history-role",
        "gather_using_ai",
        {**AI, "message_history": [{"role": "system", "content": "x"}]},
        "message_history[0].role",
        "enum",
        "assistant, user",
    ),
    (
        "history-no-role",
        "gather_using_ai",
        {**AI, "message_history": [{"content": "x"}]},
        "message_history[0].role",
        "required",
        "is required",
    ),
    (
        "add-message-role",
        "ai_assistant_add_messages",
        {"messages": [{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}]},
        "messages[1].role",
        "enum",
        "developer",
    ),
    (
        "transcription-model",
        "gather_using_ai",
        {**AI, "transcription": {"model": "whisper"}},
        "transcription.model",
        "enum",
        "deepgram/nova-3",
    ),
    (
        "voice-settings-type",
        "gather_using_speak",
        {**SPEAK, "voice_settings": {"type": "acme"}},
        "voice_settings.type",
        "enum",
        "elevenlabs, telnyx, aws, azure, rime, resemble, xai",
    ),
    (
        "voice-settings-no-type",
        "ai_assistant_start",
        {"voice_settings": {"voice_speed": 1}},
        "voice_settings.type",
        "required",
        "is required",
    ),
    (
        "azure-effect",
        "speak",
        {**SPEAK, "voice_settings": {"type": "azure", "effect": "echo"}},
        "voice_settings.effect",
        "enum",
        "eq_car",
    ),
    (
        "tool-type",
        "gather_using_ai",
        {**AI, **tool(type="sms")},
        "assistant.tools[0].type",
        "enum",
        "book_appointment, check_availability, webhook, hangup, transfer, retrieval",
    ),
    (
        "tool-no-type",
        "ai_assistant_start",
        tool(hangup={}),
        "assistant.tools[0].type",
        "required",
        "is required",
    ),
    (
        "tool-webhook-no-url",
        "gather_using_ai",
        {**AI, **tool(type="webhook", webhook={"name": "n", "description": "d"})},
        "assistant.tools[0].webhook.url",
        "required",
        "is required",
    ),
    (
        "tool-webhook-method",
        "gather_using_ai",
        {**AI, **tool(**webhook_tool(method="HEAD"))},
        "assistant.tools[0].webhook.method",
        "enum",
        "GET, POST",
    ),
    (
        "tool-missing-params",
        "ai_assistant_start",
        tool(type="retrieval"),
        "assistant.tools[0].retrieval",
        "required",
        "is required",
    ),
    (
        "tool-transfer-no-from",
        "gather_using_ai",
        {**AI, **tool(type="transfer", transfer={"targets": [{"to": "+1"}]})},
        "assistant.tools[0].transfer.from",
        "required",
        "is required",
    ),
    (
        "tool-transfer-target-to",
        "gather_using_ai",
        {**AI, **tool(type="transfer", transfer={"targets": [{"name": "x"}], "from": "+1"})},
        "assistant.tools[0].transfer.targets[0].to",
        "required",
        "is required",
    ),
    (
        "tool-booking-event-type",
        "gather_using_ai",
        {
            **AI,
            **tool(
                type="book_appointment",
                book_appointment={"event_type_id": "42", "api_key_ref": "k"},
            ),
        },
        "assistant.tools[0].book_appointment.event_type_id",
        "type",
        "an integer",
    ),
    (
        "amd-mode",
        "transfer",
        {"to": "+1", "answering_machine_detection": "on"},
        "answering_machine_detection",
        "enum",
        "detect_beep",
    ),
    ("record-format", "answer", {"record_format": "ogg"}, "record_format", "enum", "wav, mp3"),
    # lengths
    (
        "greeting-3001",
        "gather_using_ai",
        {**AI, "greeting": "x" * 3001},
        "greeting",
        "max_length",
        "at most 3000 characters",
    ),
    (
        "ended-speech-3001",
        "gather_using_ai",
        {**AI, "gather_ended_speech": "y" * 3001},
        "gather_ended_speech",
        "max_length",
        "at most 3000 characters",
    ),
    (
        "start-greeting-3001",
        "ai_assistant_start",
        {"greeting": "z" * 3001},
        "greeting",
        "max_length",
        "got 3001",
    ),
    # client_state
    (
        "client-state-not-base64",
        "gather",
        {"client_state": "not base64!"},
        "client_state",
        "base64",
        "base64",
    ),
    ("client-state-empty", "hangup", {"client_state": ""}, "client_state", "base64", "base64"),
    ("client-state-dict", "answer", {"client_state": {"a": 1}}, "client_state", "type", "a string"),
    (
        "target-leg-state",
        "transfer",
        {"to": "+1", "target_leg_client_state": "%%%"},
        "target_leg_client_state",
        "base64",
        "base64",
    ),
    # DTMF digits
    (
        "terminating-two",
        "gather",
        {"terminating_digit": "##"},
        "terminating_digit",
        "dtmf",
        "single DTMF digit",
    ),
    (
        "valid-digits-letter",
        "gather_using_audio",
        {"valid_digits": "12x"},
        "valid_digits",
        "dtmf",
        "'x'",
    ),
    ("valid-digits-empty", "gather", {"valid_digits": ""}, "valid_digits", "dtmf", "at least one"),
    # names
    (
        "unknown-parameter",
        "gather",
        {"maximum_digit": 3},
        "maximum_digit",
        "unknown",
        "not a parameter of gather",
    ),
    (
        "parameter-of-other-command",
        "gather",
        {"payload": "Hi"},
        "payload",
        "unknown",
        "not a parameter of gather",
    ),
]


@pytest.fixture
def client(telnyx_api, ivr_settings_for):
    ivr_settings_for(API_KEY="KEY_validation", API_BASE_URL=telnyx_api.base_url)
    return get_client()


@pytest.mark.parametrize(
    ("action", "params", "parameter", "code", "words"),
    [case[1:] for case in FAILING],
    ids=[case[0] for case in FAILING],
)
def test_rule_fails_before_any_request(client, telnyx_api, action, params, parameter, code, words):
    with pytest.raises(CommandValidationError) as caught:
        client.send(action, CALL, params)
    error = caught.value
    assert (error.action, error.parameter, error.code) == (action, parameter, code)
    assert words in error.rule
    assert str(error) == f"{action}: {parameter} {error.rule}"
    assert isinstance(error, ValueError)
    assert not isinstance(error, TelnyxError)
    assert error.retryable is False
    assert telnyx_api.requests == []


def test_methods_validate_too(client, telnyx_api):
    with pytest.raises(CommandValidationError, match="maximum_digits must be at most 128"):
        client.gather(CALL, maximum_digits=200)
    with pytest.raises(CommandValidationError, match="parameters is not a valid JSON Schema"):
        client.gather_using_ai(CALL, parameters={"type": 12})
    assert telnyx_api.requests == []


@pytest.mark.parametrize(
    ("action", "params"),
    [
        ("gather", {"minimum_digits": 1, "maximum_digits": 128}),
        ("gather", {"minimum_digits": 128}),
        ("gather", {"terminating_digit": "*", "valid_digits": "0123456789#*ABCD"}),
        ("gather_using_speak", {**SPEAK, "minimum_digits": 4, "maximum_digits": 4}),
        ("speak", {**SPEAK, "voice_settings": {"type": "telnyx", "voice_speed": 0.1}}),
        ("speak", {**SPEAK, "voice_settings": {"type": "telnyx", "voice_speed": 2}}),
        ("gather_using_ai", {**AI, "greeting": "x" * 3000, "gather_ended_speech": "y" * 3000}),
        ("transfer", {"to": "+1", "timeout_secs": 5, "time_limit_secs": 14400}),
        ("playback_start", {"audio_url": "https://a/x.wav", "overlay": True}),
        ("gather", {"client_state": client_state.encode({"n": 1})}),
        ("gather_using_ai", {"parameters": {"$schema": "http://json-schema.org/draft-07/schema#"}}),
    ],
)
def test_boundary_values_are_accepted(client, telnyx_api, action, params):
    client.send(action, CALL, params)
    assert telnyx_api.requests[0].json == {
        **params,
        "command_id": telnyx_api.requests[0].json["command_id"],
    }


def test_none_values_are_left_out():
    assert validate("gather", {"minimum_digits": None, "gather_id": "g"}) == {"gather_id": "g"}


@pytest.mark.parametrize(
    ("call_args", "parameter", "code"),
    [
        (("dial", CALL, {}), "action", "unknown_action"),
        (("gather", CALL, ["minimum_digits"]), "params", "type"),
        (("gather", "", {}), "call_control_id", "required"),
        (("gather", None, {}), "call_control_id", "required"),
    ],
)
def test_bad_calls_are_refused(client, telnyx_api, call_args, parameter, code):
    with pytest.raises(CommandValidationError) as caught:
        client.send(*call_args)
    assert (caught.value.parameter, caught.value.code) == (parameter, code)
    assert telnyx_api.requests == []


def test_command_id_given_twice_differently_is_refused(client, telnyx_api):
    with pytest.raises(CommandValidationError) as caught:
        client.send("hangup", CALL, {"command_id": "a"}, command_id="b")
    assert (caught.value.parameter, caught.value.code) == ("command_id", "conflict")
    with pytest.raises(CommandValidationError) as caught:
        client.hangup(CALL, command_id="")
    assert (caught.value.parameter, caught.value.code) == ("command_id", "empty")
    assert telnyx_api.requests == []
