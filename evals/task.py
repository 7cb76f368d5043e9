"""The task format (``schema: cockpit.eval/v1``): what a suite file may say, validated strictly.

Suite files cross a trust boundary (partners write them), so every model forbids unknown fields
and a bad file fails with a :class:`TaskFormatError` that names the file and the field.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cockpit.clock import parse_instant
from cockpit.errors import UserError
from cockpit.yamlio import safe_load
from evals.matchers import Matcher, parse_matcher

SCHEMA = "cockpit.eval/v1"
DEFAULT_CLOCK = "2026-11-25T12:00:00+00:00"


class TaskFormatError(UserError):
    """A suite file that does not follow the task schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UserKey(_Strict):
    """Whose key the simulated user holds."""

    role: Literal["merchant", "partner", "admin"] = "merchant"
    merchant: str | None = "sg"
    """Demo merchant short key (``sg``, ``kr``, ``th``, ``de``…) or id; none for tenant-wide keys."""


class Call(_Strict):
    """A tool call with concrete arguments (placeholders allowed)."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)


class WorldSpec(_Strict):
    """The initial world: demo seed, a fixed clock instant, the user's key, fixture changes."""

    seed: int = 7
    clock: datetime = Field(default_factory=lambda: parse_instant(DEFAULT_CLOCK))
    user: UserKey = Field(default_factory=UserKey)
    fixtures: list[Call] = Field(default_factory=list)
    """Tool calls run (as the tenant admin, no policy) before the user speaks."""

    @field_validator("clock", mode="before")
    @classmethod
    def _instant(cls, value: Any) -> Any:
        return parse_instant(value) if isinstance(value, str) else value


class Bind(_Strict):
    """An entity of the world the task talks about, chosen before the run."""

    kind: Literal["payment", "dispute", "customer", "merchant", "strategy"]
    merchant: str | None = None
    """Short key or id; default: the user's merchant."""
    status: str | None = None
    """payment: state (CAPTURED, FAILED, AUTHORIZED…); dispute: status (NEEDS_RESPONSE…)."""
    method_type: str | None = None
    min_amount: int | None = None
    """Minor units."""
    max_amount: int | None = None
    refunded: bool | None = None
    disputed: bool | None = None
    fraud_ring: bool | None = None
    """customer, from the fraud engine's demo history (its entity graph; merchant not applied):
    ``true`` a member of a planted fraud ring (``ring_*``), ``false`` a genuine account; both
    also give the account's ``card``, ``device`` and ``ip`` (a ring's most shared ones)."""
    name: str | None = None
    """strategy: the slot name (``merchant-default``)."""
    order: Literal["newest", "oldest", "largest", "smallest"] = "newest"
    index: int = Field(default=0, ge=0)


class Approval(_Strict):
    """What the simulated user answers to an approval request."""

    tool: str | None = None
    """Which tool's request this answers (None: any)."""
    action: Literal["approve", "reject", "edit"] = "approve"
    args: dict[str, Any] = Field(default_factory=dict)
    """For ``edit``: the arguments the user changes."""
    reason: str | None = None


class User(_Strict):
    """The simulated user: scripted turns, or instructions for an LLM user simulator."""

    turns: list[str] = Field(default_factory=list)
    instructions: str | None = None
    """Played by an LLM (``--user-model``) when there are no ``turns``; placeholders allowed."""
    max_turns: int = Field(default=8, ge=1, le=50)
    """The simulator's turns at most (it ends sooner with its stop token)."""
    approvals: list[Approval] = Field(default_factory=list)
    """Decisions in order of the requests; a request with none left is rejected."""

    @model_validator(mode="after")
    def _some_user(self) -> User:
        if not self.turns and not self.instructions:
            raise ValueError("give scripted 'turns' or simulator 'instructions'")
        return self


def _matchers(raw: dict[str, Any]) -> dict[str, Matcher]:
    return {name: parse_matcher(value) for name, value in raw.items()}


class GoldAction(Call):
    """A call the task needs, replayed on the gold world; ``match`` loosens the trajectory check."""

    match: dict[str, Any] = Field(default_factory=dict)
    """Per-argument matchers for the trajectory diagnostic (default: exact on ``args``)."""

    @field_validator("match")
    @classmethod
    def _valid(cls, value: dict[str, Any]) -> dict[str, Any]:
        _matchers(value)
        return value

    def matchers(self, args: dict[str, Any]) -> dict[str, Matcher]:
        return {**_matchers(args), **_matchers(self.match)}


class Forbidden(_Strict):
    """A call that fails the task (when ``args`` matchers match, or always without them)."""

    tool: str
    args: dict[str, Any] = Field(default_factory=dict)

    @field_validator("args")
    @classmethod
    def _valid(cls, value: dict[str, Any]) -> dict[str, Any]:
        _matchers(value)
        return value

    def matchers(self, args: dict[str, Any]) -> dict[str, Matcher]:
        return _matchers(args)


class _Assert(_Strict):
    pass


class RefundTotal(_Assert):
    kind: Literal["refund_total"]
    payment: str
    equals: int
    """Sum of successful refunds on the payment, minor units."""


class PaymentState(_Assert):
    kind: Literal["payment_state"]
    payment: str
    equals: str


class DisputeStatus(_Assert):
    kind: Literal["dispute_status"]
    dispute: str
    equals: str


class EntityBlocked(_Assert):
    kind: Literal["entity_blocked"]
    entity_kind: str
    entity_id: str
    blocked: bool = True


class LedgerBalanced(_Assert):
    kind: Literal["ledger_balanced"]


class BalanceDelta(_Assert):
    kind: Literal["balance_delta"]
    account: str
    """Ledger account name (placeholders allowed); ``{any: …}`` not supported."""
    currency: str
    equals: int
    """Change against the initial world, minor units."""


class Approvals(_Assert):
    kind: Literal["approvals"]
    tool: str | None = None
    status: Literal["pending", "approved", "edited", "rejected"] | None = None
    count: int


class CreditDecisions(_Assert):
    kind: Literal["credit_decisions"]
    outcome: str | None = None
    count: int


class StrategyLive(_Assert):
    kind: Literal["strategy_live_version"]
    strategy: str
    version: int


class NoWrites(_Assert):
    kind: Literal["no_writes"]
    """The domain state equals the initial world's (a read-only task)."""


Assertion = Annotated[
    RefundTotal
    | PaymentState
    | DisputeStatus
    | EntityBlocked
    | LedgerBalanced
    | BalanceDelta
    | Approvals
    | CreditDecisions
    | StrategyLive
    | NoWrites,
    Field(discriminator="kind"),
]


class Task(_Strict):
    """One evaluation task."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,80}$")
    agent: str
    """Assistant id, alias or version: ``copilot``, ``copilot@canary``, ``copilot@3``."""
    split: Literal["dev", "heldout"] = "dev"
    description: str = ""
    world: WorldSpec = Field(default_factory=WorldSpec)
    bind: dict[str, Bind] = Field(default_factory=dict)
    user: User
    gold_actions: list[GoldAction] = Field(default_factory=list)
    assertions: list[Assertion] = Field(default_factory=list)
    communicate: list[str] = Field(default_factory=list)
    """Facts (placeholders allowed) that must appear in the agent's answers, case-insensitively."""
    forbidden: list[Forbidden] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class Suite(_Strict):
    """A suite file: a schema version, defaults, tasks."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_version: Literal["cockpit.eval/v1"] = Field(alias="schema")
    suite: str
    description: str = ""
    tasks: list[Task]

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        """``agent`` and ``world`` at the top of a file are defaults for its tasks."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        defaults = {k: data.pop(k) for k in ("agent", "world") if k in data}
        if defaults and isinstance(data.get("tasks"), list):
            data["tasks"] = [{**defaults, **t} if isinstance(t, dict) else t for t in data["tasks"]]
        return data

    @model_validator(mode="after")
    def _unique_ids(self) -> Suite:
        seen: set[str] = set()
        for t in self.tasks:
            if t.id in seen:
                raise ValueError(f"duplicate task id {t.id!r}")
            seen.add(t.id)
        return self


def _describe(exc: ValidationError, source: str) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "(file)"
    return f"{source}: {loc}: {err['msg']}"


def parse_suite(data: Any, *, source: str = "<suite>") -> Suite:
    """A validated suite; a :class:`TaskFormatError` names the file and the field otherwise."""
    try:
        return Suite.model_validate(data)
    except ValidationError as exc:
        loc = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise TaskFormatError(_describe(exc, source), code="invalid_task", param=loc) from None


def read_suite_yaml(path: Path) -> Any:
    """A suite file's YAML (safe tags only); a :class:`TaskFormatError` when it is not YAML."""
    try:
        return safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TaskFormatError(f"{path}: not YAML: {exc}", code="invalid_task") from None


def load_suite_file(path: Path) -> Suite:
    return parse_suite(read_suite_yaml(path), source=str(path))


__all__ = [
    "SCHEMA",
    "Approval",
    "Assertion",
    "Bind",
    "Call",
    "Forbidden",
    "GoldAction",
    "Suite",
    "Task",
    "TaskFormatError",
    "User",
    "UserKey",
    "WorldSpec",
    "load_suite_file",
    "parse_suite",
]
