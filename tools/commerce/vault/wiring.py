"""Start-up wiring: put the ``dev.acp.tokenized.card`` handler where the checkout finds it.

The handler reaches the app's gateway (``extras["payments_gateway"]``) and the fraud model
(the fraud hub, loaded or trained on first use exactly as the fraud API does) lazily, so the
start-up order of the domains does not matter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tools.commerce.ports import HANDLERS_KEY
from tools.commerce.vault.handler import HANDLER_ID, TokenizedCardHandler
from tools.commerce.vault.risk import ModelScorer, fraud_model_scorer
from tools.payments.gateway import Gateway
from tools.payments.startup import GATEWAY_KEY

if TYPE_CHECKING:  # the model loads LightGBM: the hub is reached when a payment is scored
    from tools.fraud import FraudModel


def model_scorer(services: Any) -> ModelScorer:
    """The fraud model of this app, as a risk :class:`~tools.commerce.vault.risk.ModelScorer`
    (AP2's handler can pass the same to :func:`~tools.commerce.vault.risk.assess`)."""

    def model() -> FraudModel:
        from tools.fraud.service import get_hub

        return get_hub(services.extras, services.settings).model

    return fraud_model_scorer(model)


def install(services: Any) -> None:
    def gateway() -> Gateway:
        gw = services.extras.get(GATEWAY_KEY)
        if not isinstance(gw, Gateway):
            gw = services.extras[GATEWAY_KEY] = Gateway(services.db)
        return gw

    handlers = services.extras.setdefault(HANDLERS_KEY, {})
    handlers[HANDLER_ID] = TokenizedCardHandler(gateway, scorer=model_scorer(services))


__all__ = ["install", "model_scorer"]
