"""Start-up hook: open the knowledge store and load our corpus in the background.

The first load of the shared corpus writes every chunk (with the shipped vectors of
:mod:`knowledge.corpus.vectors`, about a second; chunks the file lacks are embedded, seconds
more), so the server starts serving at once; a query that arrives earlier opens the same store
and waits.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from knowledge.service import EXTRAS_KEY, open_store

log = logging.getLogger(__name__)


def on_startup(services: Any) -> None:
    settings = services.settings
    if not getattr(settings, "warmup", True):
        return

    def warm() -> None:
        started = time.perf_counter()
        try:
            services.extras[EXTRAS_KEY] = open_store(settings)
            log.info("knowledge store ready (%.1fs)", time.perf_counter() - started)
        except Exception:
            log.exception("knowledge store failed to open; queries will retry")

    threading.Thread(target=warm, name="knowledge-warmup", daemon=True).start()


__all__ = ["on_startup"]
