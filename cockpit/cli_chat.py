"""The ``cockpit chat`` command: a client of a running server, which talks to an agent team with
an API key (never the host's database).

:mod:`cockpit.cli` registers :func:`chat` on the root app at start-up: only typer at the top,
the chat session (httpx) inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cockpit.cli_resources import load_settings, out
from cockpit.exitcodes import CliFailure, ExitCode

if TYPE_CHECKING:
    from cockpit.config import Settings


def chat(
    url: Annotated[
        str | None, typer.Option(help="Server URL (default COCKPIT_SERVER_URL).")
    ] = None,
    key: Annotated[
        str | None, typer.Option(help="API key (default COCKPIT_API_KEY or the host's demo key).")
    ] = None,
    assistant: Annotated[str | None, typer.Option(help="Assistant id.")] = None,
    thread: Annotated[str | None, typer.Option(help="Continue this thread.")] = None,
    message: Annotated[
        list[str] | None, typer.Option("--message", "-m", help="Send these turns and exit.")
    ] = None,
    approve: Annotated[
        str | None, typer.Option(help="Answer approvals without asking: approve | reject.")
    ] = None,
) -> None:
    """Chat with an agent team: streams replies, shows approval requests and asks for a decision."""
    from cockpit.chat import ChatSession

    settings = load_settings()
    api_key, source = _chat_key(settings, key)
    session = ChatSession(url or settings.server_url, api_key, console=out(), auto_approval=approve)
    try:
        code = session.run(assistant=assistant, thread_id=thread, turns=message)
    except CliFailure as failure:
        if failure.code is not ExitCode.AUTH:
            raise
        raise CliFailure(f"{failure.message} (the key came from {source})", failure.code) from None
    if code:
        raise typer.Exit(code)


def _chat_key(settings: Settings, key: str | None) -> tuple[str, str]:
    """The key ``cockpit chat`` sends and where it came from (said when the server refuses it)."""
    if key:
        return key, "--key"
    if settings.api_key:
        return settings.api_key, "COCKPIT_API_KEY"
    path: Path = settings.data_dir / "demo.key"
    if path.exists():
        return path.read_text().strip(), str(path)
    raise CliFailure(
        "no API key: pass --key, set COCKPIT_API_KEY, or run `cockpit serve` on this host",
        ExitCode.BAD_INPUT,
    )


__all__ = ["chat"]
