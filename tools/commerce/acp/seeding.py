"""Demo catalogues at start-up: every active demo merchant gets its products and a feed.

Runs on a daemon thread after the payments demo world (whose seeding thread it waits for,
as ``cockpit.app`` does), because the merchants come from there. Idempotent: a restart finds
the catalogues in place and adds nothing.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.clock import utcnow
from tools.commerce.acp.catalog import seed_catalogue
from tools.commerce.acp.discounts import seed_discounts
from tools.payments.models import Merchant
from tools.payments.startup import DEMO_TENANT, SEED_THREAD_KEY

log = logging.getLogger(__name__)

CLOSED_KYB = frozenset({"REJECTED"})
"""Demo merchants in these KYB states get no catalogue. The others sell to agents (Rio Games is
in enhanced due diligence but listed: its catalogue shows; the gateway decides whether it may
take money). The demo world names its merchants after its seed (``mer_<tag>_de``), so they
are found by state, never by a fixed id."""
SEED_THREAD = "commerce_catalogue_seed"


def seed_tenant_catalogues(session: Session, *, at: datetime) -> dict[str, int]:
    """Seed every merchant of the session's tenant not in :data:`CLOSED_KYB` (catalogue and
    demo discount codes); items added each."""
    merchants = session.scalars(
        select(Merchant).where(Merchant.kyb_state.not_in(CLOSED_KYB)).order_by(Merchant.id)
    ).all()
    added = {}
    for m in merchants:
        added[m.id] = seed_catalogue(session, m.id, at=at)
        seed_discounts(session, m.id, m.settlement_currency, at=at)
    return added


def seed_demo_catalogues(services: Any) -> int:
    """Seed the demo tenant's merchants' catalogues; returns the items added."""
    seeding = services.extras.get(SEED_THREAD_KEY)
    if seeding is not None:
        seeding.join(timeout=300)
    with services.db.tenant_session(DEMO_TENANT) as s:
        return sum(seed_tenant_catalogues(s, at=utcnow()).values())


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


__all__ = [
    "CLOSED_KYB",
    "SEED_THREAD",
    "install",
    "seed_demo_catalogues",
    "seed_tenant_catalogues",
]
