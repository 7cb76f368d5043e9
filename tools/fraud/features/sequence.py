"""Sequence / velocity features per card, customer, device and IP — streaming and bulk.

Two implementations of one definition:

* :class:`SequenceState` keeps, per entity, its recent event times (integer
  milliseconds), cumulative amount and decline sums, and window pointers. It
  answers for a new transaction from strictly earlier events, then records it.
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

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

KINDS: tuple[str, ...] = ("card", "customer", "device", "ip")
_KIND_COLUMN = {"card": "card_id", "customer": "customer_id", "device": "device_id", "ip": "ip"}
WINDOWS_MS: dict[str, int] = {"1h": 3_600_000, "24h": 86_400_000, "7d": 604_800_000}
_COUNT_WINDOWS = ("1h", "24h", "7d")
_SUM_WINDOWS = ("1h", "24h")
_DECLINE_WINDOWS = ("1h", "24h")
Z_KINDS: tuple[str, ...] = ("card", "customer")
_STD_FLOOR = 0.05  # log-amount units: keeps a customer with identical amounts from dividing by ~0
_COMPACT_AT = 64  # drop expired events once at least this many and half the track


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


@dataclass(slots=True)
class _Track:
    """One entity's history: event times and cumulative sums (index 0 = zero)."""

    ms: list[int] = field(default_factory=list)
    amt_cum: list[float] = field(default_factory=lambda: [0.0])
    dec_cum: list[int] = field(default_factory=lambda: [0])
    starts: list[int] = field(default_factory=lambda: [0, 0, 0])
    n_all: int = 0
    sx: float = 0.0
    sx2: float = 0.0

    def compact(self) -> None:
        # Events older than the longest window can never count again: drop them.
        cut = self.starts[-1]
        if cut < _COMPACT_AT or 2 * cut < len(self.ms):
            return
        self.ms = self.ms[cut:]
        base_a, base_d = self.amt_cum[cut], self.dec_cum[cut]
        self.amt_cum = [a - base_a for a in self.amt_cum[cut:]]
        self.dec_cum = [d - base_d for d in self.dec_cum[cut:]]
        self.starts = [s - cut for s in self.starts]


_WINDOW_ORDER = tuple(WINDOWS_MS.values())  # ascending, matches _Track.starts
_EMPTY = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, math.nan)
_WANT_Z = tuple(k in Z_KINDS for k in KINDS)


def advance(
    tracks: dict[str, _Track],
    key: str,
    *,
    ms: int,
    amount: float,
    log_amount: float,
    declined: int,
    want_z: bool,
) -> tuple[tuple[float, ...], float]:
    """One entity's eight velocity features and amount z-score (NaN unless ``want_z``) from
    its earlier events; then the event joins its track (created if new, compacted when due).

    The one definition the streaming path runs, and the batch path
    (:mod:`tools.fraud.features.sequence_batch`) falls back to for a track it must compact.
    """
    track = tracks.get(key)
    sq = log_amount * log_amount
    if track is None:
        track = tracks[key] = _Track()
        track.ms.append(ms)
        track.amt_cum.append(0.0 + amount)
        track.dec_cum.append(declined)
        track.n_all = 1
        track.sx += log_amount
        track.sx2 += sq
        return _EMPTY, math.nan
    w1, w24, w7 = _WINDOW_ORDER
    times = track.ms
    n = len(times)
    starts = track.starts
    p = starts[2]
    lim = ms - w7
    while p < n and times[p] <= lim:
        p += 1
    starts[2] = p7 = p
    p = starts[1]
    if p < p7:
        p = p7
    lim = ms - w24
    while p < n and times[p] <= lim:
        p += 1
    starts[1] = p24 = p
    p = starts[0]
    if p < p24:
        p = p24
    lim = ms - w1
    while p < n and times[p] <= lim:
        p += 1
    starts[0] = p1 = p
    cum = track.amt_cum
    dec = track.dec_cum
    c_n = cum[n]
    d_n = dec[n]
    last = times[n - 1]
    # Counts stay ints here (numpy converts); float() calls cost on the hot path.
    values = (
        n - p1,
        n - p24,
        n - p7,
        c_n - cum[p1],
        c_n - cum[p24],
        d_n - dec[p1],
        d_n - dec[p24],
        (ms - last) / 3_600_000.0,
    )
    z = math.nan
    if want_z:
        k = track.n_all
        if k >= 2:
            mean = track.sx / k
            var = track.sx2 / k - mean * mean
            sd = math.sqrt(var) if var > 0.0 else 0.0
            z = (log_amount - mean) / (sd if sd > _STD_FLOOR else _STD_FLOOR)
    # Late events are clamped to the entity's last time so windows stay monotone.
    times.append(last if ms < last else ms)
    cum.append(c_n + amount)
    dec.append(d_n + declined)
    track.n_all += 1
    track.sx += log_amount
    track.sx2 += sq
    if p7 >= _COMPACT_AT:
        track.compact()
    return values, z


class SequenceState:
    """Per-entity velocity state for streaming scoring (time-ordered input)."""

    def __init__(self) -> None:
        self._tracks: dict[str, dict[str, _Track]] = {k: {} for k in KINDS}
        self.by_kind: tuple[dict[str, _Track], ...] = tuple(self._tracks[k] for k in KINDS)
        """Each kind's tracks by entity key, in ``KINDS`` order."""

    def step(
        self,
        keys: tuple[str, str, str, str],
        *,
        ms: int,
        amount: float,
        log_amount: float,
        declined: bool,
        out: list[float],
    ) -> None:
        """Append the sequence features (from earlier events only), then record the event.

        ``keys`` are the transaction's card, customer, device and IP (``KINDS`` order).
        """
        zs: list[float] = []
        dec_i = 1 if declined else 0
        for tracks, key, want_z in zip(self.by_kind, keys, _WANT_Z, strict=True):
            values, z = advance(
                tracks,
                key,
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
                z = (x - mean) / np.maximum(np.sqrt(var), _STD_FLOOR)
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
