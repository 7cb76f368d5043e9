"""All feature families together: a streaming engine and the bulk pass used for training.

:class:`FeatureEngine` scores one transaction at a time against the state built
from everything seen before (velocity per entity, the entity graph, fraud
labels that have arrived). :func:`bulk_features` computes the same matrix for
a whole time-ordered frame; tabular and sequence columns are vectorised, the
graph columns replay the incremental graph (component sizes are point-in-time,
so they are inherently sequential). Tests check the two agree.

Fraud labels enter as ``(label_ts, customer_id)`` events and only affect
transactions strictly after ``label_ts``.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Iterable, MutableSequence, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tools.fraud.features.graph import GRAPH_FEATURES, EntityGraph
from tools.fraud.features.sequence import (
    SEQUENCE_FEATURES,
    SequenceState,
    bulk_sequence_features,
    to_ms,
)
from tools.fraud.features.sequence_batch import sequence_matrix
from tools.fraud.features.tabular import (
    TABULAR_FEATURES,
    USD_SCALE,
    amounts_usd,
    bulk_tabular_features,
    tabular_row,
)
from tools.fraud.schema import Transaction

FEATURE_FAMILIES: dict[str, tuple[str, ...]] = {
    "tabular": TABULAR_FEATURES,
    "sequence": SEQUENCE_FEATURES,
    "graph": GRAPH_FEATURES,
}
FEATURE_NAMES: tuple[str, ...] = TABULAR_FEATURES + SEQUENCE_FEATURES + GRAPH_FEATURES
_SEQ_FROM = len(TABULAR_FEATURES)
_GRAPH_FROM = _SEQ_FROM + len(SEQUENCE_FEATURES)

BATCH_MIN = 32
"""Chunks smaller than this are stepped one transaction at a time: below it the numpy calls'
fixed cost exceeds what vectorising saves (the answers are the same either way)."""


@dataclass(slots=True)
class FeatureBatch:
    """Feature rows of a chunk: one per transaction that could be featured."""

    matrix: np.ndarray
    """``(len(rows), len(FEATURE_NAMES))`` float64, ``FEATURE_NAMES`` order."""
    rows: list[int] = field(default_factory=list)
    """Index in the chunk of each matrix row's transaction."""
    errors: list[tuple[int, Exception]] = field(default_factory=list)
    """Transactions that could not be featured (index, why); they left the state untouched."""


def label_events(frame: pd.DataFrame) -> list[tuple[float, str]]:
    """``(label_ts, customer_id)`` for every labelled fraud row of a simulator frame."""
    if "label_ts" not in frame or "is_fraud" not in frame:
        return []
    rows = frame[(frame["is_fraud"] == 1) & frame["label_ts"].notna()]
    return sorted(zip(rows["label_ts"].astype(float), rows["customer_id"].astype(str), strict=True))


class FeatureEngine:
    """Streaming feature state. Feed transactions in time order."""

    def __init__(self) -> None:
        self.sequence = SequenceState()
        self.graph = EntityGraph()
        self._labels: list[tuple[int, str]] = []
        self.seen = 0

    def report_label(self, customer_id: str, *, ts: float) -> None:
        """A fraud label (chargeback, confirmed case) for ``customer_id`` known from ``ts`` on."""
        heapq.heappush(self._labels, (to_ms(ts), customer_id))

    def report_labels(self, events: Iterable[tuple[float, str]]) -> None:
        for ts, customer in events:
            self.report_label(customer, ts=ts)

    def _apply_labels(self, ms: int) -> None:
        labels = self._labels
        while labels and labels[0][0] < ms:
            _, customer = heapq.heappop(labels)
            self.graph.mark_fraud(customer)

    def features(self, txn: Transaction) -> list[float]:
        """This transaction's feature vector (``FEATURE_NAMES`` order); then it joins the state."""
        out: list[float] = []
        self.features_into(txn, out)
        return out

    def features_into(self, txn: Transaction, out: MutableSequence[float]) -> None:
        """Append the feature vector to ``out`` (batches fill one flat list: far cheaper to array)."""
        ms = round(txn.ts * 1000.0)  # to_ms, inline: this runs for every payment scored
        if self._labels:
            self._apply_labels(ms)
        amount = float(txn.amount_minor * USD_SCALE[txn.currency])  # = txn.amount_usd
        log_amount = math.log1p(amount)
        tabular_row(txn, log_amount, out)
        card, customer, device, ip = txn.card_id, txn.customer_id, txn.device_id, txn.ip
        self.sequence.step(
            (card, customer, device, ip),
            ms=ms,
            amount=amount,
            log_amount=log_amount,
            declined=txn.declined,
            out=out,
        )
        self.graph.features(customer=customer, card=card, device=device, ip=ip, ms=ms, out=out)
        self.seen += 1

    def matrix(self, txns: Iterable[Transaction]) -> np.ndarray:
        """Feature rows for several transactions, in order (any error is raised)."""
        batch = self.features_batch(list(txns))
        if batch.errors:
            raise batch.errors[0][1]
        return batch.matrix

    def features_batch(self, txns: Sequence[Transaction]) -> FeatureBatch:
        """Feature rows for a chunk, in order: what :meth:`features_into` gives one at a time,
        bit for bit, leaving the same state; the velocity features vectorised over the chunk."""
        if len(txns) < BATCH_MIN:
            return self._batch_one_by_one(txns)
        labels_at: list[int | None] = []
        # Float rows go to arrays, not lists: a list of 65k floats alive through the chunk is
        # walked by every young-generation collection meanwhile; an array's floats are not.
        tab = array("d")
        errors: list[tuple[int, Exception]] = []
        amounts: list[float] = []
        logs: list[float] = []
        for i, txn in enumerate(txns):
            mark = len(tab)
            ms: int | None = None
            try:
                ms = round(txn.ts * 1000.0)
                amount = float(txn.amount_minor * USD_SCALE[txn.currency])
                log_amount = math.log1p(amount)
                tabular_row(txn, log_amount, tab)
            except Exception as exc:  # this transaction only: the chunk goes on
                del tab[mark:]
                errors.append((i, exc))
                labels_at.append(ms)  # labels up to a failed payment's time still apply
                continue
            labels_at.append(ms)
            amounts.append(amount)
            logs.append(log_amount)
        # The featured transactions' columns, one comprehension each (cheaper than appending
        # ten lists per transaction above).
        if errors:
            failed = {i for i, _ in errors}
            rows = [i for i in range(len(txns)) if i not in failed]
            featured = [txns[i] for i in rows]
            ms_ok = [labels_at[i] for i in rows]
        else:
            rows, featured, ms_ok = list(range(len(txns))), list(txns), labels_at
        declined = [1 if t.declined else 0 for t in featured]
        keys = (
            [t.card_id for t in featured],
            [t.customer_id for t in featured],
            [t.device_id for t in featured],
            [t.ip for t in featured],
        )
        seq = sequence_matrix(
            self.sequence.store,
            keys,
            ms=ms_ok,  # type: ignore[arg-type]  # every featured payment has its time
            amount=amounts,
            log_amount=logs,
            declined=declined,
        )
        graph_rows = array("d")
        features = self.graph.features
        ok = iter(rows)
        next_ok = next(ok, -1)
        for i, txn in enumerate(txns):
            at = labels_at[i]
            if at is not None and self._labels:
                self._apply_labels(at)
            if i != next_ok:
                continue
            next_ok = next(ok, -1)
            features(
                customer=txn.customer_id,
                card=txn.card_id,
                device=txn.device_id,
                ip=txn.ip,
                ms=at,  # type: ignore[arg-type]
                out=graph_rows,
            )
        self.seen += len(rows)
        out = np.empty((len(rows), len(FEATURE_NAMES)), dtype=np.float64)
        out[:, :_SEQ_FROM] = np.frombuffer(tab).reshape(len(rows), _SEQ_FROM)
        out[:, _SEQ_FROM:_GRAPH_FROM] = seq
        out[:, _GRAPH_FROM:] = np.frombuffer(graph_rows).reshape(len(rows), -1)
        return FeatureBatch(out, rows, errors)

    def _batch_one_by_one(self, txns: Sequence[Transaction]) -> FeatureBatch:
        flat: list[float] = []
        rows: list[int] = []
        errors: list[tuple[int, Exception]] = []
        for i, txn in enumerate(txns):
            mark = len(flat)
            try:
                self.features_into(txn, flat)
            except Exception as exc:
                del flat[mark:]  # keep rows aligned
                errors.append((i, exc))
                continue
            rows.append(i)
        matrix = np.array(flat, dtype=np.float64).reshape(len(rows), len(FEATURE_NAMES))
        return FeatureBatch(matrix, rows, errors)


def bulk_features(
    frame: pd.DataFrame,
    *,
    labels: Iterable[tuple[float, str]] | None = None,
    engine: FeatureEngine | None = None,
) -> pd.DataFrame:
    """Feature matrix for a time-ordered frame (columns ``FEATURE_NAMES``).

    ``labels`` defaults to the frame's own delayed labels. If ``engine`` is
    given, its graph is extended in place (so a service can warm up from
    history and then stream); its sequence state is *not* (use streaming for that).
    """
    amount = amounts_usd(frame)
    log_amount = np.log1p(amount)
    tab = bulk_tabular_features(frame, amount_usd=amount)
    seq = bulk_sequence_features(frame, amount=amount, log_amount=log_amount)
    graph = engine.graph if engine is not None else EntityGraph()
    pending = sorted(
        (to_ms(ts), c) for ts, c in (labels if labels is not None else label_events(frame))
    )
    ms_all = np.rint(frame["ts"].to_numpy(dtype=np.float64) * 1000.0).astype(np.int64)
    g_rows: list[float] = []
    li = 0
    for ms, cust, card, dev, ip in zip(
        ms_all.tolist(),
        frame["customer_id"].tolist(),
        frame["card_id"].tolist(),
        frame["device_id"].tolist(),
        frame["ip"].tolist(),
        strict=True,
    ):
        while li < len(pending) and pending[li][0] < ms:
            graph.mark_fraud(pending[li][1])
            li += 1
        graph.features(customer=cust, card=card, device=dev, ip=ip, ms=ms, out=g_rows)
    g = np.asarray(g_rows, dtype=np.float64).reshape(len(frame), len(GRAPH_FEATURES))
    gdf = pd.DataFrame(g, columns=list(GRAPH_FEATURES), index=frame.index)
    return pd.concat([tab, seq, gdf], axis=1)[list(FEATURE_NAMES)]


__all__ = [
    "BATCH_MIN",
    "FEATURE_FAMILIES",
    "FEATURE_NAMES",
    "FeatureBatch",
    "FeatureEngine",
    "bulk_features",
    "label_events",
]
