"""Agent specs: the AgentSpec format and the versioned registry."""

from cockpit.specs.refs import (
    CollectionCatalog,
    check_tools,
    did_you_mean,
    raise_problems,
    reference_problems,
    spec_problems,
)
from cockpit.specs.registry import ResolvedAgent, SpecRegistry, load_builtin_specs
from cockpit.specs.spec import (
    AgentSpec,
    ApprovalRule,
    Guardrails,
    RateLimit,
    SpecProblem,
    SuiteGate,
    ToolPolicy,
    load_spec_file,
    parse_spec,
)

__all__ = [
    "AgentSpec",
    "ApprovalRule",
    "CollectionCatalog",
    "Guardrails",
    "RateLimit",
    "ResolvedAgent",
    "SpecProblem",
    "SpecRegistry",
    "SuiteGate",
    "ToolPolicy",
    "check_tools",
    "did_you_mean",
    "load_builtin_specs",
    "load_spec_file",
    "parse_spec",
    "raise_problems",
    "reference_problems",
    "spec_problems",
]
