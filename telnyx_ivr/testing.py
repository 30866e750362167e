"""Helpers for testing code built on telnyx_ivr, in this project and in host projects.

``WebhookSigner`` signs exactly the bytes it sends with a throwaway Ed25519 key, the way
Telnyx does, so tests exercise real verification rather than switching it off::

    signer = WebhookSigner()
    with override_settings(TELNYX_IVR={"PUBLIC_KEYS": [signer.public_key]}):
        url = reverse("telnyx_ivr:webhook")  # wherever the host mounted telnyx_ivr.urls
        response = signer.post(client, url, event_body("call.initiated"))

``SignedWebhooks`` does the same for this site's webhook URL; the pytest plugin's
``telnyx_webhook`` fixture gives one whose key the site trusts for the test.
"""

import base64
import json
import time
import uuid
from datetime import UTC, datetime

from django.urls import reverse
from nacl.signing import SigningKey

from .telnyx.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER


class WebhookSigner:
    def __init__(self, signing_key=None):
        self.signing_key = signing_key or SigningKey.generate()

    @property
    def public_key(self):
        """The base64 public key to put in ``TELNYX_IVR["PUBLIC_KEYS"]``."""
        return base64.b64encode(bytes(self.signing_key.verify_key)).decode("ascii")

    def sign(self, body, timestamp=None):
        """Return the headers Telnyx would send with ``body`` (bytes) at ``timestamp``."""
        timestamp = str(int(time.time()) if timestamp is None else timestamp)
        signed = self.signing_key.sign(timestamp.encode("ascii") + b"|" + body)
        return {
            SIGNATURE_HEADER: base64.b64encode(signed.signature).decode("ascii"),
            TIMESTAMP_HEADER: timestamp,
        }

    def post(self, client, url, body, timestamp=None, **extra):
        """POST ``body`` (bytes, or a dict serialised once) signed, with Django's test client."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        headers = self.sign(raw, timestamp)
        return client.post(url, data=raw, content_type="application/json", headers=headers, **extra)


class SignedWebhooks:
    """Posts webhooks signed by ``signer`` to this site's webhook URL with a Django test client."""

    def __init__(self, client, signer=None):
        self.client = client
        self.signer = signer or WebhookSigner()

    @property
    def url(self):
        """The webhook's path on this site, wherever ``telnyx_ivr.urls`` is mounted."""
        return reverse("telnyx_ivr:webhook")

    def post(self, body, timestamp=None, **extra):
        """POST ``body`` (bytes, or a dict serialised once) signed at ``timestamp``."""
        return self.signer.post(self.client, self.url, body, timestamp, **extra)


def event_body(event_type, payload=None, *, event_id=None, attempt=1, occurred_at=None):
    """A webhook envelope shaped like Telnyx's, for tests."""
    occurred_at = occurred_at or datetime.now(UTC)
    return envelope(
        event_type,
        payload if payload is not None else {},
        event_id=event_id or str(uuid.uuid4()),
        occurred_at=occurred_at.isoformat().replace("+00:00", "Z"),
        attempt=attempt,
        delivered_to="http://127.0.0.1/telnyx/webhook/",
    )


def envelope(event_type, payload, *, event_id, occurred_at, attempt, delivered_to, data_extra=None):
    """The full webhook body: ``{"data": {...}, "meta": {"attempt", "delivered_to"}}``."""
    data = {
        "record_type": "event",
        "event_type": event_type,
        "id": event_id,
        "occurred_at": occurred_at,
        **(data_extra or {}),
        "payload": payload,
    }
    return {"data": data, "meta": {"attempt": attempt, "delivered_to": delivered_to}}
