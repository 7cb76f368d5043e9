"""The runtime: turns an assistant id into a compiled team graph and runs it on threads."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph.state import CompiledStateGraph

from cockpit.audit.log import AuditLog
from cockpit.db.session import Database
from cockpit.runtime.approvals import resume_guard
from cockpit.runtime.graph import ModelFactory, Team, build_graph, check_assistant, reachable
from cockpit.runtime.notify import Notifier
from cockpit.runtime.runs import RunHandle, RunManager, RunSpec
from cockpit.runtime.threads import ThreadStore
from cockpit.runtime.writer import db_work
from cockpit.specs.registry import ResolvedAgent, SpecRegistry
from cockpit.specs.spec import AgentSpec
from cockpit.tenancy.principal import Principal
from cockpit.toolkit.registry import ToolRegistry

_READER_SPEC = AgentSpec(
    id="state-reader", name="reader", description="reads thread state only", instructions="-"
)


@dataclass
class Runtime:
    db: Database
    specs: SpecRegistry
    tools: ToolRegistry
    audit: AuditLog
    checkpointer: BaseCheckpointSaver[Any]
    model_factory: ModelFactory
    timeout_s: float = 120.0
    lease_s: float = 30.0
    """How long a worker's claim on a run lasts without renewal (a dead worker's runs are
    continued by another worker after this)."""
    notifier: Notifier | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    _graphs: OrderedDict[tuple[Any, ...], CompiledStateGraph[Any]] = field(
        default_factory=OrderedDict
    )
    _graphs_lock: threading.Lock = field(default_factory=threading.Lock)
    """``graph_for`` runs on the loop and in worker threads (:mod:`cockpit.runtime.writer`)."""

    def __post_init__(self) -> None:
        reader_team = Team(
            entry=_READER_SPEC.id,
            specs={_READER_SPEC.id: _READER_SPEC},
            registry=self.tools,
            db=self.db,
            audit=self.audit,
            model_factory=self.model_factory,
        )
        self.threads = ThreadStore(self.db, build_graph(reader_team, self.checkpointer))
        self.runs = RunManager(
            db=self.db,
            threads=self.threads,
            timeout_s=self.timeout_s,
            audit=self.audit,
            lease_s=self.lease_s,
            notifier=self.notifier,
        )
        self.runs.resume_guard = resume_guard(self.db, self.tools)
        self.runs.graph_source = lambda tenant, ref, who: self.graph_for(tenant, ref, who)[1]

    def graph_for(
        self, tenant_id: str, assistant_ref: str, principal: Principal | None = None
    ) -> tuple[ResolvedAgent, CompiledStateGraph[Any]]:
        """The assistant's compiled team; with ``principal``, refuse a key its spec does not admit."""
        resolved = self.specs.resolve(tenant_id, assistant_ref)
        if principal is not None:
            check_assistant(principal, resolved.spec)
        team_specs = reachable(
            resolved.spec.id, {**self.specs.specs_for(tenant_id), resolved.spec.id: resolved.spec}
        )
        tools = self.tools.for_tenant(tenant_id)  # shared tools + the tenant's own sources
        key = (
            tenant_id,
            resolved.spec.id,
            tuple(sorted((s.id, s.content_hash()) for s in team_specs.values())),
            tools.revision(),
        )
        with self._graphs_lock:
            graph = self._graphs.get(key)
            if graph is not None:
                self._graphs.move_to_end(key)
        if graph is None:
            team = Team(
                entry=resolved.spec.id,
                specs=team_specs,
                registry=tools,
                db=self.db,
                audit=self.audit,
                model_factory=self.model_factory,
                extras=self.extras,
            )
            graph = build_graph(team, self.checkpointer)
            with self._graphs_lock:
                self._graphs[key] = graph
                while len(self._graphs) > 256:
                    self._graphs.popitem(last=False)
        return resolved, graph

    async def start_run(self, principal: Principal, thread_id: str, spec: RunSpec) -> RunHandle:
        """Start ``spec`` on a thread as ``principal``: the one way every caller starts a run
        (the runs routes, crons, batches), so each is held to the same checks."""
        resolved, graph = await db_work(
            self.db, self.graph_for, principal.tenant_id, spec.assistant_id, principal
        )
        spec.assistant_id = (
            resolved.spec.id if resolved.version == 0 else f"{resolved.spec.id}@v{resolved.version}"
        )
        return await self.runs.start(principal, thread_id, spec, graph)


__all__ = ["Runtime"]
