"""Retrieval evaluation of the knowledge store: the question set over our corpus and its metrics.

``questions.yaml`` names, for each question, the document and section that answer it; any
``retrieve(question, k)`` (BM25, vectors, hybrid, a partner's store) is scored by recall@k and MRR.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

QUESTIONS_FILE = Path(__file__).parent / "questions.yaml"


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    question: str
    document: str
    section: str


def load_questions(path: Path = QUESTIONS_FILE) -> list[Question]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Question(str(q["id"]), str(q["question"]), str(q["document"]), str(q["section"]))
        for q in data["questions"]
    ]


@dataclass(frozen=True, slots=True)
class RetrievalScores:
    questions: int
    recall: dict[int, float]
    """recall@k: share of questions whose answering section is in the top k."""
    mrr: float
    """Mean reciprocal rank of the first hit (0 when not in the top ``max k``)."""
    misses: tuple[str, ...]
    """Ids of questions not answered within the largest k."""


def evaluate(
    questions: Sequence[Question],
    retrieve: Callable[[str, int], Sequence[tuple[str, str]]],
    *,
    ks: Sequence[int] = (1, 3, 5, 10),
) -> RetrievalScores:
    """Score ``retrieve(question, k) -> [(document_id, section), ...]`` on the set."""
    depth = max(ks)
    hits_at: dict[int, int] = dict.fromkeys(ks, 0)
    reciprocal = 0.0
    misses = []
    for q in questions:
        results = list(retrieve(q.question, depth))
        rank = next(
            (
                n
                for n, (doc, section) in enumerate(results, 1)
                if doc == q.document and section == q.section
            ),
            None,
        )
        if rank is None:
            misses.append(q.id)
            continue
        reciprocal += 1.0 / rank
        for k in ks:
            hits_at[k] += rank <= k
    n = max(len(questions), 1)
    return RetrievalScores(
        questions=len(questions),
        recall={k: hits_at[k] / n for k in ks},
        mrr=reciprocal / n,
        misses=tuple(misses),
    )


__all__ = ["QUESTIONS_FILE", "Question", "RetrievalScores", "evaluate", "load_questions"]
