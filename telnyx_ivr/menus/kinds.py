"""What each node kind holds and which route outcomes it can take (docs/menu-format.md)."""

import re

# What Telnyx takes: text of at most 3000 characters, numbers in E.164, SIP addresses.
TEXT_LIMIT = 3000
E164 = re.compile(r"^\+[1-9][0-9]{1,14}\Z")
TRANSFER_ADDRESS = re.compile(r"^(\+[1-9][0-9]{1,14}|sips?:[^\s@]+@\S+)\Z")

DTMF_KINDS = frozenset({"speak_menu", "audio_menu", "gather"})
# Nodes whose variable (``save_as``) gets a value: the digits, or an AI gather's result.
SAVING_KINDS = DTMF_KINDS | {"ai_gather"}
# Nodes that end the menu: they take no routes.
TERMINAL_KINDS = frozenset({"transfer", "hangup"})
# Nodes decided in the app the moment a call reaches them: no command, no waiting.
ROUTING_KINDS = frozenset({"schedule", "condition"})
# Nodes that never wait for the caller: a loop made only of these would never stop.
NON_STOPPING_KINDS = frozenset({"announcement"}) | ROUTING_KINDS

BUILTIN_VARIABLES = frozenset({"caller_number", "called_number"})

# Each kind in the admin's words: what it does, for the kind's choices...
KIND_LABELS = {
    "speak_menu": "Menu: caller presses a key (menu read out by text-to-speech)",
    "audio_menu": "Menu: caller presses a key (menu played from a recording)",
    "gather": "Caller types a number (an account or PIN)",
    "ai_gather": "AI: collect details by voice",
    "ai_assistant": "AI: a voice assistant talks with the caller",
    "announcement": "Say a message, then go on",
    "transfer": "Transfer the call to a number or SIP address",
    "hangup": "Hang up (after an optional goodbye)",
    "schedule": "Office hours: one way when open, another when closed",
    "condition": "Check a detail (an answer, the caller's number, an earlier call)",
}
# ... as a noun, for sentences ("A hang-up node needs a prompt.") and the dashboards...
KIND_NAMES = {
    "speak_menu": "spoken key menu",
    "audio_menu": "recorded key menu",
    "gather": "key entry",
    "ai_gather": "AI question",
    "ai_assistant": "AI assistant",
    "announcement": "announcement",
    "transfer": "transfer",
    "hangup": "hang-up",
    "schedule": "office-hours check",
    "condition": "check",
}


def a_kind(kind, *, start=False):
    """ "a hang-up", "an AI question": the kind's noun with its article ("A", "An" to
    ``start`` a sentence)."""
    name = KIND_NAMES.get(kind, kind)
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"{article.capitalize() if start else article} {name}"


# ... and the Telnyx command it sends, for those who know the API.
KIND_COMMANDS = {
    "speak_menu": "gather_using_speak",
    "audio_menu": "gather_using_audio",
    "gather": "gather",
    "ai_gather": "gather_using_ai",
    "ai_assistant": "ai_assistant_start",
    "announcement": "speak or playback_start",
    "transfer": "transfer",
    "hangup": "hangup",
    "schedule": "none: decided by the app, from the schedule",
    "condition": "none: decided by the app",
}

# The API's defaults for the DTMF digit rules (gather / gather_using_speak / gather_using_audio).
DIGIT_DEFAULTS = {
    "minimum_digits": 1,
    "maximum_digits": 128,
    "valid_digits": "0123456789#*",
    "terminating_digit": "#",
    "timeout_millis": 60000,
    "inter_digit_timeout_millis": 5000,
    "initial_timeout_millis": None,
    "maximum_tries": 3,
}
DIGIT_FIELDS = tuple(DIGIT_DEFAULTS)
DTMF_CHARACTERS = "0123456789#*ABCD"

AI_GATHER_FIELDS = (
    "ai_schema",
    "greeting",
    "assistant",
    "voice",
    "voice_settings",
    "language",
    "transcription",
    "interruption_settings",
    "user_response_timeout_ms",
    "send_partial_results",
    "send_message_history_updates",
    "message_history",
    "gather_ended_speech",
)
AI_ASSISTANT_FIELDS = (
    "assistant",
    "greeting",
    "voice",
    "voice_settings",
    "transcription",
    "interruption_settings",
)

# Keys of each kind's node object in the definition, besides kind, name, routes and save_as.
DEFINITION_FIELDS = {
    "speak_menu": ("prompt", "invalid_prompt", "no_input_prompt", "digits"),
    "audio_menu": ("prompt", "invalid_prompt", "no_input_prompt", "digits"),
    "gather": ("invalid_prompt", "no_input_prompt", "digits"),
    "ai_gather": AI_GATHER_FIELDS,
    "ai_assistant": AI_ASSISTANT_FIELDS,
    "announcement": ("prompt",),
    "transfer": ("to", "from", "timeout_secs"),
    "hangup": ("prompt",),
    "schedule": ("schedule",),
    "condition": (),
}

# Node model fields used by each kind; every other kind-specific field must stay empty.
MODEL_FIELDS = {
    "speak_menu": ("prompt", "invalid_prompt", "no_input_prompt", *DIGIT_FIELDS),
    "audio_menu": ("prompt", "invalid_prompt", "no_input_prompt", *DIGIT_FIELDS),
    "gather": ("invalid_prompt", "no_input_prompt", *DIGIT_FIELDS),
    "ai_gather": AI_GATHER_FIELDS,
    "ai_assistant": AI_ASSISTANT_FIELDS,
    "announcement": ("prompt",),
    "transfer": ("to", "from_number", "timeout_secs"),
    "hangup": ("prompt",),
    "schedule": ("schedule",),
    "condition": (),
}
KIND_SPECIFIC_MODEL_FIELDS = tuple(
    dict.fromkeys(field for fields in MODEL_FIELDS.values() for field in fields)
)

# Route outcomes (``when``) each kind can produce.
ROUTE_WHENS = {
    "speak_menu": ("digits", "invalid", "no_input", "default"),
    "audio_menu": ("digits", "invalid", "no_input", "default"),
    "gather": ("digits", "invalid", "no_input", "default"),
    "ai_gather": ("valid", "invalid", "default"),
    "ai_assistant": ("default",),
    "announcement": ("error", "default"),
    "transfer": (),
    "hangup": (),
    # A holiday takes the closed route when the node has no holiday route of its own.
    "schedule": ("open", "closed", "holiday", "default"),
    # ``match`` routes are tried in order, each with its conditions; ``default`` otherwise.
    "condition": ("match", "default"),
}

# A route's conditions (``valid`` routes of an AI question, ``match`` routes of a check):
# the operator, and what its value must be (docs/menu-format.md).
CONDITION_OPS = {
    "equals": "any",
    "one_of": "list",
    "starts_with": "text",
    "less_than": "number",
    "at_most": "number",
    "greater_than": "number",
    "at_least": "number",
    "is_set": "none",
    "called_within_days": "days",
}
# Operators that read no field: what they test is the call itself.
FIELDLESS_OPS = frozenset({"called_within_days"})

# Which prompt kind a node's main ``prompt`` must be (None: either).
PROMPT_KIND = {"speak_menu": "tts", "audio_menu": "audio", "announcement": None, "hangup": None}
PROMPT_REQUIRED = frozenset({"speak_menu", "audio_menu", "announcement"})
