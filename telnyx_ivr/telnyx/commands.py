"""What each Call Control command accepts, and the check run on its parameters before sending.

Parameter names, types, enumerations, ranges and limits come from Telnyx's Voice API docs for
the gather and AI-assistant commands (their OpenAPI pages and Python/curl guides). ``answer``,
``transfer``, ``hangup``, ``speak``, ``playback_start`` and ``playback_stop`` are only named
there (with their required parameters), so their optional parameters come from Telnyx's public
API reference; ``CommandDefinition.source`` says which for each command.

``validate(action, params)`` raises ``CommandValidationError`` naming the parameter (a path such
as ``assistant.tools[0].webhook.url``) and the rule; unknown top-level parameters are refused so
a misspelt name fails here rather than being silently dropped by Telnyx.
"""

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from . import client_state as client_state_codec
from .errors import CommandValidationError

REFERENCE = "Telnyx Voice API docs (gather and AI-assistant commands, with their OpenAPI)"
PUBLIC_REFERENCE = "Telnyx public API reference (developers.telnyx.com, call-commands)"

INT32_MAX = 2**31 - 1
TEXT_LIMIT = 3000  # greeting and gather_ended_speech
DTMF_CHARACTERS = frozenset("0123456789*#ABCD")
REDACTED = "[REDACTED]"


@dataclass(frozen=True)
class Param:
    """One parameter (or nested field): its JSON type and the rules its value must meet."""

    type: str | tuple[str, ...]
    enum: tuple = ()
    minimum: float | None = None
    maximum: float | None = None
    positive: bool = False
    max_length: int | None = None
    non_empty: bool = False
    items: "Param | None" = None
    fields: Mapping[str, "Param"] | None = None
    required: tuple[str, ...] = ()
    by_type: Mapping[str, "Param"] | None = None
    check: Callable | None = None  # value -> (code, rule) or None
    secret: bool = False


@dataclass(frozen=True)
class CommandDefinition:
    """A command: its parameters, required ones, exclusive groups, and the webhooks it causes."""

    action: str
    summary: str
    webhooks: tuple[str, ...]
    params: Mapping[str, Param]
    required: tuple[str, ...] = ()
    exclusive: tuple[tuple[str, ...], ...] = ()
    one_of_required: tuple[str, ...] = ()
    source: str = REFERENCE
    returns: tuple[str, ...] = ("result",)
    checks: tuple[Callable, ...] = field(default=())


# --- checks ---------------------------------------------------------------------------------


def _base64(value):
    if not value or not client_state_codec.is_base64(value):
        return "base64", "must be base64 text (build it with client_state.encode({...}))"
    return None


def _dtmf_digits(value):
    bad = sorted(set(value) - DTMF_CHARACTERS)
    if not value:
        return "dtmf", "must list at least one DTMF digit"
    if bad:
        return "dtmf", f"may only hold DTMF digits 0-9 * # A-D, not {''.join(bad)!r}"
    return None


def _dtmf_digit(value):
    if len(value) != 1 or value not in DTMF_CHARACTERS:
        return "dtmf", f"must be a single DTMF digit (0-9 * # A-D), not {value!r}"
    return None


def _json_schema(value):
    """Check a JSON Schema against its meta-schema (the one its ``$schema`` names, else the
    latest draft) with the jsonschema library."""
    try:
        validator_for(value).check_schema(value)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path)
        at = f" at /{where}" if where else ""
        return "json_schema", f"is not a valid JSON Schema{at}: {exc.message}"
    return None


# --- shared parameter definitions -----------------------------------------------------------

STRING = Param("string")
TEXT = Param("string", non_empty=True)
BOOLEAN = Param("boolean")
OBJECT = Param("object")
CLIENT_STATE = Param("string", check=_base64)
COMMAND_ID = Param("string", non_empty=True)
URL = Param("string", non_empty=True)
COMMON = {"client_state": CLIENT_STATE, "command_id": COMMAND_ID}

TIMEOUT_MS = Param("integer", positive=True, maximum=INT32_MAX)
DIGITS = {
    "minimum_digits": Param("integer", minimum=1, maximum=128),
    "maximum_digits": Param("integer", minimum=1, maximum=128),
    "timeout_millis": TIMEOUT_MS,
    "inter_digit_timeout_millis": TIMEOUT_MS,
    "terminating_digit": Param("string", check=_dtmf_digit),
    "valid_digits": Param("string", check=_dtmf_digits),
}
MAXIMUM_TRIES = Param("integer", minimum=1, maximum=INT32_MAX)

# gather_using_speak and speak: ``language`` (voice-gather-curl.md, gather_using_speak).
SPEAK_LANGUAGES = (
    "arb", "cmn-CN", "cy-GB", "da-DK", "de-DE", "en-AU", "en-GB", "en-GB-WLS", "en-IN", "en-US",
    "es-ES", "es-MX", "es-US", "fr-CA", "fr-FR", "hi-IN", "is-IS", "it-IT", "ja-JP", "ko-KR",
    "nb-NO", "nl-NL", "pl-PL", "pt-BR", "pt-PT", "ro-RO", "ru-RU", "sv-SE", "tr-TR",
)  # fmt: skip
# gather_using_ai ``language``: GoogleTranscriptionLanguage (gather-using-ai.openapi.md).
GOOGLE_LANGUAGES = (
    "af", "sq", "am", "ar", "hy", "az", "eu", "bn", "bs", "bg", "my", "ca", "yue", "zh", "hr",
    "cs", "da", "nl", "en", "et", "fil", "fi", "fr", "gl", "ka", "de", "el", "gu", "iw", "hi",
    "hu", "is", "id", "it", "ja", "jv", "kn", "kk", "km", "ko", "lo", "lv", "lt", "mk", "ms",
    "ml", "mr", "mn", "ne", "no", "fa", "pl", "pt", "pa", "ro", "ru", "rw", "sr", "si", "sk",
    "sl", "ss", "st", "es", "su", "sw", "sv", "ta", "te", "th", "tn", "tr", "ts", "uk", "ur",
    "uz", "ve", "vi", "xh", "zu",
)  # fmt: skip
# TranscriptionConfig.model (gather-using-ai.openapi.md).
TRANSCRIPTION_MODELS = (
    "deepgram/flux", "flux", "deepgram/nova-3", "deepgram/nova-2", "speechmatics/standard",
    "speechmatics/enhanced", "assemblyai/universal-streaming", "xai/grok-stt", "azure/fast",
    "azure/realtime", "google/latest_long", "distil-whisper/distil-large-v2",
    "openai/whisper-large-v3-turbo",
)  # fmt: skip
PAYLOAD_TYPES = ("text", "ssml")
SERVICE_LEVELS = ("basic", "premium")


def _typed(name, **fields):
    """A ``voice_settings`` / tool variant: an object whose ``type`` is ``name``."""
    return Param("object", fields={"type": Param("string", enum=(name,)), **fields})


# voice_settings variants, chosen by ``type`` (gather-using-ai.openapi.md *VoiceSettings).
VOICE_SETTINGS = Param(
    "object",
    by_type={
        "elevenlabs": _typed("elevenlabs", api_key_ref=STRING),
        "telnyx": _typed("telnyx", voice_speed=Param("number", minimum=0.1, maximum=2.0)),
        "aws": _typed("aws"),
        "azure": _typed(
            "azure",
            api_key_ref=STRING,
            region=STRING,
            deployment_id=STRING,
            effect=Param("string", enum=("eq_car", "eq_telecomhp8k")),
            gender=Param("string", enum=("Male", "Female")),
        ),
        "rime": _typed("rime", voice_speed=Param("number", positive=True)),
        "resemble": _typed(
            "resemble",
            precision=Param("string", enum=("PCM_16", "PCM_24", "PCM_32", "MULAW")),
            sample_rate=Param("string", enum=("8000", "16000", "22050", "32000", "44100", "48000")),
            format=Param("string", enum=("wav", "mp3")),
        ),
        "xai": _typed("xai", language=STRING),
    },
)

JSON_SCHEMA_OBJECT = Param("object", check=_json_schema)
NAME_VALUE = Param("object", fields={"name": STRING, "value": STRING})

# Assistant tools, chosen by ``type`` (gather-using-ai.openapi.md *Tool / *ToolParams).
TOOLS = Param(
    "array",
    items=Param(
        "object",
        by_type={
            "book_appointment": Param(
                "object",
                fields={
                    "type": STRING,
                    "book_appointment": Param(
                        "object",
                        fields={
                            "event_type_id": Param("integer"),
                            "api_key_ref": STRING,
                            "attendee_name": STRING,
                            "attendee_timezone": STRING,
                        },
                        required=("event_type_id", "api_key_ref"),
                    ),
                },
                required=("book_appointment",),
            ),
            "check_availability": Param(
                "object",
                fields={
                    "type": STRING,
                    "check_availability": Param(
                        "object",
                        fields={"event_type_id": Param("integer"), "api_key_ref": STRING},
                        required=("event_type_id", "api_key_ref"),
                    ),
                },
                required=("check_availability",),
            ),
            "webhook": Param(
                "object",
                fields={
                    "type": STRING,
                    "webhook": Param(
                        "object",
                        fields={
                            "name": TEXT,
                            "description": TEXT,
                            "url": URL,
                            "method": Param(
                                "string", enum=("GET", "POST", "PUT", "DELETE", "PATCH")
                            ),
                            "headers": Param("array", items=NAME_VALUE),
                            "body_parameters": JSON_SCHEMA_OBJECT,
                            "path_parameters": JSON_SCHEMA_OBJECT,
                            "query_parameters": JSON_SCHEMA_OBJECT,
                        },
                        required=("url", "name", "description"),
                    ),
                },
                required=("webhook",),
            ),
            "hangup": Param(
                "object",
                fields={"type": STRING, "hangup": Param("object", fields={"description": STRING})},
                required=("hangup",),
            ),
            "transfer": Param(
                "object",
                fields={
                    "type": STRING,
                    "transfer": Param(
                        "object",
                        fields={
                            "targets": Param(
                                ("array", "string"),
                                items=Param(
                                    "object",
                                    fields={"name": STRING, "to": TEXT},
                                    required=("to",),
                                ),
                            ),
                            "from": TEXT,
                        },
                        required=("targets", "from"),
                    ),
                },
                required=("transfer",),
            ),
            "retrieval": Param(
                "object",
                fields={
                    "type": STRING,
                    "retrieval": Param(
                        "object",
                        fields={
                            "bucket_ids": Param("array", items=STRING),
                            "max_num_results": Param("integer", positive=True),
                        },
                        required=("bucket_ids",),
                    ),
                },
                required=("retrieval",),
            ),
        },
    ),
)

ASSISTANT = Param(
    "object",
    fields={
        "model": STRING,
        "instructions": STRING,
        "openai_api_key_ref": STRING,
        "tools": TOOLS,
    },
)
TRANSCRIPTION = Param(
    "object",
    fields={"model": Param("string", enum=TRANSCRIPTION_MODELS), "language": STRING},
)
INTERRUPTION_SETTINGS = Param("object", fields={"enable": BOOLEAN})
GREETING = Param("string", max_length=TEXT_LIMIT)


def _messages(roles):
    return Param(
        "array",
        items=Param(
            "object",
            fields={"role": Param("string", enum=roles), "content": STRING},
            required=("role",),
        ),
    )


# answer / transfer recording and SIP options (Telnyx public API reference).
RECORDING = {
    "record": Param("string", enum=("record-from-answer",)),
    "record_channels": Param("string", enum=("single", "dual")),
    "record_custom_file_name": STRING,
    "record_format": Param("string", enum=("wav", "mp3")),
    "record_max_length": Param("integer", minimum=0, maximum=43200),
    "record_timeout_secs": Param("integer", minimum=0, maximum=INT32_MAX),
    "record_track": Param("string", enum=("both", "inbound", "outbound")),
    "record_trim": Param("string", enum=("trim-silence",)),
}
HEADERS = Param("array", items=NAME_VALUE)
WEBHOOK_OVERRIDE = {"webhook_url": URL, "webhook_url_method": Param("string", enum=("POST", "GET"))}
LOOP = Param(("string", "integer"))


def _digits_in_order(action, params):
    minimum = params.get("minimum_digits", 1)
    maximum = params.get("maximum_digits", 128)
    if minimum > maximum:
        raise CommandValidationError(
            action,
            "minimum_digits",
            f"must not be greater than maximum_digits ({minimum} > {maximum})",
            "min_le_max",
        )


def _overlay_targets_self(action, params):
    if params.get("overlay") is True and params.get("target_legs", "self") != "self":
        raise CommandValidationError(
            action, "target_legs", "must be 'self' when overlay is true", "overlay_target"
        )


COMMANDS = {
    spec.action: spec
    for spec in [
        CommandDefinition(
            action="answer",
            summary="Answer an incoming call; needed before any other command on it.",
            webhooks=("call.answered",),
            params={
                **COMMON,
                "billing_group_id": STRING,
                "custom_headers": HEADERS,
                "preferred_codecs": STRING,
                **RECORDING,
                "send_silence_when_idle": BOOLEAN,
                "sip_headers": HEADERS,
                "sound_modifications": OBJECT,
                "stream_bidirectional_codec": STRING,
                "stream_bidirectional_mode": Param("string", enum=("mp3", "rtp")),
                "stream_bidirectional_target_legs": STRING,
                "stream_codec": STRING,
                "stream_track": Param(
                    "string", enum=("inbound_track", "outbound_track", "both_tracks")
                ),
                "stream_url": URL,
                "transcription": BOOLEAN,
                "transcription_config": OBJECT,
                **WEBHOOK_OVERRIDE,
            },
            source=PUBLIC_REFERENCE,
        ),
        CommandDefinition(
            action="gather",
            summary="Collect DTMF digits, without playing anything.",
            webhooks=("call.dtmf.received", "call.gather.ended"),
            params={
                **COMMON,
                **DIGITS,
                "gather_id": STRING,
                "initial_timeout_millis": TIMEOUT_MS,
            },
            checks=(_digits_in_order,),
        ),
        CommandDefinition(
            action="gather_using_audio",
            summary="Play an audio file until the caller enters the digits wanted.",
            webhooks=(
                "call.playback.started",
                "call.playback.ended",
                "call.dtmf.received",
                "call.gather.ended",
            ),
            params={
                **COMMON,
                **DIGITS,
                "audio_url": URL,
                "media_name": TEXT,
                "invalid_audio_url": URL,
                "invalid_media_name": TEXT,
                "maximum_tries": MAXIMUM_TRIES,
            },
            exclusive=(("audio_url", "media_name"), ("invalid_audio_url", "invalid_media_name")),
            checks=(_digits_in_order,),
        ),
        CommandDefinition(
            action="gather_using_speak",
            summary="Speak text (TTS) until the caller enters the digits wanted.",
            webhooks=("call.dtmf.received", "call.gather.ended"),
            params={
                **COMMON,
                **DIGITS,
                "payload": TEXT,
                "voice": TEXT,
                "invalid_payload": STRING,
                "language": Param("string", enum=SPEAK_LANGUAGES),
                "maximum_tries": MAXIMUM_TRIES,
                "payload_type": Param("string", enum=PAYLOAD_TYPES),
                "service_level": Param("string", enum=SERVICE_LEVELS),
                "voice_settings": VOICE_SETTINGS,
            },
            required=("payload", "voice"),
            checks=(_digits_in_order,),
        ),
        CommandDefinition(
            action="gather_using_ai",
            summary="Let a voice assistant collect the fields a JSON Schema describes.",
            webhooks=(
                "call.conversation.created",
                "call.ai_gather.partial_results",
                "call.ai_gather.message_history_updated",
                "call.ai_gather.ended",
                "call.conversation.ended",
            ),
            params={
                **COMMON,
                "parameters": JSON_SCHEMA_OBJECT,
                "assistant": ASSISTANT,
                "gather_ended_speech": GREETING,
                "greeting": GREETING,
                "interruption_settings": INTERRUPTION_SETTINGS,
                "language": Param("string", enum=GOOGLE_LANGUAGES),
                "message_history": _messages(("assistant", "user")),
                "send_message_history_updates": BOOLEAN,
                "send_partial_results": BOOLEAN,
                "transcription": TRANSCRIPTION,
                "user_response_timeout_ms": TIMEOUT_MS,
                "voice": TEXT,
                "voice_settings": VOICE_SETTINGS,
            },
            required=("parameters",),
            returns=("result", "conversation_id"),
        ),
        CommandDefinition(
            action="gather_stop",
            summary="Stop the current gather.",
            webhooks=("call.gather.ended",),
            params=COMMON,
        ),
        CommandDefinition(
            action="ai_assistant_start",
            summary="Start an AI assistant that converses on the call.",
            webhooks=(
                "call.conversation.created",
                "call.conversation.ended",
                "call.conversation_insights.generated",
            ),
            params={
                **COMMON,
                "assistant": ASSISTANT,
                "greeting": GREETING,
                "interruption_settings": INTERRUPTION_SETTINGS,
                "transcription": TRANSCRIPTION,
                "voice": TEXT,
                "voice_settings": VOICE_SETTINGS,
            },
            returns=("result", "conversation_id"),
        ),
        CommandDefinition(
            action="ai_assistant_stop",
            summary="Stop the AI assistant on the call.",
            webhooks=(),
            params=COMMON,
        ),
        CommandDefinition(
            action="ai_assistant_add_messages",
            summary="Add messages to the AI assistant's conversation on the call.",
            webhooks=(),
            params={
                **COMMON,
                "messages": _messages(("user", "assistant", "tool", "system", "developer")),
            },
        ),
        CommandDefinition(
            action="speak",
            summary="Speak text (TTS) on the call; consecutive speaks queue.",
            webhooks=("call.speak.started", "call.speak.ended"),
            params={
                **COMMON,
                "payload": TEXT,
                "voice": TEXT,
                "language": Param("string", enum=SPEAK_LANGUAGES),
                "loop": LOOP,
                "payload_type": Param("string", enum=PAYLOAD_TYPES),
                "service_level": Param("string", enum=SERVICE_LEVELS),
                "stop": STRING,
                "target_legs": Param("string", enum=("self", "opposite", "both")),
                "voice_settings": VOICE_SETTINGS,
            },
            required=("payload", "voice"),
            source=f"{REFERENCE} (required) and {PUBLIC_REFERENCE} (optional)",
        ),
        CommandDefinition(
            action="playback_start",
            summary="Play an audio file (URL, stored media or base64 content) on the call.",
            webhooks=("call.playback.started", "call.playback.ended"),
            params={
                **COMMON,
                "audio_type": Param("string", enum=("mp3", "wav")),
                "audio_url": URL,
                "cache_audio": BOOLEAN,
                "loop": LOOP,
                "media_name": TEXT,
                "overlay": BOOLEAN,
                "playback_content": TEXT,
                "stop": STRING,
                "target_legs": STRING,
            },
            exclusive=(("audio_url", "media_name", "playback_content"),),
            one_of_required=("audio_url", "media_name", "playback_content"),
            checks=(_overlay_targets_self,),
            source=f"{REFERENCE} (required) and {PUBLIC_REFERENCE} (optional)",
        ),
        CommandDefinition(
            action="playback_stop",
            summary="Stop audio playing on the call.",
            webhooks=("call.playback.ended",),
            params={**COMMON, "overlay": BOOLEAN, "stop": STRING},
            source=PUBLIC_REFERENCE,
        ),
        CommandDefinition(
            action="transfer",
            summary="Dial a new destination and bridge the caller to it when it answers.",
            webhooks=("call.initiated", "call.bridged", "call.answered", "call.hangup"),
            params={
                **COMMON,
                "to": TEXT,
                "answering_machine_detection": Param(
                    "string",
                    enum=(
                        "premium",
                        "detect",
                        "detect_beep",
                        "detect_words",
                        "greeting_end",
                        "disabled",
                    ),
                ),
                "answering_machine_detection_config": OBJECT,
                "audio_url": URL,
                "custom_headers": HEADERS,
                "early_media": BOOLEAN,
                "from": TEXT,
                "from_display_name": Param("string", max_length=128),
                "media_encryption": Param("string", enum=("disabled", "SRTP", "DTLS")),
                "media_name": TEXT,
                "mute_dtmf": Param("string", enum=("none", "both", "self", "opposite")),
                "park_after_unbridge": STRING,
                **RECORDING,
                "sip_auth_password": Param("string", secret=True),
                "sip_auth_username": STRING,
                "sip_headers": HEADERS,
                "sip_transport_protocol": Param("string", enum=("UDP", "TCP", "TLS")),
                "sound_modifications": OBJECT,
                "target_leg_client_state": CLIENT_STATE,
                "time_limit_secs": Param("integer", positive=True, maximum=14400),
                "timeout_secs": Param("integer", minimum=5, maximum=600),
                **WEBHOOK_OVERRIDE,
            },
            required=("to",),
            exclusive=(("audio_url", "media_name"),),
            source=f"{REFERENCE} (required) and {PUBLIC_REFERENCE} (optional)",
        ),
        CommandDefinition(
            action="hangup",
            summary="Hang up the call.",
            webhooks=("call.hangup",),
            params={**COMMON, "custom_headers": HEADERS},
            source=PUBLIC_REFERENCE,
        ),
    ]
}

ACTIONS = tuple(COMMANDS)


# --- validation -----------------------------------------------------------------------------

_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
}


def _is_type(value, type_name):
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "number":
        return (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        )
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "object":
        return isinstance(value, Mapping)
    if type_name == "array":
        return isinstance(value, list | tuple)
    raise AssertionError(type_name)


def _check_value(action, path, value, spec):
    types = spec.type if isinstance(spec.type, tuple) else (spec.type,)
    matched = next((name for name in types if _is_type(value, name)), None)
    if matched is None:
        expected = " or ".join(_TYPE_NAMES[name] for name in types)
        raise CommandValidationError(
            action, path, f"must be {expected}, not {_describe_type(value)}", "type"
        )
    if spec.enum and value not in spec.enum:
        raise CommandValidationError(
            action, path, f"must be one of {', '.join(map(str, spec.enum))}; got {value!r}", "enum"
        )
    if matched in ("integer", "number"):
        if spec.positive and value <= 0:
            raise CommandValidationError(
                action, path, f"must be positive (greater than 0), got {value}", "positive"
            )
        if spec.minimum is not None and value < spec.minimum:
            raise CommandValidationError(
                action, path, f"must be at least {spec.minimum:g}, got {value}", "minimum"
            )
        if spec.maximum is not None and value > spec.maximum:
            raise CommandValidationError(
                action, path, f"must be at most {spec.maximum:g}, got {value}", "maximum"
            )
    if matched == "string":
        if spec.non_empty and not value.strip():
            raise CommandValidationError(action, path, "must not be empty", "empty")
        if spec.max_length is not None and len(value) > spec.max_length:
            raise CommandValidationError(
                action,
                path,
                f"must be at most {spec.max_length} characters, got {len(value)}",
                "max_length",
            )
    if matched == "array" and spec.items is not None:
        for index, item in enumerate(value):
            _check_value(action, f"{path}[{index}]", item, spec.items)
    if matched == "object":
        _check_object(action, path, value, spec)
    if spec.check is not None:
        problem = spec.check(value)
        if problem:
            code, rule = problem
            raise CommandValidationError(action, path, rule, code)


def _check_object(action, path, value, spec):
    if spec.by_type is not None:
        kind = value.get("type")
        if kind is None:
            raise CommandValidationError(action, f"{path}.type", "is required", "required")
        if kind not in spec.by_type:
            raise CommandValidationError(
                action,
                f"{path}.type",
                f"must be one of {', '.join(spec.by_type)}; got {kind!r}",
                "enum",
            )
        spec = spec.by_type[kind]
    for name in spec.required:
        if value.get(name) is None:
            raise CommandValidationError(action, f"{path}.{name}", "is required", "required")
    for name, field_spec in (spec.fields or {}).items():
        if name in value and value[name] is not None:
            _check_value(action, f"{path}.{name}", value[name], field_spec)


def _describe_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return type(value).__name__


def get_spec(action):
    """The CommandDefinition for ``action``; CommandValidationError for an unknown one."""
    try:
        return COMMANDS[action]
    except (KeyError, TypeError):
        raise CommandValidationError(
            str(action),
            "action",
            f"is not a supported command (supported: {', '.join(ACTIONS)})",
            "unknown_action",
        ) from None


def validate(action, params):
    """Check ``params`` for ``action`` and return the body to send (``None`` values dropped).

    Raises CommandValidationError naming the parameter and the rule it breaks.
    """
    spec = get_spec(action)
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise CommandValidationError(
            action, "params", f"must be a dict, not {_describe_type(params)}", "type"
        )
    body = {key: value for key, value in params.items() if value is not None}
    for name in body:
        if name not in spec.params:
            raise CommandValidationError(
                action,
                str(name),
                f"is not a parameter of {action} (known: {', '.join(sorted(spec.params))})",
                "unknown",
            )
    for name in spec.required:
        if name not in body:
            raise CommandValidationError(action, name, "is required", "required")
    if spec.one_of_required and not any(name in body for name in spec.one_of_required):
        raise CommandValidationError(
            action,
            "/".join(spec.one_of_required),
            f"one of {', '.join(spec.one_of_required)} is required",
            "one_of_required",
        )
    for name, value in body.items():
        _check_value(action, name, value, spec.params[name])
    for group in spec.exclusive:
        present = [name for name in group if name in body]
        if len(present) > 1:
            raise CommandValidationError(
                action,
                present[1],
                f"cannot be used together with {present[0]}",
                "exclusive",
            )
    for check in spec.checks:
        check(action, body)
    return body


# --- redaction ------------------------------------------------------------------------------

_SECRET_NAME = re.compile(r"api[_-]?key|token|secret|password|passwd|authorization", re.I)


def _is_secret_name(name):
    return bool(_SECRET_NAME.search(str(name)))


def _redact(value, spec, *, header_values=False):
    if isinstance(value, Mapping):
        fields = {}
        if spec is not None:
            fields = dict(spec.fields or {})
            if spec.by_type is not None and value.get("type") in spec.by_type:
                fields = dict(spec.by_type[value["type"]].fields or {})
        out = {}
        is_header = set(value) >= {"name", "value"}
        for key, item in value.items():
            field_spec = fields.get(key)
            secret_header = (
                key == "value"
                and is_header
                and (header_values or _is_secret_name(value.get("name", "")))
            )
            secret = field_spec is not None and field_spec.secret
            if secret or secret_header or _is_secret_name(key):
                out[key] = REDACTED
            elif key == "headers" and isinstance(item, list | tuple):
                # An assistant webhook tool's headers are sent to a third party: typically
                # credentials, so every value is dropped.
                out[key] = [_redact(header, None, header_values=True) for header in item]
            else:
                out[key] = _redact(item, field_spec)
        return out
    if isinstance(value, list | tuple):
        items = spec.items if spec is not None else None
        return [_redact(item, items, header_values=header_values) for item in value]
    return value


def redact_body(action, params):
    """A copy of a command body safe to store or log: secrets replaced by ``[REDACTED]``.

    Drops the values of keys named like api_key / token / secret / password / authorization,
    parameters marked secret (``transfer.sip_auth_password``), every header value of assistant
    webhook tools, and SIP header values whose name looks secret. The input is not modified.
    """
    spec = COMMANDS.get(action)
    fields = spec.params if spec is not None else {}
    return _redact(dict(params or {}), Param("object", fields=fields))
