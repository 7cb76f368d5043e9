"""A reference shopping agent (the agent-platform side of ACP and AP2).

:class:`AcpClient` speaks to a merchant's ACP surface; :class:`ShoppingAgent` buys a
:class:`Goal` through it, paying with a delegated card token or AP2 mandates
(:mod:`.payment`), and hears the order event at its own receiver. ``cockpit shop``
(:mod:`.cli`) runs it against a Cockpit server; evals and benchmarks drive it too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.lazy import lazy_exports

if TYPE_CHECKING:  # the same names, imported on first use (cockpit.lazy)
    from tools.commerce.shopper.agent import (
        Buyer,
        Goal,
        Outcome,
        PayContext,
        PaymentMethod,
        ShoppingAgent,
        ShopResult,
        Step,
    )
    from tools.commerce.shopper.client import (
        API_VERSION,
        AcpClient,
        AcpRequestError,
        AcpTransportError,
        Exchange,
        ShopperError,
    )

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "tools.commerce.shopper.agent": [
            "Buyer",
            "Goal",
            "Outcome",
            "PayContext",
            "PaymentMethod",
            "ShoppingAgent",
            "ShopResult",
            "Step",
        ],
        "tools.commerce.shopper.client": [
            "API_VERSION",
            "AcpClient",
            "AcpRequestError",
            "AcpTransportError",
            "Exchange",
            "ShopperError",
        ],
    },
)

__all__ = [
    "API_VERSION",
    "AcpClient",
    "AcpRequestError",
    "AcpTransportError",
    "Buyer",
    "Exchange",
    "Goal",
    "Outcome",
    "PayContext",
    "PaymentMethod",
    "ShopResult",
    "ShopperError",
    "ShoppingAgent",
    "Step",
]
