"""The ``cockpit`` command: the root app, where serve, chat, keys, tenants, audit, agents and
each domain's commands are mounted.

This is the CLI's composition root, the one CLI module that may import a domain
(``tests/test_layout.py``), so the commands that reach into one live here: ``serve`` checks the
agent specs against the knowledge collections, ``keys create`` binds a key to a payments
merchant. The other command groups have a module each (:mod:`cockpit.cli_chat`,
:mod:`cockpit.cli_audit`, :mod:`cockpit.cli_agents`); what commands share (consoles, settings,
the host's database) is in :mod:`cockpit.cli_resources`.

Start-up must stay fast (``cockpit --version`` and ``--help`` in well under half a second), so
this module and the command modules it mounts import only typer at the top: settings, rich, the
app and every domain are imported inside the command that needs them, and a domain's commands are
mounted only when invoked.
Every command fails by raising (:class:`CliFailure` or any exception); the one handler
(:class:`cockpit.cli_errors.CliGroup`) turns that into one line on stderr and an exit code.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cockpit import __version__
from cockpit.cli_agents import agents_app
from cockpit.cli_audit import audit_app
from cockpit.cli_chat import chat
from cockpit.cli_errors import CliGroup
from cockpit.cli_resources import host_db, load_settings, out
from cockpit.exitcodes import CliFailure

if TYPE_CHECKING:
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
app.add_typer(keys_app, name="keys")
app.add_typer(tenants_app, name="tenants")
app.add_typer(audit_app, name="audit")
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
    settings = load_settings(**overrides)
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


# After serve: ``cockpit --help`` lists commands in the order they are registered.
app.command()(chat)


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
    db = host_db(load_settings())
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
    for k in KeyService(host_db(load_settings())).list_keys(tenant):
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

    KeyService(host_db(load_settings())).revoke(key_id)
    out().print(f"revoked {key_id}")


@keys_app.command("admin")
def keys_admin() -> None:
    """Print the bootstrap platform admin key kept in the data dir (host only)."""
    path = load_settings().data_dir / "admin.key"
    if not path.exists():
        raise CliFailure(f"no admin key at {path}; run `cockpit serve` once first")
    print(path.read_text().strip())


@tenants_app.command("create")
def tenants_create(tenant_id: str, name: Annotated[str | None, typer.Option()] = None) -> None:
    """Create a tenant."""
    from cockpit.tenancy.keys import KeyService

    KeyService(host_db(load_settings())).ensure_tenant(tenant_id, name=name)
    out().print(f"tenant {tenant_id} ready")


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
