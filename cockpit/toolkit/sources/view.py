"""The registry the runtime uses: the shared tools, plus each tenant's own source tools.

:meth:`ToolRegistry.for_tenant` is the one hook: the runtime, spec validation and approvals
ask it for the tenant they serve, so a tenant's source tools exist for that tenant only (another
tenant's spec naming them is an ``unknown_tool``).
"""

from __future__ import annotations

from collections.abc import Mapping

from cockpit.toolkit.registry import ToolDef, ToolRegistry
from cockpit.toolkit.sources.store import ToolSourceStore


class TenantToolView(ToolRegistry):
    """The shared tools and one tenant's source tools (a snapshot: built per request)."""

    def __init__(
        self,
        shared: ToolRegistry,
        own: Mapping[str, ToolDef],
        revision: str,
        *,
        parent: ToolRegistry,
    ) -> None:
        super().__init__()
        self._shared = shared
        self._parent = parent
        self._own = dict(own)
        self._revision = revision

    def add(self, tool: ToolDef) -> None:
        self._shared.add(tool)

    def get(self, name: str) -> ToolDef:
        own = self._own.get(name)
        return own if own is not None else self._shared.get(name)

    def names(self) -> list[str]:
        return sorted({*self._shared.names(), *self._own})

    def __contains__(self, name: object) -> bool:
        return name in self._own or name in self._shared

    def load_entry_points(self) -> None:
        self._shared.load_entry_points()

    def for_tenant(self, tenant_id: str) -> ToolRegistry:
        return self._parent.for_tenant(tenant_id)

    def revision(self) -> str:
        return self._revision


class SourceToolRegistry(ToolRegistry):
    """``shared`` as it is, with :meth:`for_tenant` adding the tenant's registered sources."""

    def __init__(self, shared: ToolRegistry, sources: ToolSourceStore) -> None:
        super().__init__()
        self._shared = shared
        self.sources = sources

    def add(self, tool: ToolDef) -> None:
        self._shared.add(tool)

    def get(self, name: str) -> ToolDef:
        return self._shared.get(name)

    def names(self) -> list[str]:
        return self._shared.names()

    def __contains__(self, name: object) -> bool:
        return name in self._shared

    def load_entry_points(self) -> None:
        self._shared.load_entry_points()

    def for_tenant(self, tenant_id: str) -> ToolRegistry:
        own, revision = self.sources.tools_for(tenant_id)
        return TenantToolView(self._shared, own, revision, parent=self) if own else self


__all__ = ["SourceToolRegistry", "TenantToolView"]
