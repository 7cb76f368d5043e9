"""Reading the project's own source as syntax trees, for tests that check its shape."""

from __future__ import annotations

import ast
from pathlib import Path

_AST_RACE = "AST constructor recursion depth mismatch"


def parse_source(path: Path) -> ast.Module:
    """``ast.parse`` of the file at ``path``, tried once more after CPython 3.11's race.

    On 3.11 (CPython gh-106905, since fixed upstream) the AST converter keeps its depth per
    interpreter, not per thread: a parse that overlaps one in another thread, such as a
    background thread formatting a traceback (3.11 parses the line to place its ``^``
    markers), fails with a SystemError though the source is fine. Parsing again alone succeeds.
    """
    text = path.read_text(encoding="utf-8")
    try:
        return ast.parse(text, filename=str(path))
    except SystemError as exc:
        if _AST_RACE not in str(exc):
            raise
        return ast.parse(text, filename=str(path))
