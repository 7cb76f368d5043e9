"""Suite files are read once each, with libyaml where it is built, into what PyYAML's pure-Python
safe loader reads: loading the shipped suites took seconds of CPU before any world was seeded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

import evals.suites
from evals import SUITES_DIR, load_suites
from evals.suites import suite_files
from evals.task import TaskFormatError, read_suite_yaml


def test_every_shipped_suite_reads_as_the_safe_loader_reads_it() -> None:
    for path in suite_files(SUITES_DIR):
        assert read_suite_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8")), path


def test_each_suite_file_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[Path] = []

    def counting(path: Path) -> Any:
        read.append(path)
        return read_suite_yaml(path)

    monkeypatch.setattr(evals.suites, "read_suite_yaml", counting)
    suites = load_suites(SUITES_DIR)
    assert sorted(read) == suite_files(SUITES_DIR) and len(suites) == len(read)


def test_a_file_that_is_not_yaml_names_itself(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("tasks: [unclosed\n", encoding="utf-8")
    with pytest.raises(TaskFormatError) as info:
        load_suites(bad)
    assert f"{bad}: not YAML" in info.value.message
