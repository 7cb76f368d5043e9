"""``cockpit eval run`` on a small suite prints the pass^k table with the control rows."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from evals.cli import app
from evals.world import Template

MINI = Path(__file__).parent / "fixtures" / "mini.yaml"


def test_eval_run_prints_agents_and_controls(
    template: Template, eval_cache: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(MINI),
            "--trials",
            "1",
            "--split",
            "dev",
            "--report",
            str(out),
            "--cache",
            str(eval_cache),
            "--in-process",
        ],
    )
    assert result.exit_code == 0, result.output
    for name in ("copilot", "oracle", "do-nothing", "pass^1"):
        assert name in result.output
    report = json.loads((out / "report.json").read_text())
    assert [t["task"] for t in report["tasks"]] == ["refund-partial"]
    assert (out / "junit.xml").exists() and (out / "report.html").exists()


def test_cockpit_cli_mounts_eval() -> None:
    import cockpit.cli as cli

    assert cli.DOMAIN_CLIS["eval"][0] == "evals.cli"
