"""Start-up hook (``cockpit serve``): share one gateway and seed the demo world in the background.

Seeding takes a few seconds, so it runs on a daemon thread and the server
starts serving at once; it is idempotent, so every restart after the first
finds the world in place and returns immediately.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from tools.payments.demo import seed_demo_world
from tools.payments.exposure import EXTRAS_KEY as EXPOSURE_KEY
from tools.payments.exposure import LedgerExposureSource
from tools.payments.fraud_source import EXTRAS_KEY as FRAUD_SOURCE_KEY
from tools.payments.fraud_source import PaymentTransactionSource
from tools.payments.gateway import Gateway

log = logging.getLogger(__name__)

DEMO_TENANT = "demo"
"""The platform's demo tenant (``cockpit.app.DEMO_TENANT``; not imported: tools never import the app)."""
GATEWAY_KEY = "payments_gateway"
SEED_THREAD_KEY = "payments_demo_seed"
MONITORS_KEY = "payments_monitors"
"""The worker's monitor scheduler (:class:`tools.payments.monitors.MonitorScheduler`)."""


def on_startup(services: Any) -> None:
    services.extras.setdefault(GATEWAY_KEY, Gateway(services.db))
    # The FX tool reads cross-currency exposure from the ledger through this source.
    services.extras.setdefault(EXPOSURE_KEY, LedgerExposureSource(services.db))
    # Fraud scores a stored payment by its id ("is pay_… legit?") through this source.
    services.extras.setdefault(FRAUD_SOURCE_KEY, PaymentTransactionSource(services.db))
    settings = services.settings
    _start_monitors(services, float(getattr(settings, "monitors_poll_s", 0) or 0))
    if not (getattr(settings, "demo", False) and getattr(settings, "warmup", True)):
        return

    def seed() -> None:
        try:
            summary = seed_demo_world(services.db, DEMO_TENANT)
            log.info(
                "payments demo world %s: %d payments, %d disputes (%.1fs)",
                "seeded" if summary.created else "already present",
                summary.payments,
                summary.disputes,
                summary.seconds,
            )
        except Exception:
            log.exception("payments demo world could not be seeded")

    thread = threading.Thread(target=seed, name="payments-demo-seed", daemon=True)
    services.extras[SEED_THREAD_KEY] = thread
    thread.start()


def _start_monitors(services: Any, poll_s: float) -> None:
    """Every worker runs the monitors' cron; due jobs are claimed so each runs once."""
    from tools.payments.monitors import MonitorScheduler

    gateway = services.extras.get(GATEWAY_KEY)
    scheduler = MonitorScheduler(services.db, poll_s=poll_s, rates=getattr(gateway, "rates", None))
    services.extras[MONITORS_KEY] = scheduler
    scheduler.start()


def on_shutdown(services: Any) -> None:
    scheduler = services.extras.pop(MONITORS_KEY, None)
    if scheduler is not None:
        scheduler.stop()


__all__ = ["DEMO_TENANT", "GATEWAY_KEY", "MONITORS_KEY", "on_shutdown", "on_startup"]
