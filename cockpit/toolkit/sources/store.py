"""A tenant's tool sources: registration (with discovery), refresh, removal, and the
:class:`~cockpit.toolkit.registry.ToolDef`\\ s its agents see.

Discovery runs only when a source is registered or refreshed; what it found is stored, so
resolving a tenant's tools never touches the network. Each remote tool becomes a registry tool
``<source>__<tool>`` with the remote JSON schema as its arguments, so agent specs list it with the
same policy fields as a built-in tool and the runtime applies the same checks, approvals,
exactly-once and audit to it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import threading
from collections.abc import Callable, Collection
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from cockpit.db.base import iso, utcnow
from cockpit.db.session import Database
from cockpit.errors import Conflict, NotFound, ValidationFailed
from cockpit.guardrails.injection import screen_text
from cockpit.tenancy.principal import Role
from cockpit.tenancy.rights import MERCHANTS, STAFF
from cockpit.toolkit.registry import ToolContext, ToolDef, ToolKind
from cockpit.toolkit.sources import mcp_source, openapi_source
from cockpit.toolkit.sources.models import ToolSourceRecord
from cockpit.toolkit.sources.network import check_url
from cockpit.toolkit.sources.schema import args_model, normalise

SEPARATOR = "__"
TOOL_NAME = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
"""What model providers accept as a function name (OpenAI's rule)."""
SOURCE_NAME = r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"
MAX_DESCRIPTION = 1024


class RemoteToolPolicy(BaseModel):
    """What the partner declares about one remote tool (the remote side cannot be trusted to)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["READ", "WRITE", "read", "write"] = "READ"
    """A WRITE goes through approvals and runs exactly once; undeclared tools are READs."""
    amount_field: str | None = None
    """The argument holding an amount in minor units (``max_amount`` / ``approval.above``)."""
    currency_field: str | None = None
    """The argument holding the ISO currency of ``amount_field``."""
    roles: list[Role] | None = None
    """Roles whose keys may have it run (and approve it); default: staff for a READ,
    merchants for a WRITE (admins always)."""


class ToolSourceInput(BaseModel):
    """``POST /v1/tool-sources``."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=30, pattern=SOURCE_NAME)
    """Lower-case letters, digits and single underscores; tools are named ``<name>__<tool>``."""
    kind: Literal["mcp", "openapi"]
    url: str = Field(min_length=8, max_length=2000)
    """The MCP endpoint (Streamable HTTP) or the OpenAPI document (JSON or YAML)."""
    headers: dict[str, str] = Field(default_factory=dict, max_length=20)
    """Sent with every request to the source (e.g. ``Authorization``); stored, never returned."""
    tools: dict[str, RemoteToolPolicy] = Field(default_factory=dict, max_length=200)
    """Declarations by remote tool name (MCP) or ``operationId`` (OpenAPI)."""
    timeout_s: float = Field(default=15.0, ge=1.0, le=60.0)
    """Longest one request to the source may take."""


def registry_name(source: str, remote: str) -> str:
    return source + SEPARATOR + re.sub(r"[^A-Za-z0-9_\-]", "_", remote)


def _revision(row: ToolSourceRecord) -> str:
    blob = json.dumps(
        [row.kind, row.url, row.headers, row.tools, row.discovered, row.timeout_s],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def _check_declarations(
    source: str, discovered: list[dict[str, Any]], tools: dict[str, RemoteToolPolicy]
) -> list[dict[str, Any]]:
    """Validate the declarations against what discovery found; returns the tools to expose
    (each with its registry name, normalised schema and screened description)."""
    by_name = {t["name"]: t for t in discovered}
    for remote in tools:
        if remote not in by_name:
            known = ", ".join(sorted(by_name)[:20]) or "none"
            raise ValidationFailed(
                f"tools.{remote}: the source has no tool {remote!r} (it has: {known})",
                code="unknown_remote_tool",
                param=f"tools.{remote}",
            )
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for tool in discovered:
        name = registry_name(source, str(tool["name"]))
        entry = dict(tool, registry_name=name)
        if not TOOL_NAME.match(name) or name in seen:
            entry["skipped"] = "name too long or not unique once prefixed"
            out.append(entry)
            continue
        seen.add(name)
        declared = tools.get(str(tool["name"]))
        where = f"tools.{tool['name']}"
        entry["input_schema"] = normalise(tool.get("input_schema"), where=where)
        props = entry["input_schema"]["properties"]
        if declared is not None:
            for field in ("amount_field", "currency_field"):
                value = getattr(declared, field)
                if value is not None and value not in props:
                    raise ValidationFailed(
                        f"{where}.{field}: {tool['name']!r} has no argument {value!r}",
                        code="unknown_argument",
                        param=f"{where}.{field}",
                    )
            if declared.amount_field is not None:
                # Limits read an integer amount: one the model may leave out or send as text
                # would slip past max_amount.
                amount = props[declared.amount_field]
                required = entry["input_schema"].get("required", [])
                if amount.get("type") != "integer" or declared.amount_field not in required:
                    raise ValidationFailed(
                        f"{where}.amount_field: {declared.amount_field!r} must be a required "
                        "integer argument (minor units)",
                        code="invalid_tool_policy",
                        param=f"{where}.amount_field",
                    )
            if declared.currency_field and not declared.amount_field:
                raise ValidationFailed(
                    f"{where}.currency_field: needs an amount_field",
                    code="invalid_tool_policy",
                    param=f"{where}.currency_field",
                )
        description = str(tool.get("description") or tool["name"])[:MAX_DESCRIPTION]
        flagged = screen_text(description)
        if flagged:
            # The description is shown to the model: a remote server does not get to instruct it.
            description = f"{tool['name']} (description withheld: {', '.join(flagged)})"
            entry["description_flagged"] = flagged
        entry["description"] = description
        out.append(entry)
    return out


class ToolSourceStore:
    """The tenant's sources in the database, and the tool definitions built from them."""

    def __init__(self, db: Database, allowed_hosts: Callable[[], Collection[str]]) -> None:
        self._db = db
        self._allowed_hosts = allowed_hosts
        self._built: dict[tuple[str, str], tuple[str, dict[str, ToolDef]]] = {}
        self._lock = threading.Lock()

    # -- registration -----------------------------------------------------------------------

    async def _discover(self, body: ToolSourceInput) -> list[dict[str, Any]]:
        hosts = self._allowed_hosts()
        check_url(body.url, hosts)
        if body.kind == "mcp":
            found = await mcp_source.discover(body.url, body.headers, timeout_s=body.timeout_s)
        else:
            found = await openapi_source.discover(
                body.url, body.headers, timeout_s=body.timeout_s, allowed_hosts=hosts
            )
        return _check_declarations(body.name, found, body.tools)

    async def register(
        self, tenant_id: str, body: ToolSourceInput, *, created_by: str
    ) -> dict[str, Any]:
        if await asyncio.to_thread(self._row, tenant_id, body.name, missing_ok=True) is not None:
            raise Conflict(
                f"a tool source named {body.name!r} exists; refresh or delete it",
                code="tool_source_exists",
                param="name",
            )
        discovered = await self._discover(body)
        return await asyncio.to_thread(self._insert, tenant_id, body, discovered, created_by)

    def _insert(
        self,
        tenant_id: str,
        body: ToolSourceInput,
        discovered: list[dict[str, Any]],
        created_by: str,
    ) -> dict[str, Any]:
        row = ToolSourceRecord(
            id="tsrc_" + secrets.token_hex(10),
            name=body.name,
            kind=body.kind,
            url=body.url,
            headers=dict(body.headers),
            tools={k: v.model_dump(mode="json") for k, v in body.tools.items()},
            discovered=discovered,
            timeout_s=body.timeout_s,
            created_by=created_by,
        )
        row.revision = _revision(row)
        try:
            with self._db.tenant_session(tenant_id) as s:
                s.add(row)
        except IntegrityError:
            raise Conflict(
                f"a tool source named {body.name!r} exists", code="tool_source_exists", param="name"
            ) from None
        return self.get(tenant_id, body.name)

    async def refresh(self, tenant_id: str, name: str) -> dict[str, Any]:
        """Discover again (the remote tools or their schemas changed)."""
        row = await asyncio.to_thread(self._row, tenant_id, name)
        assert row is not None
        body = ToolSourceInput(
            name=row.name,
            kind=row.kind,  # type: ignore[arg-type]
            url=row.url,
            headers=row.headers,
            tools={k: RemoteToolPolicy.model_validate(v) for k, v in row.tools.items()},
            timeout_s=row.timeout_s,
        )
        discovered = await self._discover(body)
        return await asyncio.to_thread(self._rediscovered, tenant_id, name, row.id, discovered)

    def _rediscovered(
        self, tenant_id: str, name: str, row_id: str, discovered: list[dict[str, Any]]
    ) -> dict[str, Any]:
        with self._db.tenant_session(tenant_id) as s:
            fresh = s.get(ToolSourceRecord, row_id)
            if fresh is None:
                raise NotFound(f"no tool source {name!r}", code="tool_source_not_found")
            fresh.discovered = discovered
            fresh.refreshed_at = utcnow()
            fresh.revision = _revision(fresh)
        return self.get(tenant_id, name)

    def delete(self, tenant_id: str, name: str) -> None:
        row = self._row(tenant_id, name)
        assert row is not None
        with self._db.tenant_session(tenant_id) as s:
            fresh = s.get(ToolSourceRecord, row.id)
            if fresh is not None:
                s.delete(fresh)
        with self._lock:
            self._built.pop((tenant_id, row.id), None)

    # -- reading ----------------------------------------------------------------------------

    def _row(
        self, tenant_id: str, name: str, *, missing_ok: bool = False
    ) -> ToolSourceRecord | None:
        with self._db.tenant_session(tenant_id) as s:
            row = s.scalars(
                select(ToolSourceRecord).where(ToolSourceRecord.name == name)
            ).one_or_none()
            if row is not None:
                s.expunge(row)
        if row is None and not missing_ok:
            raise NotFound(f"no tool source {name!r}", code="tool_source_not_found", param="name")
        return row

    def list(self, tenant_id: str) -> list[dict[str, Any]]:
        with self._db.tenant_session(tenant_id) as s:
            rows = list(s.scalars(select(ToolSourceRecord).order_by(ToolSourceRecord.name)))
            return [_json(r, detail=False) for r in rows]

    def get(self, tenant_id: str, name: str) -> dict[str, Any]:
        row = self._row(tenant_id, name)
        assert row is not None
        return _json(row, detail=True)

    def tools_for(self, tenant_id: str) -> tuple[dict[str, ToolDef], str]:
        """The tenant's source tools by registry name, and a revision that changes with them."""
        with self._db.tenant_session(tenant_id) as s:
            rows = list(s.scalars(select(ToolSourceRecord).order_by(ToolSourceRecord.name)))
            for row in rows:
                s.expunge(row)
        tools: dict[str, ToolDef] = {}
        for row in rows:
            with self._lock:
                cached = self._built.get((tenant_id, row.id))
            if cached is None or cached[0] != row.revision:
                cached = (row.revision, self._build(row))
                with self._lock:
                    self._built[(tenant_id, row.id)] = cached
            tools.update(cached[1])
        return tools, ",".join(r.revision[:16] for r in rows)

    def _build(self, row: ToolSourceRecord) -> dict[str, ToolDef]:
        out: dict[str, ToolDef] = {}
        for tool in row.discovered:
            if tool.get("skipped"):
                continue
            declared = RemoteToolPolicy.model_validate(row.tools.get(tool["name"], {}))
            kind = ToolKind(declared.kind.lower())
            name = str(tool["registry_name"])
            fn = partial(
                _call_remote,
                kind=row.kind,
                url=row.url,
                headers=dict(row.headers),
                plan=dict(tool["call"]),
                write=kind is ToolKind.WRITE,
                timeout_s=row.timeout_s,
                allowed_hosts=self._allowed_hosts,
                label=name,
            )
            out[name] = ToolDef(
                name=name,
                kind=kind,
                args=args_model(name, tool["input_schema"]),
                fn=fn,
                description=str(tool["description"]),
                amount_field=declared.amount_field,
                currency_field=declared.currency_field,
                roles=frozenset(declared.roles)
                if declared.roles is not None
                else (STAFF if kind is ToolKind.READ else MERCHANTS),
            )
        return out


def _call_remote(
    ctx: ToolContext,
    args: BaseModel,
    *,
    kind: str,
    url: str,
    headers: dict[str, str],
    plan: dict[str, Any],
    write: bool,
    timeout_s: float,
    allowed_hosts: Callable[[], Collection[str]],
    label: str,
) -> dict[str, Any]:
    """One remote call; a WRITE carries the runtime's idempotency key (header and MCP meta)."""
    arguments = args.model_dump(mode="json")
    key = ctx.idempotency_key if write else None
    hosts = allowed_hosts()
    if kind == "mcp":
        check_url(url, hosts)
        return mcp_source.call(
            url,
            headers,
            str(plan["tool"]),
            arguments,
            idempotency_key=key,
            timeout_s=timeout_s,
            label=label,
        )
    return openapi_source.call(
        plan,
        headers,
        arguments,
        idempotency_key=key,
        timeout_s=timeout_s,
        allowed_hosts=hosts,
        label=label,
    )


def _json(row: ToolSourceRecord, *, detail: bool) -> dict[str, Any]:
    tools = []
    for tool in row.discovered:
        declared = RemoteToolPolicy.model_validate(row.tools.get(tool["name"], {}))
        kind = declared.kind.upper()
        entry: dict[str, Any] = {
            "name": tool["registry_name"],
            "remote_name": tool["name"],
            "kind": kind,
            "roles": sorted(
                r.value
                for r in (
                    declared.roles
                    if declared.roles is not None
                    else (STAFF if kind == "READ" else MERCHANTS)
                )
            ),
            "amount_field": declared.amount_field,
            "currency_field": declared.currency_field,
        }
        if tool.get("skipped"):
            entry["skipped"] = tool["skipped"]
        if detail:
            entry["description"] = tool.get("description")
            entry["input_schema"] = tool.get("input_schema")
            if tool.get("description_flagged"):
                entry["description_flagged"] = tool["description_flagged"]
        tools.append(entry)
    return {
        "name": row.name,
        "kind": row.kind,
        "url": row.url,
        "header_names": sorted(row.headers),
        "timeout_s": row.timeout_s,
        "tools": tools,
        "created_by": row.created_by,
        "created_at": iso(row.created_at),
        "refreshed_at": iso(row.refreshed_at),
    }


__all__ = [
    "SEPARATOR",
    "RemoteToolPolicy",
    "ToolSourceInput",
    "ToolSourceStore",
    "registry_name",
]
