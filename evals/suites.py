"""Finding suites: ``evals/suites/<suite>/*.yaml``, or any file or folder given by path."""

from __future__ import annotations

from pathlib import Path

from cockpit.errors import UserError
from evals.task import Suite, Task, load_suite_file

SUITES_DIR = Path(__file__).parent / "suites"


def suite_files(target: str | Path) -> list[Path]:
    """The YAML files of a suite name, a folder or a file.

    A bare name is a built-in suite first (``cockpit`` is the front door's suite, not the
    ``cockpit/`` source folder of a checkout), then a path."""
    name = str(target)
    named = SUITES_DIR / name
    bare = "/" not in name and "\\" not in name and not name.endswith((".yaml", ".yml"))
    path = named if bare and named.is_dir() else Path(target)
    if not path.exists():
        path = named
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*.y*ml") if p.suffix in {".yaml", ".yml"})
    known = (
        sorted(p.name for p in SUITES_DIR.iterdir() if p.is_dir()) if SUITES_DIR.exists() else []
    )
    raise UserError(
        f"no suite {target!r} (known: {', '.join(known) or 'none'})", code="unknown_suite"
    )


def load_suites(target: str | Path) -> list[Suite]:
    return [load_suite_file(p) for p in suite_files(target)]


def select_tasks(
    suites: list[Suite], *, split: str = "all", tags: frozenset[str] = frozenset()
) -> list[tuple[str, Task]]:
    """``(suite name, task)`` pairs of the wanted split (``dev``, ``heldout`` or ``all``),
    carrying every tag in ``tags`` (e.g. ``quick``: the CI subset)."""
    return [
        (s.suite, t)
        for s in suites
        for t in s.tasks
        if split in ("all", t.split) and tags <= set(t.tags)
    ]


__all__ = ["SUITES_DIR", "load_suites", "select_tasks", "suite_files"]
