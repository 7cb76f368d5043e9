"""Standard Webhooks signing: the spec's formula, rotation, and every receiver check."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from cockpit.errors import ValidationFailed
from cockpit.webhooks.signing import (
    SignatureError,
    generate_secret,
    secret_key,
    sign,
    signed_headers,
    verify,
)

# The example of the Standard Webhooks reference libraries (secret, id, timestamp, body).
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def by_formula(secret: str, msg_id: str, ts: int, body: bytes) -> str:
    """The spec's formula written out here, independently of the module under test."""
    key = base64.b64decode(secret.split("_", 1)[1])
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def test_known_answer_vector() -> None:
    assert by_formula(SPEC_SECRET, SPEC_ID, SPEC_TS, SPEC_BODY) == SPEC_SIGNATURE
    assert sign(SPEC_SECRET, msg_id=SPEC_ID, timestamp=SPEC_TS, body=SPEC_BODY) == SPEC_SIGNATURE
    headers = signed_headers([SPEC_SECRET], msg_id=SPEC_ID, timestamp=SPEC_TS, body=SPEC_BODY)
    assert headers == {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TS),
        "webhook-signature": SPEC_SIGNATURE,
    }
    assert verify(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TS + 10) == SPEC_TS


def test_generated_secrets_have_the_spec_shape() -> None:
    secret = generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[6:])) == 32
    assert secret != generate_secret()
    body = b'{"a":1}'
    assert sign(secret, msg_id="msg_1", timestamp=5, body=body) == by_formula(
        secret, "msg_1", 5, body
    )


@pytest.mark.parametrize(
    "bad", ["whsec_not base64!", "whsec_" + base64.b64encode(b"x" * 8).decode()]
)
def test_bad_secrets_are_refused(bad: str) -> None:
    with pytest.raises(ValidationFailed) as err:
        secret_key(bad)
    assert err.value.code == "invalid_secret"


def test_rotation_signs_with_both_secrets_and_either_verifies() -> None:
    old, new = generate_secret(), generate_secret()
    body = b'{"type":"webhook.test"}'
    headers = signed_headers([new, old], msg_id="msg_r", timestamp=1000, body=body)
    parts = headers["webhook-signature"].split(" ")
    assert parts == [by_formula(new, "msg_r", 1000, body), by_formula(old, "msg_r", 1000, body)]
    assert verify(old, headers, body, now=1000) == 1000
    assert verify(new, headers, body, now=1000) == 1000
    with pytest.raises(SignatureError) as err:
        verify(generate_secret(), headers, body, now=1000)
    assert err.value.reason == "no_match"


def test_a_tampered_body_id_or_timestamp_fails() -> None:
    secret = generate_secret()
    body = b'{"amount":100}'
    headers = signed_headers([secret], msg_id="msg_t", timestamp=2000, body=body)
    with pytest.raises(SignatureError) as err:
        verify(secret, headers, b'{"amount":900}', now=2000)
    assert err.value.reason == "no_match"
    with pytest.raises(SignatureError):
        verify(secret, {**headers, "webhook-id": "msg_other"}, body, now=2000)
    with pytest.raises(SignatureError) as err:
        verify(secret, {**headers, "webhook-timestamp": "2001"}, body, now=2000)
    assert err.value.reason == "no_match"


def test_stale_and_future_timestamps_fail_even_when_signed() -> None:
    secret = generate_secret()
    body = b"{}"
    headers = signed_headers([secret], msg_id="msg_s", timestamp=10_000, body=body)
    assert verify(secret, headers, body, now=10_000 + 300) == 10_000  # the edge is inside
    with pytest.raises(SignatureError) as err:
        verify(secret, headers, body, now=10_000 + 301)
    assert err.value.reason == "too_old"
    with pytest.raises(SignatureError) as err:
        verify(secret, headers, body, now=10_000 - 301)
    assert err.value.reason == "too_new"


def test_missing_or_malformed_headers_fail() -> None:
    secret = generate_secret()
    headers = signed_headers([secret], msg_id="msg_m", timestamp=50, body=b"{}")
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        partial = {k: v for k, v in headers.items() if k != name}
        with pytest.raises(SignatureError) as err:
            verify(secret, partial, b"{}", now=50)
        assert err.value.reason == "missing_headers"
    with pytest.raises(SignatureError) as err:
        verify(secret, {**headers, "webhook-timestamp": "soon"}, b"{}", now=50)
    assert err.value.reason == "bad_timestamp"
    upper = {k.upper(): v for k, v in headers.items()}  # header names are case-insensitive
    assert verify(secret, upper, b"{}", now=50) == 50
    assert err.value.code == "invalid_signature" and err.value.status == 401
