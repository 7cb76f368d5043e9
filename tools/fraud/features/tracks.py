"""Every entity's velocity track in a few flat arrays: the state behind the sequence features.

A track is one entity's recent event times (integer milliseconds, clamped to its running
maximum), its running amount and decline sums (index 0 = zero) and three window pointers.
Each track is a segment of three shared arenas (``t``, ``c``, ``d``) with room to grow; per
entity scalars (segment offset, length, capacity, pointers, totals) are flat arrays indexed by
an entity number that a per-kind dict hands out in order of first sight.

Why flat: a dataclass holding three lists per entity is four collector-tracked objects per
entity (~20k for the demo tenant), walked by every full collection, and a batch had to copy
each touched track out to numpy and back. Here the collector sees a handful of ``array``
objects, and a batch works on numpy views of them in place
(:mod:`tools.fraud.features.sequence_batch`).

:meth:`TrackStore.advance` is the one-event definition the streaming path runs; the batch path
must answer and leave exactly what it does. A numpy view of an arena must never outlive the
function that made it: an ``array`` cannot grow while a view holds its buffer.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np

WINDOW_ORDER: tuple[int, int, int] = (3_600_000, 86_400_000, 604_800_000)
"""The 1 h, 24 h and 7 d windows in milliseconds, ascending: the order of the pointers."""
COMPACT_AT = 64
"""Drop expired events once at least this many and half the track."""
STD_FLOOR = 0.05
"""Log-amount units: keeps a customer with identical amounts from dividing by ~0."""
EMPTY = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, math.nan)
"""The eight velocity features of an entity's first event."""
_MIN_CAP = 8
_SLACK = 1 << 16
"""Arena entries beyond twice the live segments before the arenas are rebuilt."""


@dataclass(frozen=True, slots=True)
class Track:
    """A snapshot of one entity's track (for inspection and tests; the state is the store)."""

    ms: list[int]
    """Event times, each clamped to the running maximum."""
    amt_cum: list[float]
    """Running amount sums, index 0 = zero (re-based when the track compacts)."""
    dec_cum: list[int]
    """Running decline counts, index 0 = zero."""
    starts: list[int]
    """Window pointers (1 h, 24 h, 7 d): the first event inside each window."""
    n_all: int
    """Events ever seen, compacted ones included."""
    sx: float
    """Sum of log-amounts of every event."""
    sx2: float
    """Sum of squared log-amounts of every event."""


def i64(buf: array) -> np.ndarray:  # type: ignore[type-arg]
    """A numpy view of an int64 ``array`` (valid until the array grows)."""
    return np.frombuffer(buf, dtype=np.int64)


def f64(buf: array) -> np.ndarray:  # type: ignore[type-arg]
    """A numpy view of a float64 ``array`` (valid until the array grows)."""
    return np.frombuffer(buf, dtype=np.float64)


def _first_inside(times: array[int], p: int, end: int, lim: int) -> int:
    """The first position from ``p`` (before ``end``) whose time is after ``lim``: where a
    window reaching back to ``lim`` starts."""
    while p < end and times[p] <= lim:
        p += 1
    return p


class TrackStore:
    """All tracks of every entity kind, as flat arrays (see the module docstring)."""

    def __init__(self, kinds: int) -> None:
        self.ids: tuple[dict[str, int], ...] = tuple({} for _ in range(kinds))
        """Per kind: entity key -> entity number."""
        self.off = array("q")
        self.size = array("q")
        self.cap = array("q")
        self.s1 = array("q")
        self.s24 = array("q")
        self.s7 = array("q")
        self.n_all = array("q")
        self.sx = array("d")
        self.sx2 = array("d")
        self.t = array("q")
        """Arena of event times; a segment uses ``size`` of its ``cap`` slots."""
        self.c = array("d")
        """Arena of running amount sums; a segment uses ``size + 1`` slots."""
        self.d = array("q")
        """Arena of running decline counts; laid out as ``c``."""
        self.live = 0
        """Arena slots inside live segments (the rest was left behind by moves)."""
        self.slack = _SLACK
        """Arena slots beyond twice ``live`` tolerated before the arenas are rebuilt."""

    # ---- entities and segments ------------------------------------------------
    def entity(self, kind: int, key: str) -> int:
        """The entity's number, a new empty track if it was never seen."""
        ids = self.ids[kind]
        g = ids.get(key)
        if g is None:
            g = ids[key] = len(self.off)
            for column in (self.off, self.size, self.cap, self.s1, self.s24, self.s7):
                column.append(0)
            self.n_all.append(0)
            self.sx.append(0.0)
            self.sx2.append(0.0)
        return g

    def entities(self, kind: int, keys: list[str]) -> list[int]:
        """Entity numbers of ``keys``; unseen ones are created in order of first appearance."""
        got = list(map(self.ids[kind].get, keys))
        if None in got:
            entity = self.entity
            got = [entity(kind, key) if g is None else g for g, key in zip(got, keys, strict=True)]
        return got  # type: ignore[return-value]

    def extend(self, slots: int) -> int:
        """Grow every arena by ``slots`` zeroed slots; returns where the new slots start."""
        at = len(self.c)
        zeros = bytes(8 * slots)
        self.t.frombytes(zeros)
        self.c.frombytes(zeros)
        self.d.frombytes(zeros)
        return at

    def _move(self, g: int, cap: int) -> None:
        """Give entity ``g`` a segment of ``cap`` slots at the arenas' end, contents kept."""
        self.maybe_rebuild()
        off, size = self.off[g], self.size[g]
        at = self.extend(cap)
        self.t[at : at + size] = self.t[off : off + size]
        self.c[at : at + size + 1] = self.c[off : off + size + 1]
        self.d[at : at + size + 1] = self.d[off : off + size + 1]
        self.live += cap - self.cap[g]
        self.off[g], self.cap[g] = at, cap

    def maybe_rebuild(self) -> None:
        """Lay the live segments end to end again once moves left too much behind."""
        if len(self.c) <= 2 * self.live + self.slack:
            return
        off, size, cap = i64(self.off), i64(self.size), i64(self.cap)
        new_off = np.zeros(len(cap), dtype=np.int64)
        np.cumsum(cap[:-1], out=new_off[1:])
        used = size + 1
        within = np.arange(int(used.sum()), dtype=np.int64) - np.repeat(
            np.cumsum(used) - used, used
        )
        src = np.repeat(off, used) + within
        dst = np.repeat(new_off, used) + within
        total = int(cap.sum())
        arenas = []
        for old, kind in ((self.t, np.int64), (self.c, np.float64), (self.d, np.int64)):
            fresh = np.zeros(total, dtype=kind)
            fresh[dst] = np.frombuffer(old, dtype=kind)[src]
            arenas.append(fresh.tobytes())
        off[:] = new_off
        del off, size, cap, src
        self.t, self.c, self.d = array("q"), array("d"), array("q")
        self.t.frombytes(arenas[0])
        self.c.frombytes(arenas[1])
        self.d.frombytes(arenas[2])
        self.live = total

    # ---- one event ---------------------------------------------------------------
    def advance(
        self,
        g: int,
        *,
        ms: int,
        amount: float,
        log_amount: float,
        declined: int,
        want_z: bool,
    ) -> tuple[tuple[float, ...], float]:
        """Entity ``g``'s eight velocity features and amount z-score (NaN unless ``want_z``)
        from its earlier events; then the event joins its track (compacted when due)."""
        n = self.size[g]
        sq = log_amount * log_amount
        if n + 2 > self.cap[g]:
            self._move(g, max(_MIN_CAP, 2 * (n + 2)))
        off = self.off[g]
        times, cum, dec = self.t, self.c, self.d
        if n == 0:
            times[off] = ms
            cum[off] = 0.0
            cum[off + 1] = 0.0 + amount
            dec[off] = 0
            dec[off + 1] = declined
            self.size[g] = 1
            self.n_all[g] = 1
            self.sx[g] = 0.0 + log_amount
            self.sx2[g] = 0.0 + sq
            self.s1[g] = self.s24[g] = self.s7[g] = 0
            return EMPTY, math.nan
        w1, w24, w7 = WINDOW_ORDER
        end = off + n
        # Widest window first: a narrower window starts no earlier than a wider one.
        p7 = _first_inside(times, off + self.s7[g], end, ms - w7)
        p24 = _first_inside(times, max(off + self.s24[g], p7), end, ms - w24)
        p1 = _first_inside(times, max(off + self.s1[g], p24), end, ms - w1)
        c_n = cum[end]
        d_n = dec[end]
        last = times[end - 1]
        # Counts stay ints here (numpy converts); float() calls cost on the hot path.
        values = (
            end - p1,
            end - p24,
            end - p7,
            c_n - cum[p1],
            c_n - cum[p24],
            d_n - dec[p1],
            d_n - dec[p24],
            (ms - last) / 3_600_000.0,
        )
        z = math.nan
        k = self.n_all[g]
        if want_z and k >= 2:
            mean = self.sx[g] / k
            var = self.sx2[g] / k - mean * mean
            sd = math.sqrt(var) if var > 0.0 else 0.0
            z = (log_amount - mean) / (sd if sd > STD_FLOOR else STD_FLOOR)
        # Late events are clamped to the entity's last time so windows stay monotone.
        times[end] = last if ms < last else ms
        cum[end + 1] = c_n + amount
        dec[end + 1] = d_n + declined
        self.size[g] = n + 1
        self.n_all[g] = k + 1
        self.sx[g] += log_amount
        self.sx2[g] += sq
        self.s1[g], self.s24[g], self.s7[g] = p1 - off, p24 - off, p7 - off
        if p7 - off >= COMPACT_AT:
            self.compact(g)
        return values, z

    def compact(self, g: int) -> None:
        """Drop the events older than the longest window (they can never count again) once
        they are at least ``COMPACT_AT`` and half the track; re-base the running sums."""
        cut = self.s7[g]
        size = self.size[g]
        if cut < COMPACT_AT or 2 * cut < size:
            return
        off = self.off[g] + cut
        cum, dec = f64(self.c), i64(self.d)
        cum[off : off + size - cut + 1] -= cum[off]
        dec[off : off + size - cut + 1] -= dec[off]
        del cum, dec
        self.off[g] = off
        self.size[g] = size - cut
        self.cap[g] -= cut
        self.live -= cut
        self.s1[g] -= cut
        self.s24[g] -= cut
        self.s7[g] = 0

    # ---- inspection ----------------------------------------------------------------
    def track(self, g: int) -> Track:
        off, size = self.off[g], self.size[g]
        return Track(
            ms=self.t[off : off + size].tolist(),
            amt_cum=self.c[off : off + size + 1].tolist(),
            dec_cum=self.d[off : off + size + 1].tolist(),
            starts=[self.s1[g], self.s24[g], self.s7[g]],
            n_all=self.n_all[g],
            sx=self.sx[g],
            sx2=self.sx2[g],
        )


class KindTracks(Mapping[str, Track]):
    """One kind's tracks by entity key, in order of first sight (a read-only view)."""

    def __init__(self, store: TrackStore, kind: int) -> None:
        self._store = store
        self._ids = store.ids[kind]

    def __getitem__(self, key: str) -> Track:
        return self._store.track(self._ids[key])

    def __contains__(self, key: object) -> bool:
        return key in self._ids  # without building the snapshot that __getitem__ would

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


__all__ = ["COMPACT_AT", "EMPTY", "STD_FLOOR", "WINDOW_ORDER", "KindTracks", "Track", "TrackStore"]
