"""Velocity features for a chunk of transactions at once, against the streaming state.

:func:`sequence_matrix` answers, for every transaction of a time-ordered chunk, exactly what
:meth:`~tools.fraud.features.sequence.SequenceState.step` would answer one at a time (the same
floats, bit for bit), and leaves every track as the steps would have left it. Python work is
per *entity* touched (read its live window, write its new events back), the arithmetic is
numpy over the whole chunk.

Why the arithmetic can be vectorised and still be exact:

* A track's stored times are the running maximum of its events' times (late events are
  clamped), and each window pointer equals ``searchsorted(times, M - w, "right")`` with ``M``
  the running maximum including the current event (pointers only move forward). So all
  windows of the chunk are one ``searchsorted`` over every entity's times laid end to end.
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

from tools.fraud.features.sequence import (
    _COMPACT_AT,
    _STD_FLOOR,
    _WANT_Z,
    _WINDOW_ORDER,
    KINDS,
    SEQUENCE_FEATURES,
    Z_KINDS,
    _Track,
    advance,
)

_PER_KIND = 8  # columns per kind before the z-scores: n x3, sum x2, declines x2, since-last
_Z_COL = {kind: len(KINDS) * _PER_KIND + i for i, kind in enumerate(Z_KINDS)}
_Z_COL_OF_KIND = np.array([_Z_COL.get(kind, -1) for kind in KINDS], dtype=np.int64)
"""Per kind (``KINDS`` order), its z-score column, or -1 when it has none."""
_NO_TIME = np.iinfo(np.int64).min // 4
"""Last time of an entity not seen before: below any event, so the running max is the event."""
_NEW = (0.0, 0.0, 0.0, 0.0, 0.0, float(_NO_TIME))
"""An entity not seen before: no live events, no totals, no last time."""


def _offsets(counts: np.ndarray) -> np.ndarray:
    """Exclusive cumulative sum: where each group's run starts in a flat layout."""
    out = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=out[1:])
    return out


def _within(counts: np.ndarray, total: int) -> np.ndarray:
    """Position of each item inside its group's run, for runs of ``counts`` laid end to end."""
    out: np.ndarray = np.arange(total, dtype=np.int64) - np.repeat(_offsets(counts), counts)
    return out


def sequence_matrix(
    by_kind: Sequence[dict[str, _Track]],
    keys: Sequence[Sequence[str]],
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

    # ---- gather: per entity touched, its live window (pointer on) and running totals ----
    groups: list[tuple[int, str, _Track | None]] = []
    meta: list[tuple[float, float, float, float, float, float]] = []
    hist_t: list[int] = []
    hist_c: list[float] = []
    hist_d: list[int] = []
    codes: list[int] = []
    for kind, (tracks, kind_keys) in enumerate(zip(by_kind, keys, strict=True)):
        # Entities in order of first appearance (the order the steps would create them in).
        firsts = dict.fromkeys(kind_keys)
        index = dict(zip(firsts, range(len(groups), len(groups) + len(firsts)), strict=True))
        codes += map(index.__getitem__, kind_keys)
        for key in index:
            track = tracks.get(key)
            groups.append((kind, key, track))
            if track is None:
                meta.append(_NEW)
                hist_c.append(0.0)
                hist_d.append(0)
                continue
            times = track.ms
            s7 = track.starts[2]
            hist_t += times[s7:]
            hist_c += track.amt_cum[s7:]
            hist_d += track.dec_cum[s7:]
            meta.append((s7, len(times), track.n_all, track.sx, track.sx2, times[-1]))

    n_groups = len(groups)
    # Integer columns are exact in float64 here (counts, and epoch milliseconds < 2**53).
    meta_a = np.array(meta, dtype=np.float64).reshape(n_groups, 6)
    s7_g, nh_g, nall_g, last_g = meta_a[:, [0, 1, 2, 5]].astype(np.int64).T
    sx_g, sx2_g = meta_a[:, 3], meta_a[:, 4]
    h_g = nh_g - s7_g  # live history events per entity (window pointer on)

    # ---- events, grouped by entity (kinds stay in blocks of n), in arrival order ----
    ev_g = np.asarray(codes, dtype=np.int64)
    order = np.argsort(ev_g, kind="stable")
    sg = ev_g[order]
    sj = order % n
    k_g = np.bincount(ev_g, minlength=n_groups)
    first = _offsets(k_g)
    rank = np.arange(len(sg), dtype=np.int64) - first[sg]
    ms_a = np.asarray(ms, dtype=np.int64)
    ms_s = ms_a[sj]
    amt_s = np.asarray(amount, dtype=np.float64)[sj]
    la_s = np.asarray(log_amount, dtype=np.float64)[sj]
    dec_s = np.asarray(declined, dtype=np.int64)[sj]

    # ---- running values, one event per entity per round (the streaming additions' order) ----
    add3 = np.stack((amt_s, la_s, la_s * la_s), axis=1)
    cum_base = np.asarray(hist_c, dtype=np.float64)
    dec_base = np.asarray(hist_d, dtype=np.int64)
    cb = _offsets(h_g + 1 + k_g)  # per entity: its h+1 running sums, then one per new event
    hist_cpos = np.repeat(cb, h_g + 1) + _within(h_g + 1, len(hist_c))
    at_n = _offsets(h_g + 1) + h_g  # each entity's totals so far in the gathered history
    base3 = np.stack((cum_base[at_n], sx_g, sx2_g), axis=1)
    acc3 = np.empty_like(add3)
    by_rank = np.argsort(rank, kind="stable")
    add_r = add3[by_rank]
    bounds = np.cumsum(np.bincount(rank)).tolist()
    head = by_rank[: bounds[0]]  # every entity's first event in the chunk
    acc3[head] = base3[sg[head]] + add_r[: bounds[0]]
    for lo, hi in itertools.pairwise(bounds):
        sel = by_rank[lo:hi]
        acc3[sel] = acc3[sel - 1] + add_r[lo:hi]
    prev3 = np.empty_like(acc3)
    prev3[1:] = acc3[:-1]
    prev3[head] = base3[sg[head]]
    # Stored times: the running maximum per entity (offset per entity so one pass serves all).
    ms_range = int(ms_s.max()) - int(ms_s.min()) + 1
    if ms_range * n_groups >= 2**62:
        raise OverflowError("time span too wide for one chunk")
    lift = sg * ms_range
    m_run = np.maximum(np.maximum.accumulate(ms_s + lift) - lift, last_g[sg])
    m_prev = np.empty_like(m_run)
    m_prev[1:] = m_run[:-1]
    m_prev[head] = last_g[sg[head]]
    dec_run = np.cumsum(dec_s)
    dec_after = dec_base[at_n][sg] + dec_run - (dec_run - dec_s)[first][sg]

    # ---- every entity's times end to end: one searchsorted per window ----
    tb = _offsets(h_g + k_g)
    n_hist = len(hist_t)
    hist_ta = np.asarray(hist_t, dtype=np.int64)
    t_all = np.empty(n_hist + len(sg), dtype=np.int64)
    hist_tpos = np.repeat(tb, h_g) + _within(h_g, n_hist)
    t_all[hist_tpos] = hist_ta
    t_all[tb[sg] + h_g[sg] + rank] = m_run
    g_all = np.repeat(np.arange(n_groups, dtype=np.int64), h_g + k_g)
    t_min = int(t_all.min()) - max(_WINDOW_ORDER)
    span = int(t_all.max()) - t_min + 1
    if span * n_groups >= 2**62:
        raise OverflowError("time span too wide for one chunk")
    keys_all = g_all * span + (t_all - t_min)
    c_all = np.empty(len(hist_c) + len(sg), dtype=np.float64)
    c_all[hist_cpos] = cum_base
    c_all[cb[sg] + h_g[sg] + 1 + rank] = acc3[:, 0]
    d_all = np.empty(len(hist_c) + len(sg), dtype=np.int64)
    d_all[hist_cpos] = dec_base
    d_all[cb[sg] + h_g[sg] + 1 + rank] = dec_after

    prior = h_g[sg] + rank  # earlier events still in the entity's live window
    row_key = sg * span - t_min
    c_idx = cb[sg]
    c_n = prev3[:, 0]
    d_n = d_all[c_idx + prior]
    p_rel: list[np.ndarray] = []
    for w in _WINDOW_ORDER:
        pos = np.searchsorted(keys_all, row_key + (m_run - w), side="right")
        p_rel.append(np.maximum(pos - tb[sg], 0))
    p1, p24, p7 = p_rel
    cols = (
        prior - p1,
        prior - p24,
        prior - p7,
        c_n - c_all[c_idx + p1],
        c_n - c_all[c_idx + p24],
        d_n - d_all[c_idx + p1],
        d_n - d_all[c_idx + p24],
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        since = np.where(
            m_prev == _NO_TIME, np.nan, (ms_s - m_prev).astype(np.float64) / 3_600_000.0
        )
        k_prior = nall_g[sg] + rank
        mean = prev3[:, 1] / k_prior
        var = prev3[:, 2] / k_prior - mean * mean
        sd = np.sqrt(np.where(var > 0.0, var, 0.0))
        z = (la_s - mean) / np.where(sd > _STD_FLOOR, sd, _STD_FLOOR)
    z = np.where(k_prior >= 2, z, np.nan)
    for kind, want_z in enumerate(_WANT_Z):
        block = slice(kind * n, (kind + 1) * n)
        rows = sj[block]
        col0 = kind * _PER_KIND
        for c, values in enumerate(cols):
            out[rows, col0 + c] = values[block]
        out[rows, col0 + 7] = since[block]
        if want_z:
            out[rows, _Z_COL[KINDS[kind]]] = z[block]

    # ---- write back; an entity that compacts inside the chunk is stepped one by one ----
    p7_t = s7_g[sg] + p7
    due = (p7_t >= _COMPACT_AT) & (2 * p7_t >= nh_g[sg] + rank + 1)
    stepped = set(np.unique(sg[due]).tolist())
    last = first + k_g - 1
    m_list = m_run.tolist()
    c_list = acc3[:, 0].tolist()
    d_list = dec_after.tolist()
    starts_t = np.stack([s7_g[sg] + p for p in p_rel], axis=1)[last].tolist()
    sx_end = acc3[last, 1].tolist()
    sx2_end = acc3[last, 2].tolist()
    k_list = k_g.tolist()
    first_list = first.tolist()
    step_at: list[tuple[int, int]] = []
    step_values: list[float] = []
    step_z: list[float] = []
    for g, (kind, key, track) in enumerate(groups):
        a = first_list[g]
        b = a + k_list[g]
        if g in stepped:
            for j in (order[a:b] % n).tolist():
                values, z_j = advance(
                    by_kind[kind],
                    key,
                    ms=ms[j],
                    amount=amount[j],
                    log_amount=log_amount[j],
                    declined=declined[j],
                    want_z=_WANT_Z[kind],
                )
                step_at.append((j, kind))
                step_values += values
                step_z.append(z_j)
            continue
        if track is None:
            by_kind[kind][key] = _Track(
                ms=m_list[a:b],
                amt_cum=[0.0, *c_list[a:b]],
                dec_cum=[0, *d_list[a:b]],
                starts=starts_t[g],
                n_all=k_list[g],
                sx=sx_end[g],
                sx2=sx2_end[g],
            )
            continue
        track.ms += m_list[a:b]
        track.amt_cum += c_list[a:b]
        track.dec_cum += d_list[a:b]
        track.starts = starts_t[g]
        track.n_all += k_list[g]
        track.sx = sx_end[g]
        track.sx2 = sx2_end[g]
    if step_at:  # the stepped entities' answers replace the vectorised ones
        at = np.array(step_at, dtype=np.int64)
        rows, kinds = at[:, 0], at[:, 1]
        out[rows[:, None], kinds[:, None] * _PER_KIND + np.arange(_PER_KIND)] = np.array(
            step_values, dtype=np.float64
        ).reshape(-1, _PER_KIND)
        z_rows = _Z_COL_OF_KIND[kinds] >= 0
        out[rows[z_rows], _Z_COL_OF_KIND[kinds[z_rows]]] = np.array(step_z)[z_rows]
    return out


__all__ = ["sequence_matrix"]
