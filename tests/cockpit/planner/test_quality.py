"""Planner quality on held-out paraphrases with the real offline MiniLM embedder."""

from __future__ import annotations

import pytest

from cockpit.embeddings import OnnxMiniLMEmbedder, make_embedder
from evals.planner import DATA_DIR, Report, evaluate, load_suite


@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    embedder = make_embedder("minilm")  # the real model whatever COCKPIT_EMBEDDINGS says
    assert isinstance(embedder, OnnxMiniLMEmbedder)
    return {
        name: evaluate(load_suite(cases_path=DATA_DIR / name), embedder=embedder)
        for name in ("heldout.yaml", "heldout_b.yaml")
    }


def test_held_out_accuracy_meets_thresholds(reports: dict[str, Report]) -> None:
    cases = sum(r.n_cases for r in reports.values())
    assert cases >= 100
    intent = sum(r.intent_accuracy * r.n_cases for r in reports.values()) / cases
    slot_cases = sum(r.n_slot_cases for r in reports.values())
    slots = sum(r.slot_accuracy * r.n_slot_cases for r in reports.values()) / slot_cases
    assert intent >= 0.90, [f.text for r in reports.values() for f in r.failures]
    assert slots >= 0.90
    # Each batch on its own, too (batch B was never used for tuning).
    for report in reports.values():
        assert report.intent_accuracy >= 0.88
        assert report.slot_accuracy >= 0.90


def test_out_of_scope_requests_never_trigger_actions(reports: dict[str, Report]) -> None:
    for report in reports.values():
        assert report.n_out_of_scope >= 10
        assert report.out_of_scope_handled == 1.0


def test_misses_are_questions_not_wrong_writes(reports: dict[str, Report]) -> None:
    # A miss may ask or decline; it must never call the refund (a WRITE) by mistake.
    for report in reports.values():
        wrong_writes = [
            f
            for f in report.failures
            if f.tool_called == "create_refund" and f.gold_intent != "refund"
        ]
        assert not [f for f in wrong_writes if f.slots.get("payment_id")]
