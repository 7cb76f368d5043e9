"""Agent specs: the AgentSpec format and the versioned registry."""

from cockpit.specs.registry import ResolvedAgent, SpecRegistry, load_builtin_specs
from cockpit.specs.spec import (
    AgentSpec,
    ApprovalRule,
    Guardrails,
    RateLimit,
    ToolPolicy,
    check_tools,
    load_spec_file,
    parse_spec,
)

__all__ = [
    "AgentSpec",
    "ApprovalRule",
    "Guardrails",
    "RateLimit",
    "ResolvedAgent",
    "SpecRegistry",
    "ToolPolicy",
    "check_tools",
    "load_builtin_specs",
    "load_spec_file",
    "parse_spec",
]
