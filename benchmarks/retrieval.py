"""Retrieval quality on our corpus: recall@k and MRR for BM25, vectors and hybrid.

    python benchmarks/retrieval.py [--embeddings minilm|hashing] [--out FILE]

Loads the shared corpus into a throw-away embedded Chroma, runs every question
of ``evals/retrieval/questions.yaml`` through each method in the same run and
prints one JSON object. BM25 and vector-only are the baselines hybrid must beat.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cockpit.config import Settings
from cockpit.embeddings import make_embedder
from evals.report import emit
from evals.retrieval import evaluate, load_questions
from knowledge.corpus import load_shared_corpus
from knowledge.models import SearchMode
from knowledge.store import KnowledgeStore


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embeddings", default="minilm")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    questions = load_questions()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        embedder = make_embedder(args.embeddings)
        store = KnowledgeStore.from_settings(Settings(data_dir=Path(tmp)), embedder=embedder)
        load = load_shared_corpus(store)
        setup_s = time.perf_counter() - started
        report: dict[str, object] = {
            "benchmark": "knowledge_retrieval",
            "embedder": embedder.name,
            "questions": len(questions),
            "corpus_chunks": load.chunks,
            "setup_s": round(setup_s, 2),
        }
        modes: tuple[SearchMode, ...] = ("bm25", "vector", "hybrid")
        for mode in modes:

            def retrieve(text: str, k: int, mode: SearchMode = mode) -> list[tuple[str, str]]:
                return [
                    (h.document_id, h.section)
                    for h in store.query("benchmark", text, k=k, mode=mode)
                ]

            t0 = time.perf_counter()
            scores = evaluate(questions, retrieve)
            report[mode] = {
                **{f"recall@{k}": round(v, 4) for k, v in scores.recall.items()},
                "mrr": round(scores.mrr, 4),
                "misses@10": list(scores.misses),
                "ms_per_query": round((time.perf_counter() - t0) * 1000 / len(questions), 2),
            }
    hybrid, bm25, vector = (report[m] for m in ("hybrid", "bm25", "vector"))
    assert isinstance(hybrid, dict) and isinstance(bm25, dict) and isinstance(vector, dict)
    report["hybrid_beats_both_at_5"] = hybrid["recall@5"] > max(
        bm25["recall@5"], vector["recall@5"]
    )
    emit(report, out=args.out)
    return report


if __name__ == "__main__":
    main()
