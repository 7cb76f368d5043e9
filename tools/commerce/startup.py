"""Start-up hook: the payment handlers the checkout advertises, the demo catalogue, the
order-event worker. Each part of the domain adds its own step here."""

from __future__ import annotations

from typing import Any

from tools.commerce.acp import seeding as catalogue
from tools.commerce.ap2 import wiring as ap2
from tools.commerce.events import wiring as order_events
from tools.commerce.ports import HANDLERS_KEY
from tools.commerce.vault import wiring as vault


def on_startup(services: Any) -> None:
    services.extras.setdefault(HANDLERS_KEY, {})
    vault.install(services)
    catalogue.install(services)
    ap2.install(services)
    order_events.install(services)


def on_shutdown(services: Any) -> None:
    order_events.shutdown(services)


__all__ = ["on_shutdown", "on_startup"]
