"""docs/webhooks.md: its receiver function runs as written and agrees with the platform."""

from __future__ import annotations

import json

from cockpit.webhooks.signing import generate_secret, signed_headers
from tests.cockpit.webhooks.kit import documented_verifier


def test_the_documented_function_runs_and_checks_the_spec_example() -> None:
    verify = documented_verifier()  # the block's own asserts ran
    assert callable(verify)


def test_the_documented_function_agrees_with_the_signer() -> None:
    verify = documented_verifier()
    old, new = generate_secret(), generate_secret()
    body = json.dumps({"type": "webhook.test", "data": {}}).encode()
    headers = signed_headers([new, old], msg_id="msg_doc", timestamp=1_800_000_000, body=body)
    assert verify(new, headers, body, now=1_800_000_000)
    assert verify(old, headers, body, now=1_800_000_100)
    assert not verify(generate_secret(), headers, body, now=1_800_000_000)
    assert not verify(new, headers, body + b" ", now=1_800_000_000)
    assert not verify(new, headers, body, now=1_800_000_000 + 301)
    assert not verify(new, {**headers, "webhook-timestamp": "x"}, body, now=1_800_000_000)
    assert not verify(new, {"webhook-id": "msg_doc"}, body, now=1_800_000_000)
