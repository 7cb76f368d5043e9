"""The agent registry: built-in specs from folders, partner specs as immutable versions in the DB.

Resolution of an assistant id for a tenant:
``<id>`` → the tenant's ``live`` alias if it has one, else the built-in spec;
``<id>@<alias>`` → that alias; ``<id>@v<n>`` → that version. Rolling back is
moving an alias; versions are never edited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.errors import NotFound, ValidationFailed
from cockpit.specs.models import AgentAlias, AgentVersion
from cockpit.specs.spec import AgentSpec, check_tools, load_spec_file
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


def load_builtin_specs(folders: list[Path]) -> dict[str, AgentSpec]:
    """Every ``<folder>/<name>/agent.yaml``; a duplicate id is an error."""
    specs: dict[str, AgentSpec] = {}
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
    return specs


class SpecRegistry:
    def __init__(self, db: Database, tools: ToolRegistry, builtin: dict[str, AgentSpec]) -> None:
        self._db = db
        self._tools = tools
        self.builtin = builtin
        for spec in builtin.values():
            check_tools(spec, tools)

    def resolve(self, tenant_id: str, ref: str) -> ResolvedAgent:
        m = _REF.match(ref or "")
        if not m:
            raise NotFound(
                f"no assistant {ref!r}", code="assistant_not_found", param="assistant_id"
            )
        agent_id, sel = m.group("id"), m.group("sel")
        with self._db.tenant_session(tenant_id) as s:
            version: int | None = None
            if sel and sel.startswith("v") and sel[1:].isdigit():
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

    def _tenant_agent_ids(self, tenant_id: str) -> list[str]:
        with self._db.tenant_session(tenant_id) as s:
            return list(s.scalars(select(AgentVersion.agent_id).distinct()))

    def create_version(self, tenant_id: str, spec: AgentSpec, *, created_by: str) -> int:
        """Store a new immutable version; the first version of an agent also becomes ``live``
        unless its ``evals`` gate it (then ``live`` moves only through the eval gate)."""
        check_tools(spec, self._tools)
        for i, target in enumerate(spec.handoffs):
            if target not in self.specs_for(tenant_id):
                raise ValidationFailed(
                    f"handoffs.{i}: unknown agent {target!r}",
                    code="unknown_agent",
                    param=f"handoffs.{i}",
                )
        with self._db.tenant_session(tenant_id) as s:
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
        return version

    def set_alias(self, tenant_id: str, agent_id: str, alias: str, version: int) -> None:
        if alias not in ALIASES:
            raise ValidationFailed(
                f"alias must be one of {ALIASES}", code="invalid_alias", param="alias"
            )
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
            if row is None:
                s.add(AgentAlias(agent_id=agent_id, alias=alias, version=version))
            else:
                row.version = version
                row.updated_at = utcnow()

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


__all__ = ["ALIASES", "ResolvedAgent", "SpecRegistry", "load_builtin_specs"]
