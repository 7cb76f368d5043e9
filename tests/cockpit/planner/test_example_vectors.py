"""Intent examples are embedded once per process and embedder (``cockpit.planner.example_vectors``)."""

from __future__ import annotations

import numpy as np
import pytest

from cockpit.embeddings import HashingEmbedder
from cockpit.planner import example_vectors as module
from cockpit.planner.example_vectors import example_vectors
from cockpit.planner.intents import IntentIndex
from tests.support.embedders import Counting


def test_only_texts_no_earlier_call_had_reach_the_embedder() -> None:
    model = Counting(HashingEmbedder(64))
    first = example_vectors(model, ["refund it", "where is my payout"])
    second = example_vectors(
        model, ["where is my payout", "fight the dispute", "fight the dispute"]
    )
    assert model.batches == [["refund it", "where is my payout"], ["fight the dispute"]]
    direct = HashingEmbedder(64).embed(["where is my payout", "fight the dispute"])
    np.testing.assert_array_equal(second, direct[[0, 1, 1]])
    np.testing.assert_array_equal(first[1], second[0])
    assert second.dtype == np.float32


def test_each_embedder_keeps_its_own_vectors() -> None:
    small, large = Counting(HashingEmbedder(16)), Counting(HashingEmbedder(32))
    assert example_vectors(small, ["refund it"]).shape == (1, 16)
    assert example_vectors(large, ["refund it"]).shape == (1, 32)
    assert large.batches == [["refund it"]]


def test_the_oldest_texts_go_past_capacity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "CAPACITY", 2)
    model = Counting(HashingEmbedder(16))
    example_vectors(model, ["a", "b", "c"])
    example_vectors(model, ["a", "c"])
    assert model.batches == [["a", "b", "c"], ["a"]]


def test_a_supervisor_index_embeds_only_what_its_agents_lacked() -> None:
    model = Counting(HashingEmbedder(64))
    agent = [("refund", ["refund the payment", "give the money back"])]
    supervisor = [
        ("to_payments", ["refund the payment", "give the money back", "talk to payments"])
    ]
    IntentIndex(agent, embedder=model, out_of_scope=["tell me a joke"])
    index = IntentIndex(supervisor, embedder=model, out_of_scope=["tell me a joke"])
    assert model.batches[1] == ["talk to payments"]
    ranked, _ = index.rank("give the money back")
    assert ranked[0].name == "to_payments"
