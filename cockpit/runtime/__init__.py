"""LangGraph runtime: team graphs from agent specs, checkpointers, threads and runs."""

from cockpit.runtime.checkpoint import open_checkpointer
from cockpit.runtime.graph import ModelFactory, Team, TeamState, build_graph
from cockpit.runtime.runs import RunHandle, RunManager, RunSpec
from cockpit.runtime.service import Runtime
from cockpit.runtime.threads import ThreadStore

__all__ = [
    "ModelFactory",
    "RunHandle",
    "RunManager",
    "RunSpec",
    "Runtime",
    "Team",
    "TeamState",
    "ThreadStore",
    "build_graph",
    "open_checkpointer",
]
