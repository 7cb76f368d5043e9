"""The credit Alembic branch matches the ORM models; the CLI drives the lifecycle."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect
from typer.testing import CliRunner

from cockpit.db.migrate import current_heads
from cockpit.db.session import Database
from tools.credit.cli import app
from tools.credit.models import DecisionRow, DeploymentRow, StrategyVersionRow


def test_migration_creates_the_model_tables(db: Database) -> None:
    assert "credit_0003" in current_heads(db)
    insp = inspect(db.engine)
    for model in (StrategyVersionRow, DeploymentRow, DecisionRow):
        table = model.__table__
        cols = {c["name"]: c for c in insp.get_columns(table.name)}
        assert set(cols) == {c.name for c in table.columns}, table.name
        for c in table.columns:
            assert cols[c.name]["nullable"] == c.nullable, (table.name, c.name)
        uniques = {tuple(u["column_names"]) for u in insp.get_unique_constraints(table.name)}
        for con in table.constraints:
            if con.__class__.__name__ == "UniqueConstraint":
                assert tuple(c.name for c in con.columns) in uniques


def test_cli_lifecycle(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    consumer_spec: dict[str, Any],
    german_rows: list[dict[str, Any]],
) -> None:
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("COCKPIT_DATABASE_URL", raising=False)
    runner = CliRunner()
    spec_file = tmp_path / "s.json"
    spec_file.write_text(json.dumps(consumer_spec))
    out = runner.invoke(app, ["create", str(spec_file), "--json"])
    assert out.exit_code == 0, out.output
    vid = json.loads(out.output)["id"]
    assert runner.invoke(app, ["test", vid]).exit_code == 0
    bt = runner.invoke(app, ["backtest", vid, "--json"])
    assert bt.exit_code == 0 and json.loads(bt.output)["strategy"]["n"] == 300
    assert runner.invoke(app, ["deploy", vid]).exit_code == 0
    app_file = tmp_path / "a.json"
    app_file.write_text(json.dumps(german_rows[0]))
    dec = runner.invoke(app, ["decide", str(app_file), "--json"])
    assert dec.exit_code == 0 and json.loads(dec.output)["version_id"] == vid
    bad = runner.invoke(app, ["rollback", "consumer-default"])
    assert bad.exit_code == 3 and "nothing_to_roll_back" in bad.output
    spec_file.write_text("{not json")
    broken = runner.invoke(app, ["create", str(spec_file)])
    assert broken.exit_code == 3 and "invalid_json" in broken.output
    shown = runner.invoke(app, ["scorecard"]).output
    assert (
        "600 points at 50:1, PDO 20" in shown
        and "dropped foreign_worker: protected attribute" in shown
    )


def test_demo_seeding_deploys_the_examples_once(db: Database) -> None:
    from types import SimpleNamespace

    from tools.credit.service import service_for
    from tools.credit.startup import on_startup

    services = SimpleNamespace(settings=SimpleNamespace(demo=True), db=db)
    on_startup(services)
    on_startup(services)
    svc = service_for(db)
    assert {v["name"] for v in svc.list_versions("demo")} == {
        "consumer-default",
        "merchant-default",
    }
    assert len(svc.list_versions("demo")) == 2
    assert svc.deployment("demo", "merchant-default")["champion_version_id"]
