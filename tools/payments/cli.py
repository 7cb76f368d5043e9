"""``cockpit payments …``: seed the demo world, inspect balances, success rates and the ledger."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Annotated

import typer

from cockpit.cli_errors import CliGroup
from cockpit.exitcodes import CliFailure

if TYPE_CHECKING:
    from rich.console import Console

    from cockpit.db.session import Database

# The database and rich are imported inside the commands: ``--help`` stays fast.
app = typer.Typer(
    cls=CliGroup,
    help="Payments simulator: demo world, balances, success rates, ledger checks.",
    no_args_is_help=True,
)
TenantOpt = Annotated[str, typer.Option("--tenant", "-t", help="Tenant id")]


@cache
def _console() -> Console:
    from rich.console import Console

    return Console()


def _db() -> Database:
    from cockpit.config import Settings
    from cockpit.db.session import Database

    settings = Settings()
    settings.ensure_data_dir()
    return Database(settings.resolved_database_url)


@app.command("seed-demo")
def seed_demo(tenant: TenantOpt = "demo", seed: int = 7, days: int = 90) -> None:
    """Fill a tenant with the seeded demo world (idempotent)."""
    from cockpit.db.migrate import upgrade
    from cockpit.progress import progress_bar
    from tools.payments.demo import seed_demo_world

    db = _db()
    upgrade(db)
    with progress_bar(f"Seeding {days} days of payments") as progress:
        summary = seed_demo_world(db, tenant, seed=seed, days=days, progress=progress)
    state = "created" if summary.created else "already present"
    _console().print(
        f"[bold]demo world {state}[/bold] for tenant {tenant} in {summary.seconds:.2f}s"
    )
    _console().print_json(
        json.dumps({k: v for k, v in summary.to_dict().items() if k != "planted"})
    )


@app.command()
def balances(merchant_id: str, tenant: TenantOpt = "demo") -> None:
    """Ledger balances of one merchant (minor units)."""
    from rich.table import Table

    from tools.payments import queries

    with _db().tenant_session(tenant) as s:
        data = queries.balances(s, merchant_id)["balances"]
    table = Table("currency", "pending", "available", "reserve")
    for ccy, b in sorted(data.items()):
        table.add_row(ccy, str(b["pending"]), str(b["available"]), str(b["reserve"]))
    _console().print(table)


@app.command("success-rate")
def success_rate(tenant: TenantOpt = "demo", group_by: str = "method_type", days: int = 30) -> None:
    """Success rate by a dimension, worst first, and the top levers."""
    from rich.table import Table

    from cockpit.db.base import utcnow
    from tools.payments import analytics

    start = utcnow() - timedelta(days=days)
    with _db().tenant_session(tenant) as s:
        report = analytics.success_rate(s, group_by=group_by, start=start)
        levers = analytics.top_levers(s, start=start)
    table = Table(group_by, "attempts", "approved", "success rate")
    for seg in report["segments"]:
        table.add_row(
            seg["value"], str(seg["attempts"]), str(seg["approved"]), f"{seg['successRate']:.1%}"
        )
    _console().print(table)
    for lever in levers:
        _console().print(f"- {lever['dimension']}={lever['value']}: {lever['lostApprovals']} approvals lost, "
                      f"top code {lever['topDeclineCode']} → [bold]{lever['lever']}[/bold]")  # fmt: skip


@app.command("check-ledger")
def check_ledger(tenant: TenantOpt = "demo") -> None:
    """Verify the ledger invariants; exits 1 if any is broken."""
    from tools.payments import ledger

    with _db().tenant_session(tenant) as s:
        problems = ledger.check_invariants(s)
        totals = ledger.currency_totals(s)
    _console().print(f"currencies: {', '.join(sorted(totals)) or 'none'}")
    if problems:
        for p in problems:
            _console().print(f"[red]{p}[/red]")
        raise CliFailure(f"the ledger of {tenant} breaks {len(problems)} invariants")
    _console().print(
        "[green]ledger balanced: every currency sums to zero, balances match entries[/green]"
    )


__all__ = ["app"]
