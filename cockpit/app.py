"""Composition root: builds the services and the FastAPI app from settings.

This is the one module (with the CLI) that imports every package: the core,
the domain routers (``tools.*``, ``knowledge``) and the built-in agents folder.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from cockpit import __version__
from cockpit.api.errors import install_error_handlers
from cockpit.api.limits import BodySizeLimit
from cockpit.api.openapi import install_openapi
from cockpit.api.routers import (
    agents,
    approvals,
    assistants,
    audit,
    crons,
    evals,
    keys,
    runs,
    store,
    system,
    threads,
    tool_sources,
    usage,
    webhooks,
)
from cockpit.api.routers.tools import router as tools_router
from cockpit.api.routing import add_routes
from cockpit.api.services import Services
from cockpit.audit import keyring_for
from cockpit.audit.log import AuditLog
from cockpit.config import Settings
from cockpit.console import router as console_router
from cockpit.crons import CronScheduler
from cockpit.db.migrate import migrated
from cockpit.db.session import Database
from cockpit.discovery import (
    builtin_specs,
    eval_runner,
    load_tools,
    merchant_lookup,
    optional_module,
)
from cockpit.observability.setup import FASTAPI_TELEMETRY, install_observability
from cockpit.runtime.checkpoint import open_checkpointer
from cockpit.runtime.graph import ModelFactory
from cockpit.runtime.notify import notifier_for
from cockpit.runtime.service import Runtime
from cockpit.settle import settle_after
from cockpit.specs.evalruns import EvalService
from cockpit.specs.registry import SpecRegistry
from cockpit.specs.spec import AgentSpec
from cockpit.tenancy.keys import KeyService
from cockpit.tenancy.principal import Role
from cockpit.toolkit.registry import ToolRegistry, default_registry
from cockpit.toolkit.sources import STORE_KEY as SOURCES_KEY
from cockpit.toolkit.sources import SourceToolRegistry, ToolSourceStore
from cockpit.webhooks.destinations import DestinationPolicy
from cockpit.webhooks.dispatcher import Dispatcher

log = logging.getLogger(__name__)

PLATFORM_TENANT = "platform"
DEMO_TENANT = "demo"
DOMAIN_ROUTERS = (
    "tools.payments.router",
    "tools.payments.monitors.router",
    "tools.fraud.router",
    "tools.fx.router",
    "tools.credit.router",
    "tools.commerce.router",
    "knowledge.router",
)
#: Hooks run once at start: ``fn(services)``; each domain may provide one. Credit comes first:
#: its demo strategies are two short writes, while the payments demo world is seeded in one long
#: background transaction that on SQLite holds the write lock (credit waited for it, and gave up
#: after the 30 s busy timeout).
STARTUP_HOOKS = (
    "tools.credit.startup",
    "tools.payments.startup",
    "tools.fraud.startup",
    "tools.commerce.startup",
    "knowledge.startup",
)
#: The MCP endpoint (``McpEndpoint(registry)``): mounted at ``/mcp`` on this same app, its
#: session manager running inside this app's lifespan (no second server, no other port).
MCP_ENDPOINT = "tools.commerce.mcp"


def default_model_factory(settings: Settings) -> ModelFactory:
    def factory(spec: AgentSpec, schemas: list[dict[str, Any]]) -> Any:
        from cockpit.models import resolve_model

        model = resolve_model(
            settings.model_override or spec.model,
            planner=spec.planner,
            fallbacks=spec.fallbacks,
            settings=settings,
        )
        return model.bind_tools(schemas)

    return factory


def wire_domains(svc: Services) -> None:
    """Cross-domain wiring that no domain may do itself (they never import each other).

    Payments settle cross-currency captures at the latest ECB reference rates from the FX
    tool; currencies the ECB does not quote keep the gateway's built-in approximate rate.
    """
    payments = optional_module("tools.payments.startup")
    fx = optional_module("tools.fx.ecb")
    if payments is None or fx is None:
        return
    from tools.payments.gateway import Gateway
    from tools.payments.money import FixedRates

    table = fx.load_ecb()
    per_eur: dict[str, str] = {"EUR": "1"}
    for ccy in table.currencies(live_only=True):
        if ccy == "EUR":
            continue
        _day, rate = table.rate_on(f"EUR/{ccy}")
        per_eur[ccy] = f"{rate:.10g}"
    rates = FixedRates(per_eur, source="ecb")
    svc.extras[payments.GATEWAY_KEY] = Gateway(svc.db, rates=rates)
    # Credit builds merchant-financing applications from a merchant's payments (in EUR at the
    # same rates); like the FX exposure source, credit reads it from extras, never imports it.
    from tools.payments.activity import EXTRAS_KEY as CREDIT_ACTIVITY_KEY
    from tools.payments.activity import LedgerActivitySource

    svc.extras[CREDIT_ACTIVITY_KEY] = LedgerActivitySource(svc.db, rates=rates)

    fraud = optional_module("tools.fraud.demo")  # not the service: it imports the model
    if fraud is not None:
        svc.extras[fraud.DEMO_CUSTOMERS_KEY] = _demo_customers(svc, payments)


def _demo_customers(svc: Services, payments: Any) -> Any:
    """The payments demo world's customers, cards and devices, for the fraud simulator."""

    def customers() -> tuple[Any, ...]:
        from tools.fraud.simulator import seed_customers_from
        from tools.payments.queries import customer_records

        seeding = svc.extras.get(payments.SEED_THREAD_KEY)
        if seeding is not None:
            seeding.join(timeout=120)  # the world is seeded in the background at start
        with svc.db.tenant_session(DEMO_TENANT) as s:
            records = customer_records(s)
        return seed_customers_from(records)

    return customers


class KnowledgeCatalog:
    """The knowledge collections a spec's ``knowledge`` may name (the domain's store)."""

    def __init__(self, svc: Services) -> None:
        self._svc = svc

    def shared(self) -> set[str]:
        from knowledge.namespace import SHARED_COLLECTION

        return {SHARED_COLLECTION}

    def tenant(self, tenant_id: str) -> set[str]:
        from knowledge.service import store_from_extras

        store = store_from_extras(self._svc.extras, self._svc.settings)
        return {c.name for c in store.list_collections(tenant_id)}


def bootstrap(settings: Settings, db: Database, keys: KeyService) -> dict[str, str]:
    """First start: a platform admin key (written to the data dir), and the demo tenant."""
    created: dict[str, str] = {}
    keys.ensure_tenant(PLATFORM_TENANT, name="Platform")
    admin_file = settings.data_dir / "admin.key"
    if not any(k.role is Role.ADMIN and not k.revoked for k in keys.list_keys(PLATFORM_TENANT)):
        issued = keys.create_key(PLATFORM_TENANT, Role.ADMIN, name="bootstrap admin")
        _write_secret(admin_file, issued.secret)
        created["admin"] = issued.secret
    if settings.demo:
        keys.ensure_tenant(DEMO_TENANT, name="Demo merchant tenant", demo=True)
        demo_file = settings.data_dir / "demo.key"
        if not demo_file.exists():
            issued = keys.create_key(DEMO_TENANT, Role.ADMIN, name="demo operator")
            _write_secret(demo_file, issued.secret)
            created["demo"] = issued.secret
    return created


def _write_secret(path: Path, secret: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret + "\n")


def prepare(settings: Settings) -> tuple[Database, KeyService, dict[str, str]]:
    """Data dir, database, migrations and bootstrap keys — everything before the event loop."""
    settings.ensure_data_dir()
    settings.install_clock()
    db = Database(settings.resolved_database_url)
    keys = KeyService(db, merchant_exists=merchant_lookup(db), cache_ttl_s=settings.key_cache_ttl_s)
    with migrated(db):  # workers starting together: one migrates and bootstraps at a time
        created = bootstrap(settings, db, keys)
    return db, keys, created


def create_app(
    settings: Settings | None = None,
    *,
    model_factory: ModelFactory | None = None,
    tools: ToolRegistry | None = None,
) -> FastAPI:
    settings = settings or Settings()
    registry = tools or default_registry
    mcp_module = optional_module(MCP_ENDPOINT)
    mcp = mcp_module.McpEndpoint(registry) if mcp_module is not None else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db, keys, created = prepare(settings)
        app.state.bootstrap_keys = created
        load_tools(settings, registry)
        audit_log = AuditLog(db, keys=keyring_for(settings.resolved_database_url, settings))
        # Each tenant also sees the tools of its own registered sources (MCP / OpenAPI).
        sources = ToolSourceStore(db, lambda: settings.tool_source_hosts)
        tenant_tools = SourceToolRegistry(registry, sources)
        specs = SpecRegistry(db, tenant_tools, builtin_specs(settings))
        async with open_checkpointer(settings.resolved_checkpoint_url) as saver:
            runtime = Runtime(
                db=db,
                specs=specs,
                tools=tenant_tools,
                audit=audit_log,
                checkpointer=saver,
                model_factory=model_factory or default_model_factory(settings),
                timeout_s=settings.run_timeout_s,
                lease_s=settings.run_lease_s,
                notifier=notifier_for(db.url),
            )
            # A key revoked on any worker is forgotten by this one's cache at once (PostgreSQL).
            keys.follow_revocations(runtime.runs.notifier)
            runtime.extras["settings"] = settings
            runtime.extras[SOURCES_KEY] = sources
            # Every worker sends due webhooks; each delivery is claimed by one of them.
            hooks = Dispatcher(db, policy=DestinationPolicy.from_settings(settings))
            runtime.extras[webhooks.DISPATCHER_KEY] = hooks
            svc = Services(
                settings=settings,
                db=db,
                keys=keys,
                audit=audit_log,
                runtime=runtime,
                evals=EvalService(db, specs, eval_runner(settings)),
                extras=runtime.extras,
            )
            app.state.services = svc
            recovered = runtime.runs.recover(single_node=db.dialect == "sqlite")
            await runtime.runs.refresh_thread_statuses()
            if recovered:
                log.warning("continuing %d runs left running by a previous server", recovered)
            wire_domains(svc)
            if optional_module("knowledge.service") is not None:
                specs.use_collections(KnowledgeCatalog(svc))
            before = set(threading.enumerate())
            for hook in STARTUP_HOOKS:
                module = optional_module(hook)
                if module is not None and hasattr(module, "on_startup"):
                    try:
                        module.on_startup(svc)
                    except Exception:
                        # Demo data and warm-ups are conveniences: serve without them.
                        log.exception("start-up hook %s failed; serving without it", hook)
            if settings.warmup:
                # The hooks' background jobs (seeding, model and corpus loading) are what start-up
                # leaves behind; once they are done, their objects leave the GC's way.
                settle_after([t for t in threading.enumerate() if t not in before])
            # Due crons start their runs from every worker; each fire is claimed once.
            app.state.crons = CronScheduler(db, runtime, poll_s=settings.cron_poll_s)
            app.state.crons.start()
            hooks.start()
            # Last, once every domain is wired: queued and recovered runs may start at once.
            await runtime.runs.start_worker()
            try:
                async with mcp.serving(svc) if mcp is not None else nullcontext():
                    yield
            finally:
                await app.state.crons.stop()
                await hooks.stop()
                # A start-up hook's ``on_shutdown(svc)`` stops what it started (threads).
                for hook in reversed(STARTUP_HOOKS):
                    module = optional_module(hook)
                    if module is not None and hasattr(module, "on_shutdown"):
                        try:
                            module.on_shutdown(svc)
                        except Exception:
                            log.exception("shutdown hook %s failed", hook)
                await svc.evals.shutdown()
                await runtime.runs.shutdown()
        db.dispose()

    app = FastAPI(
        title="Cockpit",
        version=__version__,
        description="Open agentic-commerce platform. Agent-Protocol / LangGraph-server compatible API.",
        lifespan=lifespan,
        telemetry=FASTAPI_TELEMETRY,
    )
    install_error_handlers(app)
    install_openapi(app)
    for router in (
        system.router,
        assistants.router,
        threads.router,
        crons.router,
        runs.router,
        approvals.router,
        agents.router,
        evals.router,
        audit.router,
        keys.router,
        usage.router,
        tool_sources.router,
        store.router,
        webhooks.router,
        tools_router,
        console_router,
    ):
        add_routes(app.router, router)
    for name in DOMAIN_ROUTERS:
        module = optional_module(name)
        if module is not None:
            add_routes(app.router, module.router)
    if mcp is not None:
        app.router.routes.append(mcp.route())
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # Last, so outermost: request ids, spans and HTTP metrics for every request; and /metrics.
    install_observability(app, settings)
    return app


__all__ = ["DEMO_TENANT", "PLATFORM_TENANT", "bootstrap", "builtin_specs", "create_app", "prepare"]
