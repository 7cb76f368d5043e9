"""The README's "Evaluating agents" example runs as written: its suite file, then its command."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.cli import app
from evals.world import Template

README = Path(__file__).resolve().parents[2] / "README.md"


def _example() -> tuple[str, str, list[str]]:
    text = README.read_text(encoding="utf-8")
    m = re.search(
        r"<!-- eval-example -->\n```yaml\n(.*?)```\n```\n(.*?)\n```\n<!-- /eval-example -->",
        text,
        re.S,
    )
    assert m, "README lost its eval example"
    suite, command = m.group(1), m.group(2).strip()
    name = re.match(r"# (\S+\.yaml)", suite)
    assert name, "the example's first line names its file"
    return name.group(1), suite, shlex.split(command)


def test_readme_eval_example_runs(
    template: Template, eval_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    filename, suite, argv = _example()
    assert argv[:3] == ["cockpit", "eval", "run"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / filename).write_text(suite, encoding="utf-8")
    # Verbatim, but reusing this session's seeded world template.
    result = CliRunner().invoke(app, [*argv[2:], "--cache", str(eval_cache)])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    rows = {(r["agent"], r["split"]): r for r in report["rows"]}
    assert rows[("copilot", "all")]["pass^4"] == 1.0
    assert rows[("oracle", "all")]["pass^1"] == 1.0
    assert rows[("do-nothing", "all")]["pass^1"] == 0.0
    assert report["tasks"][0]["tags"] == ["quick", "gate"]
    assert (tmp_path / "out" / "junit.xml").exists()
