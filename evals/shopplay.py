"""The players of shopping tasks: the shopper agent, the oracle's scripted calls, do-nothing.

Each onboards the same way (a merchant-bound shopper key, a registered platform with its
signing key and webhook receiver; for AP2 tasks, the user's wallet key on the tenant's trust
list), then plays. The oracle makes the task's gold protocol calls with no search or choice:
create a checkout for ``gold.item`` × ``gold.quantity``, select ``gold.fulfillment`` (or the
first option), pay as the task says (tamper included), complete. Do-nothing stops after
onboarding.
"""

from __future__ import annotations

from evals.controls import DO_NOTHING, ORACLE
from evals.shopping import SHOPPER, PlayResult, ShopTask
from tools.commerce.shopper.agent import (
    INTERVENTIONS,
    Buyer,
    Goal,
    PaymentMethod,
    ShopResult,
    candidates,
    pay,
)
from tools.commerce.shopper.agent import line_items as request_items
from tools.commerce.shopper.client import AcpRequestError, ShopperError
from tools.commerce.shopper.mandates import Ap2Mandates, MandateTamper
from tools.commerce.shopper.onboard import trust_issuer
from tools.commerce.shopper.payment import DelegatedCard, Tamper
from tools.commerce.shopper.session import Shopper, shopper_session


def payment_for(task: ShopTask, other_merchant_id: str) -> PaymentMethod:
    """The payment method the task's mode and tamper call for (reused-token: the first one)."""
    t = task.tamper
    if task.pay == "token":
        tamper = Tamper(
            allowance_delta=-1 if t == "over_allowance" else 0,
            allowance_merchant=other_merchant_id if t == "other_merchant" else None,
            expires_in_s=-60 if t == "expired_token" else None,
        )
        return DelegatedCard(tamper=tamper)
    mandate_tamper = MandateTamper(
        wrong_checkout_hash=t == "wrong_checkout_hash",
        expired=t == "expired_mandate",
        budget_delta=-1 if t == "over_budget_mandate" else 0,
    )
    if task.pay == "ap2-open":
        return Ap2Mandates(mode="open", tamper=mandate_tamper)
    return Ap2Mandates(mode="present", tamper=mandate_tamper)


def trust_wallet(url: str, admin_key: str, method: PaymentMethod) -> None:
    """Put the user's wallet key (an AP2 root issuer) on the tenant's trust list."""
    if isinstance(method, Ap2Mandates):
        trust_issuer(url, admin_key, method.user.public_jwk, label="eval user wallet")


def _lines(result: ShopResult) -> list[str]:
    return [f"{s.n}. {s.action}{'' if s.ok else ' ✗'}: {s.summary}" for s in result.steps]


def _from_result(result: ShopResult, lines: list[str] | None = None) -> PlayResult:
    o = result.outcome
    return PlayResult((lines or []) + _lines(result), o.status, o.error_code)


def play_shopper(task: ShopTask, shopper: Shopper, method: PaymentMethod) -> PlayResult:
    goal = Goal(task.goal.want, task.goal.quantity, task.goal.budget, task.goal.currency)
    if task.tamper == "reused_token":
        first = shopper.buy(goal, method)
        assert isinstance(method, DelegatedCard)
        if not method.tokens:
            return _from_result(first)
        again = DelegatedCard(tamper=Tamper(reuse_token=method.tokens[0]))
        return _from_result(shopper.buy(goal, again), ["first purchase:", *_lines(first), "again:"])
    return _from_result(shopper.buy(goal, method))


def _oracle_once(task: ShopTask, shopper: Shopper, method: PaymentMethod) -> tuple[str, str | None]:
    """The gold calls once; ``(outcome status, code)``."""
    client, buyer, gold = shopper.client, Buyer(), task.gold
    client.discover()
    currency = _currency_of(shopper, gold.item)
    session = client.create_checkout(
        {
            "currency": currency.lower(),
            "line_items": request_items(gold.item, gold.quantity),
            "capabilities": {"interventions": {"supported": list(INTERVENTIONS)}},
            "buyer": buyer.wire(),
            "fulfillment_details": buyer.fulfillment_details(),
        }
    )
    options = session.get("fulfillment_options") or []
    if options:
        option = gold.fulfillment or str(options[0]["id"])
        kind = next((o.get("type") for o in options if o.get("id") == option), "shipping")
        session = client.update_checkout(
            str(session["id"]),
            {
                "selected_fulfillment_options": [
                    {"type": kind, "option_id": option, "item_ids": [gold.item]}
                ]
            },
        )
    # Pay as the protocol asks: 3-D Secure when the issuer wants it, and the bounded retries
    # after a recoverable decline (the shopper's own ``pay``; no search, no choice).
    done = pay(
        client,
        shopper.enrollment.merchant_id,
        session,
        method,
        note=lambda *a: None,
        clock=shopper.clock,
        buyer=buyer,
    )
    if done.get("status") != "completed":
        codes = [m.get("code") for m in done.get("messages") or [] if m.get("type") == "error"]
        return "declined", str(codes[0]) if codes else None
    order_id = str((done.get("order") or {}).get("id"))
    shopper.agent(method).await_order_event(order_id)
    return "ordered", None


def _currency_of(shopper: Shopper, item_id: str) -> str:
    """The gold item's currency, from the feed the merchant shared."""
    feed = shopper.enrollment.feed_id
    if feed is not None:
        for c in candidates(shopper.client.products(feed)):
            if c.item_id == item_id:
                return c.currency
    raise ValueError(f"the gold item {item_id!r} is not in the merchant's feed")


def play_oracle(task: ShopTask, shopper: Shopper, method: PaymentMethod) -> PlayResult:
    runs = 2 if task.tamper == "reused_token" else 1
    status: str | None = None
    code: str | None = None
    for i in range(runs):
        if i == 1:
            assert isinstance(method, DelegatedCard)
            method = DelegatedCard(tamper=Tamper(reuse_token=method.tokens[0]))
        try:
            status, code = _oracle_once(task, shopper, method)
        except AcpRequestError as exc:
            status, code = "refused", exc.code
    lines = [f"{e.method} {e.path} → {e.status}" for e in shopper.client.exchanges]
    return PlayResult(lines, status, code)


def play_shop(
    player: str,
    task: ShopTask,
    *,
    url: str,
    admin_key: str,
    merchant_id: str,
    other_merchant_id: str,
) -> PlayResult:
    """Onboard, then play ``player`` (``shopper``, ``oracle`` or ``do-nothing``)."""
    method = payment_for(task, other_merchant_id)
    try:
        with shopper_session(url, admin_key, merchant_id) as shopper:
            trust_wallet(url, admin_key, method)
            if player == DO_NOTHING:
                return PlayResult(["onboarded; made no protocol call"], None, None)
            if player == ORACLE:
                return play_oracle(task, shopper, method)
            if player == SHOPPER:
                return play_shopper(task, shopper, method)
            raise ValueError(f"unknown player {player!r}")
    except ShopperError as exc:
        return PlayResult([], None, None, f"{type(exc).__name__}: {exc}"[:500])


__all__ = ["payment_for", "play_oracle", "play_shop", "play_shopper", "trust_wallet"]
