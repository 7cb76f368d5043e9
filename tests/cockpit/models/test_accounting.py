"""Usage accounting: per-call records, pricing, persistence and tenant-scoped queries."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from cockpit.db.migrate import upgrade
from cockpit.db.session import Database
from cockpit.errors import InternalError
from cockpit.models import ModelPrice, PriceTable, UsageTracker, resolve_model, usage_summary
from cockpit.testing import register_fake_script, unregister_fake_script


@pytest.fixture
def db(migrated_backend_url: str) -> Iterator[Database]:
    """An empty database at the newest schema, on SQLite and PostgreSQL (tests/conftest.py)."""
    database = Database(migrated_backend_url)
    upgrade(database)
    yield database
    database.dispose()


@pytest.fixture
def fake() -> Iterator[str]:
    reply = AIMessage(
        content="ok",
        usage_metadata={"input_tokens": 1000, "output_tokens": 500, "total_tokens": 1500},
    )
    register_fake_script("priced", [reply], replace=True)
    yield "fake:priced"
    unregister_fake_script("priced")


def test_price_table_costs_in_micro_dollars() -> None:
    table = PriceTable({"openai:m": ModelPrice(Decimal("2.00"), Decimal("8.00"))})
    # 1,000 input at $2/M + 500 output at $8/M = $0.002 + $0.004 = 6,000 micro-dollars
    assert table.cost_micros("openai:m", 1000, 500) == 6000
    assert table.cost_micros("local:planner", 10_000, 10_000) == 0
    assert table.cost_micros("openai:unknown", 1, 1) is None


def test_local_planner_usage_is_estimated_and_free() -> None:
    tracker = UsageTracker(tenant_id="t1", agent_id="copilot", run_id="r1")
    model = resolve_model("local:planner")
    model.invoke([HumanMessage("hello there")], config={"callbacks": [tracker]})
    [record] = tracker.records
    assert record.model == "local:planner"
    assert record.estimated and record.cost_micros == 0 and record.priced
    assert record.input_tokens > 0 and record.output_tokens > 0


def test_agent_comes_from_call_metadata(fake: str) -> None:
    tracker = UsageTracker(tenant_id="t1", agent_id="default-agent")
    model = resolve_model(fake)
    model.invoke(
        [HumanMessage("a")],
        config={"callbacks": [tracker], "metadata": {"cockpit_agent_id": "dispute"}},
    )
    model.invoke([HumanMessage("b")], config={"callbacks": [tracker]})
    assert [r.agent_id for r in tracker.records] == ["dispute", "default-agent"]


def test_persist_and_query_per_tenant_agent_run(db: Database, fake: str) -> None:
    prices = PriceTable({})
    model = resolve_model(fake)
    runs = [
        ("t1", "copilot", "r1"),
        ("t1", "copilot", "r1"),
        ("t1", "risk", "r2"),
        ("t2", "copilot", "r3"),
    ]
    for tenant, agent, run in runs:
        tracker = UsageTracker(tenant_id=tenant, agent_id=agent, run_id=run, prices=prices)
        model.invoke([HumanMessage("x")], config={"callbacks": [tracker]})
        assert tracker.save(db) == 1
        assert tracker.save(db) == 0  # nothing saved twice

    t1 = usage_summary(db, "t1")
    assert (t1.calls, t1.input_tokens, t1.output_tokens) == (3, 3000, 1500)
    assert t1.by_model["fake:priced"].calls == 3
    assert usage_summary(db, "t1", agent_id="copilot").calls == 2
    assert usage_summary(db, "t1", run_id="r2").total_tokens == 1500
    assert usage_summary(db, "t1", agent_id="copilot", run_id="r2").calls == 0
    # Tenant isolation: t2's row is invisible to t1 and vice versa.
    assert usage_summary(db, "t2").calls == 1
    assert usage_summary(db, "t1", run_id="r3").calls == 0
    body = t1.to_dict()
    assert body["total_tokens"] == 4500 and body["cost_usd"] == "0"


def test_priced_openai_usage_summary_cost(db: Database) -> None:
    tracker = UsageTracker(
        tenant_id="t1",
        run_id="r9",
        prices=PriceTable({"openai:m": ModelPrice(Decimal("1.00"), Decimal("4.00"))}),
    )
    message = AIMessage(
        content="x",
        usage_metadata={
            "input_tokens": 2_000_000,
            "output_tokens": 250_000,
            "total_tokens": 2_250_000,
        },
        response_metadata={"cockpit_model": "openai:m"},
    )
    from uuid import uuid4

    from langchain_core.outputs import ChatGeneration, LLMResult

    tracker.on_llm_end(LLMResult(generations=[[ChatGeneration(message=message)]]), run_id=uuid4())
    tracker.save(db)
    summary = usage_summary(db, "t1", run_id="r9")
    assert summary.cost_usd == Decimal("3")  # 2M x $1/M + 0.25M x $4/M


def test_saving_without_tenant_is_refused(db: Database, fake: str) -> None:
    tracker = UsageTracker()
    resolve_model(fake).invoke([HumanMessage("x")], config={"callbacks": [tracker]})
    with pytest.raises(InternalError):
        tracker.save(db)


def test_agent_bound_with_config_metadata(fake: str) -> None:
    # How a multi-agent runtime attributes calls: bind the agent id onto each agent's model.
    tracker = UsageTracker(tenant_id="t1")
    bound = resolve_model(fake).bind_tools([]).with_config(metadata={"cockpit_agent_id": "risk"})
    bound.invoke([HumanMessage("x")], config={"callbacks": [tracker]})
    assert tracker.records[0].agent_id == "risk"
