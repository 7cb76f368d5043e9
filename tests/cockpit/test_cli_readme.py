"""The README's command table lists every command the CLI has (domain ones included), and its
exit-code table is :class:`ExitCode`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from cockpit.cli import app, mount_domain_clis
from cockpit.exitcodes import ExitCode

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _between(marker: str) -> str:
    return README.split(f"<!-- {marker} -->")[1].split(f"<!-- /{marker} -->")[0]


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    if isinstance(command, TyperGroup) and command.commands:
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield path


def _documented(root: Any) -> set[tuple[str, ...]]:
    """Command paths the table names: each `cockpit …` snippet walked down the real tree."""
    found = set()
    for snippet in re.findall(r"`cockpit ([^`]+)`", _between("command-table")):
        node, path = root, ()
        for word in snippet.split():
            subs = node.commands if isinstance(node, TyperGroup) else {}
            if word not in subs:
                break
            node, path = subs[word], (*path, word)
        if path:
            found.add(path)
    return found


def test_command_table_lists_every_command() -> None:
    mount_domain_clis(every=True)
    root = typer.main.get_command(app)
    commands = set(_commands(root))
    assert len(commands) > 40  # the domain CLIs are really mounted
    documented = _documented(root)
    assert sorted(commands - documented) == [], "commands missing from the README table"
    assert sorted(documented - commands) == [], "README rows that are not whole commands"


def test_exit_code_table_is_the_exit_code_enum() -> None:
    codes = {int(c) for c in re.findall(r"^\| (\d+) \|", _between("exit-codes"), re.M)}
    assert codes == {int(code) for code in ExitCode}
