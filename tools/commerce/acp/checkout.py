"""The checkout session itself: from what the agent asked for to the ``CheckoutSession`` JSON.

:func:`render` is pure: given the session's inputs (items with quantities, buyer, fulfilment
details and choices, discount codes), the merchant's catalogue rows and discounts, the
payment handlers and the time, it computes line items, fulfilment options, the selected
options, totals (discounts included), messages, links, capabilities and the status. The service stores what it returns; payment handlers and
AP2 check that stored JSON, never a recomputation.

Status (DOMAIN.md §10a): a terminal or in-progress status set by the service (``completed``,
``canceled``, ``complete_in_progress``) stays; past ``expires_at`` an open session is
``expired``; a payment that needs 3-D Secure from an agent that cannot run it is
``requires_escalation`` (``continue_url`` + an ``intervention_required`` message); an error
message that blocks payment (out of stock, quantity exceeded, missing address, required
intervention) makes it ``not_ready_for_payment``; a payment waiting for 3-D Secure is
``authentication_required`` (with ``authentication_metadata``); otherwise it is
``ready_for_payment`` (a ``payment_declined`` message does not block a retry). The service
records the pending intervention in the inputs (``authentication`` / ``escalation``); an
update of the cart clears it.

Totals (discount extension, :mod:`tools.commerce.acp.discounts`): ``items_base_amount`` −
``items_discount`` (item discounts, also on each line) = ``subtotal``; ``total`` = ``subtotal``
− ``discount`` (order-level and shipping discounts) + ``fulfillment`` (the full shipping price)
+ ``tax``, where tax is charged on what the buyer pays before tax.

Tax is a deliberately simple per-country table (:data:`TAX_RATES`), charged on top of the
goods and shipping (prices are shown exclusive of tax), at the rate of the shipping country,
or of the merchant's country for digital-only carts. It is not tax advice.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from cockpit.money import to_minor
from tools.commerce.acp import discounts
from tools.commerce.acp.catalog import availability, storefront
from tools.commerce.acp.models import Item
from tools.commerce.acp.wire import API_VERSION
from tools.commerce.errors import AcpError

SESSION_TTL = timedelta(hours=6)
"""An open session expires this long after it was created."""
TERMINAL = frozenset({"completed", "canceled", "expired"})
HELD = frozenset({"complete_in_progress"})
SELLER_INTERVENTIONS = ("3ds", "address_verification")
"""Interventions this merchant server can run (3DS: :mod:`tools.commerce.threeds`)."""
ESCALATION_PARAM = "$.capabilities.interventions.supported"
"""``param`` of the ``intervention_required`` message of an escalated session."""

TAX_RATES: dict[str, tuple[str, str]] = {
    "SG": ("GST", "0.09"),
    "KR": ("VAT", "0.10"),
    "TH": ("VAT", "0.07"),
    "DE": ("VAT", "0.19"),
    "BR": ("ICMS", "0.17"),
    "ID": ("VAT", "0.11"),
    "MY": ("SST", "0.08"),
    "PH": ("VAT", "0.12"),
    "JP": ("consumption tax", "0.10"),
    "FR": ("VAT", "0.20"),
    "NL": ("VAT", "0.21"),
    "GB": ("VAT", "0.20"),
    "AU": ("GST", "0.10"),
}
"""Country → (tax name, rate). Countries not listed (e.g. US: state sales tax is not
modelled) are charged no tax."""

# (standard, express) shipping per currency, major units.
_SHIPPING = {
    "SGD": ("5.00", "15.00"),
    "KRW": ("3000", "8000"),
    "THB": ("80.00", "250.00"),
    "EUR": ("4.90", "12.90"),
    "BRL": ("15.00", "35.00"),
    "USD": ("5.00", "15.00"),
    "IDR": ("20000", "60000"),
    "MYR": ("10.00", "30.00"),
    "PHP": ("150.00", "450.00"),
    "JPY": ("600", "1500"),
    "GBP": ("3.90", "9.90"),
}
_DEFAULT_SHIPPING = ("5.00", "15.00")
STANDARD, EXPRESS, DIGITAL = "shipping_standard", "shipping_express", "digital_delivery"
_BLOCKING = frozenset(
    {"out_of_stock", "quantity_exceeded", "missing", "invalid", "intervention_required"}
)


@dataclass(frozen=True, slots=True)
class Seller:
    merchant_id: str
    name: str
    country: str
    currency: str
    """Uppercase ISO 4217."""


def iso(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _total(kind: str, text: str, amount: int, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "display_text": text, "amount": amount, **extra}


def _error(code: str, content: str, *, param: str | None = None, **extra: Any) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "type": "error",
        "code": code,
        "content_type": "plain",
        "content": content,
    }
    if param:
        msg["param"] = param
    return {**msg, **extra}


def _warning(code: str, content: str, *, param: str | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "type": "warning",
        "code": code,
        "content_type": "plain",
        "content": content,
    }
    if param:
        msg["param"] = param
    return msg


def merge_items(requested: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Request ``Item`` s → ``[{id, quantity, unit_amount?}]``: ACP's request ``Item`` has no
    quantity (DOMAIN.md #264), so an id sent N times is bought N times (first-seen order)."""
    out: dict[str, dict[str, Any]] = {}
    for item in requested:
        entry = out.setdefault(item["id"], {"id": item["id"], "quantity": 0})
        entry["quantity"] += 1
        if item.get("unit_amount") is not None:
            entry["unit_amount"] = item["unit_amount"]
    return list(out.values())


def check_items(items: Sequence[Mapping[str, Any]], catalogue: Mapping[str, Item]) -> None:
    """400 ``invalid_item_id`` for an id the merchant never sold."""
    for i, item in enumerate(items):
        if item["id"] not in catalogue:
            raise AcpError(
                f"The item ID '{item['id']}' does not exist.",
                code="invalid_item_id",
                param=f"$.line_items[{i}].id",
            )


def shipping_prices(currency: str) -> tuple[int, int]:
    std, exp = _SHIPPING.get(currency, _DEFAULT_SHIPPING)
    return to_minor(Decimal(std), currency), to_minor(Decimal(exp), currency)


def _options(
    seller: Seller, physical: list[str], digital: list[str], *, at: datetime
) -> list[dict[str, Any]]:
    opts: list[dict[str, Any]] = []
    if physical:
        std, exp = shipping_prices(seller.currency)
        opts.append(
            {
                "type": "shipping",
                "id": STANDARD,
                "title": "Standard shipping",
                "carrier": "Cockpit Post",
                "earliest_delivery_time": iso(at + timedelta(days=3)),
                "latest_delivery_time": iso(at + timedelta(days=5)),
                "totals": [_total("total", "Standard shipping", std)],
            }
        )
        opts.append(
            {
                "type": "shipping",
                "id": EXPRESS,
                "title": "Express shipping",
                "carrier": "Cockpit Express",
                "earliest_delivery_time": iso(at + timedelta(days=1)),
                "latest_delivery_time": iso(at + timedelta(days=2)),
                "totals": [_total("total", "Express shipping", exp)],
            }
        )
    if digital:
        opts.append(
            {
                "type": "digital",
                "id": DIGITAL,
                "title": "Email delivery",
                "totals": [_total("total", "Email delivery", 0)],
            }
        )
    return opts


def check_selection(
    selected: Sequence[Mapping[str, Any]],
    items: Sequence[Mapping[str, Any]],
    catalogue: Mapping[str, Item],
) -> None:
    """400 for a selected option this cart does not offer, or an item not in the cart."""
    in_cart = {i["id"] for i in items}
    for n, sel in enumerate(selected):
        kinds = {catalogue[i].fulfillment for i in sel["item_ids"] if i in catalogue}
        valid = {STANDARD: "shipping", EXPRESS: "shipping", DIGITAL: "digital"}
        if valid.get(sel["option_id"]) != sel["type"]:
            raise AcpError(
                f"no fulfilment option {sel['option_id']!r} of type {sel['type']!r}",
                code="invalid_fulfillment_option",
                param=f"$.selected_fulfillment_options[{n}].option_id",
            )
        for m, item_id in enumerate(sel["item_ids"]):
            if item_id not in in_cart or kinds != {sel["type"]}:
                raise AcpError(
                    f"item {item_id!r} is not in the cart or cannot be fulfilled by {sel['option_id']}",
                    code="invalid_fulfillment_option",
                    param=f"$.selected_fulfillment_options[{n}].item_ids[{m}]",
                )


def _selected(
    chosen: Sequence[Mapping[str, Any]], physical: list[str], digital: list[str]
) -> list[dict[str, Any]]:
    """The agent's choices for items still in the cart; the rest get the default option."""
    out: list[dict[str, Any]] = []
    covered: set[str] = set()
    live = set(physical) | set(digital)
    for sel in chosen:
        ids = [i for i in sel["item_ids"] if i in live and i not in covered]
        if ids:
            out.append({"type": sel["type"], "option_id": sel["option_id"], "item_ids": ids})
            covered.update(ids)
    rest_physical = [i for i in physical if i not in covered]
    rest_digital = [i for i in digital if i not in covered]
    if rest_physical:
        out.append({"type": "shipping", "option_id": STANDARD, "item_ids": rest_physical})
    if rest_digital:
        out.append({"type": "digital", "option_id": DIGITAL, "item_ids": rest_digital})
    return out


def _line(
    index: int, wanted: Mapping[str, Any], item: Item, base_url: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    qty = int(wanted["quantity"])
    amount = item.unit_amount * qty
    line: dict[str, Any] = {
        "id": f"li_{item.item_id}",
        "item": {"id": item.item_id},
        "quantity": qty,
        "name": item.title,
        "unit_amount": item.unit_amount,
        "product_id": item.product_id,
        "sku": item.item_id,
        "images": [m["url"] for m in item.body.get("media", []) if "url" in m][:1],
        "availability_status": availability(item) if item.active else "out_of_stock",
        "totals": [
            _total("items_base_amount", "Base amount", amount),
            _total("subtotal", "Subtotal", amount),
            _total("total", "Total", amount),
        ],
    }
    cats = item.body.get("categories") or []
    if cats:
        line["category"] = cats[0]["value"]
    if item.stock is not None:
        line["available_quantity"] = max(item.stock, 0)
    if item.max_per_order is not None:
        line["max_quantity_per_order"] = item.max_per_order
    msgs: list[dict[str, Any]] = []
    param = f"$.line_items[{index}].item.id"
    if not item.active or (item.stock is not None and item.stock <= 0):
        msgs.append(
            _error(
                "out_of_stock",
                f"The item '{item.title}' is currently out of stock. "
                "Please select a different item.",
                param=param,
                severity="high",
                resolution="requires_buyer_input",
            )
        )
    elif item.stock is not None and qty > item.stock:
        msgs.append(
            _error(
                "quantity_exceeded",
                f"Only {item.stock} of '{item.title}' are available.",
                param=f"$.line_items[{index}].quantity",
                severity="medium",
                resolution="requires_buyer_input",
            )
        )
    elif item.max_per_order is not None and qty > item.max_per_order:
        msgs.append(
            _error(
                "quantity_exceeded",
                f"At most {item.max_per_order} of '{item.title}' per order.",
                param=f"$.line_items[{index}].quantity",
                severity="medium",
                resolution="requires_buyer_input",
            )
        )
    elif availability(item) == "low_stock":
        msgs.append(
            _warning("low_stock", f"Only {item.stock} of '{item.title}' left.", param=param)
        )
    asked = wanted.get("unit_amount")
    if asked is not None and asked != item.unit_amount:
        msgs.append(
            _warning(
                "price_change",
                f"The price of '{item.title}' is {item.unit_amount}, not {asked}.",
                param=f"$.line_items[{index}].unit_amount",
            )
        )
    return line, msgs


def _tax_rate(country: str) -> tuple[str, Decimal]:
    name, rate = TAX_RATES.get(country.upper(), ("tax", "0"))
    return name, Decimal(rate)


def capabilities(
    requested: Mapping[str, Any] | None, handlers: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The seller's answer (intersection of interventions) and any ``intervention_required``."""
    asked = (requested or {}).get("interventions") or {}
    supported = [i for i in (asked.get("supported") or []) if i in SELLER_INTERVENTIONS]
    msgs: list[dict[str, Any]] = []
    required = asked.get("required") or []
    if asked.get("enforcement") == "always":
        for need in required:
            if need not in SELLER_INTERVENTIONS:
                msgs.append(
                    _error(
                        "intervention_required",
                        f"This merchant cannot run the {need} intervention.",
                        param="$.capabilities.interventions.required",
                        severity="high",
                    )
                )
    body = {
        "payment": {"handlers": [dict(h) for h in handlers]},
        "interventions": {"supported": supported, "required": [], "enforcement": "conditional"},
    }
    return body, msgs


def render(
    *,
    session_id: str,
    seller: Seller,
    inputs: Mapping[str, Any],
    catalogue: Mapping[str, Item],
    handlers: Sequence[Mapping[str, Any]],
    status: str | None,
    created_at: datetime,
    expires_at: datetime,
    at: datetime,
    order: Mapping[str, Any] | None = None,
    rules: Sequence[discounts.Rule] = (),
) -> dict[str, Any]:
    """The ``CheckoutSession`` JSON of a session (``status`` = one set by the service);
    ``rules`` are the merchant's discounts (:mod:`tools.commerce.acp.discounts`)."""
    base_url = storefront(seller.merchant_id)
    currency = seller.currency
    lines: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    physical: list[str] = []
    digital: list[str] = []
    for i, wanted in enumerate(inputs["items"]):
        item = catalogue[wanted["id"]]
        line, msgs = _line(i, wanted, item, base_url)
        lines.append(line)
        messages += msgs
        (digital if item.fulfillment == "digital" else physical).append(item.item_id)
    options = _options(seller, physical, digital, at=created_at)
    selected = _selected(inputs.get("selected") or [], physical, digital)
    option_cost = {o["id"]: o["totals"][0]["amount"] for o in options}
    details = inputs.get("fulfillment_details") or {}
    address = details.get("address")
    if physical and not address:
        messages.append(
            _error(
                "missing",
                "A shipping address is required.",
                param="$.fulfillment_details.address",
                severity="medium",
                resolution="requires_buyer_input",
            )
        )
    shipping = sum(option_cost.get(s["option_id"], 0) for s in selected if s["type"] == "shipping")
    standard = sum(
        option_cost.get(s["option_id"], 0) for s in selected if s["option_id"] == STANDARD
    )
    offer = discounts.apply(
        rules,
        inputs.get("coupons") or [],
        [line["totals"][0]["amount"] for line in lines],
        shipping=standard,
        currency=currency,
        at=at,
    )
    messages += offer.messages
    for line, off in zip(lines, offer.line_discounts, strict=True):
        if off:
            amount = line["totals"][0]["amount"] - off
            line["totals"] = [
                line["totals"][0],
                _total("items_discount", "Discount", off),
                _total("subtotal", "Subtotal", amount),
                _total("total", "Total", amount),
            ]
    base = sum(line["totals"][0]["amount"] for line in lines)
    subtotal = base - offer.items_discount
    country = (address or {}).get("country") if physical else None
    tax_name, rate = _tax_rate(country or seller.country)
    taxable = subtotal - offer.order_discount + shipping
    tax = int((rate * taxable).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    totals = [_total("items_base_amount", "Item(s) total", base)]
    if offer.items_discount:
        totals.append(_total("items_discount", "Item discounts", offer.items_discount))
    totals.append(_total("subtotal", "Subtotal", subtotal))
    if offer.order_discount:
        totals.append(_total("discount", "Order discounts", offer.order_discount))
    if physical or digital:
        totals.append(_total("fulfillment", "Shipping" if physical else "Delivery", shipping))
    jurisdiction = (country or seller.country).upper()
    totals.append(
        _total(
            "tax",
            f"{tax_name} ({(rate * 100).normalize():f}%)" if rate else "Tax",
            tax,
            breakdown=[{"jurisdiction": jurisdiction, "rate": float(rate), "amount": tax}],
        )
    )
    totals.append(_total("total", "Total", taxable + tax))
    caps, cap_msgs = capabilities(inputs.get("capabilities"), handlers)
    with_extension = discounts.extension_requested(inputs.get("capabilities"))
    if with_extension:
        caps["extensions"] = [copy.deepcopy(discounts.DECLARATION)]
    messages += cap_msgs
    if inputs.get("payment_error"):
        messages.append(dict(inputs["payment_error"]))
    escalation = inputs.get("escalation")
    if escalation:
        messages.append(dict(escalation["message"]))
    if status in TERMINAL or status in HELD:
        final = status
    elif at >= expires_at:
        final = "expired"
    elif escalation:
        final = "requires_escalation"
    elif any(m["type"] == "error" and m["code"] in _BLOCKING for m in messages):
        final = "not_ready_for_payment"
    elif inputs.get("authentication"):
        final = "authentication_required"
    else:
        final = "ready_for_payment"
    if final == "canceled":
        messages.append(
            {
                "type": "info",
                "content_type": "plain",
                "content": "Checkout session has been canceled.",
            }
        )
    body: dict[str, Any] = {
        "id": session_id,
        "protocol": {"version": API_VERSION},
        "capabilities": caps,
        "status": final,
        "currency": currency.lower(),
        "line_items": lines,
        "fulfillment_options": options,
        "selected_fulfillment_options": selected,
        "totals": totals,
        "messages": messages,
        "links": [
            {"type": "terms_of_use", "title": "Terms of use", "url": f"{base_url}/legal/terms"},
            {
                "type": "privacy_policy",
                "title": "Privacy policy",
                "url": f"{base_url}/legal/privacy",
            },
            {"type": "return_policy", "title": "Returns", "url": f"{base_url}/legal/returns"},
        ],
        "created_at": iso(created_at),
        "updated_at": iso(at),
        "expires_at": iso(expires_at),
    }
    if with_extension:
        body["discounts"] = offer.response()
    for key in ("buyer", "locale", "timezone", "metadata", "quote_id"):
        if inputs.get(key) is not None:
            body[key] = inputs[key]
    if details:
        body["fulfillment_details"] = dict(details)
    if order is not None:
        body["order"] = dict(order)
    show_intervention(body, inputs)
    return body


def show_intervention(body: dict[str, Any], inputs: Mapping[str, Any]) -> None:
    """The fields of the pending intervention on a body whose status is already set."""
    body.pop("authentication_metadata", None)
    body.pop("continue_url", None)
    if body["status"] == "authentication_required" and inputs.get("authentication"):
        body["authentication_metadata"] = dict(inputs["authentication"])
        interventions = body["capabilities"]["interventions"]
        interventions["required"], interventions["enforcement"] = ["3ds"], "always"
    elif body["status"] == "requires_escalation" and inputs.get("escalation"):
        body["continue_url"] = inputs["escalation"]["continue_url"]


def session_total(body: Mapping[str, Any]) -> int:
    """The ``total`` amount of a rendered session."""
    return int(next(t["amount"] for t in body["totals"] if t["type"] == "total"))


__all__ = [
    "ESCALATION_PARAM",
    "SELLER_INTERVENTIONS",
    "SESSION_TTL",
    "TAX_RATES",
    "TERMINAL",
    "Seller",
    "capabilities",
    "check_items",
    "check_selection",
    "iso",
    "merge_items",
    "render",
    "session_total",
    "shipping_prices",
    "show_intervention",
]
