"""Start-up hook: give the demo tenant the shipped strategies, deployed, so decisions work at once.

The composition root calls :func:`on_startup` with its services (when listed in
``cockpit.app.STARTUP_HOOKS``). Seeding is idempotent: a slot that already has a
live deployment is left alone.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cockpit.errors import NotFound

if TYPE_CHECKING:
    from tools.credit.service import CreditService

log = logging.getLogger(__name__)
EXAMPLES = Path(__file__).parent / "strategies"
DEMO_TENANT = "demo"


def seed_examples(svc: CreditService, tenant_id: str, *, created_by: str = "system") -> list[str]:
    """Create and deploy every shipped example strategy whose slot is not live yet; returns slots seeded."""
    seeded: list[str] = []
    for path in sorted(EXAMPLES.glob("*.json")):
        body = json.loads(path.read_text())
        try:
            svc.deployment(tenant_id, body["name"])
            continue
        except NotFound:
            pass
        version = svc.create_version(tenant_id, body, created_by=created_by)
        svc.deploy(tenant_id, version["id"], created_by=created_by)
        seeded.append(body["name"])
    return seeded


def on_startup(services: Any) -> None:
    """Seed the demo tenant when the platform runs in demo mode."""
    settings = services.settings
    if not (getattr(settings, "demo", False) and getattr(settings, "warmup", True)):
        return
    from tools.credit.service import service_for

    seeded = seed_examples(service_for(services.db), DEMO_TENANT)
    if seeded:
        log.info("credit: deployed example strategies for the demo tenant: %s", ", ".join(seeded))
    else:
        log.info("credit: the demo tenant's example strategies are already deployed")


__all__ = ["on_startup", "seed_examples"]
