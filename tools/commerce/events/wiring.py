"""Start and stop the order-event machinery with the app.

:func:`install` registers the :class:`~.emitter.OrderEvents` queue (``commerce_order_events``)
and a :class:`~.delivery.DeliveryWorker` in ``services.extras`` and kicks the background
:class:`~.delivery.DeliveryLoop`; :func:`shutdown` stops it (bounded wait). Webhooks go only
to loopback hosts unless the operator lists more in ``COCKPIT_COMMERCE_WEBHOOK_HOSTS``
(comma-separated host names).
"""

from __future__ import annotations

import os
from typing import Any

from cockpit.clock import utcnow
from tools.commerce.events.delivery import DeliveryLoop, DeliveryWorker
from tools.commerce.events.emitter import EXTRAS_KEY, OrderEvents

WORKER_KEY = "commerce_order_events_worker"
LOOP_KEY = "commerce_order_events_loop"
HOSTS_ENV = "COCKPIT_COMMERCE_WEBHOOK_HOSTS"


def configured_hosts() -> frozenset[str]:
    """Non-loopback webhook hosts the operator allows (none by default)."""
    raw = os.environ.get(HOSTS_ENV, "")
    return frozenset(h.strip().lower() for h in raw.split(",") if h.strip())


def install(services: Any, *, start_loop: bool = True) -> None:
    events = services.extras.setdefault(EXTRAS_KEY, OrderEvents())
    worker = services.extras.setdefault(
        WORKER_KEY, DeliveryWorker(services.db, allowed_hosts=configured_hosts())
    )
    if start_loop and LOOP_KEY not in services.extras:
        loop = DeliveryLoop(worker, clock=utcnow)
        services.extras[LOOP_KEY] = loop
        events.on_commit = loop.kick
        loop.kick()  # events left owed by a previous run; stops at once when there are none


def shutdown(services: Any) -> None:
    loop = services.extras.pop(LOOP_KEY, None)
    if isinstance(loop, DeliveryLoop):
        loop.stop()
    events = services.extras.get(EXTRAS_KEY)
    if isinstance(events, OrderEvents):
        events.on_commit = None
    worker = services.extras.get(WORKER_KEY)
    if isinstance(worker, DeliveryWorker):
        worker.close()


__all__ = ["HOSTS_ENV", "LOOP_KEY", "WORKER_KEY", "configured_hosts", "install", "shutdown"]
