"""Settings, all from ``COCKPIT_*`` environment variables (or a ``.env`` file).

Nothing here reaches the network: every default is local (SQLite and embedded
Chroma under the data directory, the local planner model).
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path.cwd() / ".cockpit"


class Settings(BaseSettings):
    """Every setting Cockpit reads. The README's configuration table mirrors this class."""

    model_config = SettingsConfigDict(env_prefix="COCKPIT_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    """Where SQLite files, Chroma, model artefacts and the bootstrap admin key live."""
    database_url: str | None = None
    """SQLAlchemy URL; default ``sqlite:///<data_dir>/cockpit.db``. ``postgresql://…`` scales out."""
    checkpoint_url: str | None = None
    """LangGraph checkpoint store; default: the database (SQLite file or PostgreSQL)."""
    chroma_url: str | None = None
    """A Chroma server (``http://host:port``); default: embedded Chroma in the data dir."""
    host: str = "127.0.0.1"
    """Interface ``cockpit serve`` binds to."""
    port: int = 8321
    """Port ``cockpit serve`` listens on."""
    demo: bool = True
    """Create the demo tenant (and seed demo data) on start."""
    default_model: str = "local:planner"
    """Model an agent uses when its spec names none."""
    model_override: str | None = None
    """Run every agent on this model instead of its spec's (e.g. ``openai:qwen2.5-7b``)."""
    log_level: str = "INFO"
    """Root log level."""
    log_json: bool = True
    """Structured JSON log lines (secrets and card numbers are always redacted)."""
    max_body_bytes: int = 1_048_576
    """Largest request body accepted; larger ones get 413."""
    run_timeout_s: float = 120.0
    """Longest a single run may take before it is cancelled."""
    server_url: str = "http://127.0.0.1:8321"
    """Where ``cockpit chat`` and other clients find the API."""
    api_key: str | None = None
    """Key clients such as ``cockpit chat`` send (default on the host: the demo merchant key)."""
    agents_path: list[Path] = Field(default_factory=list)
    """Extra folders of ``<name>/agent.yaml`` specs loaded as built-in agents (JSON list)."""
    tool_modules: list[str] = Field(default_factory=list)
    """Extra modules imported at start so their ``@register_tool`` tools exist (JSON list)."""
    warmup: bool = True
    """Warm up at start: knowledge corpus, fraud model, and (in demo mode) the demo world."""
    embeddings: str = "minilm"
    """Sentence embeddings: ``minilm`` (offline ONNX, default), ``hashing`` (tests), ``openai:<model>``."""
    audit_keys: SecretStr | None = None
    """Audit chain HMAC keys, ``kid:secret`` newest first (JSON or comma list); default: one key
    generated into ``<data dir>/audit.key`` (0600). Set it on every host sharing a database."""
    clock_start: datetime | None = None
    """Start the platform clock at this instant (it then advances in real time); unset: wall clock."""

    tool_source_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Hosts besides loopback where tenants may register tool sources (their MCP servers or
    OpenAPI endpoints): a comma list or a JSON list of host names. Nothing else is reached."""

    @field_validator("tool_source_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            return (
                json.loads(text)
                if text.startswith("[")
                else [h.strip() for h in text.split(",") if h.strip()]
            )
        return value

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'cockpit.db'}"

    @cached_property
    def resolved_checkpoint_url(self) -> str:
        if self.checkpoint_url:
            return self.checkpoint_url
        if self.database_url and self.database_url.startswith("postgresql"):
            return self.database_url
        return str(self.data_dir / "checkpoints.db")

    def install_clock(self) -> None:
        """Put ``clock_start`` into effect for this process (no-op when unset)."""
        if self.clock_start is not None:
            from cockpit.clock import StartedClock, current, install

            if getattr(current(), "start", None) != self.clock_start:
                install(StartedClock(self.clock_start))

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir


__all__ = ["Settings"]
