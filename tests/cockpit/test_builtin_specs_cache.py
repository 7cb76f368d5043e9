"""Built-in specs are parsed once per process for the same files, and a changed file is seen."""

from __future__ import annotations

from pathlib import Path

from cockpit.app import builtin_specs
from cockpit.config import Settings

SPEC = """id: {id}
name: Cache probe
description: An agent that only exists to probe the spec cache.
model: local:planner
instructions: "@prompt.md"
tools: []
"""


def _agent(root: Path, agent_id: str, prompt: str) -> Path:
    folder = root / agent_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "agent.yaml").write_text(SPEC.format(id=agent_id), encoding="utf-8")
    (folder / "prompt.md").write_text(prompt, encoding="utf-8")
    return folder


def test_the_same_files_give_the_same_specs_in_a_mapping_of_their_own(tmp_path: Path) -> None:
    _agent(tmp_path / "extra", "cache-probe", "Answer briefly.")
    settings = Settings(data_dir=tmp_path / ".cockpit", agents_path=[tmp_path / "extra"])
    first, second = builtin_specs(settings), builtin_specs(settings)
    assert first == second and first is not second
    assert first["cache-probe"] is second["cache-probe"]  # parsed once
    assert first.paths["cache-probe"] == tmp_path / "extra" / "cache-probe" / "agent.yaml"
    first.pop("cache-probe")
    assert "cache-probe" in builtin_specs(settings)


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    folder = _agent(tmp_path / "extra", "cache-probe", "Answer briefly.")
    settings = Settings(data_dir=tmp_path / ".cockpit", agents_path=[tmp_path / "extra"])
    assert builtin_specs(settings)["cache-probe"].instructions == "Answer briefly."
    # Same size, written at once: only the bytes tell the two apart.
    (folder / "prompt.md").write_text("Answer politely", encoding="utf-8")
    assert builtin_specs(settings)["cache-probe"].instructions == "Answer politely"
