"""verify() agrees with the reference's rule on vectors this test computes on its own:
message = timestamp header text + b"|" + raw body, Ed25519 over it, keys and signatures base64."""

import base64

import pytest
from nacl.signing import SigningKey

from telnyx_ivr.telnyx.signature import (
    InvalidPublicKey,
    SignatureError,
    load_public_key,
    verify,
)

SEED = bytes(range(32))  # a fixed key, so the vector is reproducible
BODY = b'{"data":{"id":"e1","event_type":"call.initiated","payload":{}},"meta":{"attempt":1}}'
TIMESTAMP = "1795000000"


def vector(body=BODY, timestamp=TIMESTAMP, seed=SEED):
    key = SigningKey(seed)
    signature = key.sign(timestamp.encode() + b"|" + body).signature
    public = base64.b64encode(bytes(key.verify_key)).decode()
    return public, base64.b64encode(signature).decode()


def check(public, signature, *, body=BODY, timestamp=TIMESTAMP, now=1795000000):
    return verify(
        body=body,
        signature_header=signature,
        timestamp_header=timestamp,
        public_keys=[public],
        tolerance=300,
        now=now,
    )


def test_accepts_the_reference_construction():
    public, signature = vector()
    assert check(public, signature).timestamp == 1795000000


def test_the_fixed_vector_is_stable():
    # Ed25519 is deterministic: the same seed and message always give this signature.
    public, signature = vector()
    assert public == "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
    assert len(base64.b64decode(signature)) == 64
    assert vector() == (public, signature)


@pytest.mark.parametrize(
    "message",
    [
        BODY,  # no timestamp
        TIMESTAMP.encode() + BODY,  # no separator
        TIMESTAMP.encode() + b"." + BODY,  # another separator
        BODY + b"|" + TIMESTAMP.encode(),  # reversed
    ],
)
def test_rejects_other_constructions(message):
    key = SigningKey(SEED)
    public = base64.b64encode(bytes(key.verify_key)).decode()
    signature = base64.b64encode(key.sign(message).signature).decode()
    with pytest.raises(SignatureError, match="does not match"):
        check(public, signature)


def test_timestamp_text_is_signed_as_received():
    public, signature = vector(timestamp="01795000000")  # same number, other text
    assert check(public, signature, timestamp="01795000000").timestamp == 1795000000
    with pytest.raises(SignatureError):
        check(public, signature, timestamp=TIMESTAMP)


@pytest.mark.parametrize(("skew", "ok"), [(-300, True), (300, True), (-301, False), (301, False)])
def test_tolerance_boundaries(skew, ok):
    timestamp = str(1795000000 + skew)
    public, signature = vector(timestamp=timestamp)
    if ok:
        check(public, signature, timestamp=timestamp)
    else:
        with pytest.raises(SignatureError, match="tolerance is 300 s"):
            check(public, signature, timestamp=timestamp)


def test_any_of_several_keys():
    public, signature = vector()
    other = base64.b64encode(bytes(SigningKey(b"\1" * 32).verify_key)).decode()
    result = verify(
        body=BODY,
        signature_header=signature,
        timestamp_header=TIMESTAMP,
        public_keys=["not-a-key", other, public],
        tolerance=300,
        now=1795000000,
    )
    assert result.key_index == 2


@pytest.mark.parametrize(
    ("key", "text"),
    [("%%%", "not valid base64"), (base64.b64encode(b"short").decode(), "5 bytes")],
)
def test_bad_public_keys_say_why(key, text):
    with pytest.raises(InvalidPublicKey, match=text):
        load_public_key(key)
