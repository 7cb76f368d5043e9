"""Local planner benchmark: quality on held-out paraphrases, first-start cost, per-turn latency.

Prints one JSON object. The baseline in the same run is the planner with the
feature-hashing embedder (lexical only, no model), to show what the sentence
embeddings add. ``builtin_indexes`` is the CPU time to build every built-in agent's intent
index in one process, as a server answering each agent once does, against a baseline in the
same run where no index reuses another's example vectors (each gets an embedder of its own).
Run: ``python benchmarks/planner.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# The project root first: run as a script, this folder is first on the path, and its
# ``agents.py`` would stand in for the ``agents`` package that ``evals.planner`` imports.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cockpit.config import Settings
from cockpit.discovery import builtin_specs
from cockpit.embeddings import Embedder, HashingEmbedder, Vectors, make_embedder
from cockpit.models.resolve import planner_spec
from cockpit.planner import LocalPlanner
from cockpit.planner.dialogue import intent_index
from cockpit.planner.intents import cached_index
from evals.planner import DATA_DIR, Report, evaluate, load_suite
from evals.report import emit


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, round(q * (len(ordered) - 1)))
    return round(ordered[index], 2)


def _figures(reports: list[Report]) -> dict[str, Any]:
    cases = sum(r.n_cases for r in reports)
    slot_cases = sum(r.n_slot_cases for r in reports)
    oos = sum(r.n_out_of_scope for r in reports)
    latencies = [x for r in reports for x in r.latencies_ms]
    return {
        "intent_accuracy": round(sum(r.intent_accuracy * r.n_cases for r in reports) / cases, 4),
        "slot_accuracy": round(
            sum(r.slot_accuracy * r.n_slot_cases for r in reports) / slot_cases, 4
        ),
        "joint_accuracy": round(sum(r.joint_accuracy * r.n_cases for r in reports) / cases, 4),
        "out_of_scope_handled": round(
            sum(r.out_of_scope_handled * r.n_out_of_scope for r in reports) / oos, 4
        ),
        "n_cases": cases,
        "n_slot_cases": slot_cases,
        "n_out_of_scope": oos,
        "turn_latency_ms_p50": _pct(latencies, 0.5),
        "turn_latency_ms_p95": _pct(latencies, 0.95),
        "turn_latency_ms_mean": round(statistics.fmean(latencies), 2),
        "by_batch": {name: r.summary() for name, r in zip(("A", "B"), reports, strict=True)},
    }


class _Alias:
    """The same model under another identity: indexes built through it share no vectors with
    those built through the model or another alias."""

    def __init__(self, model: Embedder) -> None:
        self.model, self.name, self.dim = model, model.name, model.dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self.model.embed(texts)


def _builtin_indexes(model: Embedder) -> dict[str, Any]:
    """CPU seconds to index every built-in agent in one process: shared, then unshared."""
    specs = [s for s in builtin_specs(Settings()).values() if s.planner]
    planners = [planner_spec(s.planner) for s in specs]

    def build(embedder_for: Callable[[], Embedder]) -> float:
        started = time.process_time()
        for planner in planners:
            intent_index(planner, embedder_for())
        return round(time.process_time() - started, 3)

    shared = _Alias(model)
    return {
        "agents": [s.id for s in specs],
        "shared_cpu_s": build(lambda: shared),
        "baseline_each_its_own_cpu_s": build(lambda: _Alias(model)),
    }


def main() -> None:
    suites = [load_suite(cases_path=DATA_DIR / n) for n in ("heldout.yaml", "heldout_b.yaml")]
    spec = suites[0].planner

    started = time.perf_counter()
    embedder = make_embedder("minilm")  # a fresh instance: model file read + ONNX session
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    cached_index(
        [(i.name, [*i.examples, i.description]) for i in spec.intents],
        embedder=embedder,
        out_of_scope=spec.out_of_scope_examples,
    )
    index_s = time.perf_counter() - started
    planner = LocalPlanner(spec=spec, embedder=embedder, clock=lambda: suites[0].today)
    started = time.perf_counter()
    from langchain_core.messages import HumanMessage

    planner.bind_tools(suites[0].tools).invoke([HumanMessage("status of pay_abc123")])
    first_turn_s = time.perf_counter() - started

    builtin = _builtin_indexes(embedder)
    minilm = [evaluate(s, embedder=embedder) for s in suites]
    hashing = [evaluate(s, embedder=HashingEmbedder(384)) for s in suites]
    emit(
        {
            "embedder": embedder.name,
            "first_start": {
                "model_load_s": round(load_s, 3),
                "index_build_s": round(index_s, 3),
                "first_turn_s": round(first_turn_s, 3),
                "examples_indexed": sum(len(i.examples) + 1 for i in spec.intents)
                + len(spec.out_of_scope_examples),
            },
            "builtin_indexes": builtin,
            "minilm": _figures(minilm),
            "baseline_hashing_embedder": _figures(hashing),
        }
    )


if __name__ == "__main__":
    main()
