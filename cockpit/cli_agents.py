"""The ``cockpit agents`` commands: list, submit and version agent specs, and move their aliases
(``live`` through the eval gate). They read the data dir / database directly (host-side).

Mounted by :mod:`cockpit.cli` at start-up: only typer at the top, everything else inside the
command that needs it. Agents, tools and the eval runner come from :mod:`cockpit.discovery`,
never :mod:`cockpit.app` (every router, the runtime and LangGraph).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cockpit.cli_resources import audit_log, err, host_db, load_settings, out

if TYPE_CHECKING:
    from cockpit.config import Settings

agents_app = typer.Typer(
    help="Agent specs: versions and aliases (host-side).", no_args_is_help=True
)


def _registry(settings: Settings) -> Any:
    from cockpit.discovery import builtin_agent_dirs, load_tools
    from cockpit.specs.registry import SpecRegistry, load_builtin_specs
    from cockpit.toolkit import default_registry

    load_tools(settings, default_registry)
    return SpecRegistry(
        host_db(settings), default_registry, load_builtin_specs(builtin_agent_dirs(settings))
    )


@agents_app.command("list")
def agents_list(
    tenant: Annotated[str, typer.Option(help="Tenant whose view to show.")] = "demo",
) -> None:
    """Agents a tenant can use, with the version each id resolves to."""
    from rich.table import Table

    table = Table("id", "name", "version", "source", "model", "aliases")
    for r in _registry(load_settings()).agents(tenant):
        table.add_row(
            r.spec.id, r.spec.name, str(r.version), r.source, r.spec.model, ",".join(r.aliases)
        )
    out().print(table)


@agents_app.command("submit")
def agents_submit(path: Path, tenant: Annotated[str, typer.Option()]) -> None:
    """Validate a spec file and store it as a new immutable version."""
    from cockpit.specs.spec import load_spec_file
    from cockpit.tenancy.keys import KeyService

    settings = load_settings()
    spec = load_spec_file(path)
    registry = _registry(settings)
    KeyService(host_db(settings)).ensure_tenant(tenant)
    version = registry.create_version(tenant, spec, created_by="cli")
    out().print(f"{spec.id} version {version} stored")


@agents_app.command("versions")
def agents_versions(agent_id: str, tenant: Annotated[str, typer.Option()]) -> None:
    """Versions of a tenant's agent."""
    for version, digest, created in _registry(load_settings()).versions(tenant, agent_id):
        out().print(f"v{version}  {digest[:12]}  {created:%Y-%m-%d %H:%M}")


@agents_app.command("alias")
def agents_alias(
    agent_id: str,
    alias: str,
    version: int,
    tenant: Annotated[str, typer.Option()],
    force: Annotated[
        bool, typer.Option("--force", help="Publish to live past the eval gate (audited).")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why the gate is forced.")] = None,
) -> None:
    """Point an alias (live, canary) at a version: publish or roll back.

    ``live`` moves through the eval gate, as over the API: a passing eval run of that spec's
    hash (reused or run now), or ``--force --reason`` (the host's operator is an admin).
    """
    import asyncio

    from cockpit.discovery import eval_runner
    from cockpit.specs.evalruns import EvalService

    settings = load_settings()
    try:
        registry = _registry(settings)
        if alias == "live":
            db = host_db(settings)
            gate = EvalService(db, registry, eval_runner(settings))
            record = asyncio.run(
                gate.publish(
                    audit_log(settings, db),
                    tenant,
                    agent_id,
                    version,
                    actor="cli",
                    created_by="cli",
                    force=force,
                    reason=reason,
                )
            )
            out().print(f"eval gate: {record['decision']}")
        registry.set_alias(tenant, agent_id, alias, version)
    except Exception as exc:
        if getattr(exc, "code", None) == "eval_gate_failed":
            err().print(json.dumps(getattr(exc, "details", {}), indent=2, default=str))
        raise
    out().print(f"{agent_id}@{alias} -> v{version}")


@agents_app.command("rollback")
def agents_rollback(
    agent_id: str,
    alias: str,
    tenant: Annotated[str, typer.Option()],
    reason: Annotated[str | None, typer.Option(help="Why (kept in the alias history).")] = None,
) -> None:
    """Move an alias back to where it pointed before its last move (no eval gate runs)."""
    settings = load_settings()
    version, gate = _registry(settings).rollback(tenant, agent_id, alias, by="cli", reason=reason)
    audit_log(settings).record(
        tenant,
        kind="agent_alias_rolled_back",
        actor="cli",
        subject=agent_id,
        payload={"alias": alias, "version": version, "from": gate["rolled_back_from"]},
    )
    out().print(f"{agent_id}@{alias} -> v{version} (was v{gate['rolled_back_from']})")


__all__ = ["agents_app"]
