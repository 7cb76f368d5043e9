"""``cockpit credit`` commands: scorecards, strategy versions, backtest, deploy, rollback, decide, explain.

Host-side commands work on the configured database (``COCKPIT_DATABASE_URL`` or
the SQLite file in the data dir) for one tenant (``--tenant``, default ``demo``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cockpit.cli_errors import CliGroup
from cockpit.errors import NotFound, ValidationFailed
from cockpit.exitcodes import CliFailure

if TYPE_CHECKING:
    from rich.console import Console

    from tools.credit.service import CreditService

# The database, scikit-learn and rich are imported inside the commands: ``--help`` stays fast.
# A command fails by raising; CliGroup prints the one line and picks the exit code.
app = typer.Typer(
    cls=CliGroup,
    help="Credit decisioning: scorecards, strategies, backtests, deployments.",
    no_args_is_help=True,
)
SCORECARDS = ("german_credit", "merchant_financing")
"""Built-in scorecards (``tools.credit.catalog.SCORECARDS``; a test keeps the two equal)."""
EXAMPLES = Path(__file__).parent / "strategies"
ACTOR = "cli"

TenantOpt = Annotated[str, typer.Option("--tenant", help="Tenant to act for")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON")]


@cache
def _console() -> Console:
    from rich.console import Console

    return Console()


def _service() -> CreditService:
    from cockpit.config import Settings
    from cockpit.db.migrate import upgrade
    from cockpit.db.session import Database
    from tools.credit.service import service_for

    settings = Settings()
    settings.ensure_data_dir()
    db = Database(settings.resolved_database_url)
    upgrade(db)
    return service_for(db)


def _read_json(path: Path, param: str) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError:
        raise ValidationFailed(f"cannot read {path}", code="file_unreadable", param=param) from None
    except ValueError as exc:
        raise ValidationFailed(
            f"{path} is not valid JSON: {exc}", code="invalid_json", param=param
        ) from None


def _print_json(data: Any) -> None:
    _console().print_json(json.dumps(data, default=str))


@app.command("scorecard")
def scorecard_cmd(
    name: Annotated[str, typer.Argument(help=f"One of {', '.join(SCORECARDS)}")] = "german_credit",
    as_json: JsonOpt = False,
    as_jdm: Annotated[
        bool, typer.Option("--jdm", help="Print the points as a JDM decision model")
    ] = False,
) -> None:
    """Show a built-in scorecard: points per bin, IV, dropped features."""
    from rich.table import Table

    from cockpit.progress import progress_bar
    from tools.credit.catalog import train_builtin_scorecard
    from tools.credit.export import scorecard_to_jdm

    with progress_bar(f"Training the {name} scorecard") as progress:
        card = train_builtin_scorecard(name, progress=progress)
    if as_jdm:
        _print_json(scorecard_to_jdm(card))
        return
    if as_json:
        _print_json(card.to_dict())
        return
    s = card.scaling
    table = Table(
        title=f"{card.name}: {s.base_points:g} points at {s.base_odds:g}:1, PDO {s.pdo:g}"
    )
    for col in ("feature", "IV", "bin", "bad rate", "WoE", "points"):
        table.add_column(col)
    for f in card.features:
        for i, b in enumerate(f.bins):
            table.add_row(
                f.name if i == 0 else "",
                f"{f.iv:.3f}" if i == 0 else "",
                b.label[:60],
                f"{b.bad_rate:.1%}",
                f"{b.woe:+.2f}",
                str(b.points),
            )
    _console().print(table)
    for feat, why in card.dropped.items():
        _console().print(f"[dim]dropped {feat}: {why}[/dim]")


@app.command("example")
def example_cmd(
    name: Annotated[
        str, typer.Argument(help="consumer_default or merchant_default")
    ] = "consumer_default",
) -> None:
    """Print a shipped example strategy (a starting point to edit)."""
    path = EXAMPLES / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in EXAMPLES.glob("*.json")))
        raise NotFound(f"no example {name!r}; known: {known}", code="example_not_found")
    _console().print_json(path.read_text())


@app.command("create")
def create_cmd(
    file: Annotated[Path, typer.Argument(help="Strategy JSON")],
    tenant: TenantOpt = "demo",
    as_json: JsonOpt = False,
) -> None:
    """Create a new immutable strategy version from a JSON file (tests run at once)."""
    out = _service().create_version(tenant, _read_json(file, "file"), created_by=ACTOR)
    if as_json:
        _print_json(out)
        return
    verdict = (
        "[green]tests pass[/green]"
        if out["tests_passed"]
        else "[red]tests FAIL — cannot deploy[/red]"
    )
    _console().print(f"created {out['id']} ({out['name']} v{out['version']}): {verdict}")
    for r in out["test_report"]["results"]:
        if not r["passed"]:
            _console().print(f"  [red]✗[/red] {r['name']}: {r['message']}")


@app.command("versions")
def versions_cmd(
    name: Annotated[str | None, typer.Option(help="Only this strategy")] = None,
    tenant: TenantOpt = "demo",
    as_json: JsonOpt = False,
) -> None:
    """List strategy versions."""
    from rich.table import Table

    rows = _service().list_versions(tenant, name=name)
    if as_json:
        _print_json(rows)
        return
    table = Table(title="strategy versions")
    for col in ("id", "name", "version", "scorecard", "tests", "created"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["id"],
            r["name"],
            str(r["version"]),
            r["scorecard"],
            "pass" if r["tests_passed"] else "FAIL",
            r["created_at"][:19],
        )
    _console().print(table)


@app.command("test")
def test_cmd(version_id: str, tenant: TenantOpt = "demo", as_json: JsonOpt = False) -> None:
    """Re-run a version's embedded tests (exit 1 if any fail)."""
    report = _service().test_version(tenant, version_id)
    if as_json:
        _print_json(report.to_dict())
    else:
        for r in report.results:
            mark = "[green]✓[/green]" if r.passed else "[red]✗[/red]"
            _console().print(f"{mark} {r.name}{': ' + r.message if r.message else ''}")
    if not report.passed:
        failed = sum(not r.passed for r in report.results)
        raise CliFailure(f"{version_id}: {failed} of {len(report.results)} embedded tests fail")


@app.command("backtest")
def backtest_cmd(
    version_id: str,
    portfolio: Annotated[
        str | None, typer.Option(help="german_credit, german_credit_holdout, merchant_financing")
    ] = None,
    tenant: TenantOpt = "demo",
    as_json: JsonOpt = False,
) -> None:
    """Backtest a version (and the live champion) on a labelled portfolio."""
    from rich.table import Table

    from cockpit.progress import progress_bar

    service = _service()
    with progress_bar(f"Backtesting {version_id}") as progress:
        report = service.backtest_version(
            tenant, version_id, portfolio_name=portfolio, progress=progress
        ).to_dict()
    if as_json:
        _print_json(report)
        return
    table = Table(
        title=f"backtest on {report['portfolio']} (reject-all cost {report['reject_all_cost']})"
    )
    table.add_column("metric")
    table.add_column("this version", justify="right")
    if report["champion"]:
        table.add_column("champion", justify="right")
    for key in (
        "n",
        "approval_rate",
        "refer_rate",
        "bad_rate_approved",
        "expected_cost_per_applicant",
        "profit_per_applicant",
        "expected_loss",
        "score_auc",
        "psi",
    ):
        row = [key, str(report["strategy"][key])]
        if report["champion"]:
            row.append(str(report["champion"][key]))
        table.add_row(*row)
    _console().print(table)


@app.command("deploy")
def deploy_cmd(
    version_id: str,
    challenger: Annotated[str | None, typer.Option(help="Challenger version id")] = None,
    share: Annotated[float, typer.Option(help="Challenger share (0–0.5)")] = 0.0,
    tenant: TenantOpt = "demo",
    as_json: JsonOpt = False,
) -> None:
    """Make a version live (refused if its embedded tests fail)."""
    out = _service().deploy(
        tenant,
        version_id,
        created_by=ACTOR,
        challenger_version_id=challenger,
        challenger_share=share,
    )
    if as_json:
        _print_json(out)
        return
    _console().print(
        f"{out['name']} is live on {out['champion_version_id']} (deployment {out['id']}, {out['deploy_ms']} ms)"
    )


@app.command("rollback")
def rollback_cmd(name: str, tenant: TenantOpt = "demo", as_json: JsonOpt = False) -> None:
    """Roll a strategy back to its previous deployment."""
    out = _service().rollback(tenant, name, created_by=ACTOR)
    if as_json:
        _print_json(out)
        return
    _console().print(f"{name} rolled back; live again: {out['live']['champion_version_id']}")


@app.command("decide")
def decide_cmd(
    file: Annotated[Path, typer.Argument(help="Applicant JSON (an object of fields)")],
    strategy: Annotated[str, typer.Option(help="Strategy slot")] = "consumer-default",
    application_id: Annotated[str | None, typer.Option(help="Application reference")] = None,
    tenant: TenantOpt = "demo",
    as_json: JsonOpt = False,
) -> None:
    """Decide an application on the live strategy and store it."""
    out = _service().decide(
        tenant,
        strategy,
        _read_json(file, "file"),
        created_by=ACTOR,
        application_id=application_id,
    )
    if as_json:
        _print_json(out)
        return
    _console().print(
        f"{out['id']}: [bold]{out['decision']}[/bold] limit {out['limit']:,.2f} {out['currency']}, score {out['score']}"
    )
    for r in out["reasons"]:
        _console().print(f"  {r['code']} {r['text']} (−{r['points_lost']} pts)")


@app.command("seed")
def seed_cmd(tenant: TenantOpt = "demo") -> None:
    """Create and deploy the shipped example strategies for a tenant (skips live slots)."""
    from tools.credit.startup import seed_examples

    seeded = seed_examples(_service(), tenant, created_by=ACTOR)
    _console().print(f"seeded: {', '.join(seeded) or 'nothing (all slots already live)'}")


@app.command("explain")
def explain_cmd(decision_id: str, tenant: TenantOpt = "demo") -> None:
    """Explain a stored decision (JSON)."""
    _print_json(_service().explain(tenant, decision_id))


__all__ = ["app"]
