"""Start-up hook: load the live fraud model in the background.

A fresh data dir gets the shipped starter model (:mod:`tools.fraud.starter`) as its first
version, so nothing is trained unless the shipped model is stale. Without the hook the first
fraud call pays for loading (or training) and demo warm-up; with it the server starts serving
at once and the hub is ready shortly after.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

log = logging.getLogger(__name__)


def on_startup(services: Any) -> None:
    settings = services.settings
    if not getattr(settings, "warmup", True):
        # The same switch keeps tests from spending CPU on warm-ups they do not use.
        return

    def warm() -> None:
        # Imported here: the service loads LightGBM, which building the app must not pay for.
        from tools.fraud.service import get_hub

        started = time.perf_counter()
        try:
            services.extras["fraud"] = get_hub(services.extras, settings)
            log.info("fraud model ready (%.1fs)", time.perf_counter() - started)
        except Exception:
            log.exception("fraud model failed to load; scoring will retry on first use")

    threading.Thread(target=warm, name="fraud-warmup", daemon=True).start()


__all__ = ["on_startup"]
