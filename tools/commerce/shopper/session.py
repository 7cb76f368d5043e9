"""A running shopper: enrolled with a merchant, its webhook receiver listening, a client ready.

``cockpit shop``, the eval players, the tests and the benchmark all start the same way: get
(or reuse) an :class:`~.onboard.Enrollment`, serve the platform's order-event receiver on a
free loopback port (and point the platform's webhook at it), and build a signing
:class:`AcpClient`. :func:`shopper_session` does that and stops the receiver on exit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cockpit.clock import utcnow
from tools.commerce.events.receiver import OrderEventReceiver, ReceiverServer
from tools.commerce.shopper.agent import Buyer, Goal, PaymentMethod, ShoppingAgent, ShopResult
from tools.commerce.shopper.client import AcpClient, Exchange, es256_signer
from tools.commerce.shopper.onboard import Enrollment, load, onboard, point_webhook, save


@dataclass
class Shopper:
    """An enrolled platform with its receiver running."""

    enrollment: Enrollment
    client: AcpClient
    receiver: OrderEventReceiver
    clock: Callable[[], datetime]

    def agent(self, payment: PaymentMethod, *, event_timeout_s: float = 10.0) -> ShoppingAgent:
        return ShoppingAgent(
            client=self.client,
            merchant_id=self.enrollment.merchant_id,
            payment=payment,
            buyer=Buyer(),
            events=self.receiver,
            event_timeout_s=event_timeout_s,
            clock=self.clock,
            feed_id=self.enrollment.feed_id,
        )

    def buy(
        self, goal: Goal, payment: PaymentMethod, *, event_timeout_s: float = 10.0
    ) -> ShopResult:
        return self.agent(payment, event_timeout_s=event_timeout_s).run(goal)


@contextmanager
def shopper_session(
    url: str,
    admin_key: str,
    merchant_id: str,
    *,
    store: Path | None = None,
    sign: bool = True,
    clock: Callable[[], datetime] = utcnow,
    on_exchange: Callable[[Exchange], None] | None = None,
) -> Iterator[Shopper]:
    """Enrol (or reuse the enrollment kept in ``store``), serve the receiver, yield a shopper."""
    receiver = OrderEventReceiver(secret="", clock=clock)
    with ReceiverServer(receiver) as server:
        enrollment = load(store) if store is not None else None
        if enrollment is not None and (
            enrollment.url != url.rstrip("/") or enrollment.merchant_id != merchant_id
        ):
            enrollment = None
        if enrollment is None:
            enrollment = onboard(url, admin_key, merchant_id, webhook_url=server.url, sign=sign)
        elif enrollment.webhook_url != server.url:
            enrollment = point_webhook(enrollment, admin_key, server.url)
        if store is not None:
            save(enrollment, store)
        receiver.secret = enrollment.webhook_secret
        signer = es256_signer(enrollment.signing_jwk) if enrollment.signing_jwk else None
        with AcpClient(
            url, enrollment.api_key, signer=signer, clock=clock, on_exchange=on_exchange
        ) as client:
            yield Shopper(enrollment, client, receiver, clock)


__all__ = ["Shopper", "shopper_session"]
