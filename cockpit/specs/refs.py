"""What a spec refers to must exist: its tools, handoff targets and knowledge collections.

One checker for every entry point — ``POST /v1/agents``, ``POST /v1/agents/validate`` and the
built-in specs read at server start — so the same typo gets the same answer everywhere: a
:class:`SpecProblem` naming the field (``tools.2.name``) with a "did you mean" from the names
that do exist. :func:`spec_problems` collects them all (pydantic's and the references');
:func:`raise_problems` turns them into the one :class:`ValidationFailed` that callers raise.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from cockpit.errors import ValidationFailed
from cockpit.specs.spec import AgentSpec, SpecProblem, parse_problems
from cockpit.toolkit.registry import ToolKind, ToolRegistry


class CollectionCatalog(Protocol):
    """Knowledge collections a spec's ``knowledge`` may list (the composition root's store)."""

    def shared(self) -> Collection[str]:
        """Built-in collections every tenant may search."""
        ...

    def tenant(self, tenant_id: str) -> Collection[str]:
        """The tenant's own collections plus the built-in ones."""
        ...


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """`` — did you mean 'x'?`` for the closest existing name, or nothing."""
    close = difflib.get_close_matches(name, sorted(set(choices)), n=1, cutoff=0.6)
    return f" — did you mean {close[0]!r}?" if close else ""


def _tool_entries(data: Mapping[str, Any]) -> list[tuple[int, Mapping[str, Any]]]:
    tools = data.get("tools")
    if not isinstance(tools, list):
        return []
    return [(i, t) for i, t in enumerate(tools) if isinstance(t, Mapping)]


def _names(data: Mapping[str, Any], field: str) -> list[tuple[int, str]]:
    items = data.get(field)
    if not isinstance(items, list):
        return []
    return [(i, x) for i, x in enumerate(items) if isinstance(x, str)]


def _repeats(data: Mapping[str, Any]) -> list[SpecProblem]:
    seen: set[str] = set()
    out = []
    for i, policy in _tool_entries(data):
        name = policy.get("name")
        if isinstance(name, str) and name in seen:
            out.append(SpecProblem(f"tools.{i}.name", "invalid_spec", f"{name!r} is listed twice"))
        seen.add(str(name))
    return out


def reference_problems(
    data: Mapping[str, Any],
    *,
    tools: ToolRegistry,
    agents: Collection[str] | None = None,
    collections: Collection[str] | None = None,
) -> list[SpecProblem]:
    """What the spec (a validated dump, or raw data that failed validation) refers to in vain.

    ``agents`` are the handoff targets this tenant has and ``collections`` the knowledge
    collections it may search; ``None`` leaves that reference unchecked.
    """
    out: list[SpecProblem] = []
    for i, policy in _tool_entries(data):
        name = policy.get("name")
        if not isinstance(name, str):
            continue
        if name not in tools:
            out.append(
                SpecProblem(
                    f"tools.{i}.name",
                    "unknown_tool",
                    f"unknown tool {name!r}{did_you_mean(name, tools.names())}",
                )
            )
            continue
        tool = tools.get(name)
        approval = policy.get("approval")
        if approval is not None and tool.kind is ToolKind.READ:
            out.append(
                SpecProblem(
                    f"tools.{i}.approval",
                    "invalid_spec",
                    f"{name!r} is a READ tool; approvals apply to writes",
                )
            )
        above = approval.get("above") if isinstance(approval, Mapping) else None
        if tool.amount_field is None and (policy.get("max_amount") is not None or above):
            out.append(
                SpecProblem(
                    f"tools.{i}.max_amount",
                    "invalid_spec",
                    f"{name!r} moves no money, so amount limits do not apply",
                )
            )
    if agents is not None:
        own_id = data.get("id")
        for i, target in _names(data, "handoffs"):
            if target not in agents and target != own_id:
                hint = did_you_mean(target, [a for a in agents if a != own_id])
                out.append(
                    SpecProblem(f"handoffs.{i}", "unknown_agent", f"unknown agent {target!r}{hint}")
                )
    if collections is not None:
        for i, name in _names(data, "knowledge"):
            if name not in collections:
                out.append(
                    SpecProblem(
                        f"knowledge.{i}",
                        "unknown_collection",
                        f"unknown knowledge collection {name!r}{did_you_mean(name, collections)}",
                    )
                )
    return out


def spec_problems(
    data: Any,
    *,
    tools: ToolRegistry,
    agents: Collection[str] | None = None,
    collections: Collection[str] | None = None,
) -> tuple[AgentSpec | None, list[SpecProblem]]:
    """Validate ``data`` as a spec and check its references: the spec (when it parses) and
    every problem found, not just the first. References are checked even when other fields
    fail, so one answer lists every error."""
    if not isinstance(data, Mapping):
        return None, [SpecProblem("spec", "invalid_spec", "an agent spec must be a mapping")]
    spec: AgentSpec | None = None
    problems: list[SpecProblem] = []
    try:
        spec = AgentSpec.model_validate(data)
    except ValidationError as exc:
        problems = parse_problems(exc)
        if not any(p.param.startswith("tools.") and p.param.endswith(".name") for p in problems):
            problems += _repeats(data)  # the model's own check runs only when fields pass
    dumped = spec.model_dump(mode="json") if spec is not None else data
    problems += reference_problems(dumped, tools=tools, agents=agents, collections=collections)
    return (spec if not problems else None), problems


def raise_problems(problems: list[SpecProblem], *, source: str | Path | None = None) -> None:
    """Raise the first problem as a :class:`ValidationFailed` (all of them in its details).

    With ``source`` (a spec file) the message starts with it and ``details.file`` names it,
    so a start-up error says which file and which field.
    """
    if not problems:
        return
    first = problems[0]
    details: dict[str, Any] = {"errors": [p.to_dict() for p in problems]}
    prefix = ""
    if source is not None:
        details["file"] = str(source)
        prefix = f"{source}: "
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    raise ValidationFailed(
        f"{prefix}{first.param}: {first.message}{more}",
        code=first.code,
        param=first.param,
        details=details,
    )


def check_tools(
    spec: AgentSpec, registry: ToolRegistry, *, source: str | Path | None = None
) -> None:
    """Every listed tool exists; money limits only on tools that move money; approvals only on
    writes. Raises :class:`ValidationFailed` naming the first bad field."""
    raise_problems(reference_problems(spec.model_dump(mode="json"), tools=registry), source=source)


__all__ = [
    "CollectionCatalog",
    "SpecProblem",
    "check_tools",
    "did_you_mean",
    "raise_problems",
    "reference_problems",
    "spec_problems",
]
