"""Demo catalogues at start-up: every active demo merchant gets its products and a feed.

Runs on a daemon thread after the payments demo world (whose seeding thread it waits for,
as ``cockpit.app`` does), because the merchants come from there. Idempotent: a restart finds
the catalogues in place and adds nothing.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import select

from cockpit.clock import utcnow
from tools.commerce.acp.catalog import seed_catalogue
from tools.payments.models import Merchant
from tools.payments.startup import DEMO_TENANT, SEED_THREAD_KEY

log = logging.getLogger(__name__)

DEMO_MERCHANTS = ("mer_demo_sg", "mer_demo_kr", "mer_demo_th", "mer_demo_de", "mer_demo_br")
"""Demo merchants that sell to agents (Rio Games is in enhanced due diligence but listed:
its catalogue shows; the gateway decides whether it may take money)."""
SEED_THREAD = "commerce_catalogue_seed"


def seed_demo_catalogues(services: Any) -> int:
    """Seed the demo tenant's merchants' catalogues; returns the items added."""
    seeding = services.extras.get(SEED_THREAD_KEY)
    if seeding is not None:
        seeding.join(timeout=300)
    added = 0
    with services.db.tenant_session(DEMO_TENANT) as s:
        merchants = s.scalars(select(Merchant).where(Merchant.id.in_(DEMO_MERCHANTS))).all()
        for merchant in merchants:
            added += seed_catalogue(s, merchant.id, at=utcnow())
    return added


def install(services: Any) -> None:
    """Start seeding in the background when the app runs the demo (``settings.demo``)."""
    settings = services.settings
    if not getattr(settings, "demo", False):
        return

    def run() -> None:
        try:
            added = seed_demo_catalogues(services)
            log.info("demo catalogues: %d items added", added)
        except Exception:
            log.exception("demo catalogues could not be seeded")

    thread = threading.Thread(target=run, name="commerce-catalogue-seed", daemon=True)
    services.extras[SEED_THREAD] = thread
    thread.start()


__all__ = ["DEMO_MERCHANTS", "SEED_THREAD", "install", "seed_demo_catalogues"]
