"""Token and cost accounting: a callback handler, a price table, and queries.

``UsageTracker`` is a LangChain callback: pass one per run in the run's
``config["callbacks"]``. It records every chat-model call's tokens (what the
provider reported; local and fake models report an estimate from
``count_tokens_approximately`` — never tiktoken, which downloads encodings),
prices them, and attributes them to tenant / agent / run. ``save(db)``
persists the records; :func:`usage_summary` aggregates what is stored.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from sqlalchemy import func, select

from cockpit.clock import utcnow
from cockpit.db.session import Database
from cockpit.errors import InternalError
from cockpit.models.usage import ModelUsage

_MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """US dollars per million tokens."""

    input_per_million: Decimal
    output_per_million: Decimal


#: List prices in USD per million tokens as OpenAI published them in 2025
#: (unverified here; override with ``PriceTable({...})`` for your contract).
DEFAULT_PRICES: Mapping[str, ModelPrice] = {
    "openai:gpt-4o": ModelPrice(Decimal("2.50"), Decimal("10.00")),
    "openai:gpt-4o-mini": ModelPrice(Decimal("0.15"), Decimal("0.60")),
    "openai:gpt-4.1": ModelPrice(Decimal("2.00"), Decimal("8.00")),
    "openai:gpt-4.1-mini": ModelPrice(Decimal("0.40"), Decimal("1.60")),
    "openai:gpt-4.1-nano": ModelPrice(Decimal("0.10"), Decimal("0.40")),
}
_FREE_PROVIDERS = ("local:", "fake:")


class PriceTable:
    """Prices by ``provider:model``; local and fake models cost nothing."""

    def __init__(self, prices: Mapping[str, ModelPrice] | None = None) -> None:
        self._prices = dict(DEFAULT_PRICES if prices is None else prices)

    def price(self, model: str) -> ModelPrice | None:
        if model.startswith(_FREE_PROVIDERS):
            return ModelPrice(Decimal(0), Decimal(0))
        return self._prices.get(model)

    def cost_micros(self, model: str, input_tokens: int, output_tokens: int) -> int | None:
        """Cost in millionths of a dollar, or None when ``model`` has no price."""
        price = self.price(model)
        if price is None:
            return None
        dollars = (
            price.input_per_million * input_tokens + price.output_per_million * output_tokens
        ) / _MILLION
        return int((dollars * _MILLION).to_integral_value())


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One model call."""

    model: str
    input_tokens: int
    output_tokens: int
    cost_micros: int
    priced: bool
    estimated: bool
    tenant_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    thread_id: str | None = None
    at: datetime = field(default_factory=utcnow)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class ModelTotals:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_micros: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class UsageSummary:
    """Totals over some calls, and the same per model."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_micros: int = 0
    by_model: dict[str, ModelTotals] = field(default_factory=dict)

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def cost_usd(self) -> Decimal:
        return Decimal(self.cost_micros) / _MILLION

    def add(self, model: str, calls: int, input_tokens: int, output_tokens: int, cost: int) -> None:
        self.calls += calls
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.cost_micros += cost
        totals = self.by_model.setdefault(model, ModelTotals())
        totals.calls += calls
        totals.input_tokens += input_tokens
        totals.output_tokens += output_tokens
        totals.cost_micros += cost

    def to_dict(self) -> dict[str, Any]:
        """JSON shape returned with run results (cost as a decimal string in USD)."""
        return {
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "cost_usd": str(self.cost_usd),
            "by_model": {
                model: {
                    "calls": t.calls,
                    "input_tokens": t.input_tokens,
                    "output_tokens": t.output_tokens,
                    "total_tokens": t.total_tokens,
                    "cost_usd": str(Decimal(t.cost_micros) / _MILLION),
                }
                for model, t in sorted(self.by_model.items())
            },
        }


def summarise(records: Iterable[UsageRecord]) -> UsageSummary:
    summary = UsageSummary()
    for r in records:
        summary.add(r.model, 1, r.input_tokens, r.output_tokens, r.cost_micros)
    return summary


_AGENT_KEYS = ("cockpit_agent_id", "agent_id", "lc_agent_name")


class UsageTracker(BaseCallbackHandler):
    """Collects one :class:`UsageRecord` per chat-model call it observes.

    Attribution: ``tenant_id`` / ``run_id`` / ``thread_id`` given here; the agent
    from the call's config metadata (``cockpit_agent_id``, ``agent_id`` or
    LangChain's ``lc_agent_name``), else ``agent_id`` given here.
    """

    run_inline = True  # keep records in call order, even under async runs

    def __init__(
        self,
        *,
        tenant_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
        thread_id: str | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.agent_id = agent_id
        self.run_id = run_id
        self.thread_id = thread_id
        self.prices = prices or PriceTable()
        self.records: list[UsageRecord] = []
        self._saved = 0
        self._agents: dict[UUID, str | None] = {}
        self._lock = threading.Lock()

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        meta = metadata or {}
        agent = next((str(meta[k]) for k in _AGENT_KEYS if meta.get(k)), self.agent_id)
        with self._lock:
            self._agents[run_id] = agent

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            self._agents.pop(run_id, None)

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        with self._lock:
            agent = self._agents.pop(run_id, self.agent_id)
        llm_output = response.llm_output or {}
        for generations in response.generations:
            for generation in generations:
                if not isinstance(generation, ChatGeneration):
                    continue
                self._record(generation.message, llm_output, agent)

    def _record(
        self, message: BaseMessage, llm_output: Mapping[str, Any], agent: str | None
    ) -> None:
        meta = message.response_metadata
        model = str(
            meta.get("cockpit_model")
            or llm_output.get("cockpit_model")
            or (f"openai:{meta['model_name']}" if meta.get("model_name") else "unknown")
        )
        usage = message.usage_metadata if isinstance(message, AIMessage) else None
        input_tokens = int(usage["input_tokens"]) if usage else 0
        output_tokens = int(usage["output_tokens"]) if usage else 0
        cost = self.prices.cost_micros(model, input_tokens, output_tokens)
        record = UsageRecord(
            model=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_micros=cost or 0,
            priced=cost is not None,
            estimated=bool(meta.get("usage_estimated")) or usage is None,
            tenant_id=self.tenant_id,
            agent_id=agent,
            run_id=self.run_id,
            thread_id=self.thread_id,
        )
        with self._lock:
            self.records.append(record)

    def summary(self) -> UsageSummary:
        """Totals of everything recorded so far (what a run result carries)."""
        with self._lock:
            return summarise(list(self.records))

    def save(self, db: Database) -> int:
        """Persist records not saved yet; returns how many were written."""
        with self._lock:
            pending = self.records[self._saved :]
        if not pending:
            return 0
        if any(r.tenant_id is None for r in pending):
            raise InternalError("usage records need a tenant to be saved", code="tenant_missing")
        by_tenant: dict[str, list[UsageRecord]] = {}
        for record in pending:
            by_tenant.setdefault(str(record.tenant_id), []).append(record)
        for tenant, records in by_tenant.items():
            with db.tenant_session(tenant) as session:
                session.add_all(
                    ModelUsage(
                        agent_id=r.agent_id,
                        run_id=r.run_id,
                        thread_id=r.thread_id,
                        model=r.model,
                        input_tokens=r.input_tokens,
                        output_tokens=r.output_tokens,
                        total_tokens=r.total_tokens,
                        cost_micros=r.cost_micros,
                        priced=r.priced,
                        estimated=r.estimated,
                        created_at=r.at,
                    )
                    for r in records
                )
        with self._lock:
            self._saved += len(pending)
        return len(pending)


def usage_summary(
    db: Database,
    tenant_id: str,
    *,
    agent_id: str | None = None,
    run_id: str | None = None,
) -> UsageSummary:
    """Stored usage of one tenant, optionally narrowed to an agent and/or a run."""
    query = select(
        ModelUsage.model,
        func.count(ModelUsage.id),
        func.coalesce(func.sum(ModelUsage.input_tokens), 0),
        func.coalesce(func.sum(ModelUsage.output_tokens), 0),
        func.coalesce(func.sum(ModelUsage.cost_micros), 0),
    ).group_by(ModelUsage.model)
    if agent_id is not None:
        query = query.where(ModelUsage.agent_id == agent_id)
    if run_id is not None:
        query = query.where(ModelUsage.run_id == run_id)
    summary = UsageSummary()
    with db.tenant_session(tenant_id) as session:
        for model, calls, input_tokens, output_tokens, cost in session.execute(query):
            summary.add(str(model), int(calls), int(input_tokens), int(output_tokens), int(cost))
    return summary


__all__ = [
    "DEFAULT_PRICES",
    "ModelPrice",
    "ModelTotals",
    "PriceTable",
    "UsageRecord",
    "UsageSummary",
    "UsageTracker",
    "summarise",
    "usage_summary",
]
