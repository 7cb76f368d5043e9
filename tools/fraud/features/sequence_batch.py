"""Velocity features for a chunk of transactions at once, against the streaming state.

:func:`sequence_matrix` answers, for every transaction of a time-ordered chunk, exactly what
:meth:`~tools.fraud.features.tracks.TrackStore.advance` would answer one event at a time (the
same floats, bit for bit), and leaves every track as the steps would have left it. The tracks
are flat arrays (:mod:`tools.fraud.features.tracks`): the chunk's events are written into
them and every window is searched in place, all in numpy; Python work is per transaction
(its entity numbers), not per history event.

Why the arithmetic can be vectorised and still be exact:

* A track's stored times are the running maximum of its events' times (late events are
  clamped), and each window pointer equals ``searchsorted(times, M - w, "right")`` with ``M``
  the running maximum including the current event (pointers only move forward). So every
  window of the chunk is one binary search per event over its own entity's segment.
* Running sums (amount, log-amount and its square) must round as the streaming additions do:
  they are accumulated one event per entity per round, across all entities at once, in the
  same order. A chunk rarely holds more than a few dozen events of one entity.
* Compaction re-bases the running amount sums, which changes later roundings: an entity whose
  track compacts inside the chunk is stepped one event at a time instead (it happens at most
  once per 64 events of an entity).

It never reorders events of one entity and never reads another entity's state.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from tools.fraud.features.sequence import _WANT_Z, KINDS, SEQUENCE_FEATURES, Z_KINDS
from tools.fraud.features.tracks import COMPACT_AT, STD_FLOOR, WINDOW_ORDER, TrackStore, f64, i64

_PER_KIND = 8  # columns per kind before the z-scores: n x3, sum x2, declines x2, since-last
_Z_COL = {kind: len(KINDS) * _PER_KIND + i for i, kind in enumerate(Z_KINDS)}
_Z_COL_OF_KIND = np.array([_Z_COL.get(kind, -1) for kind in KINDS], dtype=np.int64)
"""Per kind (``KINDS`` order), its z-score column, or -1 when it has none."""
_NO_TIME = np.iinfo(np.int64).min // 4
"""Last time of an entity not seen before: below any event, so the running max is the event."""
_WINDOWS = np.array(WINDOW_ORDER, dtype=np.int64)
_MIN_CAP = 8


def _offsets(counts: np.ndarray) -> np.ndarray:
    """Exclusive cumulative sum: where each group's run starts in a flat layout."""
    out = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=out[1:])
    return out


def _within(counts: np.ndarray, total: int) -> np.ndarray:
    """Position of each item inside its group's run, for runs of ``counts`` laid end to end."""
    out: np.ndarray = np.arange(total, dtype=np.int64) - np.repeat(_offsets(counts), counts)
    return out


def _reserve(store: TrackStore, ug: np.ndarray, need: np.ndarray) -> None:
    """Move every entity of ``ug`` whose segment has fewer than ``need`` slots to a larger one
    at the arenas' end (contents kept)."""
    cap_all = i64(store.cap)
    short = need > cap_all[ug]
    if not short.any():
        return
    moved = ug[short]
    new_cap = np.maximum(2 * need[short], _MIN_CAP)
    old_off = i64(store.off)[moved]
    used = i64(store.size)[moved] + 1
    store.live += int(new_cap.sum() - cap_all[moved].sum())
    del cap_all
    at = store.extend(int(new_cap.sum()))
    new_off = at + _offsets(new_cap)
    within = _within(used, int(used.sum()))
    src = np.repeat(old_off, used) + within
    dst = np.repeat(new_off, used) + within
    for arena, view in ((store.t, i64), (store.c, f64), (store.d, i64)):
        values = view(arena)
        values[dst] = values[src]
    i64(store.off)[moved] = new_off
    i64(store.cap)[moved] = new_cap


def _search(times: np.ndarray, lo: np.ndarray, hi: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Per item, the first index in ``times[lo:hi]`` (sorted) whose value exceeds ``target``:
    ``lo + searchsorted(times[lo:hi], target, "right")``, for every item at once."""
    lo, hi = lo.copy(), hi.copy()
    live = np.flatnonzero(lo < hi)
    while len(live):
        a, b = lo[live], hi[live]
        mid = (a + b) >> 1
        right = times[mid] <= target[live]
        a = np.where(right, mid + 1, a)
        b = np.where(right, b, mid)
        lo[live], hi[live] = a, b
        live = live[a < b]
    return lo


def sequence_matrix(
    store: TrackStore,
    keys: Sequence[list[str]],
    *,
    ms: list[int],
    amount: list[float],
    log_amount: list[float],
    declined: list[int],
) -> np.ndarray:
    """The ``SEQUENCE_FEATURES`` rows of a chunk (``keys[k][j]``: transaction j's entity of
    ``KINDS[k]``), recording every event in the tracks as the streaming steps would."""
    n = len(ms)
    out = np.empty((n, len(SEQUENCE_FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    events: list[int] = []
    for kind, kind_keys in enumerate(keys):  # entities created in order of first appearance
        events += store.entities(kind, kind_keys)
    stepped = _vectorised(store, events, out, ms, amount, log_amount, declined)
    # ---- an entity that compacts inside the chunk is stepped one event at a time ----
    step_at: list[tuple[int, int]] = []
    step_values: list[float] = []
    step_z: list[float] = []
    advance = store.advance
    for g, event_list in stepped:
        for e in event_list:
            kind, j = divmod(e, n)
            values, z_j = advance(
                g,
                ms=ms[j],
                amount=amount[j],
                log_amount=log_amount[j],
                declined=declined[j],
                want_z=_WANT_Z[kind],
            )
            step_at.append((j, kind))
            step_values += values
            step_z.append(z_j)
    if step_at:  # the stepped entities' answers replace the vectorised ones
        at = np.array(step_at, dtype=np.int64)
        rows, kinds = at[:, 0], at[:, 1]
        out[rows[:, None], kinds[:, None] * _PER_KIND + np.arange(_PER_KIND)] = np.array(
            step_values, dtype=np.float64
        ).reshape(-1, _PER_KIND)
        z_rows = _Z_COL_OF_KIND[kinds] >= 0
        out[rows[z_rows], _Z_COL_OF_KIND[kinds[z_rows]]] = np.array(step_z)[z_rows]
    store.maybe_rebuild()
    return out


def _vectorised(
    store: TrackStore,
    events: list[int],
    out: np.ndarray,
    ms: list[int],
    amount: list[float],
    log_amount: list[float],
    declined: list[int],
) -> list[tuple[int, list[int]]]:
    """Fill ``out`` and record the chunk's events; returns the entities whose tracks compact
    inside the chunk (left as they were, with their events in order) for stepping.

    Every view of the store's arrays dies with this call (the stepping may grow them)."""
    n = len(ms)
    # ---- events grouped by entity, in arrival order (event e: kind e // n, payment e % n) ----
    ev = np.asarray(events, dtype=np.int64)
    order = np.argsort(ev, kind="stable")
    ev_s = ev[order]
    head_mask = np.empty(len(ev_s), dtype=bool)
    head_mask[0] = True
    np.not_equal(ev_s[1:], ev_s[:-1], out=head_mask[1:])
    head = np.flatnonzero(head_mask)  # every entity's first event in the chunk
    ug = ev_s[head]  # the entities touched, one each
    sg = np.cumsum(head_mask) - 1  # per sorted event: its entity's index in ug
    k_g = np.diff(np.append(head, len(ev_s)))
    rank = np.arange(len(ev_s), dtype=np.int64) - head[sg]
    sj = order % n

    size_g = i64(store.size)[ug]
    _reserve(store, ug, size_g + k_g + 1)
    off_g = i64(store.off)[ug]
    s7_g = i64(store.s7)[ug]
    nall_g = i64(store.n_all)[ug]
    t_arena, c_arena, d_arena = i64(store.t), f64(store.c), i64(store.d)
    end_g = off_g + size_g  # where each entity's next event goes
    last_g = np.where(size_g > 0, t_arena[end_g - 1], _NO_TIME)

    ms_s = np.asarray(ms, dtype=np.int64)[sj]
    amt_s = np.asarray(amount, dtype=np.float64)[sj]
    la_s = np.asarray(log_amount, dtype=np.float64)[sj]
    dec_s = np.asarray(declined, dtype=np.int64)[sj]

    # ---- running values, one event per entity per round (the streaming additions' order) ----
    add3 = np.stack((amt_s, la_s, la_s * la_s), axis=1)
    base3 = np.stack((c_arena[end_g], f64(store.sx)[ug], f64(store.sx2)[ug]), axis=1)
    acc3 = np.empty_like(add3)
    m_run = np.empty_like(ms_s)
    by_rank = np.argsort(rank, kind="stable")
    add_r, ms_r = add3[by_rank], ms_s[by_rank]
    bounds = np.cumsum(np.bincount(rank)).tolist()
    first = by_rank[: bounds[0]]
    acc3[first] = base3 + add_r[: bounds[0]]
    m_run[first] = np.maximum(ms_r[: bounds[0]], last_g)
    for lo, hi in itertools.pairwise(bounds):
        sel = by_rank[lo:hi]
        acc3[sel] = acc3[sel - 1] + add_r[lo:hi]
        m_run[sel] = np.maximum(m_run[sel - 1], ms_r[lo:hi])
    prev3 = np.empty_like(acc3)
    prev3[1:] = acc3[:-1]
    prev3[head] = base3
    m_prev = np.empty_like(m_run)
    m_prev[1:] = m_run[:-1]
    m_prev[head] = last_g
    dec_run = np.cumsum(dec_s)
    dec_after = d_arena[end_g][sg] + dec_run - (dec_run - dec_s)[head][sg]

    # ---- the chunk's events join their segments; each window is searched in place ----
    prior = end_g[sg] + rank  # one past the last earlier event of the entity
    t_arena[prior] = m_run
    c_arena[prior + 1] = acc3[:, 0]
    d_arena[prior + 1] = dec_after
    e = len(ms_s)
    found = _search(
        t_arena,
        np.tile(off_g[sg] + s7_g[sg], 3),
        np.tile(prior, 3),
        (m_run[None, :] - _WINDOWS[:, None]).ravel(),
    )
    p1, p24, p7 = found[:e], found[e : 2 * e], found[2 * e :]
    c_n = prev3[:, 0]
    d_n = d_arena[prior]
    cols = (
        prior - p1,
        prior - p24,
        prior - p7,
        c_n - c_arena[p1],
        c_n - c_arena[p24],
        d_n - d_arena[p1],
        d_n - d_arena[p24],
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        since = np.where(
            m_prev == _NO_TIME, np.nan, (ms_s - m_prev).astype(np.float64) / 3_600_000.0
        )
        k_prior = nall_g[sg] + rank
        mean = prev3[:, 1] / k_prior
        var = prev3[:, 2] / k_prior - mean * mean
        sd = np.sqrt(np.where(var > 0.0, var, 0.0))
        z = (la_s - mean) / np.where(sd > STD_FLOOR, sd, STD_FLOOR)
    z = np.where(k_prior >= 2, z, np.nan)
    kind_s = order // n  # entity numbers interleave kinds: each event's kind, sorted order
    col0 = kind_s * _PER_KIND
    for c, values in enumerate(cols):
        out[sj, col0 + c] = values
    out[sj, col0 + 7] = since
    z_col = _Z_COL_OF_KIND[kind_s]
    has_z = z_col >= 0
    out[sj[has_z], z_col[has_z]] = z[has_z]

    # ---- totals and pointers after each entity's last event; compacting ones are stepped ----
    seg = off_g[sg]
    p7_rel = p7 - seg
    due = (p7_rel >= COMPACT_AT) & (2 * p7_rel >= prior - seg + 1)
    stepped = np.zeros(len(ug), dtype=bool)
    stepped[sg[due]] = True
    last = head + k_g - 1
    keep = ~stepped
    kept, at_last = ug[keep], last[keep]
    i64(store.size)[kept] = (size_g + k_g)[keep]
    i64(store.n_all)[kept] = (nall_g + k_g)[keep]
    f64(store.sx)[kept] = acc3[at_last, 1]
    f64(store.sx2)[kept] = acc3[at_last, 2]
    kept_off = off_g[keep]
    i64(store.s1)[kept] = p1[at_last] - kept_off
    i64(store.s24)[kept] = p24[at_last] - kept_off
    i64(store.s7)[kept] = p7[at_last] - kept_off
    if not stepped.any():
        return []
    # Sorted events of one entity are consecutive and in arrival order.
    order_list = order.tolist()
    head_list, k_list = head.tolist(), k_g.tolist()
    return [
        (g, order_list[head_list[i] : head_list[i] + k_list[i]])
        for i, g in zip(np.flatnonzero(stepped).tolist(), ug[stepped].tolist(), strict=True)
    ]


__all__ = ["sequence_matrix"]
