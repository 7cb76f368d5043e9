"""The agent registry: built-in specs from folders, partner specs as immutable versions in the DB.

Resolution of an assistant id for a tenant:
``<id>`` → the tenant's ``live`` alias if it has one, else the built-in spec;
``<id>@<alias>`` → that alias; ``<id>@v<n>`` → that version. Rolling back is
moving an alias; versions are never edited.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cockpit.clock import utcnow
from cockpit.db.base import iso
from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound, ValidationFailed
from cockpit.specs.assistant_models import AssistantDeletion
from cockpit.specs.models import AgentAlias, AgentAliasMove, AgentVersion
from cockpit.specs.refs import (
    CollectionCatalog,
    raise_problems,
    reference_problems,
    spec_problems,
)
from cockpit.specs.spec import AgentSpec, SpecProblem, load_spec_file
from cockpit.toolkit.registry import ToolRegistry

_REF = re.compile(r"^(?P<id>[a-z][a-z0-9_\-]{1,62})(?:@(?P<sel>v\d+|[a-z][a-z0-9_\-]{0,38}))?$")
ALIASES = ("live", "canary")
_BUILTIN_TIME = datetime(2026, 1, 1)


@dataclass(frozen=True, slots=True)
class ResolvedAgent:
    spec: AgentSpec
    version: int
    """0 for a built-in spec."""
    source: str
    """``builtin`` or ``tenant``."""
    created_at: datetime
    aliases: tuple[str, ...] = ()


class BuiltinSpecs(dict[str, AgentSpec]):
    """Built-in specs by id, remembering the file each came from (errors name it)."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: dict[str, Path] = {}


def load_builtin_specs(folders: list[Path]) -> BuiltinSpecs:
    """Every ``<folder>/<name>/agent.yaml``; a duplicate id is an error."""
    specs = BuiltinSpecs()
    for folder in folders:
        for path in sorted(folder.glob("*/agent.yaml")):
            spec = load_spec_file(path)
            if spec.id in specs:
                raise ValidationFailed(
                    f"{path}: agent id {spec.id!r} is defined twice",
                    code="duplicate_agent",
                    param="id",
                )
            specs[spec.id] = spec
            specs.paths[spec.id] = path
    return specs


class SpecRegistry:
    def __init__(
        self,
        db: Database,
        tools: ToolRegistry,
        builtin: dict[str, AgentSpec],
        *,
        collections: CollectionCatalog | None = None,
    ) -> None:
        """Built-in specs are checked here: an unknown tool or handoff stops the start with a
        :class:`ValidationFailed` naming the file and the field."""
        self._db = db
        self._tools = tools
        self.builtin = builtin
        self.collections: CollectionCatalog | None = None
        for spec in builtin.values():
            raise_problems(
                reference_problems(spec.model_dump(mode="json"), tools=tools, agents=set(builtin)),
                source=self._source(spec.id),
            )
        if collections is not None:
            self.use_collections(collections)

    def _source(self, agent_id: str) -> Path | None:
        paths: Mapping[str, Path] = getattr(self.builtin, "paths", {})
        return paths.get(agent_id)

    def use_collections(self, catalog: CollectionCatalog) -> None:
        """Check specs' ``knowledge`` against ``catalog`` from now on (built-ins at once,
        against the built-in collections)."""
        shared = set(catalog.shared())
        for spec in self.builtin.values():
            raise_problems(
                reference_problems(
                    spec.model_dump(mode="json"), tools=self._tools, collections=shared
                ),
                source=self._source(spec.id),
            )
        self.collections = catalog

    def _collections_for(self, tenant_id: str, data: Any) -> Collection[str] | None:
        """What ``knowledge`` may name for this tenant; the store is asked only when a name is
        not a built-in collection."""
        if self.collections is None:
            return None
        shared = set(self.collections.shared())
        wanted = data.get("knowledge") if isinstance(data, Mapping) else None
        if not isinstance(wanted, list) or all(w in shared for w in wanted):
            return shared
        return set(self.collections.tenant(tenant_id)) | shared

    def problems(self, tenant_id: str, data: Any) -> tuple[AgentSpec | None, list[SpecProblem]]:
        """Validate ``data`` as a spec of this tenant: the spec, or every problem found."""
        return spec_problems(
            data,
            tools=self._tools.for_tenant(tenant_id),
            agents=set(self.specs_for(tenant_id)),
            collections=self._collections_for(tenant_id, data),
        )

    def check(self, tenant_id: str, spec: AgentSpec) -> None:
        """Raise :class:`ValidationFailed` for the first unknown tool, handoff or collection."""
        data = spec.model_dump(mode="json")
        raise_problems(
            reference_problems(
                data,
                tools=self._tools.for_tenant(tenant_id),
                agents=set(self.specs_for(tenant_id)),
                collections=self._collections_for(tenant_id, data),
            )
        )

    def resolve(self, tenant_id: str, ref: str) -> ResolvedAgent:
        m = _REF.match(ref or "")
        if not m:
            raise NotFound(
                f"no assistant {ref!r}", code="assistant_not_found", param="assistant_id"
            )
        agent_id, sel = m.group("id"), m.group("sel")
        with self._db.tenant_session(tenant_id) as s:
            version: int | None = None
            if _deleted(s, agent_id):  # a deleted tenant agent: only a built-in may answer
                sel = None if sel in (None, "live") else sel
                if sel is not None or agent_id not in self.builtin:
                    raise NotFound(
                        f"no assistant {ref!r}", code="assistant_not_found", param="assistant_id"
                    )
            elif sel and sel.startswith("v") and sel[1:].isdigit():
                version = int(sel[1:])
            else:
                alias = s.scalars(
                    select(AgentAlias).where(
                        AgentAlias.agent_id == agent_id, AgentAlias.alias == (sel or "live")
                    )
                ).one_or_none()
                if alias is not None:
                    version = alias.version
                elif sel and sel not in ("live",):
                    raise NotFound(
                        f"assistant {agent_id!r} has no alias {sel!r}",
                        code="assistant_not_found",
                        param="assistant_id",
                    )
            if version is not None:
                row = s.scalars(
                    select(AgentVersion).where(
                        AgentVersion.agent_id == agent_id, AgentVersion.version == version
                    )
                ).one_or_none()
                if row is None:
                    raise NotFound(
                        f"no version {version} of assistant {agent_id!r}",
                        code="assistant_not_found",
                        param="assistant_id",
                    )
                aliases = tuple(
                    a.alias
                    for a in s.scalars(
                        select(AgentAlias).where(
                            AgentAlias.agent_id == agent_id, AgentAlias.version == version
                        )
                    )
                )
                return ResolvedAgent(
                    AgentSpec.model_validate(row.spec),
                    row.version,
                    "tenant",
                    row.created_at,
                    aliases,
                )
        if agent_id in self.builtin:
            return ResolvedAgent(self.builtin[agent_id], 0, "builtin", _BUILTIN_TIME, ("live",))
        raise NotFound(f"no assistant {ref!r}", code="assistant_not_found", param="assistant_id")

    def specs_for(self, tenant_id: str) -> dict[str, AgentSpec]:
        """The spec every agent id resolves to for this tenant (handoff targets come from here)."""
        out = dict(self.builtin)
        for agent_id in self._tenant_agent_ids(tenant_id):
            try:
                out[agent_id] = self.resolve(tenant_id, agent_id).spec
            except NotFound:
                continue
        return out

    def agents(self, tenant_id: str) -> list[ResolvedAgent]:
        ids = sorted(set(self.builtin) | set(self._tenant_agent_ids(tenant_id)))
        out = []
        for agent_id in ids:
            try:
                out.append(self.resolve(tenant_id, agent_id))
            except NotFound:
                continue
        return out

    def unpublished(self, tenant_id: str) -> list[ResolvedAgent]:
        """The newest version of each tenant agent that no ``live`` alias points at yet (a gated
        agent whose first version has not passed): builders list it, nobody can run it."""
        out = []
        for agent_id in sorted(self._tenant_agent_ids(tenant_id)):
            try:
                self.resolve(tenant_id, agent_id)
            except NotFound:
                newest = max(v for v, _hash, _at in self.versions(tenant_id, agent_id))
                out.append(self.resolve(tenant_id, f"{agent_id}@v{newest}"))
        return out

    def _tenant_agent_ids(self, tenant_id: str) -> list[str]:
        with self._db.tenant_session(tenant_id) as s:
            gone = set(s.scalars(select(AssistantDeletion.agent_id)))
            return [a for a in s.scalars(select(AgentVersion.agent_id).distinct()) if a not in gone]

    def create_version(
        self,
        tenant_id: str,
        spec: AgentSpec,
        *,
        created_by: str,
        also: Callable[[Session, int], None] | None = None,
    ) -> int:
        """Store a new immutable version; the first version of an agent also becomes ``live``
        unless its ``evals`` gate it (then ``live`` moves only through the eval gate).

        A new version brings a deleted agent back (not live until an alias moves to it).
        ``also(session, version)`` writes the caller's rows of that version in the same
        transaction (the assistants API keeps its metadata so)."""
        self.check(tenant_id, spec)
        with self._db.tenant_session(tenant_id) as s:
            s.execute(
                delete(AssistantDeletion)
                .where(AssistantDeletion.agent_id == spec.id)
                .execution_options(synchronize_session=False)
            )
            latest = (
                s.scalar(
                    select(func.max(AgentVersion.version)).where(AgentVersion.agent_id == spec.id)
                )
                or 0
            )
            version = latest + 1
            s.add(
                AgentVersion(
                    agent_id=spec.id,
                    version=version,
                    spec=spec.model_dump(mode="json"),
                    spec_hash=spec.content_hash(),
                    created_by=created_by,
                )
            )
            if latest == 0 and not spec.evals:
                s.add(AgentAlias(agent_id=spec.id, alias="live", version=version))
                s.add(
                    AgentAliasMove(
                        agent_id=spec.id,
                        alias="live",
                        version=version,
                        previous=None,
                        kind="created",
                        by=created_by,
                        gate={"decision": "ungated"},
                        at=utcnow(),
                    )
                )
            if also is not None:
                also(s, version)
        return version

    def set_alias(
        self,
        tenant_id: str,
        agent_id: str,
        alias: str,
        version: int,
        *,
        by: str = "cli",
        gate: dict[str, Any] | None = None,
        reason: str | None = None,
    ) -> None:
        """Point ``alias`` at ``version`` and record the move (the gate is the caller's)."""
        _check_alias(alias)
        with self._db.tenant_session(tenant_id) as s:
            exists = s.scalars(
                select(AgentVersion.id).where(
                    AgentVersion.agent_id == agent_id, AgentVersion.version == version
                )
            ).first()
            if exists is None:
                raise NotFound(
                    f"no version {version} of agent {agent_id!r}",
                    code="agent_version_not_found",
                    param="version",
                )
            row = s.scalars(
                select(AgentAlias).where(AgentAlias.agent_id == agent_id, AgentAlias.alias == alias)
            ).one_or_none()
            previous = row.version if row is not None else None
            if row is None:
                s.add(AgentAlias(agent_id=agent_id, alias=alias, version=version))
            else:
                row.version = version
                row.updated_at = utcnow()
            s.add(
                AgentAliasMove(
                    agent_id=agent_id,
                    alias=alias,
                    version=version,
                    previous=previous,
                    kind="set",
                    by=by,
                    gate=gate,
                    reason=reason,
                    at=utcnow(),
                )
            )

    def rollback(
        self, tenant_id: str, agent_id: str, alias: str, *, by: str, reason: str | None = None
    ) -> tuple[int, dict[str, Any] | None]:
        """Move ``alias`` back to where it pointed before its newest move not yet undone.

        No gate runs: that version was where the alias pointed, so it had passed whatever
        gate admitted it then; the returned gate says so (``decision: rollback``) with that
        earlier decision. Conflict ``nothing_to_roll_back`` when there is no earlier version.
        """
        _check_alias(alias)
        self.versions(tenant_id, agent_id)  # 404 for an agent this tenant does not have
        with self._db.tenant_session(tenant_id) as s:
            moves = list(
                s.scalars(
                    select(AgentAliasMove)
                    .where(AgentAliasMove.agent_id == agent_id, AgentAliasMove.alias == alias)
                    .order_by(AgentAliasMove.id)
                )
            )
            row = s.scalars(
                select(AgentAlias).where(AgentAlias.agent_id == agent_id, AgentAlias.alias == alias)
            ).one_or_none()
            last = next((m for m in reversed(moves) if m.kind != "rollback" and not m.undone), None)
            if row is None or last is None or last.previous is None or last.version != row.version:
                raise Conflict(
                    f"{agent_id}@{alias} has no earlier version to roll back to",
                    code="nothing_to_roll_back",
                    param="alias",
                )
            target = last.previous
            admitted = next(
                (m for m in reversed(moves) if m.id < last.id and m.version == target), None
            )
            gate: dict[str, Any] = {
                "decision": "rollback",
                "rolled_back_from": last.version,
                "admitted_by": admitted.gate if admitted is not None else None,
            }
            last.undone = True
            row.version = target
            row.updated_at = utcnow()
            s.add(
                AgentAliasMove(
                    agent_id=agent_id,
                    alias=alias,
                    version=target,
                    previous=last.version,
                    kind="rollback",
                    by=by,
                    gate=gate,
                    reason=reason,
                    at=utcnow(),
                )
            )
        return target, gate

    def aliases(self, tenant_id: str, agent_id: str) -> dict[str, Any]:
        """Each alias: the version it points at (None: unset) and its moves, newest first."""
        self.versions(tenant_id, agent_id)  # 404 for an agent this tenant does not have
        with self._db.tenant_session(tenant_id) as s:
            current = {
                a.alias: a.version
                for a in s.scalars(select(AgentAlias).where(AgentAlias.agent_id == agent_id))
            }
            moves = list(
                s.scalars(
                    select(AgentAliasMove)
                    .where(AgentAliasMove.agent_id == agent_id)
                    .order_by(AgentAliasMove.id.desc())
                )
            )
        return {
            alias: {
                "version": current.get(alias),
                "history": [_move_json(m) for m in moves if m.alias == alias],
            }
            for alias in ALIASES
        }

    def versions(self, tenant_id: str, agent_id: str) -> list[tuple[int, str, datetime]]:
        with self._db.tenant_session(tenant_id) as s:
            rows = list(
                s.scalars(
                    select(AgentVersion)
                    .where(AgentVersion.agent_id == agent_id)
                    .order_by(AgentVersion.version)
                )
            )
        if not rows:
            raise NotFound(
                f"no tenant agent {agent_id!r}", code="agent_not_found", param="agent_id"
            )
        return [(r.version, r.spec_hash, r.created_at) for r in rows]


def _deleted(s: Session, agent_id: str) -> bool:
    return (
        s.scalars(
            select(AssistantDeletion.id).where(AssistantDeletion.agent_id == agent_id)
        ).first()
        is not None
    )


def _check_alias(alias: str) -> None:
    if alias not in ALIASES:
        raise ValidationFailed(
            f"alias must be one of {', '.join(ALIASES)}", code="invalid_alias", param="alias"
        )


def _move_json(m: AgentAliasMove) -> dict[str, Any]:
    return {
        "version": m.version,
        "previous": m.previous,
        "kind": m.kind,
        "at": iso(m.at),
        "by": m.by,
        "gate": m.gate,
        "reason": m.reason,
        "undone": m.undone,
    }


__all__ = ["ALIASES", "BuiltinSpecs", "ResolvedAgent", "SpecRegistry", "load_builtin_specs"]
