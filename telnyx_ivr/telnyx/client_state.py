"""``client_state``: base64 text that Telnyx echoes back on every webhook a command causes.

The engine keeps a small JSON object there (which call, node and step caused the command).
"""

import base64
import binascii
import json

# Telnyx does not publish a limit; keep the state small so it never becomes the problem.
MAX_ENCODED_LENGTH = 4096


class ClientStateError(ValueError):
    pass


def encode(state):
    """Encode a JSON-serialisable dict as compact base64 JSON for ``client_state``."""
    if not isinstance(state, dict):
        raise ClientStateError(
            f"client_state must be built from a dict, not {type(state).__name__}"
        )
    text = json.dumps(state, separators=(",", ":"), sort_keys=True)
    encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
    if len(encoded) > MAX_ENCODED_LENGTH:
        raise ClientStateError(
            f"client_state is {len(encoded)} characters encoded; keep it under {MAX_ENCODED_LENGTH}"
        )
    return encoded


def decode(value):
    """Decode ``client_state`` from a webhook.

    Returns the decoded JSON value, the decoded text when it is base64 but not JSON, or None
    when it is empty. Raises ClientStateError when it is not base64 at all.
    """
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ClientStateError(f"client_state is a {type(value).__name__}, not base64 text")
    try:
        raw = base64.b64decode(value, validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise ClientStateError(f"client_state is not base64 UTF-8 text: {exc}") from None
    try:
        return json.loads(text)
    except ValueError:
        return text


def is_base64(value):
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError, TypeError):
        return False
    return True
