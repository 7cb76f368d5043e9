"""Tool definitions and the registry that holds them by name."""

from __future__ import annotations

import copy
import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from cockpit.errors import UserError
from cockpit.tenancy.principal import Role
from cockpit.tenancy.rights import MERCHANTS, STAFF

if TYPE_CHECKING:
    from cockpit.db.session import Database
    from cockpit.tenancy.principal import Principal

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "cockpit.tools"


class ToolKind(StrEnum):
    READ = "read"
    WRITE = "write"


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What the runtime injects into every tool call."""

    principal: Principal
    """The caller; its ``tenant_id`` scopes every read and write."""
    db: Database
    """The platform database; open ``db.tenant_session(principal.tenant_id)``."""
    thread_id: str | None = None
    """Conversation thread the call comes from (None outside a thread)."""
    tool_call_id: str | None = None
    """The model's id for this call."""
    idempotency_key: str | None = None
    """Stable key for a WRITE: derived from thread + tool call, or the API request's key."""
    extras: dict[str, Any] = field(default_factory=dict)
    """Services the composition root provides (e.g. a knowledge store), by name."""
    cancelled: threading.Event = field(default_factory=threading.Event)
    """Set when the run this call belongs to stops waiting for it: cancelled, interrupted by a
    newer run, timed out, or its worker shutting down. A call that waits or loops for long
    checks it (``ctx.cancelled.wait(seconds)`` instead of sleeping) and stops early; the
    runtime never kills a call, so a write either finishes or does not start. Never set for a
    call made outside a run (REST, MCP)."""


ToolFn = Callable[[ToolContext, Any], Any]
PrecheckFn = Callable[[ToolContext, Any], None]
"""``precheck(ctx, args)``: read-only; raises the tool's own user error when the call cannot
succeed now, returns None when it may."""


@dataclass(frozen=True, slots=True)
class ToolDef:
    """One registered tool."""

    name: str
    """Registry name; agent specs list tools by it."""
    kind: ToolKind
    """READ tools change nothing; WRITE tools are idempotent and go through policy."""
    args: type[BaseModel]
    """Argument schema the model fills (validated before the call)."""
    fn: ToolFn
    """``fn(ctx, args) -> JSON-serialisable result``."""
    description: str
    """What the model is told the tool does (the function's docstring by default)."""
    amount_field: str | None = None
    """For WRITE tools moving money: the argument holding the amount (minor units)."""
    currency_field: str | None = None
    """The argument holding the currency of ``amount_field``."""
    roles: frozenset[Role] = STAFF
    """Roles whose keys may have this tool run for them (admins always may); also who may
    approve it. The runtime checks the *caller's* key, whichever agent makes the call."""
    rest: tuple[str, str] | None = None
    """The REST route doing the same operation (``("POST", "/v1/...")``): it must admit the
    same roles, which the authorisation matrix test checks."""
    precheck: PrecheckFn | None = None
    """For a WRITE: the read-only check of the tool's preconditions (the same domain check its
    write path makes). The runtime runs it before asking a human to approve the call, so a
    call that cannot succeed (refunding a declined payment) is refused with its reason instead
    of waiting for an approval that could only end in that error."""

    def json_schema(self) -> dict[str, Any]:
        """The arguments' JSON schema: a copy of the one made at first use, which the caller may
        change. pydantic generates it anew at every call (~0.3 ms a tool), and ``GET /v1/tools``
        and MCP ``tools/list`` ask for every tool's."""
        made = _SCHEMAS.get(self.args)
        if made is None:
            made = _SCHEMAS[self.args] = self.args.model_json_schema()
        return copy.deepcopy(made)


_SCHEMAS: weakref.WeakKeyDictionary[type[BaseModel], dict[str, Any]] = weakref.WeakKeyDictionary()
"""Argument schemas by model; weak, so a tenant's removed tool source takes its models along."""


class ToolRegistry:
    """Tools by name. Registering a name twice with a different function is an error."""

    def __init__(self) -> None:
        self._tools: dict[str, ToolDef] = {}
        self._loaded_entry_points = False

    def add(self, tool: ToolDef) -> None:
        existing = self._tools.get(tool.name)
        if existing is not None and existing.fn is not tool.fn:
            raise UserError(f"tool {tool.name!r} is already registered", code="tool_exists")
        self._tools[tool.name] = tool

    def get(self, name: str) -> ToolDef:
        self.load_entry_points()
        try:
            return self._tools[name]
        except KeyError:
            raise UserError(f"unknown tool {name!r}", code="unknown_tool", param="tools") from None

    def names(self) -> list[str]:
        self.load_entry_points()
        return sorted(self._tools)

    def __contains__(self, name: object) -> bool:
        self.load_entry_points()
        return name in self._tools

    def for_tenant(self, tenant_id: str) -> ToolRegistry:
        """The tools ``tenant_id``'s agents can see: these, plus (in a registry that knows
        them, ``cockpit.toolkit.sources``) the tenant's own tool sources."""
        return self

    def revision(self) -> str:
        """Changes when the tools this registry shows change (compiled graphs key on it)."""
        return ""

    def load_entry_points(self) -> None:
        """Import every module registered under the ``cockpit.tools`` entry-point group."""
        if self._loaded_entry_points:
            return
        self._loaded_entry_points = True
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            try:
                ep.load()
            except ModuleNotFoundError as exc:
                if exc.name and ep.value.startswith(exc.name):
                    log.debug("tool package %s is not installed; skipped", ep.value)
                else:
                    log.exception("tool entry point %s failed to load", ep.name)
            except Exception:
                log.exception("tool entry point %s failed to load", ep.name)


default_registry = ToolRegistry()


def register_tool(
    name: str,
    *,
    kind: ToolKind,
    args: type[BaseModel],
    description: str | None = None,
    amount_field: str | None = None,
    currency_field: str | None = None,
    roles: frozenset[Role] | None = None,
    rest: tuple[str, str] | None = None,
    precheck: PrecheckFn | None = None,
    registry: ToolRegistry | None = None,
) -> Callable[[ToolFn], ToolFn]:
    """Decorator: register ``fn(ctx, args)`` as a tool named ``name``.

    ``roles`` defaults to merchants and partners for a READ and to merchants for a WRITE:
    a tool that moves money or changes a merchant's records is the merchant's to run.
    ``precheck`` (WRITE tools only) is run before an approval is asked for; see
    :attr:`ToolDef.precheck`.
    """
    if precheck is not None and kind is not ToolKind.WRITE:
        raise UserError(f"tool {name!r}: only a WRITE has a precheck", code="tool_precheck_read")

    def wrap(fn: ToolFn) -> ToolFn:
        doc = description or (fn.__doc__ or "").strip()
        if not doc:
            raise UserError(f"tool {name!r} needs a description", code="tool_undocumented")
        (registry or default_registry).add(
            ToolDef(
                name=name,
                kind=kind,
                args=args,
                fn=fn,
                description=doc,
                amount_field=amount_field,
                currency_field=currency_field,
                roles=roles
                if roles is not None
                else (STAFF if kind is ToolKind.READ else MERCHANTS),
                rest=rest,
                precheck=precheck,
            )
        )
        return fn

    return wrap
