"""Merchants for tests that need a real payments merchant (key bindings are checked against them)."""

from __future__ import annotations

from cockpit.db.session import Database


def add_merchant(db: Database, tenant_id: str, merchant_id: str, *, country: str = "SG") -> None:
    """One KYB-approved merchant in ``tenant_id`` (no payments, no demo world)."""
    from tools.payments.models import Merchant

    with db.tenant_session(tenant_id) as s:
        s.add(
            Merchant(
                id=merchant_id,
                name=f"Test merchant {merchant_id}",
                legal_name=f"Test merchant {merchant_id} Ltd",
                country=country,
                mcc="5732",
                markets=[country],
                settlement_currency="SGD",
                kyb_state="APPROVED",
                webhook_secret="s",
            )
        )


__all__ = ["add_merchant"]
