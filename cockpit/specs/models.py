"""Tables: immutable agent-spec versions, the aliases that point at them, eval runs and suites."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cockpit.db.base import Base, TenantScoped, utcnow


class AgentVersion(TenantScoped, Base):
    __tablename__ = "agent_versions"
    __table_args__ = (
        UniqueConstraint("tenant_id", "agent_id", "version", name="uq_agent_versions_version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]]
    spec_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentAlias(TenantScoped, Base):
    __tablename__ = "agent_aliases"
    __table_args__ = (
        UniqueConstraint("tenant_id", "agent_id", "alias", name="uq_agent_aliases_alias"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(120))
    alias: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class EvalRun(TenantScoped, Base):
    """One eval run of a spec version: what was asked, its status, scores and report."""

    __tablename__ = "eval_runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer)
    spec_hash: Mapped[str] = mapped_column(String(64), index=True)
    suites: Mapped[list[str]] = mapped_column(JSON)
    trials: Mapped[int] = mapped_column(Integer)
    split: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    """``running`` → ``passed`` / ``failed`` / ``error``."""
    gate: Mapped[bool] = mapped_column(Boolean, default=False)
    """The run covers the spec's whole gate (its suites, split ``all``, enough trials)."""
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """Scores per suite, the verdict's reasons and broken tasks."""
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)


class EvalSuite(TenantScoped, Base):
    """A tenant's own eval suite (YAML, ``cockpit.eval/v1``), by name; the newest upload wins."""

    __tablename__ = "eval_suites"
    __table_args__ = (UniqueConstraint("tenant_id", "name", name="uq_eval_suites_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    yaml: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AgentAliasMove(TenantScoped, Base):
    """One move of an alias, newest last: what it pointed at before, who moved it, the gate.

    Rolling back undoes the newest move not yet undone (``undone``), so repeated rollbacks
    walk back through the history instead of flipping between two versions.
    """

    __tablename__ = "agent_alias_moves"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(120), index=True)
    alias: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    """The version the alias points at after this move."""
    previous: Mapped[int | None] = mapped_column(Integer, nullable=True)
    """The version it pointed at before (None: the alias was created by this move)."""
    kind: Mapped[str] = mapped_column(String(10))
    """``created`` (first version went live), ``set`` (PUT alias) or ``rollback``."""
    by: Mapped[str] = mapped_column(String(64))
    """Key id of the caller (``cli`` from the host's command line)."""
    gate: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """The eval gate's decision for a ``live`` move (None for ``canary``)."""
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    undone: Mapped[bool] = mapped_column(Boolean, default=False)
    """A rollback has moved the alias back from this move."""
    at: Mapped[datetime] = mapped_column(default=utcnow)
