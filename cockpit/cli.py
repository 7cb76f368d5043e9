"""The ``cockpit`` command: serve, chat, keys, tenants, audit — plus each domain's commands."""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cockpit import __version__
from cockpit.config import Settings

if TYPE_CHECKING:
    from cockpit.audit import AuditLog

app = typer.Typer(
    help="Cockpit: open agentic-commerce platform.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
keys_app = typer.Typer(
    help="API keys (host-side: needs the data dir / database).", no_args_is_help=True
)
tenants_app = typer.Typer(help="Tenants (host-side).", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log (host-side).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(tenants_app, name="tenants")
app.add_typer(audit_app, name="audit")
agents_app = typer.Typer(
    help="Agent specs: versions and aliases (host-side).", no_args_is_help=True
)
app.add_typer(agents_app, name="agents")
console = Console()
err = Console(stderr=True)

DOMAIN_CLIS = {
    "payments": "tools.payments.cli",
    "fraud": "tools.fraud.cli",
    "fx": "tools.fx.cli",
    "credit": "tools.credit.cli",
    "kb": "knowledge.cli",
    "shop": "tools.commerce.shopper.cli",
    "data": "tools.fraud.data",
    "eval": "evals.cli",
}


def _version(value: bool) -> None:
    if value:
        console.print(f"cockpit {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Cockpit command line."""


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default COCKPIT_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default COCKPIT_PORT).")] = None,
    demo: Annotated[
        bool | None, typer.Option("--demo/--no-demo", help="Create the demo tenant and data.")
    ] = None,
) -> None:
    """Start the API (migrations, bootstrap keys and demo data happen first)."""
    import uvicorn

    from cockpit.app import create_app, prepare
    from cockpit.logging import configure_logging

    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if demo is not None:
        overrides["demo"] = demo
    settings = Settings(**overrides)
    configure_logging(settings.log_level, json_lines=settings.log_json)
    _db, _keys, created = prepare(settings)
    _db.dispose()
    url = f"http://{settings.host}:{settings.port}"
    console.print(
        f"[bold]Cockpit {__version__}[/] serving on [cyan]{url}[/]  (API docs: {url}/docs)"
    )
    console.print(
        f"Data dir: {settings.data_dir}   database: {settings.resolved_database_url.split('@')[-1]}"
    )
    if "admin" in created:
        console.print(
            f"Platform admin key (shown once; also in {settings.data_dir / 'admin.key'}):"
        )
        console.print(f"  [yellow]{created['admin']}[/]")
    if settings.demo:
        console.print(
            f"Demo tenant key: {settings.data_dir / 'demo.key'}"
            + (f"\n  [yellow]{created['demo']}[/]" if "demo" in created else "")
        )
    exe = sys.argv[0] if Path(sys.argv[0]).name == "cockpit" else "cockpit"
    console.print(f"Talk to it:  [green]{exe} chat[/]   or", soft_wrap=True)
    console.print(
        f'  curl -H "x-api-key: $(cat {settings.data_dir / "demo.key"})" '
        f"-H 'content-type: application/json' -X POST {url}/assistants/search -d '{{}}'",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )
    app_ = create_app(settings)
    uvicorn.run(app_, host=settings.host, port=settings.port, log_config=None, access_log=False)


def _host_db(settings: Settings) -> Any:
    from cockpit.db.migrate import upgrade
    from cockpit.db.session import Database

    settings.ensure_data_dir()
    db = Database(settings.resolved_database_url)
    upgrade(db)
    return db


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="Tenant id (created if missing).")],
    role: Annotated[str, typer.Option(help="admin | merchant | partner | shopper")] = "merchant",
    name: Annotated[str, typer.Option(help="A label.")] = "",
    merchant: Annotated[str | None, typer.Option(help="Bind the key to a merchant id.")] = None,
) -> None:
    """Create an API key; the secret is printed once."""
    from cockpit.tenancy.keys import KeyService
    from cockpit.tenancy.principal import Role

    try:
        r = Role(role)
    except ValueError:
        err.print(f"[red]role must be one of {[x.value for x in Role]}[/]")
        raise typer.Exit(2) from None
    from cockpit.app import merchant_lookup
    from cockpit.errors import CockpitError

    db = _host_db(Settings())
    # The same binding rules as POST /v1/keys: a merchant of this tenant, merchant/shopper keys only.
    keys = KeyService(db, merchant_exists=merchant_lookup(db))
    keys.ensure_tenant(tenant)
    try:
        issued = keys.create_key(tenant, r, name=name, merchant_id=merchant)
    except CockpitError as exc:
        err.print(f"[red]{exc.message}[/] ({exc.code})")
        raise typer.Exit(2) from None
    console.print(f"key id {issued.id} ({r.value} of {tenant}); secret, shown once:")
    print(issued.secret)


@keys_app.command("list")
def keys_list(tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None) -> None:
    """List keys (never their secrets)."""
    from cockpit.tenancy.keys import KeyService

    table = Table("id", "tenant", "role", "name", "created", "revoked")
    for k in KeyService(_host_db(Settings())).list_keys(tenant):
        table.add_row(
            k.id,
            k.tenant_id,
            k.role.value,
            k.name,
            k.created_at.strftime("%Y-%m-%d %H:%M"),
            "yes" if k.revoked else "",
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key at once (every worker refuses it on the next request)."""
    from cockpit.errors import CockpitError
    from cockpit.tenancy.keys import KeyService

    try:
        KeyService(_host_db(Settings())).revoke(key_id)
    except CockpitError as exc:
        err.print(f"[red]{exc.message}[/]")
        raise typer.Exit(1) from None
    console.print(f"revoked {key_id}")


@keys_app.command("admin")
def keys_admin() -> None:
    """Print the bootstrap platform admin key kept in the data dir (host only)."""
    path = Settings().data_dir / "admin.key"
    if not path.exists():
        err.print(f"[red]no admin key at {path}; run `cockpit serve` once first[/]")
        raise typer.Exit(1)
    print(path.read_text().strip())


@tenants_app.command("create")
def tenants_create(tenant_id: str, name: Annotated[str | None, typer.Option()] = None) -> None:
    """Create a tenant."""
    from cockpit.tenancy.keys import KeyService

    KeyService(_host_db(Settings())).ensure_tenant(tenant_id, name=name)
    console.print(f"tenant {tenant_id} ready")


def _audit_log(settings: Settings, db: Any = None) -> AuditLog:
    from cockpit.audit import AuditKeyError, AuditLog, keyring_for

    try:
        keys = keyring_for(settings.resolved_database_url, settings)
    except AuditKeyError as exc:
        err.print(f"[red]{exc.code}: {escape(exc.message)}[/]")
        raise typer.Exit(2) from None
    return AuditLog(db or _host_db(settings), keys=keys)


@audit_app.command("verify")
def audit_verify(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    anchor: Annotated[
        Path | None,
        typer.Option(help="A head saved by `cockpit audit head`: the chain must still hold it."),
    ] = None,
) -> None:
    """Verify hash chains with the audit key; exit 1 if any record was edited or removed."""
    from pydantic import ValidationError

    from cockpit.audit import SignedHead
    from cockpit.tenancy.keys import KeyService

    settings = Settings()
    db = _host_db(settings)
    log = _audit_log(settings, db)
    head: SignedHead | None = None
    if anchor is not None:
        try:
            head = SignedHead.model_validate_json(anchor.read_text())
        except (OSError, ValidationError) as exc:
            err.print(f"[red]cannot read the anchor {anchor}: {escape(str(exc))}[/]")
            raise typer.Exit(2) from None
        tenant = tenant or head.tenant
    tenants = [tenant] if tenant else KeyService(db).list_tenants()
    bad = 0
    for t in tenants:
        r = log.verify(t, anchor=head)
        if r.ok:
            legacy = f" ({r.legacy} unkeyed, sealed)" if r.legacy else ""
            anchored = f", holds the anchor at record {head.seq}" if head else ""
            console.print(f"[green]ok[/]   {t}: {r.records} records{legacy}{anchored}")
        else:
            bad += 1
            where = f" at record {r.at_seq}" if r.at_seq is not None else ""
            console.print(
                f"[red]FAIL[/] {t}: {escape(r.problem or '')}{where}"
                f" ({r.records} verified before it)"
            )
    raise typer.Exit(1 if bad else 0)


@audit_app.command("head")
def audit_head(tenant: Annotated[str, typer.Option()]) -> None:
    """Print the chain's signed head (JSON); save it elsewhere and pass it to `verify --anchor`."""
    try:
        head = _audit_log(Settings()).head(tenant)
    except Exception as exc:
        _fail(exc)
        return
    print(head.model_dump_json())


@audit_app.command("seal")
def audit_seal(tenant: Annotated[str, typer.Option()]) -> None:
    """Append a keyed record, so a chain of unkeyed (pre-key) records is sealed by the key."""
    seq = _audit_log(Settings()).record(tenant, kind="audit_sealed", actor="cli", subject=tenant)
    console.print(f"{tenant}: sealed at record {seq}")


@audit_app.command("rotate-key")
def audit_rotate_key() -> None:
    """Put a new key first in the generated key file; older keys stay to verify older records."""
    from cockpit.audit.keys import key_file, rotate_key_file

    settings = Settings()
    if settings.audit_keys is not None:
        err.print("[red]COCKPIT_AUDIT_KEYS is set: rotate by putting a new kid:secret first[/]")
        raise typer.Exit(2)
    path = key_file(settings, settings.resolved_database_url)
    console.print(f"new audit key {rotate_key_file(path)} in {path}")


@audit_app.command("export")
def audit_export(tenant: Annotated[str, typer.Option()]) -> None:
    """Write a tenant's chain as JSON lines to stdout."""
    for rec in _audit_log(Settings()).export(tenant):
        sys.stdout.write(json.dumps(rec) + "\n")


def _registry(settings: Settings) -> Any:
    from cockpit.app import builtin_agent_dirs, load_tools
    from cockpit.specs.registry import SpecRegistry, load_builtin_specs
    from cockpit.toolkit import default_registry

    load_tools(settings, default_registry)
    return SpecRegistry(
        _host_db(settings), default_registry, load_builtin_specs(builtin_agent_dirs(settings))
    )


def _fail(exc: Exception) -> None:
    from cockpit.errors import CockpitError

    if isinstance(exc, CockpitError):
        err.print(f"[red]{exc.code}: {exc.message}[/]")
        raise typer.Exit(1) from None
    raise exc


@agents_app.command("list")
def agents_list(
    tenant: Annotated[str, typer.Option(help="Tenant whose view to show.")] = "demo",
) -> None:
    """Agents a tenant can use, with the version each id resolves to."""
    table = Table("id", "name", "version", "source", "model", "aliases")
    for r in _registry(Settings()).agents(tenant):
        table.add_row(
            r.spec.id, r.spec.name, str(r.version), r.source, r.spec.model, ",".join(r.aliases)
        )
    console.print(table)


@agents_app.command("submit")
def agents_submit(path: Path, tenant: Annotated[str, typer.Option()]) -> None:
    """Validate a spec file and store it as a new immutable version."""
    from cockpit.specs.spec import load_spec_file
    from cockpit.tenancy.keys import KeyService

    settings = Settings()
    try:
        spec = load_spec_file(path)
        registry = _registry(settings)
        KeyService(_host_db(settings)).ensure_tenant(tenant)
        version = registry.create_version(tenant, spec, created_by="cli")
    except Exception as exc:
        _fail(exc)
        return
    console.print(f"{spec.id} version {version} stored")


@agents_app.command("versions")
def agents_versions(agent_id: str, tenant: Annotated[str, typer.Option()]) -> None:
    """Versions of a tenant's agent."""
    try:
        rows = _registry(Settings()).versions(tenant, agent_id)
    except Exception as exc:
        _fail(exc)
        return
    for version, digest, created in rows:
        console.print(f"v{version}  {digest[:12]}  {created:%Y-%m-%d %H:%M}")


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

    from cockpit.app import eval_runner
    from cockpit.specs.evalruns import EvalService

    settings = Settings()
    try:
        registry = _registry(settings)
        if alias == "live":
            db = _host_db(settings)
            gate = EvalService(db, registry, eval_runner(settings))
            record = asyncio.run(
                gate.publish(
                    _audit_log(settings, db),
                    tenant,
                    agent_id,
                    version,
                    actor="cli",
                    created_by="cli",
                    force=force,
                    reason=reason,
                )
            )
            console.print(f"eval gate: {record['decision']}")
        registry.set_alias(tenant, agent_id, alias, version)
    except Exception as exc:
        if getattr(exc, "code", None) == "eval_gate_failed":
            err.print(json.dumps(getattr(exc, "details", {}), indent=2, default=str))
        _fail(exc)
        return
    console.print(f"{agent_id}@{alias} -> v{version}")


@app.command()
def chat(
    url: Annotated[
        str | None, typer.Option(help="Server URL (default COCKPIT_SERVER_URL).")
    ] = None,
    key: Annotated[
        str | None, typer.Option(help="API key (default COCKPIT_API_KEY or the host's demo key).")
    ] = None,
    assistant: Annotated[str | None, typer.Option(help="Assistant id.")] = None,
    thread: Annotated[str | None, typer.Option(help="Continue this thread.")] = None,
    message: Annotated[
        list[str] | None, typer.Option("--message", "-m", help="Send these turns and exit.")
    ] = None,
    approve: Annotated[
        str | None, typer.Option(help="Answer approvals without asking: approve | reject.")
    ] = None,
) -> None:
    """Chat with an agent team: streams replies, shows approval requests and asks for a decision."""
    from cockpit.chat import ChatSession

    settings = Settings()
    api_key = key or settings.api_key or _host_key(settings)
    if not api_key:
        err.print(
            "[red]no API key: pass --key, set COCKPIT_API_KEY, or run `cockpit serve` on this host[/]"
        )
        raise typer.Exit(2)
    session = ChatSession(
        url or settings.server_url, api_key, console=console, auto_approval=approve
    )
    code = session.run(assistant=assistant, thread_id=thread, turns=message)
    raise typer.Exit(code)


def _host_key(settings: Settings) -> str | None:
    path: Path = settings.data_dir / "demo.key"
    return path.read_text().strip() if path.exists() else None


def _mount_domain_clis(argv: list[str]) -> None:
    """Import a domain's CLI only when it is invoked: the ML stacks behind them load slowly."""
    wanted = argv[1] if len(argv) > 1 else None
    for name, module_name in DOMAIN_CLIS.items():
        try:
            if importlib.util.find_spec(module_name) is None:
                continue
        except ModuleNotFoundError:
            continue
        if name != wanted:
            app.add_typer(
                typer.Typer(help=f"{name} commands: see `cockpit {name} --help`."), name=name
            )
            continue
        sub = getattr(importlib.import_module(module_name), "app", None)
        if isinstance(sub, typer.Typer):
            app.add_typer(sub, name=name)


def main() -> None:
    _mount_domain_clis(sys.argv)
    app()


__all__ = ["app", "main"]
