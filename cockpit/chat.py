"""Terminal chat against a Cockpit server, through the official langgraph-sdk client."""

from __future__ import annotations

import json
from typing import Any

from langgraph_sdk import get_sync_client
from rich.console import Console
from rich.panel import Panel
from rich.prompt import Prompt

DEFAULT_ASSISTANTS = ("cockpit", "copilot")


class ChatSession:
    def __init__(
        self, url: str, api_key: str, *, console: Console, auto_approval: str | None = None
    ) -> None:
        self.client = get_sync_client(url=url, api_key=api_key)
        self.console = console
        self.auto = auto_approval

    def pick_assistant(self, wanted: str | None) -> str:
        found = [a["assistant_id"] for a in self.client.assistants.search(limit=100)]
        if wanted:
            return wanted
        for name in DEFAULT_ASSISTANTS:
            if name in found:
                return name
        if not found:
            raise SystemExit("the server has no assistants")
        return str(found[0])

    def run(self, *, assistant: str | None, thread_id: str | None, turns: list[str] | None) -> int:
        try:
            agent = self.pick_assistant(assistant)
            tid = thread_id or self.client.threads.create()["thread_id"]
        except Exception as exc:  # network or auth problem: say it plainly
            self.console.print(f"[red]cannot reach the server: {_message(exc)}[/]")
            return 1
        self.console.print(f"[dim]assistant {agent} · thread {tid} · Ctrl-D to quit[/]")
        scripted = list(turns) if turns is not None else None
        while True:
            if scripted is not None:
                if not scripted:
                    return 0
                text = scripted.pop(0)
                self.console.print(f"[bold]you>[/] {text}")
            else:
                try:
                    text = Prompt.ask("[bold]you[/]")
                except (EOFError, KeyboardInterrupt):
                    return 0
            if not text.strip():
                continue
            payload: dict[str, Any] = {"input": {"messages": [{"role": "user", "content": text}]}}
            while payload:
                interrupt = self._stream(tid, agent, payload)
                payload = self._decide(interrupt) if interrupt else {}

    def _stream(self, tid: str, agent: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        interrupt = None
        try:
            for part in self.client.runs.stream(tid, agent, stream_mode="updates", **payload):
                if part.event == "error":
                    self.console.print(f"[red]error: {part.data}[/]")
                if part.event != "updates" or not isinstance(part.data, dict):
                    continue
                for node, update in part.data.items():
                    if node == "__interrupt__":
                        interrupt = update[0]
                        continue
                    for msg in (
                        (update or {}).get("messages", []) if isinstance(update, dict) else []
                    ):
                        self._show(msg)
        except Exception as exc:
            self.console.print(f"[red]{_message(exc)}[/]")
        return interrupt

    def _show(self, msg: dict[str, Any]) -> None:
        if msg.get("type") == "ai" and msg.get("content"):
            self.console.print(f"[bold cyan]{msg.get('name') or 'agent'}>[/] {msg['content']}")
        elif msg.get("type") == "ai":
            for call in msg.get("tool_calls", []):
                self.console.print(f"[dim]→ {call['name']}({json.dumps(call['args'])})[/]")
        elif msg.get("type") == "tool" and msg.get("status") == "error":
            self.console.print(
                f"[dim yellow]← {msg.get('name')}: {str(msg.get('content'))[:200]}[/]"
            )

    def _decide(self, interrupt: dict[str, Any]) -> dict[str, Any]:
        req = interrupt.get("value", {})
        body = "\n".join(f"{k}: {v}" for k, v in req.items() if k not in ("type",))
        self.console.print(Panel(body, title="approval needed", border_style="yellow"))
        choice = self.auto or Prompt.ask(
            "approve / edit / reject", choices=["approve", "edit", "reject"], default="reject"
        )
        decision: dict[str, Any] = {"action": choice}
        if choice == "edit":
            raw = Prompt.ask("new arguments as JSON", default=json.dumps(req.get("args", {})))
            try:
                decision["args"] = json.loads(raw)
            except json.JSONDecodeError:
                self.console.print("[red]not JSON; rejecting instead[/]")
                decision = {"action": "reject", "reason": "invalid edit"}
        return {"command": {"resume": decision}}


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and body.get("message"):
        return f"{body.get('code')}: {body['message']}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


__all__ = ["ChatSession"]
