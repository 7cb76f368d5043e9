"""The real thing: MiniLM + BM25 on our corpus and question set (issue gate: hybrid ≥ 0.90)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cockpit.config import Settings
from cockpit.embeddings import default_embedder
from evals.retrieval import evaluate, load_questions
from knowledge.corpus import load_shared_corpus
from knowledge.models import SearchMode
from knowledge.store import KnowledgeStore


@pytest.mark.slow
def test_hybrid_recall_beats_each_method(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COCKPIT_EMBEDDINGS", raising=False)
    store = KnowledgeStore.from_settings(Settings(data_dir=tmp_path), embedder=default_embedder())
    load_shared_corpus(store)
    questions = load_questions()
    recall: dict[str, float] = {}
    for mode in ("bm25", "vector", "hybrid"):

        def retrieve(text: str, k: int, mode: SearchMode = mode) -> list[tuple[str, str]]:
            hits = store.query("eval", text, k=k, mode=mode, group="chunks")  # sections are judged
            return [(h.document_id, h.section) for h in hits]

        recall[mode] = evaluate(questions, retrieve, ks=(5,)).recall[5]
    assert recall["hybrid"] >= 0.90
    assert recall["hybrid"] > recall["bm25"]
    assert recall["hybrid"] > recall["vector"]
