"""Parse a verified webhook body into the fields we index. Lenient on purpose: real payloads
carry fields the docs omit, and unknown event types are stored like any other.

Only Telnyx can sign a body, but a signed body that the app cannot store must not come back as
a 500, which Telnyx retries for ever. So every signed body is either made storable here or
refused with a ``MalformedEvent`` that names why (a 4xx, which Telnyx does not retry): it must
be UTF-8 JSON (as Telnyx sends), nested at most ``MAX_DEPTH`` levels; values no database can
hold are replaced in the parsed copy (the raw text is kept exactly as signed).
"""

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from . import client_state as client_state_codec

MAX_DEPTH = 64
INT32_MAX = 2**31 - 1
# Text PostgreSQL cannot store (NUL) or UTF-8 cannot encode (a lone surrogate).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


class MalformedEvent(ValueError):
    """The body is signed but is not a Telnyx event envelope we can store."""


@dataclass(frozen=True)
class ParsedEvent:
    event_id: str
    event_type: str
    occurred_at: datetime | None
    attempt: int
    call_control_id: str
    call_session_id: str
    call_leg_id: str
    client_state: Any  # decoded value, or None
    client_state_raw: str  # as received, kept when it is not valid base64
    body: dict  # the parsed body, made storable
    raw_text: str = ""  # the body exactly as signed


def parse_event(raw_body):
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedEvent(
            f"body is not UTF-8 text (byte {raw_body[exc.start]:#04x} at position {exc.start}); "
            "Telnyx sends UTF-8 JSON"
        ) from None
    try:
        body = json.loads(text, parse_constant=_as_text, parse_float=_finite_or_text)
    except RecursionError:
        raise MalformedEvent(f"body is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise MalformedEvent(f"body is not JSON: {exc}") from None
    body = storable(body)
    if not isinstance(body, dict):
        raise MalformedEvent(f"body is a JSON {type(body).__name__}, not an object")
    data = body.get("data")
    if not isinstance(data, dict):
        raise MalformedEvent("body has no data object")
    event_id = data.get("id")
    if not isinstance(event_id, str) or not event_id.strip():
        raise MalformedEvent("data.id is missing or not a string")
    if len(event_id) > 255:
        raise MalformedEvent("data.id is longer than 255 characters")
    event_type = data.get("event_type")
    if not isinstance(event_type, str) or not event_type.strip():
        raise MalformedEvent("data.event_type is missing or not a string")
    if len(event_type) > 100:
        raise MalformedEvent("data.event_type is longer than 100 characters")
    payload = data.get("payload")
    if not isinstance(payload, dict):
        payload = {}
    meta = body.get("meta")
    attempt = meta.get("attempt") if isinstance(meta, dict) else None
    raw_state = payload.get("client_state")
    raw_state = raw_state if isinstance(raw_state, str) else ""
    try:
        state = storable(client_state_codec.decode(raw_state))
    except client_state_codec.ClientStateError:
        state = None
    except MalformedEvent:  # a client_state nested absurdly deep is not ours: keep it raw
        state = None
    good_attempt = type(attempt) is int and 0 < attempt <= INT32_MAX
    return ParsedEvent(
        event_id=event_id,
        event_type=event_type,
        occurred_at=_parse_time(data.get("occurred_at")),
        attempt=attempt if good_attempt else 1,
        call_control_id=_text(payload.get("call_control_id")),
        call_session_id=_text(payload.get("call_session_id")),
        call_leg_id=_text(payload.get("call_leg_id")),
        client_state=state,
        client_state_raw=raw_state,
        body=body,
        raw_text=text,
    )


def storable(value):
    """``value`` (parsed JSON) with what a database cannot store replaced: NUL characters and
    lone surrogates in text become U+FFFD, and NaN and infinities become their JSON spelling
    as text (a decoded client_state reaches here as parsed by plain ``json.loads``). Raises
    MalformedEvent past ``MAX_DEPTH`` levels."""
    if not isinstance(value, dict | list):
        return _scalar(value)
    root = [value]
    stack = [(root, 0, value, 1)]  # (container, key, value to copy, depth)
    while stack:
        parent, key, item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise MalformedEvent(f"body is nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            copy = {}
            for name, child in item.items():
                name = _UNSTORABLE.sub(REPLACEMENT, name)
                copy[name] = child
                if isinstance(child, dict | list):
                    stack.append((copy, name, child, depth + 1))
                else:
                    copy[name] = _scalar(child)
        else:
            copy = list(item)
            for index, child in enumerate(item):
                if isinstance(child, dict | list):
                    stack.append((copy, index, child, depth + 1))
                else:
                    copy[index] = _scalar(child)
        parent[key] = copy
    return root[0]


def _scalar(value):
    if isinstance(value, str):
        return _UNSTORABLE.sub(REPLACEMENT, value)
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(value)  # "NaN", "Infinity", "-Infinity", as the body spelled them
    return value


def _as_text(constant):
    """NaN, Infinity and -Infinity are not JSON a database accepts: kept as text."""
    return constant


def _finite_or_text(literal):
    number = float(literal)
    return number if math.isfinite(number) else literal  # 1e999 overflows to infinity


def _text(value):
    return value[:255] if isinstance(value, str) else ""


def _parse_time(value):
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            return None
        parsed.astimezone(UTC)  # year 1 at +14:00 is before the year 1 in UTC
    except (ValueError, OverflowError):
        return None
    return parsed
