"""Run a Markdown guide as a partner would: its fenced blocks, in order, in one shell session.

Blocks by their info string:

- ```` ```yaml file=agent.yaml ```` (any language): the file a reader writes. A path under
  ``examples/`` is the repository's own file, and the block must equal it (the guide shows
  the real example); any other path is written into the guide's working directory.
- ```` ```console ````: ``$ command`` lines run in one bash session (``export`` persists;
  ``\\`` or an open ``'`` quote continues a line); the lines under a command are its expected
  output, each of which must appear in what it printed (``...`` skips). It must exit 0.
- ```` ```python ```` without ``file=``: run with the session's python (its environment).
- ```` ```console norun ````: setup the test does its own way (install the tool package,
  start the server, set the URL and admin key); only the commands in :data:`SETUP` may be
  there, so nothing else can hide in one.
- other blocks (``text``, ``json`` …) are shown, not run.
"""

from __future__ import annotations

import queue
import re
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.live import ROOT

FENCE = re.compile(r"^```(?P<lang>[\w+-]*)(?P<info>[^\n]*)\n(?P<body>.*?)^```\s*$", re.M | re.S)
SETUP = {
    "cockpit serve": "the test starts the real app on a free port",
    "export COCKPIT_SERVER_URL=http://127.0.0.1:8321": "COCKPIT_SERVER_URL is the test server",
    "export ADMIN_KEY=$(cat .cockpit/admin.key)": "ADMIN_KEY is the test server's admin key",
    "pip install ./examples/partner-tool": "installed into the server's path before it starts",
}


@dataclass(frozen=True)
class Block:
    lang: str
    attrs: dict[str, str]
    flags: frozenset[str]
    body: str
    line: int


def blocks(text: str) -> list[Block]:
    out = []
    for m in FENCE.finditer(text):
        words = m.group("info").split()
        attrs = dict(w.split("=", 1) for w in words if "=" in w)
        flags = frozenset(w for w in words if "=" not in w)
        line = text.count("\n", 0, m.start()) + 1
        out.append(Block(m.group("lang"), attrs, flags, m.group("body"), line))
    return out


@dataclass
class Command:
    text: str
    expected: list[str] = field(default_factory=list)


def commands(body: str) -> list[Command]:
    out: list[Command] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("$ "):
            text = line[2:]
            while (text.endswith("\\") or text.count("'") % 2) and i + 1 < len(lines):
                i += 1
                text = text + "\n" + lines[i]
            out.append(Command(text))
        elif out and line.strip() and line.strip() != "...":
            out[-1].expected.append(line.strip())
        i += 1
    return out


class Shell:
    """One bash session; each command's output and exit status, read up to a marker."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            text=True,
            bufsize=1,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def run(self, command: str, *, timeout: float = 600.0) -> tuple[int, str]:
        marker = f"__cockpit_done_{uuid.uuid4().hex}__"
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{command}\n__rc=$?; echo; echo {marker}$__rc\n")
        self.proc.stdin.flush()
        out: list[str] = []
        while True:
            line = self._lines.get(timeout=timeout)
            if line is None:
                raise AssertionError(f"the shell exited during: {command}\n{''.join(out)}")
            if line.startswith(marker):
                return int(line[len(marker) :].strip()), "".join(out).rstrip("\n")
            out.append(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=10)


def _squash(text: str) -> str:
    return " ".join(text.split())


def run_guide(path: Path, *, workdir: Path, env: dict[str, str]) -> list[str]:
    """Run every block of the guide at ``path``; what was run, for the test to look at."""
    text = path.read_text(encoding="utf-8")
    done: list[str] = []
    shell = Shell(workdir, env)
    try:
        for block in blocks(text):
            where = f"{path.name}:{block.line}"
            target = block.attrs.get("file")
            if target is not None:
                if target.startswith("examples/"):
                    real = (ROOT / target).read_text(encoding="utf-8")
                    assert block.body == real, f"{where}: the block differs from {target}"
                else:
                    (workdir / target).parent.mkdir(parents=True, exist_ok=True)
                    (workdir / target).write_text(block.body, encoding="utf-8")
                done.append(f"file {target}")
            elif block.lang == "console" and "norun" in block.flags:
                for cmd in commands(block.body):
                    assert cmd.text in SETUP, f"{where}: {cmd.text!r} is not a known setup step"
                    done.append(f"setup {cmd.text}")
            elif block.lang == "console":
                for cmd in commands(block.body):
                    rc, out = shell.run(cmd.text)
                    assert rc == 0, f"{where}: `{cmd.text}` exited {rc}:\n{out}"
                    for want in cmd.expected:
                        assert _squash(want) in _squash(out), (
                            f"{where}: `{cmd.text}` did not print {want!r}; it printed:\n{out}"
                        )
                    done.append(f"$ {cmd.text}")
            elif block.lang == "python":
                script = workdir / f"block_{block.line}.py"
                script.write_text(block.body, encoding="utf-8")
                rc, out = shell.run(f"python {script.name}")
                assert rc == 0, f"{where}: the python block failed:\n{out}"
                done.append(f"python {where}")
    finally:
        shell.close()
    return done


__all__ = ["SETUP", "Block", "Shell", "blocks", "commands", "run_guide"]
