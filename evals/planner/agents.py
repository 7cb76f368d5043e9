"""The built-in agents' intent suites: held-out utterances bound to each agent's real tools.

``data/agents/<agent id>.yaml`` holds ``today``, ``cases`` (``intent: null`` = out of scope, must
call no tool) and optional ``out_of_scope``. Each agent's suite binds the tools its spec lists (as
the runtime binds them) plus its handoffs, so the figures are the planner's as it runs in the
team. These files are never used to add planner examples.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

import agents
from cockpit.clock import utcnow
from cockpit.runtime.graph import bound_schemas
from cockpit.specs.registry import load_builtin_specs
from cockpit.toolkit import default_registry
from evals.planner.evaluation import DATA_DIR, Case, Suite

AGENTS_DATA = DATA_DIR / "agents"
AGENTS_DIR = Path(agents.__file__).resolve().parent


def _cases(doc: Any) -> tuple[list[Case], list[str]]:
    rows = doc if isinstance(doc, list) else doc.get("cases", [])
    oos = [] if isinstance(doc, list) else list(doc.get("out_of_scope") or [])
    cases = [
        Case(r["text"], r["intent"], dict(r.get("slots") or {})) for r in rows if r.get("intent")
    ]
    oos += [r["text"] for r in rows if not r.get("intent")]
    return cases, oos


def agent_suites(agents_dir: Path = AGENTS_DIR, data: Path = AGENTS_DATA) -> dict[str, Suite]:
    """One suite per built-in agent that has a planner spec and a held-out file."""
    default_registry.load_entry_points()
    specs = load_builtin_specs([agents_dir])
    out: dict[str, Suite] = {}
    for agent_id, spec in sorted(specs.items()):
        path = data / f"{agent_id}.yaml"
        if not path.exists() or spec.planner is None:
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        cases, oos = _cases(doc)
        tools = bound_schemas(spec, specs, default_registry)
        today = doc.get("today") if isinstance(doc, dict) else None
        out[agent_id] = Suite(
            tools=tools,
            planner=spec.planner,
            cases=cases,
            out_of_scope=oos,
            today=date.fromisoformat(str(today)) if today else utcnow().date(),
        )
    return out


__all__ = ["AGENTS_DATA", "AGENTS_DIR", "agent_suites"]
