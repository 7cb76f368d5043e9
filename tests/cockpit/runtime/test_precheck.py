"""A WRITE's precheck runs before its approval: a call that cannot succeed is refused with the
tool's own error, and no human is asked to approve it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.runnables import RunnableLambda
from langgraph.checkpoint.memory import MemorySaver
from pydantic import BaseModel
from sqlalchemy import select

from cockpit.audit.log import AuditLog
from cockpit.db.migrate import upgrade
from cockpit.db.session import Database
from cockpit.errors import Conflict, UserError
from cockpit.runtime.graph import Team, build_graph
from cockpit.runtime.records import ApprovalRecord
from cockpit.specs import parse_spec
from cockpit.toolkit import ToolContext, ToolKind, ToolRegistry, register_tool

TENANT = "t_pre"


class Args(BaseModel):
    amount: int


def _registry(calls: list[str], precheck: Any) -> ToolRegistry:
    reg = ToolRegistry()

    @register_tool("t_refund", kind=ToolKind.WRITE, args=Args, precheck=precheck, registry=reg)
    def t_refund(ctx: ToolContext, args: Args) -> dict[str, Any]:
        """Refund (test tool)."""
        calls.append("write")
        return {"refunded": args.amount}

    return reg


def _refuse_large(ctx: ToolContext, args: Args) -> None:
    if args.amount > 100:
        raise Conflict(
            f"only 100 is left to refund, not {args.amount}",
            code="refund_amount_exceed",
            param="amount",
        )


def _crash(ctx: ToolContext, args: Args) -> None:
    raise RuntimeError("bug in a precheck")


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database("sqlite:///" + str(tmp_path / "pre.db"))
    upgrade(database)
    yield database
    database.dispose()


def _model(amount: int) -> Any:
    def answer(messages: list[Any]) -> AIMessage:
        if isinstance(messages[-1], ToolMessage):
            return AIMessage(content="done")
        return AIMessage(
            content="",
            tool_calls=[{"name": "t_refund", "args": {"amount": amount}, "id": "call_1"}],
        )

    return RunnableLambda(answer)


def _run(db: Database, reg: ToolRegistry, amount: int) -> dict[str, Any]:
    spec = parse_spec(
        {
            "id": "pre",
            "name": "Pre",
            "description": "An agent whose refunds always need approval.",
            "instructions": "x",
            "tools": [{"name": "t_refund", "approval": {"always": True}}],
        }
    )
    team = Team(
        entry="pre",
        specs={"pre": spec},
        registry=reg,
        db=db,
        audit=AuditLog(db),
        model_factory=lambda _spec, _schemas: _model(amount),
    )
    graph = build_graph(team, MemorySaver())
    config = {"configurable": {"thread_id": "th_1", "tenant_id": TENANT, "key_id": "k1"}}
    out = asyncio.run(graph.ainvoke({"messages": [("user", "refund it")]}, config))
    return dict(out)


def _approvals(db: Database) -> list[ApprovalRecord]:
    with db.tenant_session(TENANT) as s:
        return list(s.scalars(select(ApprovalRecord)))


def test_a_failing_precheck_refuses_before_any_approval(db: Database) -> None:
    calls: list[str] = []
    out = _run(db, _registry(calls, _refuse_large), amount=500)
    assert "__interrupt__" not in out
    (tool_msg,) = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert tool_msg.status == "error"
    assert json.loads(str(tool_msg.content)) == {
        "error": {
            "type": "invalid_request_error",
            "code": "refund_amount_exceed",
            "message": "only 100 is left to refund, not 500",
            "param": "amount",
        }
    }
    assert _approvals(db) == [] and calls == []


def test_a_passing_precheck_asks_for_approval(db: Database) -> None:
    calls: list[str] = []
    out = _run(db, _registry(calls, _refuse_large), amount=50)
    assert out["__interrupt__"][0].value["tool"] == "t_refund"
    assert [a.status for a in _approvals(db)] == ["pending"] and calls == []


def test_a_crashing_precheck_never_blocks_the_approval(db: Database) -> None:
    out = _run(db, _registry([], _crash), amount=500)
    assert "__interrupt__" in out and len(_approvals(db)) == 1


def test_only_a_write_has_a_precheck() -> None:
    with pytest.raises(UserError) as err:
        register_tool(
            "t_read", kind=ToolKind.READ, args=Args, precheck=_refuse_large, registry=ToolRegistry()
        )
    assert err.value.code == "tool_precheck_read"
