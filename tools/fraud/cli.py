"""``cockpit fraud …``: train on the simulator, list and promote registered models."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from cockpit.cli_errors import CliGroup

if TYPE_CHECKING:
    from tools.fraud.registry import ModelRegistry

# Imports of LightGBM, pandas and rich happen inside the commands: ``--help`` stays fast.
app = typer.Typer(
    cls=CliGroup, help="Fraud scoring: train, list and promote models.", no_args_is_help=True
)


def _registry() -> ModelRegistry:
    from cockpit.config import Settings
    from tools.fraud.registry import ModelRegistry, default_root

    return ModelRegistry(default_root(Settings()))


@app.command("train")
def train(
    customers: Annotated[int, typer.Option(min=50, help="Genuine customers to simulate")] = 2000,
    days: Annotated[int, typer.Option(min=7, help="Days of traffic")] = 60,
    seed: Annotated[int, typer.Option(help="Simulator seed")] = 7,
    families: Annotated[
        str, typer.Option(help="Comma-separated: tabular,sequence,graph")
    ] = "tabular,sequence,graph",
    live: Annotated[
        bool, typer.Option("--live/--no-live", help="Make the new version live")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metadata as JSON")] = False,
) -> None:
    """Simulate traffic, train LightGBM on a time-ordered split, register the model."""
    from rich.console import Console
    from rich.table import Table

    from cockpit.progress import progress_bar
    from tools.fraud.model import TrainParams
    from tools.fraud.simulator import SimConfig
    from tools.fraud.training import train_from_simulator

    console = Console()
    fams = tuple(f.strip() for f in families.split(",") if f.strip())
    with progress_bar("Training the fraud model") as progress:
        run = train_from_simulator(
            SimConfig(seed=seed, n_customers=customers, days=days),
            families=fams,
            params=TrainParams(),
            progress=progress,
        )
    reg = _registry()
    version = reg.save(run.model, make_live=live, note=f"simulator seed={seed}")
    meta = reg.metadata(version)
    if as_json:
        typer.echo(json.dumps(meta, indent=2))
        return
    test = run.test_metrics
    table = Table(title=f"fraud model {version}" + (" (live)" if live else ""))
    table.add_column("held-out metric")
    table.add_column("value", justify="right")
    for key in (
        "pr_auc",
        "roc_auc",
        "recall_at_0.1pct_fpr",
        "recall_at_1pct_fpr",
        "brier",
        "decline_rate",
        "review_rate",
        "false_decline_rate",
        "amount_weighted_recall",
    ):
        table.add_row(key, f"{test[key]:.4f}")
    table.add_row(
        "review_at / decline_at",
        f"{run.model.policy.review_at:.4f} / {run.model.policy.decline_at:.4f}",
    )
    console.print(table)
    console.print(f"stored in {reg.root / version}")


@app.command("models")
def models() -> None:
    """List registered model versions with their held-out PR-AUC."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    reg = _registry()
    live = reg.live_version()
    table = Table(title=f"fraud models in {reg.root}")
    for col in ("version", "created", "pr_auc", "roc_auc", "live"):
        table.add_column(col)
    for v in reg.versions():
        meta = reg.metadata(v)
        test = meta.get("metrics", {}).get("test", {})
        table.add_row(
            v,
            str(meta.get("created_at", ""))[:19],
            f"{test.get('pr_auc') or 0:.4f}",
            f"{test.get('roc_auc') or 0:.4f}",
            "*" if v == live else "",
        )
    console.print(table)


@app.command("promote")
def promote(
    version: Annotated[str, typer.Argument(help="Version to make live, e.g. v0002")],
) -> None:
    """Point the live alias at a version (also how you roll back)."""
    from rich.console import Console

    _registry().set_live(version)
    Console().print(f"[green]live[/green] → {version} (restart API workers to load it)")


__all__ = ["app"]
