"""A deterministic reference shopping agent: buys one thing from an ACP merchant, step by step.

Given a :class:`Goal` (keywords, quantity, budget, currency) it discovers the merchant, reads its
feed, picks the cheapest in-stock variant whose title holds every keyword and whose price fits
the budget, creates a checkout with the buyer and a delivery address, picks the cheapest
fulfilment option, pays (a delegated card token, or AP2 mandates from :mod:`.payment`),
completes, and waits — bounded — for the merchant's ``order_create`` event at its own webhook
receiver. Every step lands in a :class:`Step` list; the run ends in an :class:`Outcome`.

It declares ``3ds`` among its interventions: a complete answered ``authentication_required``
runs delegate authentication (:mod:`.threeds`) and completes again with the
``authentication_result``. A ``payment_declined`` message with ``resolution: recoverable`` is
retried at most :data:`RETRIES` more times, each with a fresh credential (a new delegated
token, new AP2 leaves); every attempt is a ``complete`` step carrying its number.

It is a *protocol* agent, not a language model: the same inputs make the same calls, which is
what the eval controls and the README transcript need. It never raises for the merchant's
answers (a refusal is an outcome); only programming errors escape.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from cockpit.clock import utcnow
from tools.commerce.shopper.client import AcpClient, AcpRequestError, ShopperError
from tools.commerce.shopper.threeds import Cardholder, run_3ds

Status = Literal["ordered", "no_match", "over_budget", "not_ready", "declined", "refused", "error"]
RETRIES = 2
"""Extra payment attempts after a recoverable ``payment_declined`` (each with a fresh credential)."""
INTERVENTIONS = ("3ds",)
"""What the agent declares in ``capabilities.interventions.supported``."""


@dataclass(frozen=True, slots=True)
class Goal:
    """What the user asked the agent to buy."""

    want: str
    """Keywords; every one must appear in the variant's or product's title (case-insensitive)."""
    quantity: int = 1
    budget: int | None = None
    """Most the whole checkout may cost (items, shipping, tax), minor units; None: no limit."""
    currency: str | None = None
    """Uppercase ISO 4217 the budget is in; None: the merchant's."""


@dataclass(frozen=True, slots=True)
class Address:
    name: str = "Mara Lindqvist"
    line_one: str = "Torstrasse 101"
    city: str = "Berlin"
    state: str = "BE"
    country: str = "DE"
    postal_code: str = "10119"

    def wire(self) -> dict[str, str]:
        return {"line_two": "", **asdict(self)}


@dataclass(frozen=True, slots=True)
class Buyer:
    """Who the agent shops for (a demo persona; nothing here is real)."""

    first_name: str = "Mara"
    last_name: str = "Lindqvist"
    email: str = "mara.lindqvist@example.com"
    phone_number: str = "4930123456"
    address: Address = field(default_factory=Address)
    ip_address: str = "192.0.2.44"
    """The buyer's address as the platform saw it (a documentation range)."""
    device_fingerprint: str = "dfp_mara_laptop_01"

    def wire(self) -> dict[str, str]:
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone_number": self.phone_number,
        }

    def risk_signals(self) -> dict[str, str]:
        """What the platform knows of the buyer's session (ACP ``risk_signals``)."""
        return {
            "ip_address": self.ip_address,
            "user_agent": "cockpit-shop/1.0",
            "accept_language": "de-DE",
            "device_fingerprint": self.device_fingerprint,
        }

    def fulfillment_details(self) -> dict[str, Any]:
        return {
            "name": f"{self.first_name} {self.last_name}",
            "email": self.email,
            "phone_number": self.phone_number,
            "address": self.address.wire(),
        }


@dataclass(frozen=True, slots=True)
class Step:
    """One thing the agent did, in the order it did it."""

    n: int
    action: str
    """``discover``, ``read_feed``, ``pick``, ``create_checkout``, ``update_checkout``,
    ``delegate_payment``, ``mandates``, ``complete``, ``order_event``, ``cancel``…"""
    ok: bool
    summary: str
    """One line for a person."""
    data: dict[str, Any] = field(default_factory=dict)
    """Ids and amounts the step produced (never card numbers)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    status: Status
    merchant_id: str
    checkout_session_id: str | None = None
    order_id: str | None = None
    item_id: str | None = None
    total: int | None = None
    currency: str | None = None
    handler_id: str | None = None
    error_code: str | None = None
    """The merchant's ACP error or message code when it refused or declined."""
    event: str | None = None
    """The order event heard at the receiver (``order_create``), if any."""
    receipts: dict[str, Any] = field(default_factory=dict)
    """AP2 receipts returned with the order (checkout / payment), if any."""


@dataclass(frozen=True, slots=True)
class ShopResult:
    steps: list[Step]
    outcome: Outcome

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": asdict(self.outcome), "steps": [asdict(s) for s in self.steps]}


@dataclass(frozen=True, slots=True)
class PayContext:
    """What a payment method sees when asked for ``payment_data``."""

    client: AcpClient
    merchant_id: str
    checkout: Mapping[str, Any]
    """The session as last returned (``ready_for_payment``)."""
    at: datetime
    note: Callable[[str, bool, str, dict[str, Any]], None]
    """Record a step: ``(action, ok, summary, data)``."""


class PaymentMethod(Protocol):
    """How the agent pays: builds the ``payment_data`` of the complete request."""

    handler_id: str

    def payment_data(self, ctx: PayContext) -> dict[str, Any]: ...


class EventSource(Protocol):
    """The platform's webhook receiver (:class:`tools.commerce.events.OrderEventReceiver`)."""

    def wait_for(self, count: int, *, timeout_s: float = 10.0) -> list[Any]: ...


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[^0-9a-zA-Z]+", text.casefold()) if w]


def _total(checkout: Mapping[str, Any]) -> int | None:
    for t in checkout.get("totals") or []:
        if t.get("type") == "total":
            return int(t["amount"])
    return None


def _errors(checkout: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [m for m in checkout.get("messages") or [] if m.get("type") == "error"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A purchasable feed variant."""

    item_id: str
    title: str
    unit_amount: int
    currency: str
    status: str
    """``in_stock``, ``low_stock``, ``out_of_stock``…"""
    text: str = ""
    """Product and variant titles: what the goal's keywords are matched in."""


def candidates(products: Mapping[str, Any]) -> list[Candidate]:
    """Every priced variant of a feed's ``products`` answer, flattened."""
    out: list[Candidate] = []
    for product in products.get("products") or []:
        for variant in product.get("variants") or []:
            price = variant.get("price") or {}
            if "amount" not in price:
                continue
            availability = variant.get("availability") or {}
            status = str(availability.get("status") or "")
            if not status:
                status = "in_stock" if availability.get("available", True) else "out_of_stock"
            title = str(variant.get("title") or product.get("title") or variant["id"])
            out.append(
                Candidate(
                    item_id=str(variant["id"]),
                    title=title,
                    unit_amount=int(price["amount"]),
                    currency=str(price.get("currency", "")).upper(),
                    status=status,
                    text=f"{product.get('title', '')} {title}",
                )
            )
    return out


def pick(goal: Goal, options: list[Candidate]) -> tuple[Candidate | None, Status]:
    """The cheapest in-stock match whose items fit the budget, or None and why not."""
    wanted = _words(goal.want)
    matches = [c for c in options if all(w in _words(c.text or c.title) for w in wanted)]
    available = [c for c in matches if c.status != "out_of_stock"]
    if goal.currency:
        available = [c for c in available if c.currency == goal.currency.upper()]
    if not available:
        return None, "no_match"
    best = min(available, key=lambda c: (c.unit_amount, c.item_id))
    if goal.budget is not None and best.unit_amount * goal.quantity > goal.budget:
        return None, "over_budget"
    return best, "ordered"


@dataclass
class ShoppingAgent:
    """Buys a :class:`Goal` from one merchant through ``client``."""

    client: AcpClient
    merchant_id: str
    payment: PaymentMethod
    buyer: Buyer = field(default_factory=Buyer)
    events: EventSource | None = None
    event_timeout_s: float = 10.0
    clock: Callable[[], datetime] = utcnow
    feed_id: str | None = None
    """The merchant's feed; default: the first one discovery names."""
    interventions: tuple[str, ...] = INTERVENTIONS
    retries: int = RETRIES
    cardholder: Cardholder = field(default_factory=Cardholder)
    """How the simulated buyer answers a 3-D Secure challenge."""
    steps: list[Step] = field(default_factory=list)

    def note(self, action: str, ok: bool, summary: str, data: dict[str, Any] | None = None) -> None:
        self.steps.append(Step(len(self.steps) + 1, action, ok, summary, dict(data or {})))

    def run(self, goal: Goal) -> ShopResult:
        """Discover → feed → pick → create → update → pay → complete → order event."""
        self.steps = []
        try:
            outcome = self._shop(goal)
        except AcpRequestError as exc:
            self.note("refused", False, f"the server refused: {exc}", {"code": exc.code})
            outcome = Outcome("refused", self.merchant_id, error_code=exc.code)
        except ShopperError as exc:
            self.note("error", False, str(exc))
            outcome = Outcome("error", self.merchant_id, error_code="transport")
        return ShopResult(list(self.steps), outcome)

    # -- the flow ----------------------------------------------------------------------------

    def _shop(self, goal: Goal) -> Outcome:
        discovery = self.client.discover()
        protocol = discovery.get("protocol") or {}
        services = (discovery.get("capabilities") or {}).get("services") or []
        self.note(
            "discover",
            True,
            f"ACP {protocol.get('version')} at {self.client.api_base}; services "
            + ", ".join(services),
            {"api_base_url": self.client.api_base, "version": protocol.get("version")},
        )
        feed_id = self.feed_id or _feed_of(discovery)
        if feed_id is None:
            self.note("read_feed", False, "discovery names no product feed")
            return Outcome("no_match", self.merchant_id, error_code="no_feed")
        options = candidates(self.client.products(feed_id))
        self.note(
            "read_feed", True, f"{len(options)} variants in feed {feed_id}", {"feed_id": feed_id}
        )
        choice, why = pick(goal, options)
        if choice is None:
            self.note("pick", False, f"nothing in the feed fits '{goal.want}' ({why})")
            return Outcome(why, self.merchant_id)
        self.note(
            "pick",
            True,
            f"{goal.quantity} × {choice.title} at {money(choice.unit_amount, choice.currency)}",
            {"item_id": choice.item_id, "unit_amount": choice.unit_amount},
        )
        session = self.client.create_checkout(self._create_payload(choice, goal))
        sid = str(session["id"])
        self.note(
            "create_checkout",
            True,
            f"session {sid}: {session.get('status')}, "
            f"{len(session.get('fulfillment_options') or [])} fulfilment options",
            {"checkout_session_id": sid, "status": session.get("status")},
        )
        session = self._choose_fulfilment(session)
        base = Outcome("not_ready", self.merchant_id, sid, item_id=choice.item_id)
        total, currency = _total(session), str(session.get("currency", "")).upper()
        base = _with(base, total=total, currency=currency)
        if session.get("status") != "ready_for_payment":
            codes = [m.get("code") for m in _errors(session)]
            self.note("not_ready", False, f"status {session.get('status')}: {codes}")
            self._cancel(sid)
            return _with(base, error_code=str(codes[0]) if codes else None)
        if goal.budget is not None and total is not None and total > goal.budget:
            self.note("over_budget", False, f"total {money(total, currency)} > budget")
            self._cancel(sid)
            return _with(base, status="over_budget")
        base = _with(base, handler_id=self.payment.handler_id)
        done = pay(
            self.client,
            self.merchant_id,
            session,
            self.payment,
            note=self.note,
            clock=self.clock,
            buyer=self.buyer,
            retries=self.retries,
            cardholder=self.cardholder,
        )
        order = done.get("order") or {}
        if done.get("status") != "completed" or not order:
            codes = [m.get("code") for m in _errors(done)]
            status: Status = (
                "not_ready" if done.get("status") == "requires_escalation" else "declined"
            )
            return _with(base, status=status, error_code=str(codes[0]) if codes else None)
        receipts = {k: v for k, v in done.items() if "receipt" in k}
        ordered = _with(base, status="ordered", order_id=str(order.get("id")), receipts=receipts)
        return _with(ordered, event=self.await_order_event(str(order.get("id"))))

    def _create_payload(self, choice: Candidate, goal: Goal) -> dict[str, Any]:
        return {
            "currency": choice.currency.lower(),
            "line_items": line_items(choice.item_id, goal.quantity),
            "capabilities": {"interventions": {"supported": list(self.interventions)}},
            "buyer": self.buyer.wire(),
            "fulfillment_details": self.buyer.fulfillment_details(),
        }

    def _choose_fulfilment(self, session: dict[str, Any]) -> dict[str, Any]:
        options = session.get("fulfillment_options") or []
        if not options:
            return session
        best = min(options, key=lambda o: (_option_cost(o), str(o.get("id"))))
        chosen = {
            "type": best.get("type", "shipping"),
            "option_id": best["id"],
            "item_ids": list(
                dict.fromkeys(
                    str((li.get("item") or {}).get("id") or li.get("id"))
                    for li in session.get("line_items") or []
                )
            ),
        }
        updated = self.client.update_checkout(
            str(session["id"]), {"selected_fulfillment_options": [chosen]}
        )
        self.note(
            "update_checkout",
            True,
            f"{best.get('title', best['id'])} ({money(_option_cost(best), str(session.get('currency', '')).upper())});"
            f" total {money(_total(updated) or 0, str(updated.get('currency', '')).upper())},"
            f" {updated.get('status')}",
            {"option_id": best["id"], "status": updated.get("status"), "total": _total(updated)},
        )
        return updated

    def _cancel(self, sid: str) -> None:
        try:
            self.client.cancel_checkout(sid)
            self.note("cancel", True, f"session {sid} canceled")
        except ShopperError as exc:
            self.note("cancel", False, f"cancel failed: {exc}")

    def await_order_event(self, order_id: str) -> str | None:
        """Wait (at most ``event_timeout_s``) for an event about ``order_id``; its type."""
        if self.events is None:
            return None
        deadline = time.monotonic() + self.event_timeout_s
        while time.monotonic() < deadline:
            left = max(deadline - time.monotonic(), 0.05)
            for event in self.events.wait_for(1, timeout_s=min(left, 1.0)):
                if (getattr(event, "order", None) or {}).get("id") == order_id:
                    self.note(
                        "order_event",
                        True,
                        f"{event.type} for {order_id}: {event.order.get('status')}",
                        {"type": event.type, "status": event.order.get("status")},
                    )
                    return str(event.type)
        self.note("order_event", False, f"no order event within {self.event_timeout_s:.0f} s")
        return None


def _credential(method: PaymentMethod, payment_data: Mapping[str, Any]) -> str | None:
    """The delegated token a payment uses: the card instrument's, or the method's last one
    (AP2's payment instrument is a token too)."""
    credential = (payment_data.get("instrument") or {}).get("credential") or {}
    if credential.get("type") == "spt":
        return str(credential.get("token"))
    tokens = getattr(method, "tokens", None) or []
    return str(tokens[-1]) if tokens else None


def pay(
    client: AcpClient,
    merchant_id: str,
    session: Mapping[str, Any],
    method: PaymentMethod,
    *,
    note: Callable[[str, bool, str, dict[str, Any]], None],
    clock: Callable[[], datetime] = utcnow,
    buyer: Buyer | None = None,
    retries: int = RETRIES,
    cardholder: Cardholder | None = None,
) -> dict[str, Any]:
    """Complete a ``ready_for_payment`` session: 3-D Secure when asked, bounded retries.

    Each attempt asks ``method`` for fresh ``payment_data``, completes, and on
    ``authentication_required`` runs delegate authentication and completes again with the
    result. A ``payment_declined`` with ``resolution: recoverable`` on a session still
    ``ready_for_payment`` is retried at most ``retries`` more times. Returns the last answer.
    """
    who = buyer or Buyer()
    current: Mapping[str, Any] = session
    done: dict[str, Any] = dict(session)
    for attempt in range(1, retries + 2):
        ctx = PayContext(client, merchant_id, current, clock(), note)
        payment_data = method.payment_data(ctx)
        payload: dict[str, Any] = {
            "buyer": who.wire(),
            "payment_data": payment_data,
            "risk_signals": who.risk_signals(),
        }
        done = client.complete_checkout(str(current["id"]), payload)
        if done.get("status") == "authentication_required":
            note(
                "complete",
                True,
                f"attempt {attempt}: the merchant asks for 3-D Secure (SCA)",
                {"attempt": attempt, "status": "authentication_required"},
            )
            token = _credential(method, payment_data)
            card = getattr(method, "card", None)
            if token is None or card is None:
                note("3ds_create", False, "this payment method cannot run 3-D Secure", {})
                return done
            result = run_3ds(
                client,
                done,
                merchant_id=merchant_id,
                token=token,
                card=card,
                note=note,
                cardholder=cardholder,
            )
            done = client.complete_checkout(
                str(current["id"]), {**payload, "authentication_result": result}
            )
        order = done.get("order") or {}
        if done.get("status") == "completed" and order:
            total = _total(done) or 0
            note(
                "complete",
                True,
                f"attempt {attempt}: order {order.get('id')} for "
                f"{money(total, str(done.get('currency', '')).upper())}",
                {"attempt": attempt, "order_id": order.get("id"), "total": _total(done)},
            )
            return done
        errors = _errors(done)
        codes = [m.get("code") for m in errors]
        note(
            "complete",
            False,
            f"attempt {attempt}: not completed ({done.get('status')}): {codes}",
            {
                "attempt": attempt,
                "status": done.get("status"),
                "codes": codes,
                "continue_url": done.get("continue_url"),
            },
        )
        recoverable = any(
            m.get("code") == "payment_declined" and m.get("resolution") == "recoverable"
            for m in errors
        )
        if not recoverable or done.get("status") != "ready_for_payment" or attempt > retries:
            return done
        note(
            "retry",
            True,
            f"the decline is recoverable: attempt {attempt + 1} with a fresh credential",
            {"attempt": attempt + 1},
        )
        current = done
    return done


def line_items(item_id: str, quantity: int) -> list[dict[str, Any]]:
    """Request ``Item`` objects: the spec's ``Item`` has no quantity (#264), so one per unit."""
    return [{"id": item_id} for _ in range(quantity)]


def _option_cost(option: Mapping[str, Any]) -> int:
    for key in ("total", "subtotal"):
        if isinstance(option.get(key), int):
            return int(option[key])
    for t in option.get("totals") or []:
        if t.get("type") == "total":
            return int(t["amount"])
    return 0


def _feed_of(discovery: Mapping[str, Any]) -> str | None:
    """The feed id a discovery document names (ours lists them under ``feeds``)."""
    for key in ("feeds", "feed_ids"):
        value = discovery.get(key)
        if isinstance(value, list) and value:
            first = value[0]
            return str(first.get("id") if isinstance(first, dict) else first)
    return None


def money(amount: int, currency: str) -> str:
    """``53.31 EUR`` from minor units (the currency's own exponent)."""
    from cockpit.money import exponent

    exp = exponent(currency) if currency else 2
    return f"{amount / 10**exp:,.{exp}f} {currency}"


def _with(outcome: Outcome, **changes: Any) -> Outcome:
    from dataclasses import replace

    return replace(outcome, **changes)


__all__ = [
    "INTERVENTIONS",
    "RETRIES",
    "Address",
    "Buyer",
    "Candidate",
    "EventSource",
    "Goal",
    "Outcome",
    "PayContext",
    "PaymentMethod",
    "ShopResult",
    "ShoppingAgent",
    "Step",
    "candidates",
    "line_items",
    "money",
    "pay",
    "pick",
]
