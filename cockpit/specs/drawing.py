"""An assistant's graph as LangGraph's drawable JSON (``{nodes, edges}``), with nothing secret.

Plain: the compiled graph every team runs (``guard → agent ⇄ tools``), node data cut to names
(no callables, prompts or policies). X-ray: the team behind the ``agent`` node — one node per
agent the entry agent can reach, one per tool each may call, handoffs as conditional edges.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cockpit.specs.spec import AgentSpec

START, END = "__start__", "__end__"


def plain_graph(drawable: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """``graph.get_graph().to_json()`` with each node's data reduced to its name."""
    nodes = []
    for node in drawable.get("nodes", []):
        data = node.get("data")
        name = data.get("name", node["id"]) if isinstance(data, Mapping) else node["id"]
        out: dict[str, Any] = {"id": node["id"], "type": "runnable", "data": {"name": name}}
        if node["id"] == END:
            out = {"id": END}
        nodes.append(out)
    edges = [
        {
            "source": e["source"],
            "target": e["target"],
            **({"conditional": True} if e.get("conditional") else {}),
        }
        for e in drawable.get("edges", [])
    ]
    return {"nodes": nodes, "edges": edges}


def team_graph(entry: str, team: Mapping[str, AgentSpec]) -> dict[str, list[dict[str, Any]]]:
    """The supervisor-and-agents view: ``entry`` first, then the agents it can reach."""
    order = [entry, *sorted(a for a in team if a != entry)]
    nodes: list[dict[str, Any]] = [
        {"id": START, "type": "runnable", "data": {"name": START}},
        {"id": "guard", "type": "runnable", "data": {"name": "guard"}},
    ]
    edges: list[dict[str, Any]] = [
        {"source": START, "target": "guard"},
        {"source": "guard", "target": entry},
    ]
    for agent_id in order:
        spec = team[agent_id]
        nodes.append(
            {
                "id": agent_id,
                "type": "agent",
                "data": {"name": spec.name, "description": spec.description},
            }
        )
        for tool in spec.tools:
            node = f"{agent_id}:{tool.name}"
            nodes.append({"id": node, "type": "tool", "data": {"name": tool.name}})
            edges.append({"source": agent_id, "target": node, "conditional": True})
            edges.append({"source": node, "target": agent_id})
        for target in spec.handoffs:
            if target in team:
                edges.append({"source": agent_id, "target": target, "conditional": True})
        edges.append({"source": agent_id, "target": END, "conditional": True})
    nodes.append({"id": END})
    return {"nodes": nodes, "edges": edges}


__all__ = ["plain_graph", "team_graph"]
