"""Architecture rules: import direction, our top-level names, curated public surfaces."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tests.support.source import parse_source

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"cockpit": 0, "tools": 1, "knowledge": 1, "agents": 2, "evals": 3}
COMPOSITION_ROOTS = {ROOT / "cockpit" / "app.py", ROOT / "cockpit" / "cli.py"}


def _imports(path: Path) -> set[str]:
    tree = parse_source(path)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_imports_flow_one_way() -> None:
    bad = []
    for pkg, layer in LAYERS.items():
        for path in (ROOT / pkg).rglob("*.py"):
            if path in COMPOSITION_ROOTS:
                continue
            for name in _imports(path) & set(LAYERS):
                if LAYERS[name] > layer or (LAYERS[name] == layer and name != pkg):
                    bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert bad == []


def test_domain_code_knows_nothing_of_langgraph_or_http() -> None:
    bad = []
    for path in (ROOT / "tools").rglob("*.py"):
        if path.name in {"tools.py", "router.py", "cli.py"} or {"migrations", "http"} & set(
            path.parts
        ):
            continue  # the thin surfaces: agent tools, REST routers (a domain's http/), CLIs
        for name in _imports(path) & {"langgraph", "langchain", "langchain_core", "fastapi"}:
            bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert bad == []


@pytest.mark.parametrize("name", ["cockpit", "agents", "evals", "tools", "knowledge"])
def test_top_level_packages_resolve_to_this_repo(name: str) -> None:
    module = importlib.import_module(name)
    assert Path(next(iter(module.__path__))).resolve() == (ROOT / name).resolve()


@pytest.mark.parametrize(
    "package",
    [
        "cockpit.errors",
        "cockpit.toolkit",
        "cockpit.tenancy",
        "cockpit.specs",
        "cockpit.runtime",
        "cockpit.audit",
        "cockpit.guardrails",
        "cockpit.webhooks",
        "cockpit.store",
        "cockpit.observability",
    ],
)
def test_public_surfaces_are_curated(package: str) -> None:
    module = importlib.import_module(package)
    exported = getattr(module, "__all__", None)
    assert exported, f"{package} has no __all__"
    assert sorted(exported) == list(exported) or len(set(exported)) == len(exported)
    for name in exported:
        assert hasattr(module, name), f"{package}.__all__ names missing {name}"
