"""Order events to agent platforms (ACP ``openapi.agentic_checkout_webhook.yaml``).

The merchant's order actions and the checkout queue events in an outbox
(:class:`OrderEvents`, ``services.extras["commerce_order_events"]``); a worker signs them
with ``Merchant-Signature`` (HMAC-SHA256), POSTs them to the platform's webhook and retries
with exponential backoff and jitter, logging every attempt. :mod:`.lifecycle` holds the
merchant's order actions (fulfil, ship, refund, cancel) and :mod:`.receiver` a reference
platform-side receiver.
"""

from tools.commerce.events.delivery import (
    WEBHOOK_PATH,
    DeliveryLoop,
    DeliveryReport,
    DeliveryWorker,
    RetryPolicy,
    event_url,
    url_allowed,
)
from tools.commerce.events.emitter import EXTRAS_KEY, OrderEvents, event_body
from tools.commerce.events.models import EventDelivery, OrderEvent
from tools.commerce.events.receiver import OrderEventReceiver, ReceivedEvent, ReceiverServer
from tools.commerce.events.signing import SIGNATURE_HEADER, SignatureError, new_secret, sign, verify

__all__ = [
    "EXTRAS_KEY",
    "SIGNATURE_HEADER",
    "WEBHOOK_PATH",
    "DeliveryLoop",
    "DeliveryReport",
    "DeliveryWorker",
    "EventDelivery",
    "OrderEvent",
    "OrderEventReceiver",
    "OrderEvents",
    "ReceivedEvent",
    "ReceiverServer",
    "RetryPolicy",
    "SignatureError",
    "event_body",
    "event_url",
    "new_secret",
    "sign",
    "url_allowed",
    "verify",
]
