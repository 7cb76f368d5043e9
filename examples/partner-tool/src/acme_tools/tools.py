"""Acme's pricing tool for Cockpit agents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from cockpit.errors import ToolError
from cockpit.toolkit import ToolContext, ToolKind, register_tool

#: Acme's card pricing: a percentage of the amount plus a fixed fee per currency (minor units).
RATE_BPS = 290
FIXED_FEE = {"SGD": 30, "USD": 30, "EUR": 25}


class FeeQuoteArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int = Field(gt=0, description="Payment amount in minor units (e.g. cents)")
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 currency, e.g. SGD")


@register_tool("acme_fee_quote", kind=ToolKind.READ, args=FeeQuoteArgs)
def acme_fee_quote(ctx: ToolContext, args: FeeQuoteArgs) -> dict[str, Any]:
    """Quote Acme's processing fee for a card payment of this amount (2.9% plus a fixed fee
    per currency). Returns the fee and the amount the merchant receives, in minor units."""
    if args.currency not in FIXED_FEE:
        # A CockpitError reaches the model as a readable error; any other exception is a crash.
        raise ToolError(f"Acme does not price {args.currency} payments", code="unpriced_currency")
    fee = (args.amount * RATE_BPS + 5_000) // 10_000 + FIXED_FEE[args.currency]
    return {
        "amount": args.amount,
        "currency": args.currency,
        "fee": fee,
        "net": args.amount - fee,
        "pricing": "2.9% + fixed fee",
    }
