"""Build expensive read-only test inputs once per test run, however many xdist workers ask.

A session-scoped fixture runs once per worker; a seeded world that takes a minute to build
would be built by every worker at the same time, each slowing the other down. Here the first
worker to ask builds it in a folder of the run's base temp dir (shared by its workers) under a
file lock; the others wait for the lock and read what it left. Without xdist the folder is the
session's own temp dir, so nothing outlives the run or leaks between runs.

Whatever is built must be treated as read-only: tests copy it before they change anything.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock


def run_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every worker of this run shares (the session's own without xdist)."""
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    shared = root / "shared"
    shared.mkdir(parents=True, exist_ok=True)
    return shared


def build_once(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    build: Callable[[Path], dict[str, Any]],
) -> dict[str, Any]:
    """``build(folder)`` run by one worker of this run; every worker gets the JSON it returned.

    A build that raised leaves nothing behind, so the next worker tries again (and fails with
    its own traceback rather than reading half a world)."""
    root = run_root(tmp_path_factory)
    done = root / f"{name}.json"
    with FileLock(str(root / f"{name}.lock")):
        if done.exists():
            loaded: dict[str, Any] = json.loads(done.read_text())
            return loaded
        folder = root / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        result = build(folder)
        done.write_text(json.dumps(result))
        return result


def team_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The agent team's seeded data dir (``agentkit.build_template``), built once per run."""
    from tests.support.agentkit import build_template

    def build(folder: Path) -> dict[str, Any]:
        template = build_template(folder)
        return {"dir": str(template["dir"]), "merchants": template["merchants"]}

    built = build_once(tmp_path_factory, "team-template", build)
    return {"dir": Path(built["dir"]), "merchants": built["merchants"]}


def eval_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The evals' default world template (seed 7 at the default clock), seeded once per run.

    Copy it (whole folder, same name) into a template cache (``RunOptions.cache``, an app's
    ``<data>/evals``) and the runner finds it there instead of seeding its own."""
    from cockpit.clock import parse_instant
    from evals.task import DEFAULT_CLOCK
    from evals.world import build_template

    def build(folder: Path) -> dict[str, Any]:
        built = build_template(folder, seed=7, clock=parse_instant(DEFAULT_CLOCK))
        return {"name": built.dir.name}

    name = str(build_once(tmp_path_factory, "eval-world", build)["name"])
    return run_root(tmp_path_factory) / "eval-world" / name
