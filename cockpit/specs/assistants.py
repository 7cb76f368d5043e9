"""The LangGraph assistants API mapped onto agent specs and their versions.

An assistant is an agent id; its versions are the agent's immutable versions; "latest" is the
``live`` alias, which moves only through the eval gate. Creating an assistant takes an existing
agent (``graph_id``) as the base spec and applies the request's fields to it:

* ``name``, ``description`` → the spec's ``name`` and ``description``;
* ``context`` → any of :data:`SPEC_FIELDS` (``instructions``, ``model``, ``tools``, …), validated
  exactly like ``POST /v1/agents``;
* ``config`` → ``configurable`` (the same fields as ``context``, the pre-``context`` LangGraph
  way) and ``tags``;
* ``metadata`` → kept beside the version (searchable); keys Cockpit reports itself are refused.

Any other key is a 422 naming it: nothing a client sends is silently dropped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cockpit.db.base import iso, utcnow
from cockpit.db.session import Database
from cockpit.errors import Conflict, ValidationFailed
from cockpit.specs.assistant_models import AssistantDeletion, AssistantMeta
from cockpit.specs.models import AgentAlias, AgentAliasMove, AgentVersion
from cockpit.specs.refs import raise_problems
from cockpit.specs.registry import ResolvedAgent, SpecRegistry
from cockpit.specs.spec import AgentSpec, SpecProblem

SPEC_FIELDS = frozenset(
    {
        "instructions",
        "model",
        "fallbacks",
        "tools",
        "knowledge",
        "handoffs",
        "guardrails",
        "planner",
        "evals",
        "roles",
        "tags",
    }
)
"""Spec fields an assistant's ``context`` (or ``config.configurable``) may set."""
CONFIG_KEYS = frozenset({"configurable", "tags"})
REPORTED = frozenset({"source", "model", "aliases", "tools", "handoffs"})
"""Metadata keys Cockpit fills in itself (a client may filter on them, not set them)."""


def _fields(values: Mapping[str, Any], *, where: str) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise ValidationFailed(f"{where} must be an object", code="invalid_value", param=where)
    unknown = sorted(set(values) - SPEC_FIELDS)
    if unknown:
        raise ValidationFailed(
            f"{where} may set only {', '.join(sorted(SPEC_FIELDS))} (got {unknown[0]!r})",
            code="unknown_field",
            param=f"{where}.{unknown[0]}",
        )
    return dict(values)


def overrides(
    config: Mapping[str, Any] | None, context: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The spec fields a request sets, and for each the request field it came from."""
    out: dict[str, Any] = {}
    origin: dict[str, str] = {}
    if config:
        unknown = sorted(set(config) - CONFIG_KEYS)
        if unknown:
            raise ValidationFailed(
                f"config may carry only configurable and tags (got {unknown[0]!r})",
                code="unknown_field",
                param=f"config.{unknown[0]}",
            )
        for k, v in _fields(config.get("configurable") or {}, where="config.configurable").items():
            out[k], origin[k] = v, f"config.configurable.{k}"
        if "tags" in config:
            out["tags"], origin["tags"] = config["tags"], "config.tags"
    for k, v in _fields(context or {}, where="context").items():
        if k in out and out[k] != v:
            raise ValidationFailed(
                f"{k} is set differently in config and context",
                code="conflicting_fields",
                param=f"context.{k}",
            )
        out[k], origin[k] = v, f"context.{k}"
    return out, origin


def check_metadata(metadata: Mapping[str, Any] | None) -> dict[str, Any]:
    clash = sorted(set(metadata or {}) & REPORTED)
    if clash:
        raise ValidationFailed(
            f"metadata.{clash[0]} is reported by Cockpit and cannot be set",
            code="reserved_metadata",
            param=f"metadata.{clash[0]}",
        )
    return dict(metadata or {})


def new_assistant_id(graph_id: str) -> str:
    """An agent id (a lowercase letter first, at most 63 characters) unique enough to create."""
    return f"{graph_id[:50]}-{uuid.uuid4().hex[:8]}"


def build_spec(
    specs: SpecRegistry,
    tenant_id: str,
    base: AgentSpec,
    *,
    agent_id: str,
    name: str | None,
    description: str | None,
    fields: Mapping[str, Any],
    origin: Mapping[str, str],
) -> AgentSpec:
    """``base`` with the request's fields, checked like ``POST /v1/agents``; a problem names the
    request field it came from (``context.tools.0.name``, ``assistant_id``)."""
    data = {**base.model_dump(mode="json"), **fields, "id": agent_id}
    if name is not None:
        data["name"] = name
    if description is not None:
        data["description"] = description
    spec, problems = specs.problems(tenant_id, data)
    mapped = [_renamed(p, origin) for p in problems]
    raise_problems(mapped)
    assert spec is not None
    return spec


def _renamed(p: SpecProblem, origin: Mapping[str, str]) -> SpecProblem:
    head, _, rest = p.param.partition(".")
    where = {"id": "assistant_id"}.get(head) or origin.get(head) or head
    return SpecProblem(f"{where}.{rest}" if rest else where, p.code, p.message)


def describe(r: ResolvedAgent, meta: AssistantMeta | None = None) -> dict[str, Any]:
    """The LangGraph ``Assistant`` shape of a resolved agent version (``meta``: what the
    assistants API stored with it, if it made that version)."""
    created = iso(r.created_at)
    reported = {
        "source": r.source,
        "model": r.spec.model,
        "aliases": list(r.aliases),
        "tools": [t.name for t in r.spec.tools],
        "handoffs": r.spec.handoffs,
    }
    return {
        "assistant_id": r.spec.id,
        "graph_id": meta.graph_id if meta is not None else r.spec.id,
        "name": r.spec.name,
        "description": r.spec.description,
        "config": meta.config if meta is not None else {},
        "context": meta.context if meta is not None else {},
        "metadata": {**(meta.meta if meta is not None else {}), **reported},
        "version": r.version,
        "created_at": created,
        "updated_at": created,
    }


class AssistantBook:
    """The assistant rows beside the registry's versions: metadata per version, deletions."""

    def __init__(self, db: Database, specs: SpecRegistry) -> None:
        self._db = db
        self._specs = specs

    def writer(
        self,
        agent_id: str,
        *,
        graph_id: str,
        metadata: Mapping[str, Any],
        config: Mapping[str, Any],
        context: Mapping[str, Any],
    ) -> Callable[[Session, int], None]:
        """What ``SpecRegistry.create_version(also=...)`` writes with the version."""

        def write(s: Session, version: int) -> None:
            s.add(
                AssistantMeta(
                    agent_id=agent_id,
                    version=version,
                    graph_id=graph_id,
                    meta=dict(metadata),
                    config=dict(config),
                    context=dict(context),
                )
            )

        return write

    def metas(self, tenant_id: str) -> dict[tuple[str, int], AssistantMeta]:
        with self._db.tenant_session(tenant_id) as s:
            rows = list(s.scalars(select(AssistantMeta)))
            for r in rows:
                s.expunge(r)
        return {(r.agent_id, r.version): r for r in rows}

    def meta(self, tenant_id: str, agent_id: str, version: int) -> AssistantMeta | None:
        return self.metas(tenant_id).get((agent_id, version)) if version else None

    def describe(self, r: ResolvedAgent, meta: AssistantMeta | None) -> dict[str, Any]:
        return describe(r, meta)

    def versions(self, tenant_id: str, agent_id: str) -> list[ResolvedAgent]:
        """Every stored version, newest first (404 for an agent this tenant does not have)."""
        rows = self._specs.versions(tenant_id, agent_id)
        return [self._specs.resolve(tenant_id, f"{agent_id}@v{v}") for v, _h, _c in reversed(rows)]

    def delete(self, tenant_id: str, agent_id: str, *, by: str) -> None:
        """Nothing of ``agent_id`` resolves any more: aliases go, versions stay, and the alias
        history records the deletion. A built-in is refused (409 ``builtin_assistant``)."""
        with self._db.tenant_session(tenant_id) as s:
            has_versions = s.scalars(
                select(AgentVersion.id).where(AgentVersion.agent_id == agent_id)
            ).first()
            if has_versions is None:
                raise Conflict(
                    f"{agent_id} is a built-in assistant; only a tenant's own can be deleted",
                    code="builtin_assistant",
                    param="assistant_id",
                )
            for alias in s.scalars(select(AgentAlias).where(AgentAlias.agent_id == agent_id)):
                s.add(
                    AgentAliasMove(
                        agent_id=agent_id,
                        alias=alias.alias,
                        version=alias.version,
                        previous=alias.version,
                        kind="deleted",
                        by=by,
                        gate=None,
                        at=utcnow(),
                    )
                )
            s.execute(
                delete(AgentAlias)
                .where(AgentAlias.agent_id == agent_id)
                .execution_options(synchronize_session=False)
            )
            s.add(AssistantDeletion(agent_id=agent_id, deleted_by=by))


__all__ = [
    "CONFIG_KEYS",
    "REPORTED",
    "SPEC_FIELDS",
    "AssistantBook",
    "build_spec",
    "check_metadata",
    "describe",
    "new_assistant_id",
    "overrides",
]
