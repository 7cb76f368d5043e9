"""Export a scorecard's point tables as a JDM decision model (the auditable, engine-native form).

The hot path scores in Python from the same tables (a few µs instead of one
zen decision table per characteristic); this export lets an analyst read the
points in the JDM editor and lets a test prove both runtimes agree on every
applicant. The model reads ``applicant.<field>`` and writes
``points.<field>`` per characteristic and the total ``score``.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

from tools.credit.scorecard import FeaturePoints, Scorecard


def _num(x: float) -> str:
    return repr(int(x)) if float(x).is_integer() else repr(float(x))


def _conditions(f: FeaturePoints) -> list[str]:
    if f.kind == "numerical":
        edges = [-math.inf, *f.splits, math.inf]
        out = []
        for lo, hi in itertools.pairwise(edges):
            if lo == -math.inf and hi == math.inf:
                out.append("")
            elif lo == -math.inf:
                out.append(f"< {_num(hi)}")
            elif hi == math.inf:
                out.append(f">= {_num(lo)}")
            else:
                out.append(f"[{_num(lo)}..{_num(hi)})")
        return out
    by_bin: dict[int, list[str]] = {}
    for cat, idx in f.category_bins.items():
        by_bin.setdefault(idx, []).append(cat)
    return [", ".join(json.dumps(c) for c in sorted(by_bin.get(i, []))) for i in range(len(f.bins))]


def scorecard_to_jdm(card: Scorecard) -> dict[str, Any]:
    """One first-hit decision table per characteristic, then the sum, as a JDM graph."""
    nodes: list[dict[str, Any]] = [
        {
            "id": "input",
            "type": "inputNode",
            "name": "applicant",
            "position": {"x": 0, "y": 0},
            "content": {},
        }
    ]
    for k, f in enumerate(card.features):
        rules = [
            {"_id": f"{f.name}-{i}", "in": cond, "out": str(b.points)}
            for i, (cond, b) in enumerate(zip(_conditions(f), f.bins, strict=True))
        ]
        rules.append({"_id": f"{f.name}-unseen", "in": "", "out": str(f.unseen_points)})
        nodes.append(
            {
                "id": f"pts_{k}",
                "type": "decisionTableNode",
                "name": f"Points: {f.name}",
                "position": {"x": 250 * (k + 1), "y": 0},
                "content": {
                    "hitPolicy": "first",
                    "passThrough": True,
                    "inputField": None,
                    "outputPath": None,
                    "executionMode": "single",
                    "inputs": [{"id": "in", "name": f.name, "field": f"applicant.{f.name}"}],
                    "outputs": [{"id": "out", "name": "points", "field": f"points.{f.name}"}],
                    "rules": rules,
                },
            }
        )
    total = " + ".join(f"points.{f.name}" for f in card.features)
    nodes.append(
        {
            "id": "total",
            "type": "expressionNode",
            "name": "Score",
            "position": {"x": 250 * (len(card.features) + 1), "y": 0},
            "content": {
                "passThrough": True,
                "inputField": None,
                "outputPath": None,
                "executionMode": "single",
                "expressions": [{"id": "score", "key": "score", "value": total}],
            },
        }
    )
    nodes.append(
        {
            "id": "output",
            "type": "outputNode",
            "name": "score",
            "position": {"x": 0, "y": 200},
            "content": {},
        }
    )
    chain = [n["id"] for n in nodes]
    edges = [
        {"id": f"e{i}", "type": "edge", "sourceId": a, "targetId": b}
        for i, (a, b) in enumerate(itertools.pairwise(chain))
    ]
    return {"nodes": nodes, "edges": edges}


__all__ = ["scorecard_to_jdm"]
