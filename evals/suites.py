"""Finding suites: ``evals/suites/<suite>/*.yaml``, or any file or folder given by path.

A file's ``schema`` says what it holds: chat tasks (``cockpit.eval/v1``, :mod:`evals.task`) or
shopping-agent tasks (``cockpit.shop-eval/v1``, :mod:`evals.shopping`)."""

from __future__ import annotations

from pathlib import Path

from cockpit.errors import UserError
from evals.shopping import SHOP_SCHEMA, ShopSuite, ShopTask, parse_shop_suite
from evals.task import Suite, Task, parse_suite, read_suite_yaml

AnySuite = Suite | ShopSuite
AnyTask = Task | ShopTask

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


def load_any_suite(path: Path) -> AnySuite:
    """One suite file, by its ``schema``: chat tasks or shopping-agent tasks (parsed once)."""
    data = read_suite_yaml(path)
    if isinstance(data, dict) and data.get("schema") == SHOP_SCHEMA:
        return parse_shop_suite(data, source=str(path))
    return parse_suite(data, source=str(path))


def load_suites(target: str | Path) -> list[AnySuite]:
    return [load_any_suite(p) for p in suite_files(target)]


def select_tasks(
    suites: list[AnySuite], *, split: str = "all", tags: frozenset[str] = frozenset()
) -> list[tuple[str, AnyTask]]:
    """``(suite name, task)`` pairs of the wanted split (``dev``, ``heldout`` or ``all``),
    carrying every tag in ``tags`` (e.g. ``quick``: the CI subset)."""
    return [
        (s.suite, t)
        for s in suites
        for t in s.tasks
        if split in ("all", t.split) and tags <= set(t.tags)
    ]


__all__ = [
    "SUITES_DIR",
    "AnySuite",
    "AnyTask",
    "load_any_suite",
    "load_suites",
    "select_tasks",
    "suite_files",
]
