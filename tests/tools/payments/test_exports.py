"""The package's curated public surface, and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import tools.payments as payments
from cockpit.db.session import Database


def test_public_surface() -> None:
    assert sorted(payments.__all__) == sorted(
        ["CaptureRequest", "DemoWorldSummary", "Degradation", "Disputes", "FixedRates", "Gateway",
         "IssuerSimulator", "PayRequest", "RefundRequest", "analytics", "ledger", "notifications",
         "queries", "seed_demo_world"]
    )  # fmt: skip
    for name in payments.__all__:
        assert getattr(payments, name) is not None


def test_domain_code_does_not_import_web_or_agent_frameworks() -> None:
    root = Path(payments.__file__).parent
    for path in root.glob("*.py"):
        text = path.read_text()
        if path.name != "router.py":
            assert "import fastapi" not in text and "from fastapi" not in text, path.name
        if path.name != "tools.py":
            assert "cockpit.toolkit" not in text, path.name
        assert "langgraph" not in text and "langchain" not in text, path.name


def test_cli_seeds_and_checks(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    import tools.payments.cli as cli

    monkeypatch.setattr(cli, "_db", lambda: db)
    monkeypatch.setattr(
        "cockpit.db.migrate.upgrade", lambda _db: None
    )  # the fixture db is migrated
    runner = CliRunner()
    seeded = runner.invoke(cli.app, ["seed-demo", "--tenant", "demo", "--days", "3"])
    assert seeded.exit_code == 0, seeded.output
    assert "demo world created" in seeded.output
    checked = runner.invoke(cli.app, ["check-ledger", "--tenant", "demo"])
    assert checked.exit_code == 0 and "ledger balanced" in checked.output
    rates = runner.invoke(cli.app, ["success-rate", "--tenant", "demo", "--days", "10"])
    assert rates.exit_code == 0 and "success rate" in rates.output
