"""``AgentSpec``: what a built-in or partner agent is, as data.

Specs cross a trust boundary (partners submit them), so they are pydantic
models with ``extra="forbid"``; a validation error names the exact field
(``tools.2.approval.above``). Whether each listed tool exists is checked
against the tool registry (and handoffs, knowledge) by :mod:`cockpit.specs.refs`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cockpit.errors import ValidationFailed
from cockpit.planner.spec import PlannerSpec
from cockpit.tenancy.principal import Role
from cockpit.tenancy.rights import STAFF
from cockpit.yamlio import safe_load

_ID = re.compile(r"^[a-z][a-z0-9_\-]{1,62}$")
_MODEL = re.compile(r"^(local|openai|fake):[A-Za-z0-9._:/\-]+$")
_CCY = re.compile(r"^[A-Z]{3}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _amounts(value: dict[str, int] | None, field: str) -> dict[str, int] | None:
    if value is None:
        return None
    for ccy, amount in value.items():
        if not _CCY.match(ccy):
            raise ValueError(f"{field}: {ccy!r} is not an ISO 4217 currency code")
        if amount < 0:
            raise ValueError(f"{field}: amount for {ccy} must be >= 0 (minor units)")
    return value


class ApprovalRule(_Strict):
    """When a WRITE needs a human decision before it runs."""

    always: bool = False
    """Every call needs approval."""
    above: dict[str, int] | None = None
    """Approval needed when the amount exceeds this, per currency, in minor units."""
    four_eyes: bool = False
    """The approver must be a different key from the one whose request caused the call."""

    @field_validator("above")
    @classmethod
    def _check_above(cls, v: dict[str, int] | None) -> dict[str, int] | None:
        return _amounts(v, "above")


class RateLimit(_Strict):
    """How often one tool may be called."""

    calls: int = Field(gt=0)
    """At most this many calls…"""
    per_seconds: int = Field(gt=0)
    """…in this many seconds, per tenant and agent."""


class ToolPolicy(_Strict):
    """A tool an agent may call, with the limits code enforces whatever the model says."""

    name: str
    """Registry name of the tool."""
    max_amount: dict[str, int] | None = None
    """Largest amount per call, per currency, in minor units; other currencies are refused."""
    approval: ApprovalRule | None = None
    """When a human must approve (WRITE tools)."""
    rate_limit: RateLimit | None = None
    """Call rate limit."""

    @field_validator("max_amount")
    @classmethod
    def _check_max(cls, v: dict[str, int] | None) -> dict[str, int] | None:
        return _amounts(v, "max_amount")


class Guardrails(_Strict):
    """Screening and loop limits the runtime enforces on every turn."""

    redact_pii: bool = True
    """Mask card numbers and secrets in input, output, traces and audit."""
    injection_screen: bool = True
    """Quarantine tool results / retrieved text that try to change instructions."""
    max_tool_calls_per_turn: int = Field(default=8, ge=1, le=64)
    """Tool calls allowed in one user turn."""
    max_steps_per_turn: int = Field(default=12, ge=2, le=100)
    """Model calls allowed in one user turn (loop guard)."""


class SuiteGate(_Strict):
    """An eval suite that gates publishing (moving ``live``), with the scores it must reach.

    A bare string in ``evals`` is a suite with these defaults: every task passes its one trial.
    """

    suite: str = Field(pattern=r"^[a-z0-9][a-z0-9._\-]{0,62}$")
    """The tenant's suite of that name (uploaded with an eval run), else ``evals/suites/<suite>``."""
    min_pass1: float = Field(default=1.0, ge=0.0, le=1.0)
    """Lowest pass^1 (mean over the suite's tasks) that publishes."""
    min_passk: float = Field(default=0.0, ge=0.0, le=1.0)
    """Lowest pass^k that publishes."""
    k: int = Field(default=1, ge=1, le=16)
    """Trials per task in a gate run (pass^k needs k of them)."""

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, data: Any) -> Any:
        return {"suite": data} if isinstance(data, str) else data


class AgentSpec(_Strict):
    """One agent: built-in (``agents/<id>/agent.yaml``) or submitted by a partner."""

    id: str
    """Stable identifier (a–z, 0–9, '-', '_'); also the assistant and graph id."""
    name: str
    """Human-readable name."""
    description: str = Field(min_length=10)
    """What the agent does; the supervisor routes on it."""
    instructions: str = Field(min_length=1)
    """System prompt (may come from ``prompt.md`` next to the YAML)."""
    model: str = "local:planner"
    """``provider:model`` — ``local:planner``, ``openai:<model>``, ``fake:<script>``."""
    fallbacks: list[str] = Field(default_factory=list)
    """Models tried in order when the previous one errors."""
    tools: list[ToolPolicy] = Field(default_factory=list)
    """Tools the agent may call; nothing else can be called."""
    knowledge: list[str] = Field(default_factory=list)
    """Knowledge collections the agent searches."""
    handoffs: list[str] = Field(default_factory=list)
    """Agents this one may transfer the conversation to."""
    guardrails: Guardrails = Field(default_factory=Guardrails)
    """Input/output screening and per-turn loop limits (see Guardrails)."""
    planner: PlannerSpec | None = None
    """Local-planner data: intents with example utterances, slot hints and answer templates."""
    evals: list[SuiteGate] = Field(default_factory=list)
    """Eval suites (and thresholds) a version must pass before ``live`` may point at it."""
    roles: list[Role] = Field(default_factory=lambda: sorted(STAFF))
    """Roles whose keys may run this assistant (admins always may). Merchant agents are for
    merchants and partners; a shopper key reaches none of them."""
    tags: list[str] = Field(default_factory=list)
    """Free labels for listing and search (not used for routing)."""

    @field_validator("id")
    @classmethod
    def _check_id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("must be 2–63 chars: a lowercase letter, then a–z, 0–9, '-' or '_'")
        return v

    @field_validator("model")
    @classmethod
    def _check_model(cls, v: str) -> str:
        if not _MODEL.match(v):
            raise ValueError("must be provider:model with provider local, openai or fake")
        return v

    @field_validator("fallbacks")
    @classmethod
    def _check_fallbacks(cls, v: list[str]) -> list[str]:
        for ref in v:
            cls._check_model(ref)
        return v

    @model_validator(mode="after")
    def _unique_tools(self) -> AgentSpec:
        seen: set[str] = set()
        for i, t in enumerate(self.tools):
            if t.name in seen:
                raise ValueError(f"tools.{i}.name: {t.name!r} is listed twice")
            seen.add(t.name)
        suites = [g.suite for g in self.evals]
        if len(set(suites)) != len(suites):
            raise ValueError("evals: a suite is named twice")
        if self.id in self.handoffs:
            raise ValueError("handoffs: an agent cannot hand off to itself")
        return self

    def policy(self, tool: str) -> ToolPolicy | None:
        for t in self.tools:
            if t.name == tool:
                return t
        return None

    def content_hash(self) -> str:
        return hashlib.sha256(
            json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        ).hexdigest()


@dataclass(frozen=True, slots=True)
class SpecProblem:
    """One thing wrong with a spec, as the API reports it."""

    param: str
    """Dotted path of the field (``tools.2.name``; ``spec`` for the whole document)."""
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"param": self.param, "code": self.code, "message": self.message}


_LOCATED = re.compile(r"^(?P<loc>[a-z_]+(?:\.[A-Za-z0-9_]+)*): (?P<msg>.+)$", re.S)
"""A model-level error that names its own field (``tools.1.name: 'x' is listed twice``)."""


def parse_problems(exc: ValidationError) -> list[SpecProblem]:
    """Every pydantic error of a spec, each naming its field."""
    out: list[SpecProblem] = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        located = _LOCATED.match(msg)
        if not loc and located:
            loc, msg = located.group("loc"), located.group("msg")
        out.append(SpecProblem(loc or "spec", "invalid_spec", msg))
    return out


def parse_spec(data: Any, *, source: str = "spec") -> AgentSpec:
    """Validate a mapping as an AgentSpec; errors name the exact field (all in ``details``)."""
    if not isinstance(data, dict):
        raise ValidationFailed(f"{source}: an agent spec must be a mapping", code="invalid_spec")
    try:
        return AgentSpec.model_validate(data)
    except ValidationError as exc:
        problems = parse_problems(exc)
        first = problems[0]
        raise ValidationFailed(
            f"{source}: {first.param}: {first.message}",
            code="invalid_spec",
            param=first.param,
            details={
                "errors": [p.to_dict() for p in problems],
                **({"file": source} if source != "spec" else {}),
            },
        ) from None


def load_spec_file(path: Path) -> AgentSpec:
    """Load ``agent.yaml`` (or .json); ``instructions: "@prompt.md"`` reads a sibling file."""
    try:
        raw = safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"{path}: not valid YAML: {exc}", code="invalid_spec") from None
    if isinstance(raw, dict):
        instr = raw.get("instructions")
        if isinstance(instr, str) and instr.startswith("@"):
            raw["instructions"] = (path.parent / instr[1:]).read_text(encoding="utf-8")
        planner = raw.get("planner")
        if isinstance(planner, str) and planner.startswith("@"):
            raw["planner"] = safe_load((path.parent / planner[1:]).read_text(encoding="utf-8"))
    return parse_spec(raw, source=str(path))


__all__ = [
    "AgentSpec",
    "ApprovalRule",
    "Guardrails",
    "RateLimit",
    "SpecProblem",
    "SuiteGate",
    "ToolPolicy",
    "load_spec_file",
    "parse_problems",
    "parse_spec",
]
