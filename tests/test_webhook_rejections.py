"""Every malformed or forged delivery gets a specific 4xx that Telnyx will not retry, a JSON
error naming the problem, a log line with the reason and client address, and no stored event."""

import base64
import json
import logging
import time

import pytest
from nacl.signing import SigningKey

from telnyx_ivr.models import WebhookEvent
from telnyx_ivr.telnyx.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from telnyx_ivr.telnyx.webhooks import MAX_DEPTH
from telnyx_ivr.testing import WebhookSigner, event_body

URL = "/telnyx/webhook/"
NOT_RETRIED_BY_TELNYX = {400, 403, 405, 413}

pytestmark = pytest.mark.django_db


def raw(body):
    return json.dumps(body).encode()


def post(client, body, headers):
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def assert_rejected(response, status, code, text):
    assert response.status_code == status
    assert status in NOT_RETRIED_BY_TELNYX
    content = response.json()
    assert content["error"] == code
    assert text in content["detail"]
    assert WebhookEvent.objects.count() == 0


def test_missing_signature_header(client, signed):
    body = raw(event_body("call.initiated"))
    headers = signed.sign(body)
    del headers[SIGNATURE_HEADER]
    assert_rejected(post(client, body, headers), 400, "malformed_signature", SIGNATURE_HEADER)


def test_missing_timestamp_header(client, signed):
    body = raw(event_body("call.initiated"))
    headers = signed.sign(body)
    del headers[TIMESTAMP_HEADER]
    assert_rejected(post(client, body, headers), 400, "malformed_signature", TIMESTAMP_HEADER)


# The last one is Arabic-Indic digits: str.isdigit() says yes, but it is not a Unix time.
ARABIC_INDIC_1700 = "\u0661\u0667\u0660\u0660"


@pytest.mark.parametrize(
    "timestamp", ["abc", "12.5", "-100", "1e9", " 1700000000", ARABIC_INDIC_1700]
)
def test_non_numeric_timestamp(client, signed, timestamp):
    body = raw(event_body("call.initiated"))
    headers = signed.sign(body)
    headers[TIMESTAMP_HEADER] = timestamp
    assert_rejected(post(client, body, headers), 400, "malformed_signature", "not a Unix time")


@pytest.mark.parametrize(("offset", "words"), [(-301, "s old"), (301, "s in the future")])
def test_timestamp_outside_tolerance(client, signed, offset, words):
    body = raw(event_body("call.initiated"))
    response = post(client, body, signed.sign(body, timestamp=int(time.time()) + offset))
    assert_rejected(response, 403, "invalid_signature", words)


def test_timestamp_tolerance_is_configurable(client, signed, ivr_settings_for):
    ivr_settings_for(TIMESTAMP_TOLERANCE_SECONDS=10)
    body = raw(event_body("call.initiated"))
    response = post(client, body, signed.sign(body, timestamp=int(time.time()) - 30))
    assert_rejected(response, 403, "invalid_signature", "tolerance is 10 s")


def test_signature_not_base64(client, signed):
    body = raw(event_body("call.initiated"))
    headers = signed.sign(body)
    headers[SIGNATURE_HEADER] = "not base64!!"
    assert_rejected(post(client, body, headers), 400, "malformed_signature", "not valid base64")


def test_signature_not_64_bytes(client, signed):
    body = raw(event_body("call.initiated"))
    headers = signed.sign(body)
    headers[SIGNATURE_HEADER] = base64.b64encode(b"x" * 63).decode()
    assert_rejected(post(client, body, headers), 400, "malformed_signature", "63 bytes")


def test_valid_signature_by_another_key(client, signed):
    body = raw(event_body("call.initiated"))
    stranger = WebhookSigner(SigningKey.generate())
    assert_rejected(post(client, body, stranger.sign(body)), 403, "invalid_signature", "match")


def test_body_changed_by_one_byte_after_signing(client, signed):
    body = raw(event_body("call.initiated"))
    headers = signed.sign(body)
    tampered = body.replace(b"call.initiated", b"call.initiatee")
    assert len(tampered) == len(body)
    assert tampered != body
    assert_rejected(post(client, tampered, headers), 403, "invalid_signature", "match")


def test_body_reserialised(client, signed):
    envelope = event_body("call.initiated", {"call_control_id": "v3:x"})
    compact = json.dumps(envelope, separators=(",", ":")).encode()
    pretty = json.dumps(envelope, indent=2).encode()
    assert json.loads(compact) == json.loads(pretty)
    response = post(client, pretty, signed.sign(compact))
    assert_rejected(response, 403, "invalid_signature", "match")


def test_no_public_key_configured_rejects_everything(client, signer, ivr_settings_for):
    ivr_settings_for(PUBLIC_KEYS=[])
    body = raw(event_body("call.initiated"))
    response = post(client, body, signer.sign(body))
    assert_rejected(response, 403, "not_configured", "no Telnyx public key")


@pytest.mark.parametrize(
    ("body", "text"),
    [
        (b"this is not json", "not JSON"),
        (b"\xff\xfe\x00garbage", "not UTF-8 text (byte 0xff at position 0)"),
        ('{"data": {"id": "e-1"}}'.encode("utf-16"), "not UTF-8 text"),
        (b"[" * 100 + b"]" * 100, f"nested deeper than {MAX_DEPTH} levels"),
        (b"[" * 100_000 + b"]" * 100_000, f"nested deeper than {MAX_DEPTH} levels"),
        (b"[1, 2, 3]", "JSON list, not an object"),
        (b'"text"', "JSON str, not an object"),
        (b'{"meta": {}}', "no data object"),
        (b'{"data": []}', "no data object"),
        (b'{"data": {"event_type": "call.initiated"}}', "data.id is missing"),
        (b'{"data": {"id": 7, "event_type": "call.initiated"}}', "data.id is missing"),
        (b'{"data": {"id": "abc"}}', "data.event_type is missing"),
        (b'{"data": {"id": "abc", "event_type": ""}}', "data.event_type is missing"),
    ],
)
def test_signed_but_not_an_event(client, signed, body, text):
    assert_rejected(post(client, body, signed.sign(body)), 400, "malformed_event", text)


def test_body_over_default_limit_is_413(client, signed):
    envelope = event_body("call.initiated", {"padding": "x" * (1024 * 1024)})
    body = raw(envelope)
    assert len(body) > 1024 * 1024
    assert_rejected(post(client, body, signed.sign(body)), 413, "body_too_large", "1048576")


def test_body_limit_is_configurable(client, signed, ivr_settings_for):
    ivr_settings_for(MAX_BODY_BYTES=400)
    small = raw(event_body("call.initiated"))
    big = raw(event_body("call.initiated", {"padding": "x" * 400}))
    assert post(client, small, signed.sign(small)).status_code == 200
    assert_rejected_count = WebhookEvent.objects.count()
    response = post(client, big, signed.sign(big))
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"
    assert WebhookEvent.objects.count() == assert_rejected_count == 1


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_other_methods_are_405(client, signed, method):
    response = getattr(client, method)(URL)
    assert response.status_code == 405
    assert "not allowed" in response.json()["detail"]
    assert WebhookEvent.objects.count() == 0


def test_rejection_is_logged_with_reason_and_address_but_not_body(client, signed, caplog):
    secret_looking = "caller-private-data-1234"
    body = raw(event_body("call.initiated", {"note": secret_looking}))
    headers = signed.sign(body)
    headers[SIGNATURE_HEADER] = base64.b64encode(b"\0" * 64).decode()
    with caplog.at_level(logging.WARNING, logger="telnyx_ivr.webhooks"):
        response = client.post(
            URL,
            data=body,
            content_type="application/json",
            headers=headers,
            REMOTE_ADDR="203.0.113.9",
        )
    assert response.status_code == 403
    messages = [r.getMessage() for r in caplog.records if r.name == "telnyx_ivr.webhooks"]
    assert len(messages) == 1
    assert "203.0.113.9" in messages[0]
    assert "does not match" in messages[0]
    assert secret_looking not in caplog.text
