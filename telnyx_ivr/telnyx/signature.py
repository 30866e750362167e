"""Ed25519 webhook signatures, exactly as Telnyx signs them.

The signed message is the ``telnyx-timestamp`` header text as received, ``|``, then the raw
body bytes as received. Never verify re-serialised JSON: any change of whitespace or key
order breaks the signature, which is the point.
"""

import base64
import binascii
import time
from dataclasses import dataclass

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
SIGNATURE_BYTES = 64
PUBLIC_KEY_BYTES = 32


class SignatureError(Exception):
    """The delivery cannot be shown to come from Telnyx.

    ``status`` is the HTTP status to answer with: 400 for a malformed request, 403 for one
    that is well-formed but not signed by a configured key. Neither is retried by Telnyx.
    """

    def __init__(self, message, status=403):
        super().__init__(message)
        self.status = status


class InvalidPublicKey(ValueError):
    pass


def load_public_key(key_b64):
    """Decode one base64 public key from settings; raise InvalidPublicKey saying why."""
    try:
        raw = base64.b64decode(key_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidPublicKey(f"not valid base64 ({exc})") from None
    if len(raw) != PUBLIC_KEY_BYTES:
        raise InvalidPublicKey(f"decodes to {len(raw)} bytes; an Ed25519 key is 32")
    return VerifyKey(raw)


@dataclass(frozen=True)
class VerifiedDelivery:
    timestamp: int
    key_index: int  # which configured key verified it (useful while rotating keys)


def verify(*, body, signature_header, timestamp_header, public_keys, tolerance, now=None):
    """Check a delivery's signature and timestamp; return VerifiedDelivery or raise SignatureError.

    ``public_keys`` are base64 strings; any one of them may have signed the delivery.
    """
    if not signature_header:
        raise SignatureError(f"missing {SIGNATURE_HEADER} header", status=400)
    if not timestamp_header:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} header", status=400)
    if not timestamp_header.isascii() or not timestamp_header.isdigit():
        raise SignatureError(f"{TIMESTAMP_HEADER} is not a Unix time in seconds", status=400)
    timestamp = int(timestamp_header)
    now = time.time() if now is None else now
    skew = now - timestamp
    if abs(skew) > tolerance:
        when = "old" if skew > 0 else "in the future"
        raise SignatureError(
            f"{TIMESTAMP_HEADER} is {abs(int(skew))} s {when}; the tolerance is {tolerance} s"
        )
    try:
        signature = base64.b64decode(signature_header, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{SIGNATURE_HEADER} is not valid base64", status=400) from None
    if len(signature) != SIGNATURE_BYTES:
        raise SignatureError(
            f"{SIGNATURE_HEADER} decodes to {len(signature)} bytes; an Ed25519 signature is 64",
            status=400,
        )
    message = timestamp_header.encode("ascii") + b"|" + body
    for index, key_b64 in enumerate(public_keys):
        try:
            load_public_key(key_b64).verify(message, signature)
        except InvalidPublicKey:
            continue  # reported by system check telnyx_ivr.E002; another key may still match
        except BadSignatureError:
            continue
        return VerifiedDelivery(timestamp=timestamp, key_index=index)
    raise SignatureError("signature does not match the body under any configured public key")
