from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from tools.fraud.features import FeatureEngine, label_events
from tools.fraud.model import FraudModel
from tools.fraud.scoring import FraudScorer
from tools.fraud.service import FraudService
from tools.fraud.simulator import frame_to_transactions
from tools.fraud.training import TrainingRun


@pytest.fixture(scope="module")
def warmed(trained: TrainingRun, sim_frame: pd.DataFrame) -> tuple[FraudScorer, list]:
    """A scorer that streamed the training period; returns it with the held-out transactions."""
    txns = frame_to_transactions(sim_frame)
    engine = FeatureEngine()
    engine.report_labels(label_events(sim_frame))
    scorer = FraudScorer(model=trained.model, engine=engine)
    scorer.score_batch(txns[: trained.cut])
    return scorer, txns[trained.cut :]


def _fresh_scorer(trained: TrainingRun, sim_frame: pd.DataFrame, upto: int) -> FraudScorer:
    engine = FeatureEngine()
    engine.report_labels(label_events(sim_frame))
    scorer = FraudScorer(model=trained.model, engine=engine)
    scorer.score_batch(frame_to_transactions(sim_frame.iloc[:upto]))
    return scorer


def test_every_decline_carries_reasons_that_are_real_contributions(
    trained: TrainingRun, warmed: tuple[FraudScorer, list]
) -> None:
    scorer, held = warmed
    results = scorer.score_batch(held[:1500])
    declines = [r for r in results if r.decision == "decline"]
    assert declines, "the held-out period has declines"
    model = trained.model
    for res in declines:
        assert res.reasons
        assert res.score is not None and res.score >= res.decline_at
        explained = scorer.explain(res.txn_id)
        assert explained is not None
        by_feature = {f["feature"]: f["contribution"] for f in explained["features"]}
        for reason in res.reasons:
            assert reason.contribution > 0
            assert reason.features
            for fc in reason.features:
                assert fc.feature in model.feature_names
                assert fc.contribution == pytest.approx(by_feature[fc.feature], abs=1e-9)
            assert reason.contribution == pytest.approx(
                sum(f.contribution for f in reason.features)
            )
        # Contributions add up to the model's log-odds (TreeSHAP local accuracy).
        margin = explained["margin"]
        x = np.array(
            [
                [
                    f["value"] if f["value"] is not None else np.nan
                    for f in sorted(
                        explained["features"], key=lambda f: model.feature_names.index(f["feature"])
                    )
                ]
            ]
        )
        assert margin == pytest.approx(float(model.margin(x)[0]), abs=1e-6)


def test_reasons_change_when_the_input_changes(
    trained: TrainingRun, sim_frame: pd.DataFrame
) -> None:
    held = sim_frame.iloc[trained.cut :]
    ato = held[held["pattern"] == "account_takeover"].iloc[0]
    pos = int(np.flatnonzero(sim_frame["txn_id"] == ato["txn_id"])[0])
    original = frame_to_transactions(sim_frame.iloc[[pos]])[0]
    # Same history, same transaction; then a version that looks like the customer's usual payment.
    a = _fresh_scorer(trained, sim_frame, pos).score(original)
    benign = dataclasses.replace(
        original,
        txn_id=original.txn_id + "-b",
        profile_changed_ts=None,
        ship_country=original.card_country,
        ip_country=original.card_country,
    )
    b = _fresh_scorer(trained, sim_frame, pos).score(benign)
    codes_a = [r.code for r in a.reasons]
    codes_b = [r.code for r in b.reasons]
    assert a.decision in {"review", "decline"}
    assert a.score is not None and b.score is not None and b.score < a.score
    assert codes_a != codes_b
    assert "RECENT_PROFILE_CHANGE" in codes_a and "RECENT_PROFILE_CHANGE" not in codes_b


def test_single_and_batch_agree(trained: TrainingRun, sim_frame: pd.DataFrame) -> None:
    txns = frame_to_transactions(sim_frame.iloc[:400])
    single = FraudScorer(model=trained.model)
    batch = FraudScorer(model=trained.model)
    s = [single.score(t) for t in txns]
    b = batch.score_batch(txns)
    assert [r.decision for r in s] == [r.decision for r in b]
    np.testing.assert_allclose([r.score for r in s], [r.score for r in b], rtol=1e-12)


def test_rescoring_a_txn_id_does_not_count_twice(
    trained: TrainingRun, sim_frame: pd.DataFrame
) -> None:
    scorer = FraudScorer(model=trained.model)
    txn = frame_to_transactions(sim_frame.iloc[:1])[0]
    first = scorer.score(txn)
    again = scorer.score(txn)
    assert again is first
    assert scorer.engine.seen == 1


def test_blocked_entity_declines_and_liveness_attack_reviews(
    trained: TrainingRun, sim_frame: pd.DataFrame
) -> None:
    legit = sim_frame[sim_frame["pattern"] == "legit"].iloc[:50]
    txns = frame_to_transactions(legit)
    scorer = FraudScorer(model=trained.model)
    base = [scorer.score(t) for t in txns]
    approved = [t for t, r in zip(txns, base, strict=True) if r.decision == "approve"]
    assert len(approved) >= 3
    blocked = scorer.score(
        dataclasses.replace(approved[0], txn_id="x1"), blocked={("device", approved[0].device_id)}
    )
    assert blocked.decision == "decline"
    assert blocked.reasons[0].code == "ENTITY_BLOCKED"
    attack = scorer.score(dataclasses.replace(approved[1], txn_id="x2", attack_type="replay"))
    assert attack.decision == "review" and "LIVENESS_ATTACK" in attack.overrides
    low = scorer.score(dataclasses.replace(approved[2], txn_id="x3", liveness_score=0.05))
    assert low.decision in {"review", "decline"}


class _Broken:
    def predict(self, *_a: object, **_k: object) -> np.ndarray:
        raise RuntimeError("model file went away")


def test_scoring_failure_fails_closed_to_review(
    trained: TrainingRun, sim_frame: pd.DataFrame
) -> None:
    broken = dataclasses.replace(trained.model)
    broken.booster = _Broken()  # type: ignore[assignment]
    scorer = FraudScorer(model=broken)
    txns = frame_to_transactions(sim_frame.iloc[:20])
    one = scorer.score(txns[0])
    assert one.decision == "review" and one.score is None
    assert one.error_code == "scoring_failed"
    assert one.reasons[0].code == "SCORING_ERROR"
    many = scorer.score_batch(txns[1:])
    assert {r.decision for r in many} == {"review"}


def test_nan_score_never_approves(trained: TrainingRun, sim_frame: pd.DataFrame) -> None:
    nan_model: FraudModel = dataclasses.replace(trained.model, calib_a=math.nan)
    res = FraudScorer(model=nan_model).score(frame_to_transactions(sim_frame.iloc[:1])[0])
    assert res.decision == "review"
    assert res.error_code == "score_not_finite"


def test_service_reports_merchants_and_graph(trained: TrainingRun, sim_frame: pd.DataFrame) -> None:
    svc = FraudService(trained.model, tenant_id="t1")
    txns = frame_to_transactions(sim_frame)
    svc.warm_up(txns, labels=label_events(sim_frame))
    merchant = sim_frame["merchant_id"].iloc[0]
    rep = svc.merchant_report(merchant)
    assert rep["scored"] == int((sim_frame["merchant_id"] == merchant).sum())
    assert rep["approve_rate"] + rep["review_rate"] + rep["decline_rate"] == pytest.approx(1.0)
    ring_member = sim_frame.loc[sim_frame["pattern"] == "fraud_ring", "customer_id"].iloc[-1]
    view = svc.entity_graph("customer", ring_member)
    assert view["ring_suspected"] is True
    assert view["component_accounts"] >= 4
    assert view["component_known_fraud"] >= 1
    legit = sim_frame.loc[sim_frame["pattern"] == "legit", "customer_id"].iloc[0]
    assert svc.entity_graph("customer", legit)["ring_suspected"] is False
