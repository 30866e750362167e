"""Every command with every parameter, as received by a loopback server standing in for Telnyx:
path, method, headers and JSON body; bodies checked against the reference's request schemas
(gather_using_audio, gather_using_ai) and parameter lists (the others)."""

import inspect
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

import telnyx_ivr
from telnyx_ivr.telnyx import client_state
from telnyx_ivr.telnyx.client import API_NAMES, TelnyxClient, get_client
from telnyx_ivr.telnyx.commands import COMMANDS

API_KEY = "KEY01TEST_commands_secret"
CALL = "v3:MdI91X4lWFEs7IgbBEOT9M4AigoY08M0WWZFISt1Yw2axZ_IiE4pqg"
STATE = client_state.encode({"call": 7, "node": "main"})

SCHEMAS = json.loads(
    (Path(__file__).parent / "fixtures" / "telnyx_request_schemas.json").read_text()
)

# The "Optional:"/"Required:" lists of Telnyx's voice gather guide for Python
# (voice-gather-python.md of the Telnyx docs), copied by hand. The client must accept
# exactly these names.
REFERENCE_PARAMETERS = {
    "ai_assistant_add_messages": {"client_state", "command_id", "messages"},
    "ai_assistant_start": {
        "assistant", "client_state", "command_id", "greeting", "interruption_settings",
        "transcription", "voice", "voice_settings",
    },
    "ai_assistant_stop": {"client_state", "command_id"},
    "gather_stop": {"client_state", "command_id"},
    "gather_using_ai": {
        "parameters", "assistant", "client_state", "command_id", "gather_ended_speech",
        "greeting", "interruption_settings", "language", "message_history",
        "send_message_history_updates", "send_partial_results", "transcription",
        "user_response_timeout_ms", "voice", "voice_settings",
    },
    "gather_using_audio": {
        "audio_url", "client_state", "command_id", "inter_digit_timeout_millis",
        "invalid_audio_url", "invalid_media_name", "maximum_digits", "maximum_tries",
        "media_name", "minimum_digits", "terminating_digit", "timeout_millis", "valid_digits",
    },
    "gather_using_speak": {
        "voice", "payload", "client_state", "command_id", "inter_digit_timeout_millis",
        "invalid_payload", "language", "maximum_digits", "maximum_tries", "minimum_digits",
        "payload_type", "service_level", "terminating_digit", "timeout_millis", "valid_digits",
        "voice_settings",
    },
    "gather": {
        "client_state", "command_id", "gather_id", "initial_timeout_millis",
        "inter_digit_timeout_millis", "maximum_digits", "minimum_digits", "terminating_digit",
        "timeout_millis", "valid_digits",
    },
}  # fmt: skip
# Commands the reference only names (README table); their lists follow Telnyx's public API
# reference for the same commands.
PUBLIC_PARAMETERS = {
    "speak": {
        "payload", "voice", "client_state", "command_id", "language", "loop", "payload_type",
        "service_level", "stop", "target_legs", "voice_settings",
    },
    "playback_start": {
        "audio_type", "audio_url", "cache_audio", "client_state", "command_id", "loop",
        "media_name", "overlay", "playback_content", "stop", "target_legs",
    },
    "playback_stop": {"client_state", "command_id", "overlay", "stop"},
    "hangup": {"client_state", "command_id", "custom_headers"},
    "answer": {
        "billing_group_id", "client_state", "command_id", "custom_headers", "preferred_codecs",
        "record", "record_channels", "record_custom_file_name", "record_format",
        "record_max_length", "record_timeout_secs", "record_track", "record_trim",
        "send_silence_when_idle", "sip_headers", "sound_modifications",
        "stream_bidirectional_codec", "stream_bidirectional_mode",
        "stream_bidirectional_target_legs", "stream_codec", "stream_track", "stream_url",
        "transcription", "transcription_config", "webhook_url", "webhook_url_method",
    },
    "transfer": {
        "to", "answering_machine_detection", "answering_machine_detection_config", "audio_url",
        "client_state", "command_id", "custom_headers", "early_media", "from",
        "from_display_name", "media_encryption", "media_name", "mute_dtmf",
        "park_after_unbridge", "record", "record_channels", "record_custom_file_name",
        "record_format", "record_max_length", "record_timeout_secs", "record_track",
        "record_trim", "sip_auth_password", "sip_auth_username", "sip_headers",
        "sip_transport_protocol", "sound_modifications", "target_leg_client_state",
        "time_limit_secs", "timeout_secs", "webhook_url", "webhook_url_method",
    },
}  # fmt: skip

PARAMETERS_SCHEMA = {
    "type": "object",
    "properties": {
        "age": {"description": "The age of the customer.", "type": "integer"},
        "location": {"description": "The location of the customer.", "type": "string"},
    },
    "required": ["age", "location"],
}
ALL_TOOLS = [
    {
        "type": "book_appointment",
        "book_appointment": {
            "event_type_id": 42,
            "api_key_ref": "my_calcom_api_key",
            "attendee_name": "Ann",
            "attendee_timezone": "Europe/Paris",
        },
    },
    {
        "type": "check_availability",
        "check_availability": {"event_type_id": 42, "api_key_ref": "my_calcom_api_key"},
    },
    {
        "type": "webhook",
        "webhook": {
            "name": "lookup",
            "description": "Look the customer up",
            "url": "https://example.com/api/v1/{id}",
            "method": "GET",
            "headers": [{"name": "Authorization", "value": "Bearer tool-secret"}],
            "body_parameters": {"type": "object", "properties": {"age": {"type": "integer"}}},
            "path_parameters": {
                "type": "object",
                "properties": {"id": {"type": "string"}},
                "required": ["id"],
            },
            "query_parameters": {"type": "object", "properties": {"page": {"type": "integer"}}},
        },
    },
    {"type": "hangup", "hangup": {"description": "Hang up when done."}},
    {
        "type": "transfer",
        "transfer": {"targets": [{"name": "Support", "to": "+13129457420"}], "from": "+3531960"},
    },
    {"type": "retrieval", "retrieval": {"bucket_ids": ["faq"], "max_num_results": 3}},
]
HEADERS = [{"name": "X-Tag", "value": "menu"}]
VOICE_SETTINGS_VARIANTS = [
    {"type": "elevenlabs", "api_key_ref": "my_elevenlabs_api_key"},
    {"type": "telnyx", "voice_speed": 1.5},
    {"type": "aws"},
    {
        "type": "azure",
        "api_key_ref": "my_azure_api_key",
        "region": "eastus",
        "deployment_id": "dep",
        "effect": "eq_car",
        "gender": "Female",
    },
    {"type": "rime", "voice_speed": 1.2},
    {"type": "resemble", "precision": "PCM_16", "sample_rate": "8000", "format": "wav"},
    {"type": "xai", "language": "auto"},
]
RECORDING = {
    "record": "record-from-answer",
    "record_channels": "dual",
    "record_custom_file_name": "menu-call",
    "record_format": "mp3",
    "record_max_length": 600,
    "record_timeout_secs": 30,
    "record_track": "inbound",
    "record_trim": "trim-silence",
}

# (action, params) cases; together they use every parameter of every command.
CASES = [
    ("answer", {
        "billing_group_id": "f5586561-8ff0-4291-a0ac-84fe544797bd",
        "custom_headers": HEADERS,
        "preferred_codecs": "G722,PCMU,PCMA,G729,OPUS,VP8,H264",
        **RECORDING,
        "send_silence_when_idle": True,
        "sip_headers": [{"name": "User-to-User", "value": "12345"}],
        "sound_modifications": {"pitch": 0.8},
        "stream_bidirectional_codec": "PCMU",
        "stream_bidirectional_mode": "rtp",
        "stream_bidirectional_target_legs": "both",
        "stream_codec": "PCMA",
        "stream_track": "both_tracks",
        "stream_url": "wss://example.com/stream",
        "transcription": True,
        "transcription_config": {"transcription_engine": "B"},
        "webhook_url": "https://example.com/hooks",
        "webhook_url_method": "POST",
        "client_state": STATE,
    }),
    ("gather", {
        "minimum_digits": 1,
        "maximum_digits": 10,
        "timeout_millis": 60000,
        "inter_digit_timeout_millis": 10000,
        "initial_timeout_millis": 10000,
        "terminating_digit": "#",
        "valid_digits": "123",
        "gather_id": "my_gather_id",
        "client_state": STATE,
    }),
    ("gather_using_audio", {
        "audio_url": "http://example.com/message.wav",
        "invalid_audio_url": "http://example.com/invalid.wav",
        "minimum_digits": 1,
        "maximum_digits": 10,
        "maximum_tries": 3,
        "timeout_millis": 60000,
        "terminating_digit": "#",
        "valid_digits": "123",
        "inter_digit_timeout_millis": 10000,
        "client_state": STATE,
    }),
    ("gather_using_audio", {
        "media_name": "my_media_uploaded_to_media_storage_api",
        "invalid_media_name": "my_invalid_media",
    }),
    ("gather_using_speak", {
        "payload": "<speak>Press 1 for sales</speak>",
        "invalid_payload": "Sorry, that is not an option.",
        "payload_type": "ssml",
        "service_level": "premium",
        "voice": "Telnyx.KokoroTTS.af",
        "language": "en-US",
        "voice_settings": {"type": "telnyx", "voice_speed": 1.1},
        "minimum_digits": 1,
        "maximum_digits": 10,
        "maximum_tries": 3,
        "timeout_millis": 60000,
        "terminating_digit": "#",
        "valid_digits": "123",
        "inter_digit_timeout_millis": 10000,
        "client_state": STATE,
    }),
    ("gather_using_ai", {
        "parameters": PARAMETERS_SCHEMA,
        "assistant": {
            "model": "Qwen/Qwen3-235B-A22B",
            "instructions": "You are a friendly voice assistant.",
            "openai_api_key_ref": "my_openai_api_key",
            "tools": ALL_TOOLS,
        },
        "transcription": {"model": "distil-whisper/distil-large-v2", "language": "auto"},
        "language": "en",
        "voice": "Telnyx.KokoroTTS.af",
        "voice_settings": {"type": "elevenlabs", "api_key_ref": "my_elevenlabs_api_key"},
        "greeting": "Hello, can you tell me your age and where you live?",
        "send_partial_results": True,
        "send_message_history_updates": True,
        "message_history": [
            {"content": "Hello, what's your name?", "role": "assistant"},
            {"content": "Hello, I'm John.", "role": "user"},
        ],
        "interruption_settings": {"enable": True},
        "user_response_timeout_ms": 15000,
        "gather_ended_speech": "Thank you for providing the information.",
        "client_state": STATE,
    }),
    ("gather_stop", {"client_state": STATE}),
    ("ai_assistant_start", {
        "assistant": {"instructions": "Help the caller.", "tools": [ALL_TOOLS[3]]},
        "greeting": "Hello, how can I help?",
        "interruption_settings": {"enable": False},
        "transcription": {"model": "deepgram/nova-3", "language": "en"},
        "voice": "AWS.Polly.Joanna-Neural",
        "voice_settings": {"type": "aws"},
        "client_state": STATE,
    }),
    ("ai_assistant_stop", {"client_state": STATE}),
    ("ai_assistant_add_messages", {
        "messages": [
            {"role": "system", "content": "The caller is a VIP."},
            {"role": "developer", "content": "Keep answers short."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
            {"role": "tool", "content": "{}"},
        ],
        "client_state": STATE,
    }),
    ("speak", {
        "payload": "Say this on the call",
        "voice": "female",
        "payload_type": "text",
        "service_level": "basic",
        "language": "en-GB",
        "voice_settings": {"type": "azure", "region": "westeurope"},
        "loop": 2,
        "stop": "current",
        "target_legs": "self",
        "client_state": STATE,
    }),
    ("playback_start", {
        "audio_url": "https://example.com/audio.mp3",
        "audio_type": "mp3",
        "cache_audio": True,
        "loop": "infinity",
        "overlay": True,
        "stop": "all",
        "target_legs": "self",
        "client_state": STATE,
    }),
    ("playback_start", {"media_name": "welcome"}),
    ("playback_start", {"playback_content": "SUQzBAAAAAAA", "audio_type": "wav"}),
    ("playback_stop", {"overlay": False, "stop": "current", "client_state": STATE}),
    ("transfer", {
        "to": "+18005550100",
        "from": "+18005550101",
        "from_display_name": "Acme IVR",
        "timeout_secs": 30,
        "time_limit_secs": 3600,
        "audio_url": "https://example.com/whisper.mp3",
        "answering_machine_detection": "detect",
        "answering_machine_detection_config": {"total_analysis_time_millis": 5000},
        "custom_headers": HEADERS,
        "sip_headers": [{"name": "User-to-User", "value": "12345"}],
        "sip_auth_username": "agent",
        "sip_auth_password": "sip-secret",
        "sip_transport_protocol": "TLS",
        "early_media": False,
        "media_encryption": "SRTP",
        "mute_dtmf": "opposite",
        "park_after_unbridge": "self",
        **RECORDING,
        "sound_modifications": {"octaves": 0.1},
        "target_leg_client_state": client_state.encode({"leg": "b"}),
        "webhook_url": "https://example.com/hooks",
        "webhook_url_method": "GET",
        "client_state": STATE,
    }),
    ("transfer", {"to": "sip:agent@example.com", "media_name": "hold-music"}),
    ("hangup", {"custom_headers": HEADERS, "client_state": STATE}),
]  # fmt: skip
CASE_IDS = [f"{action}-{index}" for index, (action, _) in enumerate(CASES)]


def request_schema(name):
    """A validator for one request schema of the fixture, resolving its $refs."""
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": SCHEMAS["components"]}
    )


@pytest.fixture
def client(telnyx_api, ivr_settings_for):
    ivr_settings_for(API_KEY=API_KEY, API_BASE_URL=telnyx_api.base_url)
    return get_client()


def method_kwargs(params):
    python_names = {api: python for python, api in API_NAMES.items()}
    return {python_names.get(name, name): value for name, value in params.items()}


def test_the_cases_use_every_parameter_of_every_command():
    used = {}
    for action, params in CASES:
        used.setdefault(action, set()).update(params)
    for action, spec in COMMANDS.items():
        assert used.get(action, set()) | {"command_id"} == set(spec.params), action


@pytest.mark.parametrize(("action", "names"), sorted(REFERENCE_PARAMETERS.items()))
def test_reference_commands_take_exactly_the_reference_parameters(action, names):
    assert set(COMMANDS[action].params) == names


@pytest.mark.parametrize(("action", "names"), sorted(PUBLIC_PARAMETERS.items()))
def test_other_commands_take_exactly_the_public_parameters(action, names):
    assert set(COMMANDS[action].params) == names


@pytest.mark.parametrize(("action", "params"), CASES, ids=CASE_IDS)
def test_method_sends_every_parameter(client, telnyx_api, action, params):
    method = getattr(client, action)
    result = method(CALL, **method_kwargs(params), command_id=f"cmd-{action}")

    [request] = telnyx_api.requests
    assert request.method == "POST"
    assert request.path == f"/v2/calls/{CALL}/actions/{action}"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["user-agent"] == f"django-telnyx-ivr/{telnyx_ivr.__version__}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.json == {**params, "command_id": f"cmd-{action}"}
    known = REFERENCE_PARAMETERS.get(action) or PUBLIC_PARAMETERS[action]
    assert set(request.json) <= known
    assert result.action == action
    assert result.command_id == f"cmd-{action}"
    assert result.data == {"result": "ok"}
    assert result.status_code == 200
    assert result.attempts == 1
    assert result.latency_ms > 0


@pytest.mark.parametrize(("action", "params"), CASES, ids=CASE_IDS)
def test_send_posts_the_same_body_as_the_method(client, telnyx_api, action, params):
    client.send(action, CALL, params, command_id="same")
    assert telnyx_api.requests[0].json == {**params, "command_id": "same"}


@pytest.mark.parametrize(
    ("action", "schema"),
    [
        ("gather_using_audio", "GatherUsingAudioRequest"),
        ("gather_using_ai", "GatherUsingAIRequest"),
    ],
)
def test_bodies_match_the_reference_request_schema(client, telnyx_api, action, schema):
    validator = request_schema(schema)
    cases = [params for name, params in CASES if name == action]
    for params in cases:
        client.send(action, CALL, params)
    assert len(telnyx_api.requests) == len(cases)
    for request in telnyx_api.requests:
        errors = [error.message for error in validator.iter_errors(request.json)]
        assert errors == []


@pytest.mark.parametrize("voice_settings", VOICE_SETTINGS_VARIANTS, ids=lambda v: v["type"])
def test_every_voice_settings_variant_matches_the_reference_schema(
    client, telnyx_api, voice_settings
):
    client.gather_using_ai(CALL, parameters=PARAMETERS_SCHEMA, voice_settings=voice_settings)
    body = telnyx_api.requests[0].json
    assert body["voice_settings"] == voice_settings
    assert list(request_schema("GatherUsingAIRequest").iter_errors(body)) == []


def test_the_reference_schemas_do_reject_bad_bodies():
    # Guards the check above: a schema that accepted anything would prove nothing.
    ai = request_schema("GatherUsingAIRequest")
    assert not ai.is_valid({})
    assert not ai.is_valid({"parameters": {}, "voice_settings": {"type": "nobody"}})
    assert not ai.is_valid({"parameters": {}, "gather_ended_speech": "x" * 3001})
    assert not request_schema("GatherUsingAudioRequest").is_valid({"minimum_digits": "1"})


def test_minimal_commands_send_only_the_command_id(client, telnyx_api):
    for action in ("answer", "gather", "gather_stop", "ai_assistant_stop", "hangup"):
        getattr(client, action)(CALL, command_id=f"only-{action}")
    assert [request.json for request in telnyx_api.requests] == [
        {"command_id": f"only-{action}"}
        for action in ("answer", "gather", "gather_stop", "ai_assistant_stop", "hangup")
    ]


def test_a_command_id_is_generated_when_none_is_given(client, telnyx_api):
    first = client.gather(CALL)
    second = client.gather(CALL)
    sent = [request.json["command_id"] for request in telnyx_api.requests]
    assert sent == [first.command_id, second.command_id]
    assert first.command_id != second.command_id
    assert len(first.command_id) == 36  # a UUID


def test_command_id_in_params_is_used(client, telnyx_api):
    result = client.send("hangup", CALL, {"command_id": "from-params"})
    assert result.command_id == "from-params"
    assert telnyx_api.requests[0].json == {"command_id": "from-params"}


@pytest.mark.parametrize("action", ["gather_using_ai", "ai_assistant_start"])
def test_conversation_id_is_returned(client, telnyx_api, action):
    data = {"result": "ok", "conversation_id": "d7e9c1d4-8b2a-4b8f-b3a7-9a671c9e9b0a"}
    telnyx_api.enqueue(body={"data": data})
    params = {"parameters": PARAMETERS_SCHEMA} if action == "gather_using_ai" else {}
    result = client.send(action, CALL, params)
    assert result.data == data
    assert result.conversation_id == "d7e9c1d4-8b2a-4b8f-b3a7-9a671c9e9b0a"


def test_base_url_with_trailing_slash_and_reserved_call_id(telnyx_api):
    client = TelnyxClient(API_KEY, telnyx_api.base_url + "/")
    client.hangup("v3:a/b c")
    assert telnyx_api.requests[0].path == "/v2/calls/v3:a%2Fb%20c/actions/hangup"


@pytest.mark.parametrize("action", sorted(COMMANDS))
def test_each_method_takes_the_api_parameters_and_documents_its_webhooks(action):
    method = getattr(TelnyxClient, action)
    signature = inspect.signature(method)
    names = {API_NAMES.get(name, name) for name in signature.parameters} - {
        "self",
        "call_control_id",
        "retry",
    }
    spec = COMMANDS[action]
    assert names == set(spec.params)
    for name in spec.required:
        python_name = {v: k for k, v in API_NAMES.items()}.get(name, name)
        assert signature.parameters[python_name].default is inspect.Parameter.empty
    doc = inspect.getdoc(method)
    assert "Webhooks:" in doc
    for webhook in spec.webhooks:
        assert webhook in doc, f"{action} docstring does not name {webhook}"
