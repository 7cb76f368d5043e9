"""Intent examples' vectors, embedded once per process and embedder, whichever index asks.

An agent that hands off to others repeats their examples as its own intents: 706 of the
built-in Cockpit agent's 738 example texts are its four agents' own. Each
:class:`~cockpit.planner.intents.IntentIndex` used to embed its whole list, so a process that
answered the supervisor and then its agents embedded most examples twice: building the four
agents' indexes after the supervisor's took 0.5-0.9 CPU-s each, and takes 0.13-0.20 now (all
five: 5.0 CPU-s before, 2.8 after). Here a text's vector is kept with the embedder that made
it, and an index embeds only the texts no earlier index had.

Only examples pass through here, never a user's words: those are embedded per reply.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from cockpit.embeddings import Embedder, Vectors

CAPACITY = 20_000
"""Texts kept per embedder (~30 MB of 384-dimension vectors); the oldest go first."""
EMBEDDERS = 8
"""Embedders whose vectors are kept (a server has one); the least recently added go first."""

_KEPT: dict[int, tuple[Embedder, dict[str, np.ndarray]]] = {}
_LOCK = threading.Lock()


def example_vectors(embedder: Embedder, texts: Sequence[str]) -> Vectors:
    """``texts`` (at least one) embedded by ``embedder``, one row each; those seen before are
    not embedded again."""
    with _LOCK:
        # The embedder is kept with its vectors, so its id is not reused while they are.
        _, kept = _KEPT.setdefault(id(embedder), (embedder, {}))
        for gone in list(_KEPT)[: max(0, len(_KEPT) - EMBEDDERS)]:
            del _KEPT[gone]
        known = {t: kept[t] for t in texts if t in kept}
    missing = [t for t in dict.fromkeys(texts) if t not in known]
    if missing:
        fresh = embedder.embed(missing)
        known.update(zip(missing, fresh, strict=True))
        with _LOCK:
            kept.update(zip(missing, fresh, strict=True))
            for stale in list(kept)[: max(0, len(kept) - CAPACITY)]:
                del kept[stale]
    return np.stack([known[t] for t in texts]).astype(np.float32, copy=False)


__all__ = ["CAPACITY", "EMBEDDERS", "example_vectors"]
