"""Webhooks: registered endpoints, Standard Webhooks signing, a durable delivery queue.

Other packages use two functions. :func:`enqueue` queues an event for every endpoint that
wants it, inside the caller's transaction; :func:`check_destination` refuses a URL that is
not a registered endpoint (run-completion webhooks). The dispatcher sends what is queued,
with retries, backoff and a per-attempt log.

Never: call an address nobody registered, or a private / loopback one the operator did not
allow; send an unsigned body; return a secret except when it is created.
"""

from __future__ import annotations

from cockpit.webhooks.destinations import DestinationPolicy
from cockpit.webhooks.dispatcher import Dispatcher
from cockpit.webhooks.events import (
    MONITOR_FINDING,
    RUN_COMPLETED,
    WEBHOOK_TEST,
    EventType,
    event_types,
    register_event_type,
)
from cockpit.webhooks.models import WebhookDelivery, WebhookEndpoint
from cockpit.webhooks.queue import check_destination, enqueue
from cockpit.webhooks.signing import SignatureError, generate_secret, verify

__all__ = [
    "MONITOR_FINDING",
    "RUN_COMPLETED",
    "WEBHOOK_TEST",
    "DestinationPolicy",
    "Dispatcher",
    "EventType",
    "SignatureError",
    "WebhookDelivery",
    "WebhookEndpoint",
    "check_destination",
    "enqueue",
    "event_types",
    "generate_secret",
    "register_event_type",
    "verify",
]
