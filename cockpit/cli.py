"""The ``cockpit`` command: serve, chat, keys, tenants, audit — plus each domain's commands.

Start-up must stay fast (``cockpit --version`` and ``--help`` in well under half a second), so
this module imports only typer at the top: settings, rich, the app and every domain are imported
inside the command that needs them, and a domain's commands are mounted only when invoked.
Every command fails by raising (:class:`CliFailure` or any exception); the one handler
(:class:`cockpit.cli_errors.CliGroup`) turns that into one line on stderr and an exit code.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cockpit import __version__
from cockpit.cli_errors import CliGroup
from cockpit.exitcodes import CliFailure, ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from cockpit.audit import AuditLog
    from cockpit.config import Settings


app = typer.Typer(
    cls=CliGroup,
    rich_markup_mode=None,  # plain help: importing typer.rich_utils costs more than the rest
    context_settings={"max_content_width": 120},
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

#: Each domain's commands: ``cockpit <name>`` -> (module with a typer ``app``, its one-line help).
#: The help is repeated here so ``cockpit --help`` lists domains without importing them (a test
#: checks it against each app's own help).
DOMAIN_CLIS: dict[str, tuple[str, str]] = {
    "payments": (
        "tools.payments.cli",
        "Payments simulator: demo world, balances, success rates, ledger checks.",
    ),
    "fraud": ("tools.fraud.cli", "Fraud scoring: train, list and promote models."),
    "fx": ("tools.fx.cli", "FX rates, forecasts with calibrated intervals, and hedging."),
    "credit": (
        "tools.credit.cli",
        "Credit decisioning: scorecards, strategies, backtests, deployments.",
    ),
    "kb": ("knowledge.cli", "Knowledge store: collections, ingestion and search."),
    "shop": (
        "tools.commerce.shopper.cli",
        "A reference shopping agent buys from a Cockpit merchant over ACP (and AP2).",
    ),
    "data": ("tools.fraud.data", "Fetch offline datasets."),
    "eval": (
        "evals.cli",
        "Agent task evaluation (τ-bench style): suites, controls, reports.",
    ),
}


@cache
def out() -> Console:
    """The console for a command's output (stdout)."""
    from rich.console import Console

    return Console()


@cache
def err() -> Console:
    """The console for notes and warnings (stderr); failures go through the error handler."""
    from rich.console import Console

    return Console(stderr=True)


def _settings(**overrides: Any) -> Settings:
    from cockpit.config import Settings

    return Settings(**overrides)


def _version(value: bool) -> None:
    if value:
        print(f"cockpit {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="Show the traceback when a command fails (or set COCKPIT_DEBUG=1)."
        ),
    ] = False,
) -> None:
    """Cockpit command line."""


class _SharedCollections:
    """The built-in knowledge collections, the only ones a built-in spec may name."""

    def shared(self) -> set[str]:
        from knowledge.namespace import SHARED_COLLECTION

        return {SHARED_COLLECTION}

    def tenant(self, tenant_id: str) -> set[str]:
        return self.shared()


def _check_agents(settings: Settings, db: Any) -> None:
    """Load the tool modules and every built-in and extra agent spec, as the server will.

    A bad spec (a YAML error, an unknown tool, handoff or collection) stops ``serve`` here with
    one line naming the file and the field, instead of a traceback inside the server's start-up.
    """
    from cockpit.discovery import builtin_specs, load_tools
    from cockpit.specs.registry import SpecRegistry
    from cockpit.toolkit import default_registry

    settings.import_tool_modules()
    load_tools(settings, default_registry)
    collections = _SharedCollections() if _present("knowledge.namespace") else None
    # Parsed once per process: the app this command then starts reuses them.
    specs = builtin_specs(settings)
    SpecRegistry(db, default_registry, specs, collections=collections)


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

    console = out()
    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    if demo is not None:
        overrides["demo"] = demo
    settings = _settings(**overrides)
    configure_logging(settings.log_level, json_lines=settings.log_json)
    _db, _keys, created = prepare(settings)
    try:
        _check_agents(settings, _db)
    finally:
        _db.dispose()
    url = f"http://{settings.host}:{settings.port}"
    console.print(
        f"[bold]Cockpit {__version__}[/] serving on [cyan]{url}[/]  (API docs: {url}/docs)"
    )
    console.print(f"Web console: [cyan]{url}/console/[/] (sign in with a key)")
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
    """The host's database, migrated (host-side commands read it directly)."""
    from cockpit.db.migrate import upgrade
    from cockpit.db.session import Database

    settings.ensure_data_dir()
    db = Database(settings.resolved_database_url)
    upgrade(db)
    return db


def _merchant_lookup(db: Any) -> Any:
    """``cockpit.discovery.merchant_lookup`` without importing the tool packages: None without
    payments."""
    if not _present("tools.payments.binding"):
        return None
    from tools.payments.binding import merchant_exists

    return merchant_exists(db)


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
        raise typer.BadParameter(
            f"must be one of {', '.join(x.value for x in Role)}", param_hint="--role"
        ) from None
    db = _host_db(_settings())
    # The same binding rules as POST /v1/keys: a merchant of this tenant, merchant/shopper keys only.
    # The check comes from the payments domain's light module, not cockpit.app (~8 s to import).
    keys = KeyService(db, merchant_exists=_merchant_lookup(db))
    keys.ensure_tenant(tenant)
    issued = keys.create_key(tenant, r, name=name, merchant_id=merchant)
    out().print(f"key id {issued.id} ({r.value} of {tenant}); secret, shown once:")
    print(issued.secret)


@keys_app.command("list")
def keys_list(tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None) -> None:
    """List keys (never their secrets)."""
    from rich.table import Table

    from cockpit.tenancy.keys import KeyService

    table = Table("id", "tenant", "role", "name", "created", "revoked")
    for k in KeyService(_host_db(_settings())).list_keys(tenant):
        table.add_row(
            k.id,
            k.tenant_id,
            k.role.value,
            k.name,
            k.created_at.strftime("%Y-%m-%d %H:%M"),
            "yes" if k.revoked else "",
        )
    out().print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key at once (every worker refuses it on the next request)."""
    from cockpit.tenancy.keys import KeyService

    KeyService(_host_db(_settings())).revoke(key_id)
    out().print(f"revoked {key_id}")


@keys_app.command("admin")
def keys_admin() -> None:
    """Print the bootstrap platform admin key kept in the data dir (host only)."""
    path = _settings().data_dir / "admin.key"
    if not path.exists():
        raise CliFailure(f"no admin key at {path}; run `cockpit serve` once first")
    print(path.read_text().strip())


@tenants_app.command("create")
def tenants_create(tenant_id: str, name: Annotated[str | None, typer.Option()] = None) -> None:
    """Create a tenant."""
    from cockpit.tenancy.keys import KeyService

    KeyService(_host_db(_settings())).ensure_tenant(tenant_id, name=name)
    out().print(f"tenant {tenant_id} ready")


def _audit_log(settings: Settings, db: Any = None) -> AuditLog:
    from cockpit.audit import AuditKeyError, AuditLog, keyring_for

    try:
        keys = keyring_for(settings.resolved_database_url, settings)
    except AuditKeyError as exc:
        raise CliFailure(f"{exc.message} ({exc.code})", ExitCode.BAD_INPUT) from None
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
    from rich.markup import escape

    from cockpit.audit import SignedHead
    from cockpit.tenancy.keys import KeyService

    console = out()
    settings = _settings()
    db = _host_db(settings)
    log = _audit_log(settings, db)
    head: SignedHead | None = None
    if anchor is not None:
        try:
            head = SignedHead.model_validate_json(anchor.read_text())
        except (OSError, ValidationError) as exc:
            raise CliFailure(
                f"cannot read the anchor {anchor}: {exc}", ExitCode.BAD_INPUT
            ) from None
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
    if bad:
        raise CliFailure(f"{bad} of {len(tenants)} audit chains do not verify")


@audit_app.command("head")
def audit_head(tenant: Annotated[str, typer.Option()]) -> None:
    """Print the chain's signed head (JSON); save it elsewhere and pass it to `verify --anchor`."""
    print(_audit_log(_settings()).head(tenant).model_dump_json())


@audit_app.command("seal")
def audit_seal(tenant: Annotated[str, typer.Option()]) -> None:
    """Append a keyed record, so a chain of unkeyed (pre-key) records is sealed by the key."""
    seq = _audit_log(_settings()).record(tenant, kind="audit_sealed", actor="cli", subject=tenant)
    out().print(f"{tenant}: sealed at record {seq}")


@audit_app.command("rotate-key")
def audit_rotate_key() -> None:
    """Put a new key first in the generated key file; older keys stay to verify older records."""
    from cockpit.audit.keys import key_file, rotate_key_file

    settings = _settings()
    if settings.audit_keys is not None:
        raise CliFailure(
            "COCKPIT_AUDIT_KEYS is set: rotate by putting a new kid:secret first",
            ExitCode.BAD_INPUT,
        )
    path = key_file(settings, settings.resolved_database_url)
    out().print(f"new audit key {rotate_key_file(path)} in {path}")


@audit_app.command("export")
def audit_export(tenant: Annotated[str, typer.Option()]) -> None:
    """Write a tenant's chain as JSON lines to stdout."""
    for rec in _audit_log(_settings()).export(tenant):
        sys.stdout.write(json.dumps(rec) + "\n")


def _registry(settings: Settings) -> Any:
    from cockpit.discovery import builtin_agent_dirs, load_tools
    from cockpit.specs.registry import SpecRegistry, load_builtin_specs
    from cockpit.toolkit import default_registry

    load_tools(settings, default_registry)
    return SpecRegistry(
        _host_db(settings), default_registry, load_builtin_specs(builtin_agent_dirs(settings))
    )


@agents_app.command("list")
def agents_list(
    tenant: Annotated[str, typer.Option(help="Tenant whose view to show.")] = "demo",
) -> None:
    """Agents a tenant can use, with the version each id resolves to."""
    from rich.table import Table

    table = Table("id", "name", "version", "source", "model", "aliases")
    for r in _registry(_settings()).agents(tenant):
        table.add_row(
            r.spec.id, r.spec.name, str(r.version), r.source, r.spec.model, ",".join(r.aliases)
        )
    out().print(table)


@agents_app.command("submit")
def agents_submit(path: Path, tenant: Annotated[str, typer.Option()]) -> None:
    """Validate a spec file and store it as a new immutable version."""
    from cockpit.specs.spec import load_spec_file
    from cockpit.tenancy.keys import KeyService

    settings = _settings()
    spec = load_spec_file(path)
    registry = _registry(settings)
    KeyService(_host_db(settings)).ensure_tenant(tenant)
    version = registry.create_version(tenant, spec, created_by="cli")
    out().print(f"{spec.id} version {version} stored")


@agents_app.command("versions")
def agents_versions(agent_id: str, tenant: Annotated[str, typer.Option()]) -> None:
    """Versions of a tenant's agent."""
    for version, digest, created in _registry(_settings()).versions(tenant, agent_id):
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

    settings = _settings()
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
    settings = _settings()
    version, gate = _registry(settings).rollback(tenant, agent_id, alias, by="cli", reason=reason)
    _audit_log(settings).record(
        tenant,
        kind="agent_alias_rolled_back",
        actor="cli",
        subject=agent_id,
        payload={"alias": alias, "version": version, "from": gate["rolled_back_from"]},
    )
    out().print(f"{agent_id}@{alias} -> v{version} (was v{gate['rolled_back_from']})")


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

    settings = _settings()
    api_key, source = _chat_key(settings, key)
    session = ChatSession(url or settings.server_url, api_key, console=out(), auto_approval=approve)
    try:
        code = session.run(assistant=assistant, thread_id=thread, turns=message)
    except CliFailure as failure:
        if failure.code is not ExitCode.AUTH:
            raise
        raise CliFailure(f"{failure.message} (the key came from {source})", failure.code) from None
    if code:
        raise typer.Exit(code)


def _chat_key(settings: Settings, key: str | None) -> tuple[str, str]:
    """The key ``cockpit chat`` sends and where it came from (said when the server refuses it)."""
    if key:
        return key, "--key"
    if settings.api_key:
        return settings.api_key, "COCKPIT_API_KEY"
    path: Path = settings.data_dir / "demo.key"
    if path.exists():
        return path.read_text().strip(), str(path)
    raise CliFailure(
        "no API key: pass --key, set COCKPIT_API_KEY, or run `cockpit serve` on this host",
        ExitCode.BAD_INPUT,
    )


def _present(module_name: str) -> bool:
    """Whether a module's file exists, found without importing its packages (they are slow)."""
    top, _, rest = module_name.partition(".")
    try:
        found = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return False
    if found is None or not found.submodule_search_locations:
        return found is not None and not rest
    relative = Path(*rest.split("."))
    return any(
        (Path(loc) / relative).with_suffix(".py").exists()
        or (Path(loc) / relative / "__init__.py").exists()
        for loc in found.submodule_search_locations
    )


def _invoked(argv: list[str]) -> str | None:
    """The command named on the command line (the first word that is not an option)."""
    return next((arg for arg in argv[1:] if not arg.startswith("-")), None)


def mount_domain_clis(wanted: str | None = None, *, every: bool = False) -> None:
    """Mount each domain's commands: the real sub-app for ``wanted`` (or all, with ``every``),
    and for the rest only its name and help line, so ``--help`` lists them without importing them.
    """
    mounted = {group.name for group in app.registered_groups}
    for name, (module_name, help_line) in DOMAIN_CLIS.items():
        if name in mounted or not _present(module_name):
            continue
        if every or name == wanted:
            sub = getattr(importlib.import_module(module_name), "app", None)
            if isinstance(sub, typer.Typer):
                app.add_typer(sub, name=name)
                continue
        app.add_typer(typer.Typer(help=help_line), name=name)


def main() -> None:
    try:
        mount_domain_clis(_invoked(sys.argv))
    except Exception as exc:  # a domain's CLI failed to import: still one line, not a traceback
        from cockpit.cli_errors import report

        raise SystemExit(report(exc, debug="--debug" in sys.argv)) from None
    app()


__all__ = ["DOMAIN_CLIS", "app", "main", "mount_domain_clis"]
