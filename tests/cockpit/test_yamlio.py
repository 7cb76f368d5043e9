"""Every YAML file we ship reads the same through the fast loader as through ``yaml.safe_load``."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cockpit.yamlio import safe_load

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    p
    for folder in ("agents", "evals/suites", "cockpit", "tools", "knowledge")
    for p in (ROOT / folder).rglob("*.y*ml")
)


def test_there_are_shipped_yaml_files_to_check() -> None:
    assert len(SHIPPED) > 30
    assert any(p.name == "agent.yaml" for p in SHIPPED)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_shipped_file_reads_as_the_safe_loader_reads_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert safe_load(text) == yaml.safe_load(text)


def test_bad_yaml_raises_the_yaml_error_callers_catch() -> None:
    with pytest.raises(yaml.YAMLError):
        safe_load("a: [1, 2")
    with pytest.raises(yaml.YAMLError):
        safe_load("!!python/object:os.system {}")
