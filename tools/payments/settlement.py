"""Settlement: captures made before a cutoff move from pending to available, fees split out.

One journal per capture (DOMAIN.md §1.3): the capture's amount leaves the merchant's
pending account, is converted into the settlement currency at the fixed rates, lands
in available, and the platform's fee moves from available to the fee account. A run
settles thousands of captures, so every journal is written in one batch
(:func:`tools.payments.ledger.post_many`) and a capture settles once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cockpit.db.session import session_tenant
from tools.payments import ledger, statements
from tools.payments.money import FixedRates, percent_fee
from tools.payments.preconditions import merchant_not_found

FEE_BPS = {"CARD": 290}
DEFAULT_FEE_BPS = 220


def settle_captures(
    session: Session, merchant_id: str, *, rates: FixedRates, cutoff: datetime, at: datetime
) -> int:
    """Settle ``merchant_id``'s captures made before ``cutoff``; the number settled."""
    tenant = session_tenant(session)
    conn = statements.connection(session)
    merchant = statements.merchant(conn, tenant, merchant_id)
    if merchant is None:
        raise merchant_not_found(merchant_id)
    captures = statements.unsettled_captures(conn, tenant, merchant_id, cutoff=cutoff)
    pending = ledger.merchant_account(merchant.id, "pending")
    available = ledger.merchant_account(merchant.id, "available")
    drafts = []
    for cap in captures:
        draft = ledger.JournalDraft("settlement", "capture", cap.id)
        quote = draft.move_fx(
            pending,
            available,
            cap.amount,
            source_currency=cap.currency,
            target_currency=merchant.settlement_currency,
            rates=rates,
        )
        bps = FEE_BPS.get(cap.method_category or "", DEFAULT_FEE_BPS)
        draft.move(
            available,
            ledger.PLATFORM_FEES,
            percent_fee(quote.target_minor, bps=bps),
            merchant.settlement_currency,
        )
        drafts.append(draft)
    ledger.post_many(session, drafts, at=at)
    statements.mark_settled(session, tenant, [cap.id for cap in captures], at=at)
    return len(captures)
