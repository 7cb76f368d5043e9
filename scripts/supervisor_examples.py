"""Regenerate the supervisor's routing examples from the specialists' own planner intents.

The supervisor (agents/cockpit) routes by nearest neighbours over example utterances. Its best
examples are the ones each specialist already recognises, so every tool intent's examples of
agent X become examples of the supervisor's ``to_X`` handoff. Run after changing a specialist:

    python scripts/supervisor_examples.py          # rewrite agents/cockpit/planner.yaml
    python scripts/supervisor_examples.py --check  # exit 1 if it is out of date (a test runs this)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SUPERVISOR = ROOT / "agents" / "cockpit" / "planner.yaml"
MARK = "    # --- derived from the specialists' intents (scripts/supervisor_examples.py) ---"


def specialist_examples(agent: str) -> list[str]:
    spec = yaml.safe_load((ROOT / "agents" / agent / "agent.yaml").read_text())
    planner = spec.get("planner")
    if isinstance(planner, str) and planner.startswith("@"):
        planner = yaml.safe_load((ROOT / "agents" / agent / planner[1:]).read_text())
    out: list[str] = []
    for intent in (planner or {}).get("intents", []):
        if intent.get("tool") and not intent.get("handoff"):
            out += [e for e in intent.get("examples", []) if e not in out]
    return out


def render() -> str:
    text = SUPERVISOR.read_text()
    lines = text.splitlines()
    out: list[str] = []
    skipping = False
    current: str | None = None
    for line in lines:
        if line.strip().startswith("handoff:"):
            current = line.split(":", 1)[1].strip()
        if line == MARK:
            skipping = True
            continue
        if skipping:
            if line.startswith("      - "):
                continue
            skipping = False
        out.append(line)
        if line.strip() == "examples:" and current is None:
            pass
    # Re-insert the derived block after each handoff intent's hand-written examples.
    result: list[str] = []
    current = None
    i = 0
    while i < len(out):
        line = out[i]
        result.append(line)
        if line.strip().startswith("handoff:"):
            current = line.split(":", 1)[1].strip()
        if line.strip() == "examples:" and current:
            j = i + 1
            while j < len(out) and out[j].startswith("      - "):
                result.append(out[j])
                j += 1
            own = {ln.strip()[2:] for ln in out[i + 1 : j]}
            derived = [e for e in specialist_examples(current) if e not in own]
            if derived:
                result.append(MARK)
                result += [
                    f"      - {yaml.safe_dump(e, width=1000).strip().removesuffix('...').strip()}"
                    for e in derived
                ]
            current = None
            i = j
            continue
        i += 1
    return "\n".join(result) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    new = render()
    if args.check:
        sys.exit(0 if new == SUPERVISOR.read_text() else 1)
    SUPERVISOR.write_text(new)


if __name__ == "__main__":
    main()
