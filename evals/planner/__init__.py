"""The local planner's intent/slot evaluation: held-out utterances through the real planner.

``data/copilot.yaml`` is a payments-copilot-like test agent with its held-out batches
(``heldout.yaml``, ``heldout_b.yaml``); ``data/agents/<id>.yaml`` are the built-in agents'
held-out utterances. None of them is ever used to add planner examples. They live in the
repository only: the wheel excludes ``data/`` (pyproject), so no install ships a test agent.
"""

from evals.planner.agents import AGENTS_DATA, agent_suites
from evals.planner.evaluation import (
    DATA_DIR,
    Case,
    Outcome,
    Report,
    Suite,
    evaluate,
    load_suite,
    run_turn,
)

__all__ = [
    "AGENTS_DATA",
    "DATA_DIR",
    "Case",
    "Outcome",
    "Report",
    "Suite",
    "agent_suites",
    "evaluate",
    "load_suite",
    "run_turn",
]
