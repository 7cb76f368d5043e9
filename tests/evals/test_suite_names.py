"""A bare suite name means the built-in suite even where a folder of that name exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.suites import SUITES_DIR, suite_files


def test_a_bare_name_is_the_builtin_suite_before_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cockpit").mkdir()  # as in a checkout: the cockpit/ source package
    (tmp_path / "cockpit" / "config.yaml").write_text("not: a suite\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    files = suite_files("cockpit")
    assert files and all(p.parent == SUITES_DIR / "cockpit" for p in files)
    assert [p.resolve() for p in suite_files("./cockpit")] == [tmp_path / "cockpit" / "config.yaml"]
