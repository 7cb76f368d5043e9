"""Start-up hook: the payment handlers the checkout advertises, the demo catalogue, the
order-event worker. Each part of the domain adds its own step here."""

from __future__ import annotations

from typing import Any

from tools.commerce.ports import HANDLERS_KEY


def on_startup(services: Any) -> None:
    services.extras.setdefault(HANDLERS_KEY, {})


__all__ = ["on_startup"]
