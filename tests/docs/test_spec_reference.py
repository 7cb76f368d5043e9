"""docs/partners/spec-reference.md is generated from the AgentSpec model and kept current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cockpit.specs import AgentSpec, ToolPolicy

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "spec_reference.py"
DOC = ROOT / "docs" / "partners" / "spec-reference.md"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_the_reference_is_current() -> None:
    done = _run("--check")
    assert done.returncode == 0, done.stderr + "\n(run: python scripts/spec_reference.py)"


def test_a_stale_reference_is_caught(tmp_path: Path) -> None:
    stale = tmp_path / "spec-reference.md"
    stale.write_text(DOC.read_text(encoding="utf-8").replace("Human-readable name.", "Name."))
    done = _run("--check", "--output", str(stale))
    assert done.returncode == 1 and "is stale" in done.stderr
    assert _run("--output", str(stale)).returncode == 0
    assert stale.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")


def test_every_field_is_a_row_with_its_docstring() -> None:
    text = DOC.read_text(encoding="utf-8")
    for model in (AgentSpec, ToolPolicy):
        section = text.split(f"## {model.__name__}\n", 1)[1].split("\n## ", 1)[0]
        rows = [line for line in section.splitlines() if line.startswith("| `")]
        assert [r.split("`")[1] for r in rows] == list(model.model_fields)
    assert "| `max_amount` | dict[str, int] \\| null | `null` | Largest amount per call" in text
