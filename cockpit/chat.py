"""Terminal chat against a Cockpit server, through the official langgraph-sdk client.

Each turn is one run streamed with ``messages-tuple`` and ``updates``: the answer is
printed token by token as the model produces it (a model that does not stream shows
its whole reply at once), tool calls as ``→ tool({...})``, failed tool calls as
``← tool: error``, and an approval as a panel asking approve / edit / reject.

Failures are :class:`~cockpit.exitcodes.CliFailure` with the exit code that says whose
fault it is: the server refused the key (AUTH), the server cannot be reached or failed
itself (UNREACHABLE), a turn ended in an error (FAILED; with ``-m`` the chat stops there).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from langgraph_sdk.client import SyncLangGraphClient
from langgraph_sdk.schema import StreamMode
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.prompt import Prompt

from cockpit import __version__
from cockpit.exitcodes import CliFailure, ExitCode

DEFAULT_ASSISTANTS = ("cockpit", "copilot")
STREAM_MODES: list[StreamMode] = ["messages-tuple", "updates"]
CONNECT_RETRIES = 1
"""A refused connection is tried once more, at once. The SDK's own client tries five more
times with backoff (7.5 s in all), which kept a user of a server that is down waiting."""
TIMEOUT = httpx.Timeout(connect=5, read=300, write=300, pool=5)
"""The SDK's defaults: a streamed turn may take minutes between events."""


AUTO_APPROVALS = ("approve", "reject")


def check_options(url: str, auto_approval: str | None) -> None:
    """Refuse, before anything is sent, a URL that is no web address or an unknown ``--approve``
    (the server would only refuse the approval after the turn had run up to it)."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise CliFailure(f"--url {url!r} is not a valid address: {exc}", ExitCode.USAGE) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise CliFailure(
            f"--url must be an http:// or https:// address, got {url!r}", ExitCode.USAGE
        )
    if auto_approval is not None and auto_approval not in AUTO_APPROVALS:
        raise CliFailure(
            f"--approve must be one of {', '.join(AUTO_APPROVALS)}, got {auto_approval!r}",
            ExitCode.USAGE,
        )


def sdk_client(url: str, api_key: str) -> SyncLangGraphClient:
    """The official langgraph-sdk client, on a connection that fails fast when nobody listens."""
    http = httpx.Client(
        base_url=url,
        transport=httpx.HTTPTransport(retries=CONNECT_RETRIES),
        timeout=TIMEOUT,
        headers={"x-api-key": api_key, "user-agent": f"cockpit-chat/{__version__}"},
    )
    return SyncLangGraphClient(http)


class TurnFailed(Exception):
    """A run ended in an error; the message says which and why."""


class ChatSession:
    def __init__(
        self, url: str, api_key: str, *, console: Console, auto_approval: str | None = None
    ) -> None:
        check_options(url, auto_approval)
        self.url = url
        self.client = sdk_client(url, api_key)
        self.console = console
        self.auto = auto_approval
        self._open: str | None = None
        """Id of the reply being printed token by token (its line is not finished yet)."""
        self._shown: set[str] = set()
        """Ids of AI messages whose text is on screen already."""

    def pick_assistant(self, wanted: str | None) -> str:
        found = [str(a["assistant_id"]) for a in self.client.assistants.search(limit=100)]
        if wanted:
            if found and wanted not in found:
                raise CliFailure(
                    f"no assistant {wanted!r} for this key; it may use: {', '.join(found)}",
                    ExitCode.USAGE,
                )
            return wanted
        for name in DEFAULT_ASSISTANTS:
            if name in found:
                return name
        if not found:
            raise CliFailure(f"the server at {self.url} has no assistants for this key")
        return found[0]

    def run(self, *, assistant: str | None, thread_id: str | None, turns: list[str] | None) -> int:
        """Chat until Ctrl-D (or through ``turns``); 0 when every turn went through."""
        try:
            agent = self.pick_assistant(assistant)
            tid = thread_id or self.client.threads.create()["thread_id"]
        except Exception as exc:
            raise self._failure(exc) from None
        self.console.print(f"[dim]assistant {agent} · thread {tid} · Ctrl-D to quit[/]")
        scripted = list(turns) if turns is not None else None
        while True:
            if scripted is not None:
                if not scripted:
                    return 0
                text = scripted.pop(0)
                self.console.print(f"[bold]you>[/] {escape(text)}")
            else:
                try:
                    text = Prompt.ask("[bold]you[/]", console=self.console)
                except (EOFError, KeyboardInterrupt):
                    return 0
            if not text.strip():
                continue
            try:
                self._turn(tid, agent, text)
            except TurnFailed as failed:
                if scripted is not None:
                    raise CliFailure(f"the turn {text!r} failed: {failed}") from None
                self.console.print(f"[red]{escape(str(failed))}[/]")

    def _turn(self, tid: str, agent: str, text: str) -> None:
        payload: dict[str, Any] = {"input": {"messages": [{"role": "user", "content": text}]}}
        while payload:
            interrupt = self._stream(tid, agent, payload)
            payload = self._decide(interrupt) if interrupt else {}

    def _stream(self, tid: str, agent: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        interrupt = None
        error: str | None = None
        try:
            for part in self.client.runs.stream(tid, agent, stream_mode=STREAM_MODES, **payload):
                if part.event == "messages" and isinstance(part.data, list):
                    self._message(*part.data[:2])
                    continue
                self._end_line()
                if part.event == "error":
                    error = _error_text(part.data)
                elif part.event == "updates" and isinstance(part.data, dict):
                    interrupt = self._updates(part.data) or interrupt
        except httpx.HTTPStatusError as exc:
            self._end_line()
            status = exc.response.status_code
            if status in (401, 403) or status >= 500:
                raise self._failure(exc) from None
            raise TurnFailed(_message(exc)) from None
        except httpx.TransportError as exc:
            self._end_line()
            raise self._failure(exc) from None
        finally:
            self._end_line()
        if error is not None:
            raise TurnFailed(error)
        return interrupt

    # ---- printing ------------------------------------------------------------------
    def _message(self, msg: Any, meta: Any = None) -> None:
        """One ``messages`` event: a token chunk of a reply, or a whole message."""
        if not isinstance(msg, dict) or msg.get("type") not in ("AIMessageChunk", "ai"):
            return
        mid = str(msg.get("id") or "")
        who = (meta or {}).get("cockpit_agent_id") if isinstance(meta, dict) else None
        text = _text(msg.get("content"))
        if msg["type"] == "ai":  # a model that does not stream: the whole reply at once
            self._end_line()
            if text and mid not in self._shown:
                self._say(msg.get("name") or who, text)
            self._shown.add(mid)
            return
        if self._open != mid:
            self._end_line()
            if not text:
                return  # tool-call deltas: the call is shown whole from `updates`
            self._open = mid
            self._shown.add(mid)
            self.console.print(f"[bold cyan]{escape(str(who or 'agent'))}>[/] ", end="")
        if text:
            self.console.print(text, end="", markup=False, highlight=False, soft_wrap=True)
            self.console.file.flush()
        if msg.get("chunk_position") == "last":
            self._end_line()

    def _updates(self, data: dict[str, Any]) -> dict[str, Any] | None:
        interrupt = None
        for node, update in data.items():
            if node == "__interrupt__":
                interrupt = update[0] if update else None
                continue
            messages = update.get("messages", []) if isinstance(update, dict) else []
            for msg in messages if isinstance(messages, list) else []:
                if isinstance(msg, dict):
                    self._show(msg)
        return interrupt

    def _show(self, msg: dict[str, Any]) -> None:
        """A message from ``updates``: text not streamed yet, tool calls, tool errors."""
        if msg.get("type") == "ai":
            text = _text(msg.get("content"))
            if text and str(msg.get("id") or "") not in self._shown:
                self._say(msg.get("name"), text)
            for call in msg.get("tool_calls", []):
                args = json.dumps(call.get("args"), ensure_ascii=False)
                self.console.print(f"[dim]→ {escape(call['name'])}({escape(args)})[/]")
        elif msg.get("type") == "tool" and msg.get("status") == "error":
            self.console.print(
                f"[dim yellow]← {escape(str(msg.get('name')))}: "
                f"{escape(str(msg.get('content'))[:200])}[/]"
            )

    def _say(self, who: Any, text: str) -> None:
        self.console.print(f"[bold cyan]{escape(str(who or 'agent'))}>[/] {escape(text)}")

    def _end_line(self) -> None:
        if self._open is not None:
            self._open = None
            self.console.print()

    def _decide(self, interrupt: dict[str, Any]) -> dict[str, Any]:
        req = interrupt.get("value", {})
        body = "\n".join(f"{k}: {v}" for k, v in req.items() if k not in ("type",))
        self.console.print(Panel(escape(body), title="approval needed", border_style="yellow"))
        choice = self.auto or Prompt.ask(
            "approve / edit / reject",
            choices=["approve", "edit", "reject"],
            default="reject",
            console=self.console,
        )
        decision: dict[str, Any] = {"action": choice}
        if choice == "edit":
            raw = Prompt.ask(
                "new arguments as JSON",
                default=json.dumps(req.get("args", {})),
                console=self.console,
            )
            try:
                decision["args"] = json.loads(raw)
            except json.JSONDecodeError:
                self.console.print("[red]not JSON; rejecting instead[/]")
                decision = {"action": "reject", "reason": "invalid edit"}
        return {"command": {"resume": decision}}

    # ---- failures ------------------------------------------------------------------
    def _failure(self, exc: Exception) -> CliFailure:
        """What went wrong talking to the server, with the exit code that says whose fault."""
        if isinstance(exc, CliFailure):
            return exc
        if isinstance(exc, httpx.HTTPStatusError):
            status = exc.response.status_code
            if status == 401:
                return CliFailure(
                    f"the server at {self.url} refused the API key ({_message(exc)})",
                    ExitCode.AUTH,
                )
            if status == 403:
                return CliFailure(
                    f"the server at {self.url} accepted the key but its role may not chat "
                    f"({_message(exc)})",
                    ExitCode.AUTH,
                )
            if status >= 500:
                return CliFailure(
                    f"the server at {self.url} failed (HTTP {status}: {_message(exc)})",
                    ExitCode.UNREACHABLE,
                )
            return CliFailure(_message(exc))
        if isinstance(exc, httpx.TransportError):
            return CliFailure(
                f"cannot reach the server at {self.url} ({type(exc).__name__}: {exc})",
                ExitCode.UNREACHABLE,
            )
        return CliFailure(_message(exc))


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content blocks
        return "".join(
            b if isinstance(b, str) else str(b.get("text", ""))
            for b in content
            if isinstance(b, str) or (isinstance(b, dict) and b.get("type") == "text")
        )
    return ""


def _error_text(data: Any) -> str:
    if isinstance(data, dict):
        code, message = data.get("error"), data.get("message")
        if code and message:
            return f"{code}: {message}"
        return str(message or code or data)
    return str(data)


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and body.get("message"):
        return f"{body.get('code')}: {body['message']}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


__all__ = ["STREAM_MODES", "ChatSession", "TurnFailed"]
