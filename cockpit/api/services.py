"""The services one API process holds, built by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cockpit.audit.log import AuditLog
from cockpit.config import Settings
from cockpit.db.session import Database
from cockpit.runtime.service import Runtime
from cockpit.specs.evalruns import EvalService
from cockpit.tenancy.keys import KeyService


@dataclass
class Services:
    settings: Settings
    db: Database
    keys: KeyService
    audit: AuditLog
    runtime: Runtime
    evals: EvalService
    """Eval runs and the publish gate (its runner comes from ``evals`` when installed)."""
    extras: dict[str, Any] = field(default_factory=dict)


__all__ = ["Services"]
