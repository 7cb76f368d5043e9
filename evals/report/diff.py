"""Run-to-run diff: which tasks newly fail (or newly pass) between two stored reports."""

from __future__ import annotations

from typing import Any


def _outcomes(report: dict[str, Any]) -> dict[tuple[str, str, str], float]:
    out = {}
    for t in report["tasks"]:
        for label, a in t["agents"].items():
            if a["trials"]:
                out[(t["suite"], t["task"], label)] = a["successes"] / a["trials"]
    return out


def compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Tasks that passed every trial before and not now (``newly_failing``), the reverse
    (``newly_passing``), other pass-rate drops and gains, and tasks only one run has."""
    old, new = _outcomes(before), _outcomes(after)
    out: dict[str, list[dict[str, Any]]] = {
        "newly_failing": [],
        "newly_passing": [],
        "regressed": [],
        "improved": [],
        "added": [],
        "removed": [],
    }
    for key in sorted(old.keys() | new.keys()):
        item = {
            "suite": key[0],
            "task": key[1],
            "agent": key[2],
            "before": old.get(key),
            "after": new.get(key),
        }
        if key not in old:
            out["added"].append(item)
        elif key not in new:
            out["removed"].append(item)
        elif old[key] == 1.0 and new[key] < 1.0:
            out["newly_failing"].append(item)
        elif old[key] < 1.0 and new[key] == 1.0:
            out["newly_passing"].append(item)
        elif new[key] < old[key]:
            out["regressed"].append(item)
        elif new[key] > old[key]:
            out["improved"].append(item)
    return out


__all__ = ["compare"]
