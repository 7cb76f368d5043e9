"""A short, bounded memory of API keys that authenticated, so a request costs no database read.

Every route authenticates its caller; reading the key's row each time was a database round
trip per request on the event loop. This cache may only ever make a refusal *later* by a
bounded amount, never turn one into an admission:

* an entry is stored only after the database said the key is valid and not revoked, and it
  holds the digest of the secret that proved it, so a wrong secret never matches an entry;
* an entry lives at most ``ttl_s`` seconds (the bound on a revocation nobody told us about);
* :meth:`KeyCache.evict` drops a key at once (a revoke in this process, or a notification of
  one from another worker), and bumps a generation: a fill that read the database before the
  eviction is dropped, so a read racing a revoke cannot put the revoked key back.

It never reads the database nor the wall clock itself: the caller fills it, and the clock is an
input (monotonic by default, a fake in tests).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable

from cockpit.tenancy.principal import Principal

DEFAULT_TTL_S = 1.0
"""How long a checked key is trusted without a read (``Settings.key_cache_ttl_s``)."""
MAX_ENTRIES = 4096
"""More live keys than this in one worker and the oldest entries are read again."""


class KeyCache:
    """``key id -> (secret digest, principal, expiry)``; thread-safe, bounded, short-lived."""

    def __init__(
        self,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.ttl_s = ttl_s
        """0 (or less) turns the cache off: every authentication reads the key's row."""
        self._max = max_entries
        self._clock = clock or time.monotonic
        self._entries: dict[str, tuple[str, Principal, float]] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key_id: str, digest: str) -> Principal | None:
        """The cached principal when ``digest`` is the one that proved ``key_id`` and it is fresh."""
        entry = self._entries.get(key_id)
        if entry is None:
            return None
        known, principal, expires = entry
        if self._clock() >= expires:
            with self._lock:
                if self._entries.get(key_id) is entry:
                    del self._entries[key_id]
            return None
        return principal if hmac.compare_digest(known, digest) else None

    def generation(self) -> int:
        """Read before the database read whose result will be passed to :meth:`put`."""
        return self._generation

    def put(self, key_id: str, digest: str, principal: Principal, *, generation: int) -> None:
        """Remember a key the database has just admitted, unless an eviction came in between."""
        if self.ttl_s <= 0:
            return
        with self._lock:
            if generation != self._generation:
                return
            self._entries.pop(key_id, None)
            while len(self._entries) >= self._max:
                del self._entries[next(iter(self._entries))]
            self._entries[key_id] = (digest, principal, self._clock() + self.ttl_s)

    def evict(self, key_id: str) -> None:
        """Forget ``key_id`` now, and every fill that started before this call."""
        with self._lock:
            self._generation += 1
            self._entries.pop(key_id, None)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._entries

    def __len__(self) -> int:
        return len(self._entries)


__all__ = ["DEFAULT_TTL_S", "MAX_ENTRIES", "KeyCache"]
