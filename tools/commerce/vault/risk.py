"""Risk of an agent-initiated payment: the fraud model's score plus an agent-channel layer.

Every payment handler calls :func:`assess` before it moves money. Two layers, both
deterministic for a given database state:

1. **Model score.** The pending payment is put in the fraud engine's terms
   (:class:`tools.fraud.Transaction`, as :mod:`tools.payments.fraud_source` reads a stored
   payment) and scored by a :class:`ModelScorer`. :func:`fraud_model_scorer` scores with the
   fraud domain's own model on a *fresh* feature state replayed from the card's stored payments
   of the last 30 days, so the answer depends on the database, not on what else the process
   scored. Without a scorer the layer starts from :data:`NO_MODEL_PRIOR` and says
   ``MODEL_UNAVAILABLE``; a scorer that fails answers review (fail closed, as fraud does).
2. **Agent-channel layer**, added in log-odds to the model's score:

   ======================== ======= ====================================================
   reason                   weight  when
   ======================== ======= ====================================================
   UNREGISTERED_PLATFORM    +2.0    the shopper key has no registered platform
   NEW_PLATFORM             +2.0    platform registered < 7 days before ``at``
   ESTABLISHED_PLATFORM     −0.5    platform registered ≥ 90 days before ``at``
   PLATFORM_DECLINES        +0.5 ea declined agent charges of this platform (key), 30 days,
                                    at most +2.5
   PLATFORM_DISPUTES        +1.5 ea disputed payments of its agent charges, at most +4.5
   MANDATE_PRESENT          −1.0    an AP2 payment mandate authorises the payment
   NO_MANDATE_LARGE_AMOUNT  +2.0    no mandate and ≥ 250 USD (the fraud engine's scale)
   CARD_TESTING_SIGNAL      +1.0    the platform's own card-testing score ≥ 50

   AGENT_NO_HISTORY         −1.5 ea the model cites NEW_ACCOUNT, NEW_DEVICE or AMOUNT_ANOMALY
   ======================== ======= ====================================================

   The model compares a payment with its buyer's account, device and amount history. An agent
   payment has none by construction (its account and device are the checkout's own ids, never
   the platform's), so every first agent purchase would look like a new account on a new device
   with an unusual amount: those three reasons say nothing in this channel, and each one the
   model cites is taken back (AGENT_NO_HISTORY). Measured on the demo world's model: a 10 EUR
   delegated-card purchase scores 0.55 (its own verdict: decline) on those reasons alone. For
   the same reason the model's own verdict is not a floor here: its thresholds were set on
   human traffic with history; its score, anchored, is what counts.

   The combined probability is approved below :data:`REVIEW_AT`, held for review below
   :data:`DECLINE_AT`, declined above. Overrides only make it stricter: a disabled platform or
   a ``blocked`` platform signal declines; a ``manual_review`` signal or a failed model is at
   least review.

:func:`record_charge` keeps each handler's outcome (``com_agent_charges``), which is what the
declines and disputes features read next time.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cockpit.db.session import session_tenant
from cockpit.errors import CockpitError
from tools.commerce.platforms import Platform
from tools.commerce.ports import Charge, Checkout
from tools.commerce.vault.models import AgentCharge
from tools.commerce.vault.service import token_for_card
from tools.fraud import Transaction, parse_transaction
from tools.fraud.schema import USD_PER_UNIT
from tools.payments.fraud_source import transaction_of
from tools.payments.gateway import load_merchant
from tools.payments.models import Card, Payment
from tools.payments.requests import new_id

if TYPE_CHECKING:  # the model and scorer load LightGBM: imported where a payment is scored
    from tools.fraud import FraudModel

Action = Literal["approve", "review", "decline"]

REVIEW_AT = 0.25
DECLINE_AT = 0.75
NO_MODEL_PRIOR = 0.02
MODEL_ANCHOR = 0.05
"""Where the model's own review threshold lands before the agent-channel layer."""
LARGE_AMOUNT_USD = 250.0
HISTORY_WINDOW = timedelta(days=30)
HISTORY_LIMIT = 200
DISPUTE_WINDOW = timedelta(days=180)

WEIGHTS: dict[str, float] = {
    "UNREGISTERED_PLATFORM": 2.0,
    "NEW_PLATFORM": 2.0,
    "ESTABLISHED_PLATFORM": -0.5,
    "PLATFORM_DECLINES": 0.5,
    "PLATFORM_DISPUTES": 1.5,
    "MANDATE_PRESENT": -1.0,
    "NO_MANDATE_LARGE_AMOUNT": 2.0,
    "CARD_TESTING_SIGNAL": 1.0,
    "AGENT_NO_HISTORY": -1.5,
}
NO_HISTORY_REASONS = frozenset({"NEW_ACCOUNT", "NEW_DEVICE", "AMOUNT_ANOMALY"})
"""Model reasons that only say the buyer has no history, which no agent payment has."""
CAPS = {"PLATFORM_DECLINES": 2.5, "PLATFORM_DISPUTES": 4.5}
_STRICT: dict[str, int] = {"approve": 0, "review": 1, "decline": 2}


@dataclass(frozen=True, slots=True)
class ModelScore:
    """The fraud model's view of the payment."""

    score: float | None
    """Calibrated fraud probability; None when scoring failed."""
    decision: str
    """The model policy's own ``approve`` / ``review`` / ``decline``."""
    reasons: tuple[str, ...] = ()
    review_at: float | None = None
    """The model policy's review threshold; when given, the score is read relative to it."""


class ModelScorer(Protocol):
    def __call__(self, txn: Transaction, history: Sequence[Transaction]) -> ModelScore:
        """Score ``txn`` after replaying ``history`` (time order) into a fresh state."""
        ...


def fraud_model_scorer(model: FraudModel | Callable[[], FraudModel]) -> ModelScorer:
    """A :class:`ModelScorer` over the fraud domain's model (or a callable giving it, so the
    model may be loaded on first use)."""

    def score(txn: Transaction, history: Sequence[Transaction]) -> ModelScore:
        from tools.fraud import FeatureEngine, FraudModel, FraudScorer

        live = model if isinstance(model, FraudModel) else model()
        scorer = FraudScorer(model=live, engine=FeatureEngine())
        for past in history:
            scorer.engine.features(past)
        result = scorer.score(txn)
        return ModelScore(
            score=result.score,
            decision=result.decision,
            reasons=tuple(r.code for r in result.reasons),
            review_at=result.review_at,
        )

    return score


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """What :func:`assess` answers."""

    action: Action
    score: float
    """Combined probability (model score with the agent-channel layer)."""
    reasons: list[str]
    """Reason codes, agent-channel first, then ``MODEL:<code>`` of the fraud model."""
    model_score: float | None = None
    features: Mapping[str, Any] = field(default_factory=dict)
    """The agent-channel inputs, for evidence and explanations."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "score": round(self.score, 6),
            "reasons": list(self.reasons),
            "model_score": None if self.model_score is None else round(self.model_score, 6),
            "features": dict(self.features),
        }


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _agent_entities(who: str, card_id: str | None, fallback: str) -> tuple[str, str, str]:
    """(customer, device, ip) of an agent payment when the buyer sent no device or IP.

    The buyer behind a delegated card or mandate is the card holder, and the platform is the
    surface they shop through: the account is the card's, the device and IP are the pair
    (platform, card). Never the platform's alone: one shared id would join all its buyers into
    one fake ring. Without a card, the checkout's own ids (``fallback``).
    """
    if card_id is None:
        return f"cus_none_{fallback}", f"dev_none_{fallback}", _digest(fallback + ":ip")
    pair = _digest(f"{who}:{card_id}")
    return f"cus_card_{_digest(card_id)}", f"dev_agent_{pair}", _digest(pair + ":ip")


def agent_transaction(
    session: Session, checkout: Checkout, *, card_id: str | None, at: datetime
) -> Transaction:
    """The pending agent payment as the fraud engine sees it (entities: :func:`_agent_entities`)."""
    merchant = load_merchant(session, checkout.merchant_id)
    card = session.get(Card, card_id) if card_id else None
    signals = dict(checkout.risk_signals or {})
    own = _digest(f"{checkout.merchant_id}:{checkout.session_id}")
    country = card.issuing_country if card is not None else merchant.country
    address = (checkout.snapshot.get("fulfillment_details") or {}).get("address") or {}
    ship = str(address.get("country") or country).upper()[:2]
    device = str(signals.get("device_fingerprint") or "")
    customer, agent_device, agent_ip = _agent_entities(
        checkout.platform_id or checkout.key_id, card.id if card is not None else None, own
    )
    return Transaction(
        txn_id=f"acp_{own}",
        ts=at.timestamp(),
        customer_id=customer,
        card_id=card.id if card is not None else f"card_none_{own}",
        device_id=f"dev_{_digest(device)}" if device else agent_device,
        ip=str(signals.get("ip_address") or agent_ip),
        merchant_id=merchant.id,
        amount_minor=checkout.amount,
        currency=checkout.currency.upper(),
        method="card",
        mcc=int(merchant.mcc) if merchant.mcc.isdigit() else 5999,
        card_country=country,
        ip_country=merchant.country,
        ship_country=ship,
    )


def card_history(session: Session, card_id: str | None, *, at: datetime) -> list[Transaction]:
    """The card's stored payments of the last 30 days before ``at``, oldest first; its earlier
    agent payments carry the entities :func:`agent_transaction` gave them."""
    if card_id is None:
        return []
    rows = session.scalars(
        select(Payment)
        .where(
            Payment.card_id == card_id,
            Payment.created_at >= at - HISTORY_WINDOW,
            Payment.created_at < at,
        )
        .order_by(Payment.created_at.desc(), Payment.id)
        .limit(HISTORY_LIMIT)
    ).all()
    agents = {
        payment_id: platform_id or key_id
        for payment_id, platform_id, key_id in session.execute(
            select(AgentCharge.payment_id, AgentCharge.platform_id, AgentCharge.key_id).where(
                AgentCharge.payment_id.in_([p.id for p in rows])
            )
        )
    }
    out: list[Transaction] = []
    for p in reversed(rows):
        try:
            txn = parse_transaction(transaction_of(session, p))
        except CockpitError:
            continue  # a payment the engine cannot read (unscored currency) adds nothing
        who = agents.get(p.id)
        if who is not None:
            customer, device, ip = _agent_entities(who, card_id, p.id)
            txn = replace(txn, customer_id=customer, device_id=device, ip=ip)
        out.append(txn)
    return out


def _platform_record(
    session: Session, checkout: Checkout, *, at: datetime
) -> tuple[dict[str, Any], list[str], Action | None]:
    """(features, reasons, forced action) of the agent platform behind the key."""
    platform = session.get(Platform, checkout.platform_id) if checkout.platform_id else None
    if platform is not None and platform.tenant_id != session_tenant(session):
        platform = None
    feats: dict[str, Any] = {"platform_registered": platform is not None}
    reasons: list[str] = []
    forced: Action | None = None
    if platform is None:
        reasons.append("UNREGISTERED_PLATFORM")
    else:
        age = (at - platform.created_at).total_seconds() / 86400
        feats["platform_age_days"] = round(age, 2)
        if platform.disabled:
            reasons.append("PLATFORM_DISABLED")
            forced = "decline"
        if age < 7:
            reasons.append("NEW_PLATFORM")
        elif age >= 90:
            reasons.append("ESTABLISHED_PLATFORM")
    who = (
        AgentCharge.platform_id == platform.id
        if platform is not None
        else AgentCharge.key_id == checkout.key_id
    )
    declines = session.scalar(
        select(func.count())
        .select_from(AgentCharge)
        .where(
            who,
            AgentCharge.outcome == "declined",
            AgentCharge.created_at >= at - HISTORY_WINDOW,
            AgentCharge.created_at < at,
        )
    )
    disputes = session.scalar(
        select(func.count(func.distinct(Payment.id)))
        .select_from(AgentCharge)
        .join(Payment, Payment.id == AgentCharge.payment_id)
        .where(who, Payment.disputed.is_(True), AgentCharge.created_at >= at - DISPUTE_WINDOW)
    )
    feats["platform_declines_30d"] = int(declines or 0)
    feats["platform_disputes"] = int(disputes or 0)
    return feats, reasons, forced


def assess(
    session: Session,
    checkout: Checkout,
    *,
    card_id: str | None,
    mandate: Mapping[str, Any] | None,
    at: datetime,
    scorer: ModelScorer | None = None,
) -> RiskDecision:
    """Score the agent-initiated payment of ``checkout`` (see the module docstring)."""
    txn = agent_transaction(session, checkout, card_id=card_id, at=at)
    feats, reasons, forced = _platform_record(session, checkout, at=at)
    floor: Action = "approve"

    model: ModelScore | None = None
    model_reasons: list[str] = []
    if scorer is None or txn.currency not in USD_PER_UNIT:
        base = _logit(NO_MODEL_PRIOR)
        model_reasons.append("MODEL_UNAVAILABLE")
    else:
        model = scorer(txn, card_history(session, card_id, at=at))
        model_reasons += [f"MODEL:{code}" for code in model.reasons]
        if model.score is None:
            base, floor = _logit(NO_MODEL_PRIOR), "review"
            model_reasons.append("MODEL_FAILED")
        else:
            base = _logit(model.score)
            if model.review_at is not None:
                base += _logit(MODEL_ANCHOR) - _logit(model.review_at)
            structural = sum(1 for code in model.reasons if code in NO_HISTORY_REASONS)
            if structural:
                reasons.append("AGENT_NO_HISTORY")
                base += WEIGHTS["AGENT_NO_HISTORY"] * structural

    feats["amount_usd"] = round(txn.amount_usd, 2) if txn.currency in USD_PER_UNIT else None
    feats["mandate"] = mandate is not None
    if mandate is not None:
        reasons.append("MANDATE_PRESENT")
    elif feats["amount_usd"] is not None and feats["amount_usd"] >= LARGE_AMOUNT_USD:
        reasons.append("NO_MANDATE_LARGE_AMOUNT")

    token = (
        token_for_card(session, card_id, checkout_session_id=checkout.session_id)
        if card_id
        else None
    )
    signals = list(token.risk_signals) if token is not None else []
    if signals:
        feats["platform_signals"] = signals
    if any(s.get("action") == "blocked" for s in signals):
        reasons.append("PLATFORM_SIGNAL_BLOCKED")
        forced = "decline"
    elif any(s.get("action") == "manual_review" for s in signals):
        reasons.append("PLATFORM_SIGNAL_REVIEW")
        floor = "decline" if floor == "decline" else "review"
    if any(int(s.get("score") or 0) >= 50 for s in signals):
        reasons.append("CARD_TESTING_SIGNAL")

    logit = base
    for code in reasons:
        if code in ("PLATFORM_DECLINES", "PLATFORM_DISPUTES", "AGENT_NO_HISTORY"):
            continue  # counted per occurrence
        logit += WEIGHTS.get(code, 0.0)
    for code, count in (
        ("PLATFORM_DECLINES", feats["platform_declines_30d"]),
        ("PLATFORM_DISPUTES", feats["platform_disputes"]),
    ):
        if count:
            reasons.append(code)
            logit += min(CAPS[code], WEIGHTS[code] * count)
    score = _sigmoid(logit)
    action: Action = (
        "decline" if score >= DECLINE_AT else "review" if score >= REVIEW_AT else "approve"
    )
    if _STRICT[floor] > _STRICT[action]:
        action = floor
    if forced is not None:
        action = forced
    return RiskDecision(
        action=action,
        score=score,
        reasons=reasons + model_reasons,
        model_score=None if model is None else model.score,
        features=feats,
    )


def record_charge(
    session: Session,
    checkout: Checkout,
    *,
    handler_id: str,
    decision: RiskDecision,
    charge: Charge,
    at: datetime,
) -> None:
    """Keep a handler's outcome: the platform's declines and disputes are read from these."""
    session.add(
        AgentCharge(
            id=new_id("ach"),
            key_id=checkout.key_id,
            platform_id=checkout.platform_id,
            merchant_id=checkout.merchant_id,
            checkout_session_id=checkout.session_id,
            handler_id=handler_id,
            amount=checkout.amount,
            currency=checkout.currency.upper(),
            risk_action=decision.action,
            risk_score=decision.score,
            outcome=charge.status,
            decline_code=charge.decline_code,
            payment_id=charge.payment_id,
            created_at=at,
        )
    )
    session.flush()


__all__ = [
    "DECLINE_AT",
    "REVIEW_AT",
    "WEIGHTS",
    "ModelScore",
    "ModelScorer",
    "RiskDecision",
    "agent_transaction",
    "assess",
    "card_history",
    "fraud_model_scorer",
    "record_charge",
]
