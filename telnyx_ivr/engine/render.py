"""Turning prompts and nodes of a menu definition into Telnyx command parameters.

Prompt text is a Django template rendered with the call's variables by a standalone
``django.template.Engine`` (no TEMPLATES setting involved): plain text is rendered without
escaping, SSML with every value XML-escaped so a caller's data cannot break the markup.
Missing variables render as empty text.
"""

import re
from xml.sax.saxutils import escape as xml_escape

from django.template import Context, TemplateSyntaxError

from ..menus import kinds
from ..menus.kinds import DIGIT_DEFAULTS
from ..menus.variables import prompt_engine

# Sent by every gather command; gather_using_speak/audio take no initial_timeout_millis.
_COMMON_DIGIT_PARAMS = (
    "minimum_digits",
    "maximum_digits",
    "valid_digits",
    "terminating_digit",
    "timeout_millis",
    "inter_digit_timeout_millis",
)
# Telnyx requires a voice for speak; used only when neither prompt nor menu names one.
FALLBACK_VOICE = "female"

# The definition's AI fields that go to Telnyx as they are (``ai_schema`` becomes ``parameters``).
AI_GATHER_FIELDS = tuple(name for name in kinds.AI_GATHER_FIELDS if name != "ai_schema")
AI_ASSISTANT_FIELDS = kinds.AI_ASSISTANT_FIELDS
# Free text the caller hears: rendered with the call's variables like prompt text.
_AI_RENDERED_FIELDS = ("greeting", "gather_ended_speech")

_SPEAK_OPEN = re.compile(r"^\s*<speak\b[^>]*>", re.IGNORECASE)
_SPEAK_CLOSE = re.compile(r"</speak>\s*$", re.IGNORECASE)


class MenuError(ValueError):
    """The menu definition lacks something a node needs (a prompt, a schema, a node)."""


def render_text(text, variables, *, ssml=False):
    """Render template ``text`` with ``variables``; XML-escape the values when ``ssml``.

    Text that is not a valid template is spoken as written rather than failing the call.
    """
    if not text:
        return ""
    try:
        template = prompt_engine().from_string(text)
    except TemplateSyntaxError:
        return text
    return template.render(Context(dict(variables or {}), autoescape=ssml))


def get_prompt(menu, key, kind=None):
    """The prompt ``key`` of ``menu``, checked to be of ``kind`` when given."""
    prompt = (menu.get("prompts") or {}).get(key)
    if not isinstance(prompt, dict):
        raise MenuError(f"prompt {key!r} is not in the menu")
    if kind is not None and prompt.get("kind") != kind:
        raise MenuError(f"prompt {key!r} is a {prompt.get('kind')!r} prompt, not {kind!r}")
    return prompt


def tts_params(menu, prompt, variables):
    """``payload``, ``payload_type``, ``voice``, ``language``, ``service_level`` and
    ``voice_settings`` for a tts prompt, falling back to the menu's defaults; nulls left out."""
    defaults = menu.get("menu") or {}
    payload_type = prompt.get("payload_type") or "text"
    params = {
        "payload": render_text(prompt.get("text"), variables, ssml=payload_type == "ssml"),
        "payload_type": payload_type,
        "voice": prompt.get("voice") or defaults.get("voice") or FALLBACK_VOICE,
        "language": prompt.get("language") or defaults.get("language"),
        "service_level": prompt.get("service_level") or defaults.get("service_level"),
        "voice_settings": prompt.get("voice_settings"),
    }
    return {name: value for name, value in params.items() if value is not None}


def audio_params(prompt):
    """``audio_url`` or ``media_name`` of an audio prompt."""
    if prompt.get("audio_url"):
        return {"audio_url": prompt["audio_url"]}
    if prompt.get("media_name"):
        return {"media_name": prompt["media_name"]}
    raise MenuError("audio prompt has neither audio_url nor media_name")


def announce_command(menu, prompt_key, variables):
    """``(action, params)`` that plays a prompt once: ``speak`` or ``playback_start``."""
    prompt = get_prompt(menu, prompt_key)
    if prompt.get("kind") == "tts":
        return "speak", tts_params(menu, prompt, variables)
    if prompt.get("kind") == "audio":
        return "playback_start", audio_params(prompt)
    raise MenuError(f"prompt {prompt_key!r} has unknown kind {prompt.get('kind')!r}")


def digit_rules(node):
    """The node's ``digits`` with the API defaults filled in."""
    rules = dict(DIGIT_DEFAULTS)
    rules.update({k: v for k, v in (node.get("digits") or {}).items() if v is not None})
    return rules


def max_tries(node):
    """How many times the engine asks (at least once)."""
    try:
        value = int(digit_rules(node)["maximum_tries"])
    except (TypeError, ValueError):
        value = DIGIT_DEFAULTS["maximum_tries"]
    return max(value, 1)


def gather_digit_params(node, action):
    """The digit rules in the form ``action`` takes. Telnyx is always told one try: the
    engine counts tries itself so invalid input and no input get their own prompts."""
    rules = digit_rules(node)
    params = {name: rules[name] for name in _COMMON_DIGIT_PARAMS}
    if action == "gather":
        # Plain gather has no prompt and no maximum_tries (one try is all it does).
        if rules["initial_timeout_millis"] is not None:
            params["initial_timeout_millis"] = rules["initial_timeout_millis"]
    else:
        params["maximum_tries"] = 1
    return params


def gather_command(menu, node, variables, *, retry_prompt_key=None):
    """``(action, params)`` for a DTMF node's gather. For a ``speak_menu`` with a tts
    ``retry_prompt_key`` the retry text is spoken first, in the same command."""
    kind = node.get("kind")
    if kind == "speak_menu":
        params = tts_params(menu, get_prompt(menu, node.get("prompt"), "tts"), variables)
        if retry_prompt_key:
            retry = tts_params(menu, get_prompt(menu, retry_prompt_key, "tts"), variables)
            params.update(_join_payloads(retry, params))
        return "gather_using_speak", params | gather_digit_params(node, "gather_using_speak")
    if kind == "audio_menu":
        params = audio_params(get_prompt(menu, node.get("prompt"), "audio"))
        return "gather_using_audio", params | gather_digit_params(node, "gather_using_audio")
    if kind == "gather":
        return "gather", gather_digit_params(node, "gather")
    raise MenuError(f"node kind {kind!r} does not gather digits")


def _join_payloads(first, second):
    """One payload saying ``first`` then ``second``; SSML when either of them is."""
    if first["payload_type"] == "text" and second["payload_type"] == "text":
        return {"payload": f"{first['payload']} {second['payload']}", "payload_type": "text"}
    inner = " ".join(_ssml_inner(part) for part in (first, second))
    return {"payload": f"<speak>{inner}</speak>", "payload_type": "ssml"}


def _ssml_inner(params):
    if params["payload_type"] != "ssml":
        return xml_escape(params["payload"])
    return _SPEAK_CLOSE.sub("", _SPEAK_OPEN.sub("", params["payload"])).strip()


def ai_gather_params(menu, node, variables):
    """``gather_using_ai`` parameters: the schema as ``parameters`` plus the node's non-null
    AI fields (greeting and gather_ended_speech rendered with the call's variables)."""
    schema_key = node.get("ai_schema")
    schema = (menu.get("ai_schemas") or {}).get(schema_key)
    if not isinstance(schema, dict) or not isinstance(schema.get("schema"), dict):
        raise MenuError(f"AI schema {schema_key!r} is not in the menu")
    params = {"parameters": schema["schema"]}
    params.update(_ai_fields(node, AI_GATHER_FIELDS, variables))
    return params


def ai_assistant_params(node, variables):
    """``ai_assistant_start`` parameters: the node's non-null assistant fields."""
    return _ai_fields(node, AI_ASSISTANT_FIELDS, variables)


def _ai_fields(node, names, variables):
    params = {}
    for name in names:
        value = node.get(name)
        if value is None:
            continue
        if name in _AI_RENDERED_FIELDS and isinstance(value, str):
            value = render_text(value, variables)
        params[name] = value
    return params
