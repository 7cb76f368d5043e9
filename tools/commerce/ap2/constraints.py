"""Open-mandate constraints (AP2 v0.2): does this cart / this payment stay inside them?

Every constraint of every open mandate is evaluated; the first failure refuses the mandate.
A ``type`` we do not know, or a known one we cannot read, is ``unresolved_constraint`` (the
agent may fall back to a human-present flow); a constraint that reads fine but is broken is
``invalid_mandate``. Stateful limits (budget, recurrence) are judged against a :class:`Usage`
the caller loaded under a row lock and commits with the approval
(:mod:`tools.commerce.ap2.store`); this module only decides.

Matching is by stable ids (merchant / payee / instrument ``id``), never by display names.
Amounts are integer minor units, including ``payment.budget.max`` (typed ``number`` upstream).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from tools.commerce.ap2.errors import MandateRejected
from tools.commerce.ap2.wire import Merchant, PaymentInstrument, PaymentMandate, Pisp


class _C(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class AllowedMerchants(_C):
    type: Literal["checkout.allowed_merchants"]
    allowed: list[Merchant]


class AcceptableItem(_C):
    id: str
    title: str


class LineItemRequirement(_C):
    id: str
    acceptable_items: list[AcceptableItem]
    quantity: StrictInt = Field(gt=0)


class LineItems(_C):
    type: Literal["checkout.line_items"]
    items: list[LineItemRequirement] = Field(min_length=1)


class AllowedPayees(_C):
    type: Literal["payment.allowed_payees"]
    allowed: list[Merchant]


class AllowedPaymentInstruments(_C):
    type: Literal["payment.allowed_payment_instruments"]
    allowed: list[PaymentInstrument]


class AllowedPisps(_C):
    type: Literal["payment.allowed_pisps"]
    allowed: list[Pisp]


class AmountRange(_C):
    type: Literal["payment.amount_range"]
    currency: str
    max: StrictInt
    min: StrictInt | None = None


class Budget(_C):
    type: Literal["payment.budget"]
    max: float
    currency: str


Frequency = Literal["ON_DEMAND", "DAILY", "WEEKLY", "BIWEEKLY", "MONTHLY", "QUARTERLY", "ANNUALLY"]


class AgentRecurrence(_C):
    type: Literal["payment.agent_recurrence"]
    frequency: Frequency
    max_occurrences: StrictInt | None = None


class ExecutionDate(_C):
    type: Literal["payment.execution_date"]
    not_before: str | None = None
    not_after: str | None = None


class PaymentReference(_C):
    type: Literal["payment.reference"]
    conditional_transaction_id: str


CHECKOUT_TYPES: dict[str, type[_C]] = {
    "checkout.allowed_merchants": AllowedMerchants,
    "checkout.line_items": LineItems,
}
PAYMENT_TYPES: dict[str, type[_C]] = {
    "payment.allowed_payees": AllowedPayees,
    "payment.allowed_payment_instruments": AllowedPaymentInstruments,
    "payment.allowed_pisps": AllowedPisps,
    "payment.amount_range": AmountRange,
    "payment.budget": Budget,
    "payment.agent_recurrence": AgentRecurrence,
    "payment.execution_date": ExecutionDate,
    "payment.reference": PaymentReference,
}


def parse(raw: Mapping[str, Any], known: Mapping[str, type[_C]]) -> _C:
    """The typed constraint, or ``unresolved_constraint`` (unknown type or unreadable)."""
    kind = raw.get("type")
    model = known.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise MandateRejected("unresolved_constraint", f"unknown constraint type {kind!r}")
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        raise MandateRejected(
            "unresolved_constraint", f"constraint {kind} cannot be read: {exc.errors()[0]['msg']}"
        ) from exc


def _fail(message: str) -> MandateRejected:
    return MandateRejected("invalid_mandate", message)


# ----- checkout constraints ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CartLine:
    """One line of the merchant's stored checkout: product id and quantity."""

    item_id: str
    quantity: int


def check_checkout(
    constraints: Sequence[Mapping[str, Any]], *, merchant_id: str, lines: Sequence[CartLine]
) -> None:
    """Every checkout constraint holds for this merchant's cart; else MandateRejected."""
    parsed = [parse(c, CHECKOUT_TYPES) for c in constraints]
    if not any(isinstance(c, LineItems) for c in parsed):
        raise MandateRejected("invalid_mandate", "an open checkout mandate needs line_items")
    for c in parsed:
        if isinstance(c, AllowedMerchants):
            if not any(m.id and m.id == merchant_id for m in c.allowed):
                raise _fail(f"merchant {merchant_id} is not among the allowed merchants")
        elif isinstance(c, LineItems) and not line_items_satisfied(c.items, lines):
            raise _fail("the cart does not match the mandate's line items")


def line_items_satisfied(
    requirements: Sequence[LineItemRequirement], lines: Sequence[CartLine]
) -> bool:
    """Max-flow: requirements (cap = quantity) → cart lines whose item id is an acceptable item
    (cap ∞) → sink (cap = line quantity); the flow must equal BOTH totals, so every required
    unit is met by an acceptable cart unit and no cart unit is left unauthorised."""
    required = sum(r.quantity for r in requirements)
    in_cart = sum(line.quantity for line in lines)
    if not lines or required != in_cart:
        return False
    n_req, n_line = len(requirements), len(lines)
    source, sink = 0, 1 + n_req + n_line
    size = sink + 1
    cap = [[0] * size for _ in range(size)]
    for i, req in enumerate(requirements):
        cap[source][1 + i] = req.quantity
        accepted = {a.id for a in req.acceptable_items}
        for j, line in enumerate(lines):
            if line.item_id in accepted:
                cap[1 + i][1 + n_req + j] = in_cart  # "infinite": no more than the cart holds
    for j, line in enumerate(lines):
        cap[1 + n_req + j][sink] = line.quantity
    return _max_flow(cap, source, sink) == required


def _max_flow(cap: list[list[int]], source: int, sink: int) -> int:
    """Edmonds–Karp on a dense capacity matrix (carts are small)."""
    flow = 0
    size = len(cap)
    while True:
        parent = [-1] * size
        parent[source] = source
        queue = [source]
        for node in queue:
            for nxt in range(size):
                if parent[nxt] == -1 and cap[node][nxt] > 0:
                    parent[nxt] = node
                    queue.append(nxt)
        if parent[sink] == -1:
            return flow
        push, node = min_on_path(cap, parent, source, sink), sink
        while node != source:
            prev = parent[node]
            cap[prev][node] -= push
            cap[node][prev] += push
            node = prev
        flow += push


def min_on_path(cap: list[list[int]], parent: list[int], source: int, sink: int) -> int:
    push, node = cap[parent[sink]][sink], sink
    while node != source:
        push = min(push, cap[parent[node]][node])
        node = parent[node]
    return push


# ----- payment constraints ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Usage:
    """What an open payment mandate has already paid for (approved presentations only)."""

    total_amount: int = 0
    uses: int = 0
    last_used_at: datetime | None = None
    currency: str | None = None


_DAYS: dict[str, int] = {"ON_DEMAND": 0, "DAILY": 1, "WEEKLY": 7, "BIWEEKLY": 14}
_MONTHS: dict[str, int] = {"MONTHLY": 1, "QUARTERLY": 3, "ANNUALLY": 12}


def next_allowed(last: datetime, frequency: str) -> datetime:
    """The earliest time a recurring mandate may be presented again after ``last``."""
    if frequency in _DAYS:
        return last + timedelta(days=_DAYS[frequency])
    months = last.month - 1 + _MONTHS[frequency]
    year, month = last.year + months // 12, months % 12 + 1
    day = min(last.day, calendar.monthrange(year, month)[1])
    return last.replace(year=year, month=month, day=day)


def check_payment(
    constraints: Sequence[Mapping[str, Any]],
    closed: PaymentMandate,
    *,
    open_checkout_hashes: Sequence[str],
    usage: Usage,
    at: datetime,
) -> None:
    """Every payment constraint holds for the closed mandate; else MandateRejected."""
    parsed = [parse(c, PAYMENT_TYPES) for c in constraints]
    if not any(isinstance(c, PaymentReference) for c in parsed):
        raise MandateRejected("invalid_mandate", "an open payment mandate needs payment.reference")
    amount = closed.payment_amount
    for c in parsed:
        check = _PAYMENT_CHECKS[type(c)]
        check(c, closed, amount.amount, amount.currency, open_checkout_hashes, usage, at)


def _payees(c: Any, closed: PaymentMandate, *_: Any) -> None:
    if not any(m.id and m.id == closed.payee.id for m in c.allowed):
        raise _fail(f"payee {closed.payee.id} is not allowed")


def _instruments(c: Any, closed: PaymentMandate, *_: Any) -> None:
    if not any(i.id == closed.payment_instrument.id for i in c.allowed):
        raise _fail("the payment instrument is not allowed")


def _pisps(c: Any, closed: PaymentMandate, *_: Any) -> None:
    pisp = closed.pisp
    key = (pisp.legal_name, pisp.brand_name, pisp.domain_name) if pisp else None
    if key is None or key not in {(p.legal_name, p.brand_name, p.domain_name) for p in c.allowed}:
        raise _fail("the payment initiation service provider is not allowed")


def _range(c: Any, _closed: PaymentMandate, amount: int, currency: str, *_: Any) -> None:
    if currency != c.currency:
        raise _fail(f"amount range is in {c.currency}, the payment in {currency}")
    if amount > c.max or (c.min is not None and amount < c.min):
        raise _fail(f"amount {amount} is outside {c.min or 0}..{c.max} {c.currency}")


def _budget(
    c: Any, _closed: PaymentMandate, amount: int, currency: str, _h: Any, usage: Usage, _at: Any
) -> None:
    if c.max != int(c.max):
        raise MandateRejected("unresolved_constraint", "budget.max must be integer minor units")
    if currency != c.currency:
        raise _fail(f"budget is in {c.currency}, the payment in {currency}")
    if usage.total_amount + amount > int(c.max):
        raise _fail(
            f"budget exceeded: {usage.total_amount} spent + {amount} > {int(c.max)} {c.currency}"
        )


def _recurrence(
    c: Any, _closed: PaymentMandate, _a: int, _c: str, _h: Any, usage: Usage, at: datetime
) -> None:
    if c.max_occurrences is not None and usage.uses + 1 > c.max_occurrences:
        raise _fail(f"mandate already used {usage.uses} of {c.max_occurrences} times")
    if usage.last_used_at is not None:
        last = usage.last_used_at
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        if at < next_allowed(last, c.frequency):
            raise _fail(f"too soon for a {c.frequency} mandate (last used {last.isoformat()})")


def _moment(text: str, *, end_of_day: bool) -> datetime:
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.max if end_of_day else time.min, tzinfo=UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MandateRejected("unresolved_constraint", f"not an ISO 8601 date: {text!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _execution(
    c: Any, closed: PaymentMandate, _a: int, _c: str, _h: Any, _u: Any, at: datetime
) -> None:
    when = _moment(closed.execution_date, end_of_day=False) if closed.execution_date else at
    if c.not_before and when < _moment(c.not_before, end_of_day=False):
        raise _fail(f"execution before {c.not_before}")
    if c.not_after and when > _moment(c.not_after, end_of_day=True):
        raise _fail(f"execution after {c.not_after}")


def _reference(
    c: Any, _closed: PaymentMandate, _a: int, _c: str, hashes: Sequence[str], *_: Any
) -> None:
    if c.conditional_transaction_id not in hashes:
        raise _fail("payment.reference names no open checkout mandate of this checkout")


_PAYMENT_CHECKS: dict[type[_C], Callable[..., None]] = {
    AllowedPayees: _payees,
    AllowedPaymentInstruments: _instruments,
    AllowedPisps: _pisps,
    AmountRange: _range,
    Budget: _budget,
    AgentRecurrence: _recurrence,
    ExecutionDate: _execution,
    PaymentReference: _reference,
}


def is_stateful(constraints: Sequence[Mapping[str, Any]]) -> bool:
    """Whether approving under these constraints must update the mandate's usage."""
    return any(c.get("type") in ("payment.budget", "payment.agent_recurrence") for c in constraints)


__all__ = [
    "CHECKOUT_TYPES",
    "PAYMENT_TYPES",
    "CartLine",
    "LineItemRequirement",
    "Usage",
    "check_checkout",
    "check_payment",
    "is_stateful",
    "line_items_satisfied",
    "next_allowed",
    "parse",
]
