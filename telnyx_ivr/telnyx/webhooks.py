"""Parse a verified webhook body into the fields we index. Lenient on purpose: real payloads
carry fields the docs omit, and unknown event types are stored like any other."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import client_state as client_state_codec


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
    body: dict


def parse_event(raw_body):
    try:
        body = json.loads(raw_body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedEvent(f"body is not JSON: {exc}") from None
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
        state = client_state_codec.decode(raw_state)
    except client_state_codec.ClientStateError:
        state = None
    return ParsedEvent(
        event_id=event_id,
        event_type=event_type,
        occurred_at=_parse_time(data.get("occurred_at")),
        attempt=attempt if isinstance(attempt, int) and attempt > 0 else 1,
        call_control_id=_text(payload.get("call_control_id")),
        call_session_id=_text(payload.get("call_session_id")),
        call_leg_id=_text(payload.get("call_leg_id")),
        client_state=state,
        client_state_raw=raw_state,
        body=body,
    )


def _text(value):
    return value[:255] if isinstance(value, str) else ""


def _parse_time(value):
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed
