"""Start-up wiring: put the ``dev.ap2.mandate`` handler where the checkout finds it, charging
through the app's gateway and scoring with the app's fraud model (both resolved lazily, so the
start-up order of the domains does not matter)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tools.commerce.ap2.handler import HANDLER_ID, Ap2MandateHandler
from tools.commerce.ports import HANDLERS_KEY, Checkout
from tools.payments.gateway import Gateway
from tools.payments.startup import GATEWAY_KEY


def install(services: Any) -> None:
    def gateway() -> Gateway:
        gw = services.extras.get(GATEWAY_KEY)
        if not isinstance(gw, Gateway):
            gw = services.extras[GATEWAY_KEY] = Gateway(services.db)
        return gw

    from tools.commerce.vault import risk
    from tools.commerce.vault.wiring import model_scorer

    scorer = model_scorer(services)

    def assess(
        session: Session,
        checkout: Checkout,
        *,
        card_id: str | None,
        mandate: Mapping[str, Any] | None,
        at: datetime,
    ) -> Any:
        return risk.assess(
            session, checkout, card_id=card_id, mandate=mandate, at=at, scorer=scorer
        )

    handlers = services.extras.setdefault(HANDLERS_KEY, {})
    handlers[HANDLER_ID] = Ap2MandateHandler(gateway, assess=assess)


__all__ = ["install"]
