"""Webhooks: signatures verify with the reference receiver; tampering, replays and retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from cockpit.errors import AuthError
from tools.payments.gateway import Gateway, PayRequest
from tools.payments.models import Notification
from tools.payments.notifications import (
    RETRY_SCHEDULE,
    SIGNATURE_HEADER,
    WebhookReceiver,
    body_bytes,
    deliver_due,
    delivery_log,
    sign,
    verify,
)

T = "t_test"
NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def test_sign_and_verify_reject_tampering_and_replay() -> None:
    body = body_bytes("ntf_1", "notifyPayment", {"paymentId": "pay_1", "amount": "100"})
    header = sign("secret", body, timestamp=1_000_000)
    verify("secret", body, header, now=1_000_010)
    with pytest.raises(AuthError) as tampered:
        verify("secret", body.replace(b"100", b"900"), header, now=1_000_010)
    assert tampered.value.code == "signature_invalid"
    with pytest.raises(AuthError) as stale:
        verify("secret", body, header, now=1_000_000 + 301)
    assert stale.value.code == "signature_stale"
    with pytest.raises(AuthError) as wrong_key:
        verify("other", body, header, now=1_000_010)
    assert wrong_key.value.code == "signature_invalid"
    with pytest.raises(AuthError) as forged_time:  # moving the timestamp breaks the MAC
        verify("secret", body, header.replace("t=1000000", "t=1000300"), now=1_000_300)
    assert forged_time.value.code == "signature_invalid"


def test_delivery_reaches_reference_receiver_once(gw: Gateway) -> None:
    gw.pay(T, PayRequest("m_sg", "r1", 1_000, "SGD", card_id="card_visa"), at=NOW)
    receiver = WebhookReceiver("whsec_test", clock=lambda: NOW.timestamp())
    counts = deliver_due(gw.db, T, receiver.transport, at=NOW)
    assert counts == {"delivered": 2, "retrying": 0, "failed": 0}
    assert {e["notifyType"] for e in receiver.processed.values()} == {
        "notifyPayment",
        "notifyCapture",
    }
    assert deliver_due(gw.db, T, receiver.transport, at=NOW + timedelta(hours=1))["delivered"] == 0
    # The receiver deduplicates a resend of the same notification.
    env = next(iter(receiver.processed.values()))
    body = body_bytes(env["notificationId"], env["notifyType"], env["data"])
    status, ack = receiver.handle(
        {SIGNATURE_HEADER: sign("whsec_test", body, timestamp=int(NOW.timestamp()))}, body
    )
    assert status == 200 and ack["result"]["resultStatus"] == "S" and receiver.duplicates == 1
    assert len(receiver.processed) == 2


def test_retries_follow_schedule_until_acknowledged(gw: Gateway) -> None:
    gw.pay(T, PayRequest("m_sg", "r1", 1_000, "SGD", card_id="card_visa"), at=NOW)
    down = {"calls": 0}

    def failing(url: str, headers: dict[str, str], body: bytes) -> int:
        down["calls"] += 1
        return 503

    at = NOW
    deliver_due(gw.db, T, failing, at=at)
    with gw.db.tenant_session(T) as s:
        notes = s.scalars(select(Notification)).all()
        assert {n.attempts for n in notes} == {1}
        assert {n.next_attempt_at for n in notes} == {NOW + RETRY_SCHEDULE[1]}
    assert (
        deliver_due(gw.db, T, failing, at=NOW + timedelta(minutes=1))["retrying"] == 0
    )  # not yet due
    for wait in RETRY_SCHEDULE[1:]:
        at += wait
        deliver_due(gw.db, T, failing, at=at)
    with gw.db.tenant_session(T) as s:
        notes = s.scalars(select(Notification)).all()
        assert {n.status for n in notes} == {"FAILED"} and {n.attempts for n in notes} == {8}
        log = delivery_log(s, notes[0].id)
    assert [entry["attempt"] for entry in log] == list(range(1, 9))
    assert all(entry["status"] == 503 and not entry["acknowledged"] for entry in log)
    assert down["calls"] == 16


def test_receiver_rejects_bad_signature(gw: Gateway) -> None:
    gw.pay(T, PayRequest("m_sg", "r1", 1_000, "SGD", card_id="card_visa"), at=NOW)
    wrong = WebhookReceiver("not-the-secret", clock=lambda: NOW.timestamp())
    counts = deliver_due(gw.db, T, wrong.transport, at=NOW)
    assert counts == {"delivered": 0, "retrying": 2, "failed": 0}
    assert wrong.processed == {}
    late = WebhookReceiver("whsec_test", clock=lambda: (NOW + timedelta(hours=1)).timestamp())
    assert deliver_due(gw.db, T, late.transport, at=NOW + timedelta(minutes=2))["delivered"] == 0
