"""Sequence / velocity features per card, customer, device and IP — streaming and bulk.

Two implementations of one definition:

* :class:`SequenceState` keeps, per entity, its recent event times (integer
  milliseconds), cumulative amount and decline sums, and window pointers, in flat
  arrays (:mod:`tools.fraud.features.tracks`). It answers for a new transaction
  from strictly earlier events, then records it.
* :func:`bulk_sequence_features` computes the same columns for a whole
  time-ordered frame with numpy (sorts by entity, binary-searches window
  starts, differences cumulative sums).

Definition (both implementations): for entity kind ``k`` and window ``w``,
the prior events of the same entity with ``ms_now - ms_then < w`` count; the
transaction itself never does. Times are compared as integer milliseconds so
that both agree on boundaries. A test replays a frame through the state and
checks equality with the bulk result.
"""

from __future__ import annotations

from collections.abc import MutableSequence

import numpy as np
import pandas as pd

from tools.fraud.features.tracks import STD_FLOOR, KindTracks, TrackStore

KINDS: tuple[str, ...] = ("card", "customer", "device", "ip")
_KIND_COLUMN = {"card": "card_id", "customer": "customer_id", "device": "device_id", "ip": "ip"}
WINDOWS_MS: dict[str, int] = {"1h": 3_600_000, "24h": 86_400_000, "7d": 604_800_000}
_COUNT_WINDOWS = ("1h", "24h", "7d")
_SUM_WINDOWS = ("1h", "24h")
_DECLINE_WINDOWS = ("1h", "24h")
Z_KINDS: tuple[str, ...] = ("card", "customer")


def _names() -> list[str]:
    names: list[str] = []
    for k in KINDS:
        names += [f"{k}_n_{w}" for w in _COUNT_WINDOWS]
        names += [f"{k}_sum_{w}" for w in _SUM_WINDOWS]
        names += [f"{k}_declines_{w}" for w in _DECLINE_WINDOWS]
        names.append(f"{k}_since_last_h")
    names += [f"{k}_amount_z" for k in Z_KINDS]
    return names


SEQUENCE_FEATURES: tuple[str, ...] = tuple(_names())


def to_ms(ts: float) -> int:
    """Epoch seconds to the integer milliseconds every window comparison uses."""
    return round(ts * 1000.0)


_WANT_Z = tuple(k in Z_KINDS for k in KINDS)


class SequenceState:
    """Per-entity velocity state for streaming scoring (time-ordered input)."""

    def __init__(self) -> None:
        self.store = TrackStore(len(KINDS))
        """Every entity's track, in flat arrays (:mod:`tools.fraud.features.tracks`)."""
        self.by_kind: tuple[KindTracks, ...] = tuple(
            KindTracks(self.store, i) for i in range(len(KINDS))
        )
        """Each kind's tracks by entity key, in ``KINDS`` order (a read-only view)."""
        self._tracks = dict(zip(KINDS, self.by_kind, strict=True))

    def step(
        self,
        keys: tuple[str, str, str, str],
        *,
        ms: int,
        amount: float,
        log_amount: float,
        declined: bool,
        out: MutableSequence[float],
    ) -> None:
        """Append the sequence features (from earlier events only), then record the event.

        ``keys`` are the transaction's card, customer, device and IP (``KINDS`` order).
        """
        store = self.store
        advance, entity = store.advance, store.entity
        dec_i = 1 if declined else 0
        zs: list[float] = []
        for kind, (key, want_z) in enumerate(zip(keys, _WANT_Z, strict=True)):
            values, z = advance(
                entity(kind, key),
                ms=ms,
                amount=amount,
                log_amount=log_amount,
                declined=dec_i,
                want_z=want_z,
            )
            out.extend(values)
            if want_z:
                zs.append(z)
        out.extend(zs)

    def entity_count(self, kind: str) -> int:
        return len(self._tracks[kind])


def bulk_sequence_features(
    frame: pd.DataFrame, *, amount: np.ndarray, log_amount: np.ndarray
) -> pd.DataFrame:
    """Sequence features for a time-ordered frame, vectorised (same definition as the state)."""
    n = len(frame)
    ms = np.rint(frame["ts"].to_numpy(dtype=np.float64) * 1000.0).astype(np.int64)
    if n and np.any(np.diff(ms) < 0):
        raise ValueError("frame must be sorted by time")
    declined = frame["declined"].to_numpy(dtype=bool).astype(np.int64)
    cols: dict[str, np.ndarray] = {}
    rel = ms - (ms.min() if n else 0)
    span = np.int64(int(rel.max()) + max(WINDOWS_MS.values()) + 1 if n else 1)
    order = np.arange(n)
    for kind in KINDS:
        codes, _ = pd.factorize(frame[_KIND_COLUMN[kind]], sort=False)
        codes = codes.astype(np.int64)
        perm = np.lexsort((order, codes))
        c_s, rel_s = codes[perm], rel[perm]
        keys = c_s * span + rel_s
        first = np.r_[True, c_s[1:] != c_s[:-1]] if n else np.zeros(0, dtype=bool)
        g0 = np.maximum.accumulate(np.where(first, np.arange(n), 0)) if n else first.astype(int)
        pos = np.arange(n)
        amt_c = np.r_[0.0, np.cumsum(amount[perm])]
        dec_c = np.r_[0, np.cumsum(declined[perm])]
        res: dict[str, np.ndarray] = {}
        for w in _COUNT_WINDOWS:
            left = np.maximum(np.searchsorted(keys, keys - WINDOWS_MS[w], side="right"), g0)
            res[f"{kind}_n_{w}"] = (pos - left).astype(np.float64)
            if w in _SUM_WINDOWS:
                res[f"{kind}_sum_{w}"] = amt_c[pos] - amt_c[left]
            if w in _DECLINE_WINDOWS:
                res[f"{kind}_declines_{w}"] = (dec_c[pos] - dec_c[left]).astype(np.float64)
        prev = np.where(first, 0, np.r_[0, rel_s[:-1]] if n else rel_s)
        res[f"{kind}_since_last_h"] = np.where(first, np.nan, (rel_s - prev) / 3_600_000.0)
        if kind in Z_KINDS:
            x = log_amount[perm]
            sx_c = np.r_[0.0, np.cumsum(x)]
            sx2_c = np.r_[0.0, np.cumsum(x * x)]
            cnt = (pos - g0).astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = (sx_c[pos] - sx_c[g0]) / cnt
                var = np.maximum((sx2_c[pos] - sx2_c[g0]) / cnt - mean * mean, 0.0)
                z = (x - mean) / np.maximum(np.sqrt(var), STD_FLOOR)
            res[f"{kind}_amount_z"] = np.where(cnt >= 2, z, np.nan)
        inv = np.empty(n, dtype=np.int64)
        inv[perm] = np.arange(n)
        for name, values in res.items():
            cols[name] = values[inv]
    return pd.DataFrame({name: cols[name] for name in SEQUENCE_FEATURES}, index=frame.index)


__all__ = [
    "KINDS",
    "SEQUENCE_FEATURES",
    "WINDOWS_MS",
    "SequenceState",
    "bulk_sequence_features",
    "to_ms",
]
