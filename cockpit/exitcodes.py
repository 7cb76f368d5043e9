"""The CLI's exit codes: one table, documented in the README, used by every command.

A command fails by raising :class:`CliFailure` (or a :class:`cockpit.errors.CockpitError`,
which the CLI's one error handler maps by who is at fault); nothing else calls ``sys.exit``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    """The command did what it was asked."""
    FAILED = 1
    """The work ran and its outcome is a failure: a chat turn that errored, an eval below its
    gate, an audit chain that does not verify, a shopping run that placed no order."""
    USAGE = 2
    """The command line itself is wrong: an unknown option, a missing argument."""
    BAD_INPUT = 3
    """The caller's input is wrong: a file or setting the command reads (an agent spec, a suite,
    a setting — the message names the file or variable and the field), or an argument the work
    refuses (an unknown id, a conflict with the current state)."""
    AUTH = 4
    """The server refused the key: missing, invalid or revoked (401), or its role may not (403)."""
    UNREACHABLE = 5
    """The server could not be reached, or answered with its own fault (5xx)."""
    INTERRUPTED = 130
    """Stopped with Ctrl-C."""


class CliFailure(Exception):
    """A command's failure, said in one line, with the exit code it ends the process with."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


__all__ = ["CliFailure", "ExitCode"]
