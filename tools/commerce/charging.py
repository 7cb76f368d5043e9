"""Moving an agent payment's money: one gateway authorisation that waits for the issuer's answer.

The gateway answers ``U`` (``PROCESSING``) when the issuer did not answer in time (DOMAIN.md
§2.3). A checkout cannot leave a buyer's agent with "maybe": like an inquiry, the handler asks
again with the same request id — the gateway authorises a still-processing payment once more,
in turn, and never twice — at most :data:`ASKS` times in all, all in the checkout's transaction.
Only an issuer that stays silent leaves the payment processing (the order is then held).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tools.payments.gateway import Gateway, PayRequest

ASKS = 3
"""Authorisation requests per payment, the first included."""


def pay_answered(
    gateway: Gateway, session: Session, req: PayRequest, *, at: datetime
) -> dict[str, Any]:
    """``gateway.pay_in(session, req)``, asked again while the issuer has not answered."""
    view = gateway.pay_in(session, req, at=at)
    for _ in range(ASKS - 1):
        if view.get("state") != "PROCESSING":
            break
        view = gateway.pay_in(session, req, at=at)
    return view


__all__ = ["ASKS", "pay_answered"]
