"""Agent-payment risk: the agent-channel layer as a table, platform history, the fraud model.

The layer is checked against a fixed model score so each row isolates its features; then the
real fraud model (a small simulator-trained one) shows the assessment is deterministic —
the same database state gives the same answer whatever else the process scored.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from tests.tools.commerce.vault_support import (
    AT,
    KEY,
    MERCHANT,
    TENANT,
    World,
    checkout,
    delegate_body,
    vault_world,
)
from tools.commerce.platforms import Platform
from tools.commerce.ports import Charge
from tools.commerce.vault import risk
from tools.commerce.vault.risk import ModelScore, RiskDecision, assess, record_charge
from tools.commerce.vault.service import delegate
from tools.fraud import Transaction
from tools.payments.models import Payment
from tools.payments.tx import run_tx


@pytest.fixture(scope="module")
def world(
    module_database_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    backend = "sqlite" if module_database_url is None else "postgres"
    with vault_world(tmp_path_factory.mktemp(f"risk-{backend}"), module_database_url) as w:
        with w.db.tenant_session(TENANT) as s:
            for pid, age, disabled in (
                ("plt_old", 200, False),
                ("plt_new", 2, False),
                ("plt_mid", 30, False),
                ("plt_off", 200, True),
            ):
                s.add(
                    Platform(
                        id=pid,
                        key_id=f"key_{pid}",
                        name=pid,
                        webhook_secret="x",
                        disabled=disabled,
                        created_at=AT - timedelta(days=age),
                    )
                )
        yield w


@dataclass
class Fixed:
    """A model that always says the same."""

    score: float | None = 0.01
    decision: str = "approve"
    review_at: float | None = None
    reasons: tuple[str, ...] = ("AMOUNT",)

    def __call__(self, txn: Transaction, history: Sequence[Transaction]) -> ModelScore:
        return ModelScore(self.score, self.decision, self.reasons, review_at=self.review_at)


def _assess(
    w: World, co: Any, *, mandate: Any = None, scorer: Any = None, card: str | None = None
) -> RiskDecision:
    return run_tx(
        w.db,
        TENANT,
        lambda s: assess(s, co, card_id=card, mandate=mandate, at=AT, scorer=scorer or Fixed()),
        write=False,
    )


def _co(platform: str | None, amount: int = 5_000, session: str = "csn_risk") -> Any:
    key = f"key_{platform}" if platform else "key_anon"
    return checkout(session, amount=amount, key_id=key, platform_id=platform)


MANDATE = {"vct": "mandate.payment.1", "transaction_id": "abc"}
LARGE = 50_000  # 500 SGD ≈ 370 USD, over the 250 USD line

TABLE: list[tuple[str, Any, dict[str, Any], str, set[str], set[str]]] = [
    (
        "established platform, small",
        _co("plt_old"),
        {},
        "approve",
        {"ESTABLISHED_PLATFORM"},
        {"UNREGISTERED_PLATFORM", "NO_MANDATE_LARGE_AMOUNT"},
    ),
    ("unregistered, small", _co(None), {}, "approve", {"UNREGISTERED_PLATFORM"}, set()),
    (
        "unregistered, large, no mandate",
        _co(None, LARGE),
        {},
        "review",
        {"UNREGISTERED_PLATFORM", "NO_MANDATE_LARGE_AMOUNT"},
        {"MANDATE_PRESENT"},
    ),
    (
        "unregistered, large, mandate",
        _co(None, LARGE),
        {"mandate": MANDATE},
        "approve",
        {"UNREGISTERED_PLATFORM", "MANDATE_PRESENT"},
        {"NO_MANDATE_LARGE_AMOUNT"},
    ),
    (
        "new platform, large, no mandate",
        _co("plt_new", LARGE),
        {},
        "review",
        {"NEW_PLATFORM", "NO_MANDATE_LARGE_AMOUNT"},
        set(),
    ),
    (
        "established platform, large, no mandate",
        _co("plt_old", LARGE),
        {},
        "approve",
        {"ESTABLISHED_PLATFORM", "NO_MANDATE_LARGE_AMOUNT"},
        set(),
    ),
    (
        "30-day-old platform: neither new nor established",
        _co("plt_mid"),
        {},
        "approve",
        set(),
        {"NEW_PLATFORM", "ESTABLISHED_PLATFORM"},
    ),
    ("disabled platform", _co("plt_off"), {}, "decline", {"PLATFORM_DISABLED"}, set()),
    (
        "the model declines",
        _co("plt_old"),
        {"scorer": Fixed(0.95, "decline")},
        "decline",
        set(),
        set(),
    ),
    (
        "the model's review verdict counts only through its score",
        _co("plt_old"),
        {"scorer": Fixed(0.05, "review")},
        "approve",
        set(),
        set(),
    ),
    (
        "the model failed",
        _co("plt_old"),
        {"scorer": Fixed(None, "review")},
        "review",
        {"MODEL_FAILED"},
        set(),
    ),
    ("a high model score", _co(None, LARGE), {"scorer": Fixed(0.4)}, "decline", set(), set()),
    (
        "a score on the model's review line lands on the anchor",
        _co("plt_mid"),
        {"scorer": Fixed(0.3, "review", review_at=0.3)},
        "approve",
        set(),
        set(),
    ),
    (
        # The demo model on a 10 EUR first agent purchase: 0.55, its own verdict decline, on
        # no-history reasons only, which every agent payment has.
        "a first agent purchase is not a new account on a new device",
        _co("plt_new"),
        {"scorer": Fixed(0.55, "decline", 0.14, ("NEW_ACCOUNT", "AMOUNT_ANOMALY", "NEW_DEVICE"))},
        "approve",
        {"AGENT_NO_HISTORY", "NEW_PLATFORM"},
        set(),
    ),
    (
        "the same score on evidence about the payment itself is held for review",
        _co("plt_new"),
        {"scorer": Fixed(0.55, "decline", 0.14, ("AMOUNT", "IP_VELOCITY"))},
        "review",
        {"NEW_PLATFORM"},
        {"AGENT_NO_HISTORY"},
    ),
    (
        "the anchor plus an unregistered platform is review",
        _co(None),
        {"scorer": Fixed(0.3, "review", review_at=0.3)},
        "review",
        {"UNREGISTERED_PLATFORM"},
        set(),
    ),
]


@pytest.mark.parametrize(
    ("case", "co", "kw", "action", "has", "lacks"), TABLE, ids=[t[0] for t in TABLE]
)
def test_agent_channel_layer(
    world: World,
    case: str,
    co: Any,
    kw: dict[str, Any],
    action: str,
    has: set[str],
    lacks: set[str],
) -> None:
    decision = _assess(world, co, **kw)
    assert decision.action == action, decision
    assert has <= set(decision.reasons), decision.reasons
    assert not lacks & set(decision.reasons), decision.reasons
    assert 0.0 < decision.score < 1.0
    assert decision == _assess(world, co, **kw)  # deterministic


def test_mandate_presence_lowers_the_score(world: World) -> None:
    without = _assess(world, _co("plt_mid", LARGE))
    with_mandate = _assess(world, _co("plt_mid", LARGE), mandate=MANDATE)
    assert with_mandate.score < without.score


def test_no_scorer_says_the_model_was_not_consulted(world: World) -> None:
    decision = run_tx(
        world.db,
        TENANT,
        lambda s: assess(s, _co("plt_old"), card_id=None, mandate=None, at=AT),
        write=False,
    )
    assert decision.action == "approve" and "MODEL_UNAVAILABLE" in decision.reasons
    assert decision.model_score is None


def _delegated_card(w: World, session: str, signals: list[dict[str, Any]]) -> str:
    body = delegate_body(session_id=session)
    body["risk_signals"] = signals
    token = delegate(
        w.db, w.principal(), idempotency_key=f"risk-{session}", payload=body, key=KEY, at=AT
    )
    with w.db.tenant_session(TENANT) as s:
        from tools.commerce.vault.models import VaultToken

        row = s.get(VaultToken, token.token_id)
        assert row is not None
        return row.card_id


def test_the_platforms_own_signals_count(world: World) -> None:
    review = _delegated_card(
        world, "csn_sig_r", [{"type": "card_testing", "score": 10, "action": "manual_review"}]
    )
    d = _assess(world, _co("plt_old", session="csn_sig_r"), card=review)
    assert d.action == "review" and "PLATFORM_SIGNAL_REVIEW" in d.reasons
    testing = _delegated_card(
        world, "csn_sig_t", [{"type": "card_testing", "score": 80, "action": "authorized"}]
    )
    clean = _assess(world, _co("plt_old", session="csn_sig_t"))
    d = _assess(world, _co("plt_old", session="csn_sig_t"), card=testing)
    assert "CARD_TESTING_SIGNAL" in d.reasons and d.score > clean.score


def _record(
    w: World, platform: str, session: str, outcome: str, payment_id: str | None = None
) -> None:
    co = _co(platform, session=session)
    decision = RiskDecision(action="approve", score=0.1, reasons=[])
    charge = Charge(status=outcome, payment_id=payment_id, message="")  # type: ignore[arg-type]
    run_tx(
        w.db,
        TENANT,
        lambda s: record_charge(
            s, co, handler_id="h", decision=decision, charge=charge, at=AT - timedelta(days=1)
        ),
    )


def test_past_declines_and_disputes_of_the_platform_raise_risk(world: World) -> None:
    with world.db.tenant_session(TENANT) as s:
        s.add(
            Platform(
                id="plt_hist",
                key_id="key_plt_hist",
                name="h",
                webhook_secret="x",
                created_at=AT - timedelta(days=30),
            )
        )
    base = _assess(world, _co("plt_hist"))
    assert base.features["platform_declines_30d"] == 0 and base.features["platform_disputes"] == 0
    for i in range(3):
        _record(world, "plt_hist", f"csn_hist_d{i}", "declined")
    declined = _assess(world, _co("plt_hist"))
    assert declined.features["platform_declines_30d"] == 3
    assert "PLATFORM_DECLINES" in declined.reasons and declined.score > base.score
    # Disputes: agent charges whose payment the buyer disputed.
    from tools.commerce.vault.handler import TokenizedCardHandler
    from tools.payments.gateway import Gateway

    paid = []
    for i in range(2):
        session = f"csn_hist_p{i}"
        token = delegate(
            world.db,
            world.principal(),
            idempotency_key=f"hist-{i}",
            payload=delegate_body(session_id=session),
            key=KEY,
            at=AT,
        ).token_id
        data = {"instrument": {"type": "card", "credential": {"type": "spt", "token": token}}}
        co = _co("plt_hist", session=session)
        charge = run_tx(
            world.db,
            TENANT,
            lambda s, c=co, d=data, k=session: TokenizedCardHandler(
                Gateway(world.db), scorer=Fixed()
            ).charge(s, c, d, at=AT - timedelta(hours=2), request_key=k),
        )
        assert charge.payment_id is not None
        paid.append(charge.payment_id)
    with world.db.tenant_session(TENANT) as s:
        for pid in paid:
            payment = s.get(Payment, pid)
            assert payment is not None
            payment.disputed = True
    disputed = _assess(world, _co("plt_hist", LARGE))
    assert disputed.features["platform_disputes"] == 2
    assert "PLATFORM_DISPUTES" in disputed.reasons
    assert disputed.action == "decline", disputed
    # Another platform's history is not this one's.
    assert _assess(world, _co("plt_mid")).features["platform_declines_30d"] == 0


# ----- the fraud model itself ---------------------------------------------------------------


@pytest.fixture(scope="module")
def fraud_model() -> Any:
    from tools.fraud import SimConfig, TrainParams, train_from_simulator

    run = train_from_simulator(
        SimConfig(seed=5, n_customers=300, days=15, n_rings=3), params=TrainParams(n_estimators=60)
    )
    return run.model


def test_the_fraud_model_scores_deterministically(world: World, fraud_model: Any) -> None:
    scorer = risk.fraud_model_scorer(fraud_model)
    card = _delegated_card(world, "csn_model", [])
    co = _co("plt_old", session="csn_model")
    first = _assess(world, co, scorer=scorer, card=card)
    assert first.model_score is not None and 0.0 <= first.model_score <= 1.0
    assert "MODEL_UNAVAILABLE" not in first.reasons
    # Scoring other payments in between changes nothing: each assessment has a fresh state.
    for amount in (100, 90_000, 4_000):
        _assess(world, _co(None, amount, session=f"csn_other_{amount}"), scorer=scorer, card=card)
    assert _assess(world, co, scorer=scorer, card=card) == first
    txn = run_tx(
        world.db, TENANT, lambda s: risk.agent_transaction(s, co, card_id=card, at=AT), write=False
    )
    assert (txn.card_id, txn.merchant_id, txn.currency, txn.amount_minor) == (
        card,
        MERCHANT,
        "SGD",
        5_000,
    )
    assert (
        "plt_old" not in txn.device_id and "key_" not in txn.customer_id
    )  # no shared platform entity
