"""Server processes forked from one pre-imported process per test worker.

A server started as ``python -m tests.support.serve`` spends ~3.5 of its ~4.3 CPU-s to ready
importing (measured on this 2-core machine), and a full run starts about a dozen. Here the
imports are paid once per test worker: multiprocessing's forkserver imports :data:`PRELOAD`
when the first server is asked for, and each server after is a fork of it that runs its module
the way ``python -m`` does, with the environment, working directory, arguments and log it is
given.

What differs from a fresh interpreter, and why it does not matter to what the tests check:

- the modules in :data:`PRELOAD` were imported before the server's environment was set (none of
  them reads the environment at import; settings are read when the server builds them);
- the process ends through multiprocessing's ``os._exit``, so ``atexit`` handlers do not run:
  the product registers none, and flushes what it must (spans, runs, evals) in the app's
  shutdown, which uvicorn runs on SIGTERM; a SIGKILL, which the crash tests send, runs neither;
- its pid, signals and exit status are its own, as a ``Popen`` child's are.
"""

from __future__ import annotations

import atexit
import multiprocessing
import multiprocessing.util  # its exit hook registered first, so the one below runs before it
import os
import runpy
import subprocess
import sys
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path

PRELOAD = [
    "tests.support.serve",
    "cockpit.cli",
    # What a server imports while it starts (tool modules, knowledge, evals, the database
    # drivers), listed from ``sys.modules`` of a started server.
    "cockpit.lazy",
    "tools.payments",
    "tools.commerce",
    "tools.credit",
    "tools.fraud",
    "tools.fx",
    "knowledge.service",
    "knowledge.startup",
    "evals.service",
    "psycopg",
    "aiosqlite",
]

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


@atexit.register
def _stop_the_rest() -> None:
    """Stop the worker's processes still running when it exits (its forked servers, and any
    other multiprocessing child). Registered after multiprocessing's own exit hook (which
    ``import multiprocessing.util`` registers), so it runs first: that hook joins every child
    that is not a daemon, and a server left running would hold the worker's exit forever.
    (Servers are not daemons: a daemon may not start processes, and a server starts eval
    workers.)"""
    for process in multiprocessing.active_children():
        process.terminate()
        process.join(15)
        if process.exitcode is None:
            process.kill()
            process.join(10)


@dataclass
class Forked:
    """A forked server: the part of ``subprocess.Popen`` that :class:`~tests.support.live.LiveServer`
    uses (``pid``, ``poll``, ``send_signal``, ``terminate``, ``wait``)."""

    process: BaseProcess

    @property
    def pid(self) -> int:
        pid = self.process.pid
        assert pid is not None, "started processes have a pid"
        return pid

    def poll(self) -> int | None:
        return self.process.exitcode

    def send_signal(self, signal: int) -> None:
        os.kill(self.pid, signal)

    def terminate(self) -> None:
        self.process.terminate()

    def wait(self, timeout: float | None = None) -> int:
        self.process.join(timeout)
        code = self.process.exitcode
        if code is None:
            raise subprocess.TimeoutExpired(f"server {self.pid}", timeout or 0.0)
        return code


def start(module: str, args: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> Forked:
    """Run ``python -m module *args`` as a fork of this worker's pre-imported process."""
    process = _context.Process(
        target=_run, args=(module, args, env, str(cwd), str(log)), name=f"{module}-server"
    )
    process.start()
    return Forked(process)


def _run(module: str, args: list[str], env: dict[str, str], cwd: str, log: str) -> None:
    """The child: what ``Popen([python, "-m", module, *args], env=env, cwd=cwd, stdout=log,
    stderr=STDOUT)`` would have set up, then the module as ``__main__``."""
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    # ``python -m`` puts the working directory, then PYTHONPATH, ahead of the rest of the path.
    front = list(dict.fromkeys([cwd, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]))
    sys.path[:] = [*front, *(p for p in sys.path if p not in front)]
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
