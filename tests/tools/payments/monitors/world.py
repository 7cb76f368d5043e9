"""Constructed payments worlds for the monitor tests: rows written directly, fast and exact.

Each helper writes exactly what a monitor reads (payments with final results, captures,
disputes, a merchant's KYB record), so a test states the figures it expects.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from cockpit.db.session import Database
from tools.payments.models import Capture, Dispute, Merchant, Payment

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
"""The instant every monitor test checks at (the suite's pinned clock)."""
TENANT = "t_mon"
_seq = itertools.count(1)


def merchant(
    db: Database,
    merchant_id: str = "mer_mon",
    *,
    tenant: str = TENANT,
    currency: str = "SGD",
    kyb_state: str = "APPROVED",
    kyb_detail: dict[str, Any] | None = None,
) -> str:
    with db.tenant_session(tenant) as s:
        s.add(
            Merchant(
                id=merchant_id,
                name=f"Shop {merchant_id}",
                legal_name=f"Shop {merchant_id} Ltd",
                country="SG",
                mcc="5732",
                markets=["SG"],
                settlement_currency=currency,
                kyb_state=kyb_state,
                kyb_detail=kyb_detail or {},
                webhook_secret="s",
            )
        )
    return merchant_id


def payments(
    db: Database,
    merchant_id: str,
    count: int,
    *,
    approved: bool = True,
    at: datetime = NOW - timedelta(hours=1),
    brand: str = "VISA",
    currency: str = "SGD",
    amount: int = 10_000,
    tenant: str = TENANT,
) -> list[str]:
    """``count`` card payments with a final result at ``at`` (approved ones are captured)."""
    ids = []
    with db.tenant_session(tenant) as s:
        for _ in range(count):
            n = next(_seq)
            pid = f"pay_mon{n}"
            s.add(
                Payment(
                    id=pid,
                    merchant_id=merchant_id,
                    request_id=f"req-{n}",
                    amount=amount,
                    currency=currency,
                    method_type="CARD",
                    method_category="CARD",
                    market="SG",
                    brand=brand,
                    issuer="Merlion Bank",
                    capture_mode="AUTOMATIC",
                    state="CAPTURED" if approved else "FAILED",
                    result_status="S" if approved else "F",
                    result_code="SUCCESS" if approved else "PROCESS_FAIL",
                    decline_code=None if approved else "05",
                    captured_amount=amount if approved else 0,
                    created_at=at,
                    fingerprint="f",
                )
            )
            ids.append(pid)
    return ids


def captures(
    db: Database,
    merchant_id: str,
    amount: int,
    currency: str,
    *,
    at: datetime = NOW - timedelta(days=2),
    tenant: str = TENANT,
) -> None:
    """One captured payment of ``amount`` minor units of ``currency``."""
    (pid,) = payments(db, merchant_id, 1, at=at, currency=currency, amount=amount, tenant=tenant)
    with db.tenant_session(tenant) as s:
        s.add(
            Capture(
                id=f"cap_{pid}",
                merchant_id=merchant_id,
                payment_id=pid,
                request_id=f"cap-{pid}",
                amount=amount,
                currency=currency,
                is_last=True,
                created_at=at,
                fingerprint="f",
                response={},
            )
        )


def disputes(
    db: Database,
    merchant_id: str,
    count: int,
    *,
    network: str = "VISA",
    opened: datetime = NOW - timedelta(days=3),
    due: datetime | None = None,
    status: str = "NEEDS_RESPONSE",
    tenant: str = TENANT,
) -> list[str]:
    """``count`` disputes, each on its own captured payment of the network's brand."""
    pays = payments(db, merchant_id, count, at=opened - timedelta(days=1), brand=network)
    ids = []
    with db.tenant_session(tenant) as s:
        for pid in pays:
            did = f"dsp_{pid}"
            s.add(
                Dispute(
                    id=did,
                    merchant_id=merchant_id,
                    payment_id=pid,
                    network=network,
                    reason_code="13.1" if network == "VISA" else "4853",
                    reason_msg="Merchandise not received",
                    category="consumer",
                    dispute_type="CHARGEBACK",
                    stage="CHARGEBACK",
                    status=status,
                    amount=10_000,
                    currency="SGD",
                    funds_held=0,
                    opened_at=opened,
                    defense_due_at=due or opened + timedelta(days=27),
                    history=[],
                )
            )
            ids.append(did)
    return ids


__all__ = ["NOW", "TENANT", "captures", "disputes", "merchant", "payments"]
