"""The in-process live table: which compiled strategy decides for each (tenant, slot).

Deploy is an atomic swap of one dict entry holding an immutable
:class:`LiveDeployment`. A decision reads the entry once at its start and
keeps that object, so decisions in flight finish on the version they began
with while new ones see the new version — no lock on the hot path, no restart.
Champion/challenger routing hashes a stable applicant key, so the same
applicant always lands on the same arm of a given deployment.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tools.credit.models import StrategyVersionRow
from tools.credit.scorecard import Scorecard
from tools.credit.strategy import CompiledStrategy, Decision, parse_spec

BUCKETS = 10_000


def applicant_key(applicant: Mapping[str, Any], application_id: str | None = None) -> str:
    """Stable identity of an applicant: the caller's id, else its canonical JSON."""
    if application_id:
        return application_id
    return json.dumps(applicant, sort_keys=True, separators=(",", ":"), default=str)


def bucket(slot: str, key: str) -> int:
    """0 … 9,999, stable across processes and Python versions (blake2b, not ``hash``)."""
    digest = hashlib.blake2b(f"{slot}|{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


@dataclass(frozen=True, eq=False)
class LiveDeployment:
    """One deployment of a slot: champion, optional challenger and its share."""

    deployment_id: str
    name: str
    champion: CompiledStrategy
    challenger: CompiledStrategy | None = None
    challenger_share: float = 0.0

    def route(self, key: str) -> tuple[str, CompiledStrategy, CompiledStrategy | None]:
        """(arm, strategy that decides, the other arm or None)."""
        if self.challenger is None or self.challenger_share <= 0:
            return "champion", self.champion, None
        if bucket(self.name, key) < self.challenger_share * BUCKETS:
            return "challenger", self.challenger, self.champion
        return "champion", self.champion, self.challenger

    def decide(
        self,
        applicant: Mapping[str, Any],
        *,
        application_id: str | None = None,
        trace: bool = False,
    ) -> tuple[str, Decision]:
        """Decide on the routed arm (no persistence): (arm, decision)."""
        if self.challenger is None:
            return "champion", self.champion.decide(applicant, trace=trace)
        arm, strategy, _ = self.route(applicant_key(applicant, application_id))
        return arm, strategy.decide(applicant, trace=trace)


class LiveTable:
    """(tenant, slot) → LiveDeployment. Reads are lock-free; writers serialise."""

    def __init__(self) -> None:
        self._live: dict[tuple[str, str], LiveDeployment] = {}
        self._write = threading.Lock()

    def get(self, tenant_id: str, name: str) -> LiveDeployment | None:
        return self._live.get((tenant_id, name))

    def swap(
        self, tenant_id: str, name: str, deployment: LiveDeployment | None
    ) -> LiveDeployment | None:
        """Install ``deployment`` (or clear the slot); returns what was live before."""
        with self._write:
            key = (tenant_id, name)
            old = self._live.get(key)
            if deployment is None:
                self._live.pop(key, None)
            else:
                self._live[key] = deployment  # one store: atomic under the GIL
            return old


class CompiledCache:
    """Compiled strategy versions by id, the most recent ``size`` kept.

    A stored version never changes, so a hit is always right; two threads that miss at
    once both compile it, outside the lock, and the second entry replaces an equal one.
    """

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._entries: OrderedDict[str, CompiledStrategy] = OrderedDict()
        self._lock = threading.Lock()

    def compile(self, row: StrategyVersionRow) -> CompiledStrategy:
        with self._lock:
            hit = self._entries.get(row.id)
            if hit is not None:
                self._entries.move_to_end(row.id)
                return hit
        compiled = CompiledStrategy(
            row.id, parse_spec(row.spec), Scorecard.from_dict(row.scorecard)
        )
        self.remember(compiled)
        return compiled

    def remember(self, compiled: CompiledStrategy) -> None:
        with self._lock:
            self._entries[compiled.version_id] = compiled
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


__all__ = [
    "BUCKETS",
    "CompiledCache",
    "LiveDeployment",
    "LiveTable",
    "applicant_key",
    "bucket",
]
