"""Reason codes: per-feature contributions (LightGBM TreeSHAP) grouped into stable codes.

Every feature maps to one reason code. A decision's reasons are the codes
whose summed contribution to the log-odds pushes towards fraud, largest
first, each naming the features and values behind it.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from tools.fraud.features import FEATURE_NAMES

REASON_TEXT: dict[str, str] = {
    "AMOUNT": "amount unusual for this kind of payment",
    "AMOUNT_ANOMALY": "amount far from this card's / customer's history",
    "PAYMENT_PROFILE": "currency, method or merchant category",
    "GEO_MISMATCH": "card country differs from the IP country",
    "SHIP_MISMATCH": "card country differs from the shipping country",
    "UNUSUAL_TIME": "time of day / week",
    "NEW_ACCOUNT": "account age",
    "RECENT_PROFILE_CHANGE": "email / phone / address changed shortly before",
    "VERIFICATION_FAILED": "CVV or address verification result",
    "LIVENESS": "external liveness (eKYC) signal",
    "CARD_VELOCITY": "many recent payments on this card",
    "CUSTOMER_VELOCITY": "many recent payments by this customer",
    "DEVICE_VELOCITY": "many recent payments from this device",
    "IP_VELOCITY": "many recent payments from this IP",
    "CARD_DECLINES": "recent declines on this card",
    "CUSTOMER_DECLINES": "recent declines for this customer",
    "DEVICE_DECLINES": "recent declines from this device",
    "IP_DECLINES": "recent declines from this IP",
    "SHARED_ENTITIES": "device or card shared by several accounts",
    "SHARED_IP": "IP shared by several accounts",
    "MANY_CARDS": "many cards used on this device / account",
    "NEW_DEVICE": "device new to this account",
    "NEW_CARD": "card first seen recently",
    "FRAUD_NEIGHBOURS": "linked to accounts with confirmed fraud",
    "KNOWN_FRAUD_ACCOUNT": "this account has confirmed fraud",
    # Not model features: set by policy overrides in scoring.
    "ENTITY_BLOCKED": "a card, device, customer or IP in this payment is blocked",
    "LIVENESS_ATTACK": "the liveness vendor reported an attack or a low liveness score",
    "SCORING_ERROR": "scoring failed; sent to review (fail closed)",
}

_FIXED = {
    "amount_usd_log": "AMOUNT",
    "currency_code": "PAYMENT_PROFILE",
    "method_code": "PAYMENT_PROFILE",
    "mcc": "PAYMENT_PROFILE",
    "ip_country_mismatch": "GEO_MISMATCH",
    "ship_country_mismatch": "SHIP_MISMATCH",
    "hour_of_day": "UNUSUAL_TIME",
    "day_of_week": "UNUSUAL_TIME",
    "account_age_d": "NEW_ACCOUNT",
    "profile_change_age_h": "RECENT_PROFILE_CHANGE",
    "cvv_fail": "VERIFICATION_FAILED",
    "avs_fail": "VERIFICATION_FAILED",
    "liveness_score": "LIVENESS",
    "card_amount_z": "AMOUNT_ANOMALY",
    "customer_amount_z": "AMOUNT_ANOMALY",
    "graph_comp_accounts": "SHARED_ENTITIES",
    "graph_device_accounts": "SHARED_ENTITIES",
    "graph_card_accounts": "SHARED_ENTITIES",
    "graph_ip_accounts": "SHARED_IP",
    "graph_device_cards": "MANY_CARDS",
    "graph_customer_cards": "MANY_CARDS",
    "graph_customer_devices": "NEW_DEVICE",
    "graph_device_new_for_customer": "NEW_DEVICE",
    "graph_device_age_h": "NEW_DEVICE",
    "graph_card_age_h": "NEW_CARD",
    "graph_comp_fraud": "FRAUD_NEIGHBOURS",
    "graph_comp_fraud_share": "FRAUD_NEIGHBOURS",
    "graph_neigh_fraud_share": "FRAUD_NEIGHBOURS",
    "graph_risk": "FRAUD_NEIGHBOURS",
    "graph_customer_known_fraud": "KNOWN_FRAUD_ACCOUNT",
}


def reason_code(feature: str) -> str:
    """The reason code a feature's contribution counts towards."""
    if feature in _FIXED:
        return _FIXED[feature]
    kind = feature.split("_", 1)[0]
    if "_declines_" in feature:
        return f"{kind.upper()}_DECLINES"
    return f"{kind.upper()}_VELOCITY"


REASON_OF_FEATURE: dict[str, str] = {f: reason_code(f) for f in FEATURE_NAMES}


@dataclass(frozen=True, slots=True)
class FeatureContribution:
    """One feature's value and its contribution to the log-odds of fraud."""

    feature: str
    value: float | None
    contribution: float


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason code with the features behind it."""

    code: str
    description: str
    contribution: float
    """Summed log-odds contribution of its features (positive = towards fraud)."""
    features: tuple[FeatureContribution, ...]


def _value(v: float) -> float | None:
    return None if v != v else v  # NaN (no history) is reported as null


@lru_cache(maxsize=32)
def _code_layout(
    feature_names: tuple[str, ...],
) -> tuple[np.ndarray, tuple[str, ...], tuple[list[int], ...]]:
    """Per feature its reason-code index; the codes; per code the feature positions."""
    codes = tuple(dict.fromkeys(REASON_OF_FEATURE.get(n, "OTHER") for n in feature_names))
    pos = {c: i for i, c in enumerate(codes)}
    idx = np.array([pos[REASON_OF_FEATURE.get(n, "OTHER")] for n in feature_names], dtype=np.int64)
    members = tuple(np.flatnonzero(idx == i).tolist() for i in range(len(codes)))
    return idx, codes, members


def top_reasons(
    feature_names: tuple[str, ...], values: np.ndarray, contrib: np.ndarray, *, k: int = 3
) -> list[Reason]:
    """The ``k`` reason codes contributing most towards fraud (only positive totals)."""
    idx, codes, members = _code_layout(feature_names)
    contrib = np.asarray(contrib[: len(feature_names)], dtype=np.float64)
    totals = np.bincount(idx, weights=contrib, minlength=len(codes)).tolist()
    # Python floats from here: indexing numpy arrays element by element costs more than the
    # whole explanation (this runs for every flagged payment and every HTTP score).
    # Only codes pushing towards fraud are reported, strongest first, ties in code order (a
    # stable sort, as numpy's stable argsort of the negated totals ordered them).
    strongest = sorted(
        (ci for ci, total in enumerate(totals) if total > 0.0),
        key=totals.__getitem__,
        reverse=True,
    )[:k]
    if not strongest:
        return []
    contribs, vals = contrib.tolist(), np.asarray(values).tolist()
    reasons: list[Reason] = []
    for ci in strongest:
        feats = [
            FeatureContribution(feature_names[j], _value(float(vals[j])), contribs[j])
            for j in members[ci]
            if contribs[j] != 0.0
        ]
        feats.sort(key=_towards_fraud)
        code = codes[ci]
        reasons.append(Reason(code, REASON_TEXT.get(code, code.lower()), totals[ci], tuple(feats)))
    return reasons


def _towards_fraud(f: FeatureContribution) -> float:
    return -f.contribution


# ---- exact TreeSHAP over the dumped trees ---------------------------------------------
_ZERO = 1e-35
"""LightGBM's ``kZeroThreshold``: a value this close to 0 is zero for a ``Zero`` missing type."""
_MISSING = {"None": 0, "Zero": 1, "NaN": 2}


@dataclass(frozen=True, slots=True)
class _Leaf:
    value: float
    nodes: list[tuple[int, float, bool, bool, int, int]]
    """Per split on the way to the leaf: feature, threshold, goes left, default left, missing
    type, the slot of its feature among the path's distinct features."""
    zeros: list[float]
    """Per slot: the share of the training rows that took this path's side at its splits."""


def _leaves(node: dict[str, Any], path: list[Any], out: list[_Leaf]) -> None:
    if "leaf_index" in node or "split_index" not in node:
        slots: dict[int, int] = {}
        zeros: list[float] = []
        nodes = []
        for feature, threshold, left, default_left, missing, share in path:
            slot = slots.setdefault(feature, len(slots))
            if slot == len(zeros):
                zeros.append(1.0)
            zeros[slot] *= share
            nodes.append((feature, threshold, left, default_left, missing, slot))
        if "leaf_coeff" in node:  # a linear tree's leaf depends on the row
            raise ValueError("linear trees are not supported here")
        out.append(_Leaf(float(node["leaf_value"]), nodes, zeros))
        return
    if node.get("decision_type") != "<=":
        raise ValueError("categorical splits are not supported here")
    count = float(node["internal_count"])
    for side, left in (("left_child", True), ("right_child", False)):
        child = node[side]
        share = float(child.get("internal_count", child.get("leaf_count", 0))) / count
        step = (
            int(node["split_feature"]),
            float(node["threshold"]),
            left,
            bool(node["default_left"]),
            _MISSING[node["missing_type"]],
            share,
        )
        _leaves(child, [*path, step], out)


def _shapley_table(value: float, zeros: list[float]) -> np.ndarray:
    """Per pattern of which path features the row agrees with (bit ``i``: slot ``i``), each
    slot's Shapley value in the leaf's product game (TreeSHAP, path-dependent)."""
    k = len(zeros)
    weight = [math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k) for s in range(k)]
    table = np.zeros((1 << k, k))
    for mask in range(1 << k):
        for j in range(k):
            rest = [i for i in range(k) if i != j]
            total = 0.0
            for size in range(len(rest) + 1):
                for subset in itertools.combinations(rest, size):
                    if any(not (mask >> i) & 1 for i in subset):
                        continue  # a feature the row disagrees with contributes 0 when known
                    product = 1.0
                    for i in rest:
                        if i not in subset:
                            product *= zeros[i]
                    total += weight[size] * product
            table[mask, j] = value * (((mask >> j) & 1) - zeros[j]) * total
    return table


class TreeShap:
    """Exact path-dependent TreeSHAP of a LightGBM booster (its ``pred_contrib``), by lookup.

    LightGBM walks every path of every tree for each row (~0.13 ms a row for the fraud
    model, over a quarter of scoring one payment). A leaf's part of a row's SHAP values
    depends only on which of its path's splits the row agrees with, so each of the at most
    ``2^depth`` patterns is worked out once per model; a row then costs one vectorised
    comparison per split and one table row per leaf (~half of LightGBM's time). Same splits,
    missing-value rules and counts as LightGBM's TreeSHAP: equal to ``pred_contrib`` up to
    float rounding (tests hold it to 1e-9 on thousands of rows, and the reason codes equal).
    Numerical splits only: :func:`tree_shap` answers None for any other model.
    """

    def __init__(self, booster: Any, n_features: int) -> None:
        leaves: list[_Leaf] = []
        for tree in booster.dump_model()["tree_info"]:
            _leaves(tree["tree_structure"], [], leaves)
        self._n = n_features
        self.bias = math.fsum(leaf.value * math.prod(leaf.zeros) for leaf in leaves)
        split = [leaf for leaf in leaves if leaf.nodes]
        depth = max((len(leaf.nodes) for leaf in split), default=0)
        width = max((len(leaf.zeros) for leaf in split), default=0)
        if len(split) * (1 << depth) * width > MAX_TABLE_ENTRIES:
            raise ValueError("trees too deep for pattern tables")
        shape = (len(split), depth)
        self._feature = np.zeros(shape, dtype=np.int64)
        self._threshold = np.full(shape, np.inf)  # padding: every row goes left, as the path
        self._left = np.ones(shape, dtype=bool)
        self._nan_left = np.ones(shape, dtype=bool)
        self._zero_type = np.zeros(shape, dtype=bool)
        self._table = np.zeros((len(split), 1 << depth, width))
        self._slot_feature = np.full((len(split), width), n_features, dtype=np.int64)
        for i, leaf in enumerate(split):
            slots = [node[5] for node in leaf.nodes]
            by_slot = _shapley_table(leaf.value, leaf.zeros)
            for pattern in range(1 << depth):
                agreed = 0
                for slot in range(len(leaf.zeros)):
                    if all((pattern >> d) & 1 for d, s in enumerate(slots) if s == slot):
                        agreed |= 1 << slot
                self._table[i, pattern, : len(leaf.zeros)] = by_slot[agreed]
            for d, (feature, threshold, left, default_left, missing, slot) in enumerate(leaf.nodes):
                self._feature[i, d] = feature
                self._threshold[i, d] = threshold
                self._left[i, d] = left
                # NaN: the default side for NaN / Zero missing types, else LightGBM reads 0.0.
                self._nan_left[i, d] = default_left if missing else threshold >= 0.0
                self._zero_type[i, d] = missing == 1
                self._slot_feature[i, slot] = feature
        self._default_left_zero = self._nan_left.copy()
        self._any_zero_type = bool(self._zero_type.any())
        self._pow2 = (1 << np.arange(depth)).astype(np.int64)
        self._pow2_u8 = self._pow2.astype(np.uint8) if depth <= 8 else None
        self._base = np.arange(len(split), dtype=np.int64) * (1 << depth)
        self._flat_table = self._table.reshape(-1, width)
        self._index: dict[int, np.ndarray] = {}
        """Per row count (small batches: every HTTP score): where each share is summed."""

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per row of ``x`` (model feature order, NaN = missing): each feature's contribution
        to the raw margin, then the bias: the layout of ``pred_contrib``."""
        x = np.asarray(x, dtype=np.float64).reshape(-1, self._n)
        rows = len(x)
        out = np.zeros((rows, self._n + 1))
        out[:, self._n] = self.bias
        if not len(self._base):
            return out
        # ``take`` rather than fancy indexing: the same values, several times faster here.
        value = x.take(self._feature, axis=1)  # (rows, leaves, depth)
        with np.errstate(invalid="ignore"):
            left = value <= self._threshold
        nan = np.isnan(value)
        if nan.any():
            left = np.where(nan, self._nan_left, left)
        if self._any_zero_type:
            zero = self._zero_type & (np.abs(value) <= _ZERO)
            left = np.where(zero, self._default_left_zero, left)
        # Which splits the row agrees with, one bit per depth; in bytes while they fit (an
        # integer matmul over bytes is faster than over int64).
        agree = left == self._left
        if self._pow2_u8 is not None:
            pattern = agree.view(np.uint8) @ self._pow2_u8
        else:
            pattern = agree @ self._pow2
        shares = self._flat_table.take(self._base + pattern, axis=0)  # (rows, leaves, width)
        index = self._index.get(rows)
        if index is None:
            index = (self._slot_feature.ravel() + (self._n + 1) * np.arange(rows)[:, None]).ravel()
            if rows <= _INDEX_ROWS:
                self._index[rows] = index
        # Padding slots point at the bias column with 0.0: the bias stays as it is.
        summed = np.bincount(index, weights=shares.ravel(), minlength=rows * (self._n + 1))
        out += summed.reshape(rows, self._n + 1)
        return out


_INDEX_ROWS = 64
"""Row counts up to this keep their share index (a few kB each)."""
MAX_TABLE_ENTRIES = 1 << 20
"""Larger tables (leaves x ``2^depth`` patterns x path features; 8 MB) are left to LightGBM:
deep trees would cost more memory and set-up than they save (the fraud model: ~55k)."""
_SHAPS: weakref.WeakKeyDictionary[Any, TreeShap | None] = weakref.WeakKeyDictionary()
_BY_MODEL: OrderedDict[tuple[str, int], TreeShap | None] = OrderedDict()
"""The same tables by the model's text, for a new booster of a model seen before: every app
loads its own booster from its registry (an eval run's trials, ~0.4 s of tables each)."""
_BY_MODEL_KEPT = 4
_SHAPS_LOCK = threading.Lock()


def tree_shap(booster: Any, n_features: int) -> TreeShap | None:
    """The booster's :class:`TreeShap`, built on first use of its model; None for a model it
    does not handle (other split kinds, very deep trees, a booster it cannot read), whose
    callers ask LightGBM instead, as before."""
    with _SHAPS_LOCK:
        try:
            if booster in _SHAPS:
                return _SHAPS[booster]
        except TypeError:  # not weakly referenceable: nothing to cache it by
            return None
        try:
            text = booster.model_to_string()  # ~4 ms, against ~400 ms of tables
            key: tuple[str, int] | None = (hashlib.sha256(text.encode()).hexdigest(), n_features)
        except Exception:
            key = None
        if key is not None and key in _BY_MODEL:
            shap = _BY_MODEL[key]
            _BY_MODEL.move_to_end(key)
        else:
            try:
                shap = TreeShap(booster, n_features)
            except Exception:  # LightGBM answers (or fails, and scoring fails closed) as before
                shap = None
            if key is not None:
                _BY_MODEL[key] = shap
                while len(_BY_MODEL) > _BY_MODEL_KEPT:
                    _BY_MODEL.popitem(last=False)
        _SHAPS[booster] = shap
        return shap


__all__ = [
    "REASON_OF_FEATURE",
    "REASON_TEXT",
    "FeatureContribution",
    "Reason",
    "TreeShap",
    "reason_code",
    "top_reasons",
    "tree_shap",
]
