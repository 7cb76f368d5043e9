"""Settings, all from ``COCKPIT_*`` environment variables (or a ``.env`` file).

Nothing here reaches the network: every default is local (SQLite and embedded
Chroma under the data directory, the local planner model).
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cockpit.errors import ValidationFailed

_MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _default_data_dir() -> Path:
    return Path.cwd() / ".cockpit"


def split_list(value: Any, *, separators: str = ",") -> Any:
    """A list setting as people write it: a JSON list, a comma list, or one plain value.

    Anything not a string (a list passed in code) is returned as is for pydantic to check.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"starts with '[' but is not a JSON list ({exc.msg})") from None
        if not isinstance(parsed, list) or not all(isinstance(x, str) for x in parsed):
            raise ValueError("a JSON list here must hold only strings")
        return parsed
    parts = [text]
    for sep in separators:
        parts = [piece for part in parts for piece in part.split(sep)]
    return [part.strip() for part in parts if part.strip()]


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
    log_json: bool | Literal["auto"] = "auto"
    """JSON log lines (``true``), readable lines (``false``), or ``auto``: readable when stderr
    is a terminal, JSON otherwise. Secrets and card numbers are redacted either way."""
    max_body_bytes: int = 1_048_576
    """Largest request body accepted; larger ones get 413."""
    run_timeout_s: float = 120.0
    """Longest a single run may take before it is cancelled."""
    run_lease_s: float = 30.0
    """A worker's claim on a run it executes lasts this long unless renewed (every third of
    it); when a worker dies, another continues its runs once their leases lapse."""
    cron_poll_s: float = 10.0
    """How often each server looks for due crons (seconds); 0 turns the cron scheduler off."""
    monitors_poll_s: float = 60.0
    """How often each server looks for due monitor jobs (seconds); 0 turns the monitors off."""
    key_cache_ttl_s: float = 1.0
    """How long a worker trusts an API key it has checked without reading it again (seconds).
    A revoke is refused at once in its own process and, on PostgreSQL, in every worker it
    notifies; this bounds a lost notification or a revoke by another process on SQLite (the
    CLI). 0 reads the key on every request."""
    server_url: str = "http://127.0.0.1:8321"
    """Where ``cockpit chat`` and other clients find the API."""
    api_key: str | None = None
    """Key clients such as ``cockpit chat`` send (default on the host: the demo merchant key)."""
    agents_path: Annotated[list[Path], NoDecode] = Field(default_factory=list)
    """Extra folders of ``<name>/agent.yaml`` specs loaded as built-in agents: one path, a list
    separated by ``:`` (``os.pathsep``) or commas, or a JSON list."""
    tool_modules: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Extra modules imported at start so their ``@register_tool`` tools exist: one module name,
    a comma list, or a JSON list. The working directory and each agents folder (and its parent)
    are searched as well as ``sys.path``."""
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
    webhook_allow_private: bool = False
    """Let webhook endpoints resolve to private, loopback or reserved addresses (a closed
    network where every receiver is internal). Off: only public addresses and the hosts below."""
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Webhook hosts allowed even though they resolve to private addresses (``127.0.0.1``,
    ``hooks.internal``): a comma list or a JSON list."""

    otel_enabled: bool = False
    """Export OpenTelemetry traces over OTLP/HTTP. Off by default: spans then never leave the
    process (logs still carry their trace ids)."""
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "COCKPIT_OTEL_EXPORTER_OTLP_ENDPOINT", "otel_exporter_otlp_endpoint"
        ),
    )
    """Collector base URL (traces go to ``<it>/v1/traces``); the standard
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` is honoured too. Default ``http://127.0.0.1:4318``."""
    metrics_token: SecretStr | None = None
    """A bearer token a Prometheus scraper may send for ``GET /metrics`` (besides a platform
    admin key, which always may)."""

    @field_validator("tool_source_hosts", "webhook_allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("agents_path", mode="before")
    @classmethod
    def _path_list(cls, value: Any) -> Any:
        return split_list(value, separators="," + os.pathsep)

    @field_validator("agents_path")
    @classmethod
    def _expand_paths(cls, value: list[Path]) -> list[Path]:
        return [path.expanduser() for path in value]

    @field_validator("tool_modules", mode="before")
    @classmethod
    def _module_list(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("tool_modules")
    @classmethod
    def _module_names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _MODULE_NAME.match(name):
                raise ValueError(f"{name!r} is not a module name (like mypkg.tools)")
        return value

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

    def tool_search_paths(self) -> list[Path]:
        """Folders searched for ``tool_modules`` besides ``sys.path``: the working directory,
        and each agents folder with its parent (a tools module kept beside the agents)."""
        found: list[Path] = [Path.cwd()]
        for folder in self.agents_path:
            folder = folder.resolve()
            found += [folder, folder.parent]
        return list(dict.fromkeys(found))

    def import_tool_modules(self) -> None:
        """Import every ``tool_modules`` entry, so its ``@register_tool`` tools register.

        The search folders are on ``sys.path`` (after installed packages) only while the modules
        import: left there, a project's ``agents/`` folder could shadow installed packages.
        """
        added = [str(p) for p in self.tool_search_paths() if str(p) not in sys.path]
        sys.path.extend(added)
        try:
            for name in self.tool_modules:
                self._import_tool_module(name)
        finally:
            for folder in added:
                if folder in sys.path:
                    sys.path.remove(folder)

    def _import_tool_module(self, name: str) -> None:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (name + ".").startswith(exc.name + "."):
                raise  # the module exists; something it imports is missing
            where = ", ".join(str(p) for p in self.tool_search_paths())
            raise ValidationFailed(
                f"COCKPIT_TOOL_MODULES: cannot import {name!r} (searched sys.path and {where})",
                code="invalid_setting",
                param="tool_modules",
            ) from None

    def ensure_data_dir(self) -> Path:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir


__all__ = ["Settings", "split_list"]
