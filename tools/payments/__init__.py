"""Payments: gateway simulator, double-entry ledger, methods by market, declines, disputes,
notifications and analytics (DOMAIN.md §1–6).

Public surface (other packages import only these)::

    Gateway, PayRequest, CaptureRequest, RefundRequest   the payment lifecycle
    Disputes                                             dispute stages, evidence, outcomes
    IssuerSimulator, Degradation                         the seeded issuer / method model
    seed_demo_world, DemoWorldSummary                    the demo world
    ledger, analytics, queries, notifications            modules

Agent tools live in :mod:`tools.payments.tools`, the REST router in
:mod:`tools.payments.router`, the CLI in :mod:`tools.payments.cli` and the
start-up hook in :mod:`tools.payments.startup`; they are loaded by entry point
or by the composition root, not from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cockpit.lazy import lazy_exports

if TYPE_CHECKING:  # the same names, imported on first use (cockpit.lazy)
    from tools.payments import analytics, ledger, notifications, queries
    from tools.payments.demo import DemoWorldSummary, seed_demo_world
    from tools.payments.disputes import Disputes
    from tools.payments.gateway import CaptureRequest, Gateway, PayRequest, RefundRequest
    from tools.payments.money import FixedRates
    from tools.payments.simulator import Degradation, IssuerSimulator

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "tools.payments.demo": ["DemoWorldSummary", "seed_demo_world"],
        "tools.payments.disputes": ["Disputes"],
        "tools.payments.gateway": ["CaptureRequest", "Gateway", "PayRequest", "RefundRequest"],
        "tools.payments.money": ["FixedRates"],
        "tools.payments.simulator": ["Degradation", "IssuerSimulator"],
    },
    modules=["analytics", "ledger", "notifications", "queries"],
)

__all__ = [
    "CaptureRequest",
    "Degradation",
    "DemoWorldSummary",
    "Disputes",
    "FixedRates",
    "Gateway",
    "IssuerSimulator",
    "PayRequest",
    "RefundRequest",
    "analytics",
    "ledger",
    "notifications",
    "queries",
    "seed_demo_world",
]
