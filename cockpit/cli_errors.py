"""The CLI's one error handler: any exception a command raises becomes one line and an exit code.

:func:`as_failure` decides the code by who is at fault (the table is :class:`ExitCode`):

    CliFailure                       its own code
    UserError (ValidationFailed,     BAD_INPUT (3): a file, setting or value is invalid, or
      NotFound, Conflict), a bad       names nothing that exists; the line names the file
      setting, an unreadable file,     (or variable) and the field
      bad YAML
    AuthError, PermissionDenied,     AUTH (4): the server refused the key
      HTTP 401/403
    connection errors, HTTP 5xx      UNREACHABLE (5): the line says which URL
    any other CockpitError           FAILED (1): the work ran and failed
    anything else                    FAILED (1): an internal error (``--debug`` shows where)

No traceback is printed unless ``--debug`` or ``COCKPIT_DEBUG`` asks for one. Heavy modules
(httpx, pydantic, yaml) are looked up in ``sys.modules`` only: an exception of theirs can only
exist if they were imported, so this module costs nothing at start-up.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

from cockpit.exitcodes import CliFailure, ExitCode

if TYPE_CHECKING:
    from typer._click.core import Context  # click's, as vendored by this typer

_FIELD = re.compile(r'field "(?P<field>\w+)"')
#: What click prints itself: its own errors (usage, exit code 2) and explicit exits. Its error
#: base is found through a public class: newer typers vendor click, older ones depend on it.
_PASS_THROUGH: tuple[type[BaseException], ...] = (
    *(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"),
    typer.Exit,
    typer.Abort,
)


def debug_requested(flag: bool = False) -> bool:
    """``--debug`` was passed or ``COCKPIT_DEBUG`` is set to something true."""
    env = os.environ.get("COCKPIT_DEBUG", "").strip().lower()
    return flag or env not in {"", "0", "false", "no", "off"}


def _is(exc: BaseException, module: str, *names: str) -> bool:
    mod = sys.modules.get(module)
    return mod is not None and any(
        isinstance(exc, getattr(mod, name)) for name in names if hasattr(mod, name)
    )


def _settings_failure(exc: Any) -> CliFailure:
    """A pydantic ValidationError of Settings: name the environment variable, not the field."""
    lines = []
    for error in exc.errors():
        loc = [str(p) for p in error.get("loc", ()) if not isinstance(p, int)]
        var = f"COCKPIT_{loc[0].upper()}" if loc else "a COCKPIT_ setting"
        msg = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        value = error.get("input")
        shown = f" (got {value!r})" if isinstance(value, str) and repr(value) not in msg else ""
        lines.append(f"{var}: {msg}{shown}")
    return CliFailure("; ".join(lines) or str(exc), ExitCode.BAD_INPUT)


def _http_failure(exc: Any) -> CliFailure:
    response = exc.response
    status = response.status_code
    url = str(exc.request.url)
    if status in (401, 403):
        verb = "refused the key" if status == 401 else "does not let this key do that"
        return CliFailure(f"{url}: the server {verb} ({status})", ExitCode.AUTH)
    if status >= 500:
        return CliFailure(f"{url}: the server failed ({status})", ExitCode.UNREACHABLE)
    return CliFailure(f"{url}: {status} {response.text[:200]}", ExitCode.FAILED)


def as_failure(exc: BaseException) -> CliFailure:
    """The one line and exit code an exception ends a command with."""
    from cockpit import errors

    if isinstance(exc, CliFailure):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return CliFailure("interrupted", ExitCode.INTERRUPTED)
    if isinstance(exc, errors.CockpitError):
        if isinstance(exc, errors.UserError):
            code = ExitCode.BAD_INPUT  # a bad value, or one naming nothing that exists
        elif isinstance(exc, errors.AuthError | errors.PermissionDenied):
            code = ExitCode.AUTH
        else:
            code = ExitCode.FAILED
        return CliFailure(f"{one_line(exc.message)} ({exc.code})", code)
    if _is(exc, "pydantic", "ValidationError") and getattr(exc, "title", "") == "Settings":
        return _settings_failure(exc)
    if _is(exc, "pydantic_settings", "SettingsError"):
        m = _FIELD.search(str(exc))
        var = f"COCKPIT_{m.group('field').upper()}" if m else "a COCKPIT_ setting"
        return CliFailure(f"{var}: cannot be read: {exc}", ExitCode.BAD_INPUT)
    if _is(exc, "httpx", "HTTPStatusError"):
        return _http_failure(exc)
    if _is(exc, "httpx", "TransportError"):
        try:
            where = f" {exc.request.url}"  # type: ignore[attr-defined]
        except RuntimeError:  # raised by httpx when no request is attached
            where = ""
        return CliFailure(f"cannot reach{where}: {exc or type(exc).__name__}", ExitCode.UNREACHABLE)
    if isinstance(exc, ConnectionError):
        return CliFailure(f"cannot reach the server: {exc}", ExitCode.UNREACHABLE)
    if isinstance(exc, OSError) and exc.filename is not None:
        return CliFailure(f"{exc.filename}: {exc.strerror or exc}", ExitCode.BAD_INPUT)
    if _is(exc, "yaml", "YAMLError"):
        return CliFailure(f"not valid YAML: {exc}", ExitCode.BAD_INPUT)
    where = "" if debug_requested() else " (run with --debug for the traceback)"
    return CliFailure(f"internal error: {type(exc).__name__}: {exc}{where}", ExitCode.FAILED)


def one_line(message: str) -> str:
    """A message squeezed onto one line: a parser's multi-line report (YAML's quoted source and
    its ``^`` marker) keeps its words, joined with `` · ``."""
    parts = [part.strip() for part in message.splitlines()]
    return " · ".join(part for part in parts if part and set(part) != {"^"})


def report(exc: BaseException, *, debug: bool = False) -> ExitCode:
    """Print ``error: <line>`` (and the traceback when debugging) on stderr; the exit code."""
    failure = as_failure(exc)
    if debug_requested(debug):
        traceback.print_exception(exc, file=sys.stderr)
    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=True, soft_wrap=True, highlight=False)
    console.print(f"[bold red]error:[/] {escape(one_line(failure.message))}")
    # A check that found several problems (a strategy's, a spec's) lists the rest beneath.
    details = getattr(exc, "details", None)
    problems = details.get("problems") if isinstance(details, dict) else None
    if isinstance(problems, list):
        for problem in problems[1:]:
            console.print(f"  - {escape(str(problem))}")
    return failure.code


class CliGroup(TyperGroup):
    """A typer group that is its commands' error handler: ``typer.Typer(cls=CliGroup)``.

    The root ``cockpit`` group and every domain's group use it, so a domain's commands fail the
    same way whether run as ``cockpit <domain> …`` or through their own app in a test.
    """

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except _PASS_THROUGH:
            raise
        except Exception as exc:
            debug = bool(ctx.find_root().params.get("debug"))
            raise typer.Exit(report(exc, debug=debug)) from None


__all__ = ["CliGroup", "as_failure", "debug_requested", "one_line", "report"]
