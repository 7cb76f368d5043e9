"""A small AP2 world for the AP2 tests: a merchant's signed checkout, a user, an agent, and
builders for human-present and human-not-present mandate pairs (with hooks to tamper)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tools.commerce.ap2 import wallet
from tools.commerce.ap2.constraints import CartLine
from tools.commerce.ap2.handler import cart_lines
from tools.commerce.ap2.sdjwt import Hop, digest, new_key, public_key, reveal, sign_jwt, split_chain

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
MERCHANT = {"id": "mer_ap2", "name": "Lion Electronics"}
INSTRUMENT = {"id": "spt_test_token", "type": "card", "description": "Visa •••• 4242"}
HEADPHONES = {"id": "sku_headphones", "title": "Wireless headphones"}
CABLE = {"id": "sku_cable", "title": "USB-C cable"}


def acp_checkout(
    session_id: str = "cs_ap2_1",
    lines: Sequence[tuple[str, str, int, int]] = (("sku_headphones", "Headphones", 7999, 2),),
    currency: str = "sgd",
) -> dict[str, Any]:
    """An ACP CheckoutSession as the merchant stores it (item id, name, unit amount, qty)."""
    items = []
    total = 0
    for n, (sku, name, unit, qty) in enumerate(lines, start=1):
        items.append(
            {
                "id": f"li_{n}",
                "item": {"id": sku, "name": name, "unit_amount": unit},
                "quantity": qty,
                "name": name,
                "unit_amount": unit,
                "totals": [{"type": "total", "display_text": "Total", "amount": unit * qty}],
            }
        )
        total += unit * qty
    return {
        "id": session_id,
        "status": "ready_for_payment",
        "currency": currency,
        "line_items": items,
        "totals": [
            {"type": "subtotal", "display_text": "Subtotal", "amount": total},
            {"type": "total", "display_text": "Total", "amount": total},
        ],
        "fulfillment_options": [],
        "messages": [],
        "links": [],
        "capabilities": {},
    }


def total_of(checkout: Mapping[str, Any]) -> int:
    return next(int(t["amount"]) for t in checkout["totals"] if t["type"] == "total")


@dataclass
class World:
    """What the verifier holds (trust list, merchant key, issued checkouts) and the buyer side."""

    checkout: dict[str, Any] = field(default_factory=acp_checkout)
    user: wallet.Party = field(default_factory=lambda: wallet.Party.new("user-1"))
    agent: wallet.Party = field(default_factory=lambda: wallet.Party.new("agent-1"))
    merchant_key: Any = field(default_factory=lambda: new_key("mkey-1"))
    at: datetime = NOW

    def __post_init__(self) -> None:
        self.checkout_jwt = sign_jwt(
            {**self.checkout, "merchant": MERCHANT, "iss": MERCHANT["id"]},
            self.merchant_key,
            typ="JWT",
            kid="mkey-1",
        )
        self.checkout_hash = digest(self.checkout_jwt)

    @property
    def trusted(self) -> list[dict[str, Any]]:
        return [self.user.public_jwk]

    @property
    def issued(self) -> dict[str, str]:
        return {self.checkout_hash: self.checkout_jwt}

    @property
    def merchant_public(self) -> Any:
        return public_key(self.merchant_key.export_public(as_dict=True))

    @property
    def amount(self) -> int:
        return total_of(self.checkout)

    @property
    def lines(self) -> list[CartLine]:
        return cart_lines(self.checkout["line_items"])

    # ----- human present ---------------------------------------------------------------

    def human_present(self, **overrides: Any) -> wallet.Presented:
        args: dict[str, Any] = {
            "merchant": MERCHANT,
            "checkout_jwt": self.checkout_jwt,
            "checkout_hash": self.checkout_hash,
            "amount": self.amount,
            "currency": "SGD",
            "instrument": INSTRUMENT,
            "at": self.at,
        }
        args.update(overrides)
        return wallet.human_present(self.user, **args)

    # ----- human not present ------------------------------------------------------------

    def open_checkout(
        self,
        constraints: Sequence[Mapping[str, Any]] | None = None,
        *,
        signer: wallet.Party | None = None,
        reveal: Any = None,
    ) -> Hop:
        constraints = (
            constraints
            if constraints is not None
            else [
                wallet.line_items_constraint([("req-1", [HEADPHONES, CABLE], 2)]),
                wallet.allowed_merchants_constraint([MERCHANT]),
            ]
        )
        return wallet.open_checkout(
            signer or self.user,
            self.agent,
            constraints,
            at=self.at - timedelta(days=1),
            reveal=reveal,
        )

    def open_payment(
        self,
        open_checkout: Hop,
        extra: Sequence[Mapping[str, Any]] = (),
        *,
        presets: Mapping[str, Any] | None = None,
        reference: bool = True,
    ) -> Hop:
        constraints = [*([wallet.payment_reference(open_checkout)] if reference else []), *extra]
        return wallet.open_payment(
            self.user, self.agent, constraints, at=self.at - timedelta(days=1), presets=presets
        )

    def not_present(
        self,
        *,
        checkout_constraints: Sequence[Mapping[str, Any]] | None = None,
        payment_constraints: Sequence[Mapping[str, Any]] = (),
        presets: Mapping[str, Any] | None = None,
        amount: int | None = None,
        payee: Mapping[str, Any] = MERCHANT,
        instrument: Mapping[str, Any] = INSTRUMENT,
    ) -> wallet.Presented:
        oc = self.open_checkout(checkout_constraints)
        op = self.open_payment(oc, payment_constraints, presets=presets)
        co_chain = wallet.close_checkout(
            self.agent,
            [oc],
            merchant_id=MERCHANT["id"],
            checkout_jwt=self.checkout_jwt,
            checkout_hash=self.checkout_hash,
            at=self.at,
        )
        pay_chain = wallet.close_payment(
            self.agent,
            [op],
            merchant=payee,
            checkout_hash=self.checkout_hash,
            amount=self.amount if amount is None else amount,
            currency="SGD",
            instrument=instrument,
            at=self.at,
        )
        return wallet.Presented(co_chain, pay_chain)


def disclosed_mandates(chain: str) -> list[dict[str, Any]]:
    """Every hop's mandate as a verifier sees it after disclosure (for schema checks)."""
    out = []
    for hop in split_chain(chain):
        claims = reveal(hop.payload, hop.disclosures, alg=hop.sd_alg)
        out.append(claims["delegate_payload"][0])
    return out


__all__ = [
    "CABLE",
    "HEADPHONES",
    "INSTRUMENT",
    "MERCHANT",
    "NOW",
    "World",
    "acp_checkout",
    "disclosed_mandates",
    "total_of",
]
