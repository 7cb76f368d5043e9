"""Tabular (authorisation-time) features of a single transaction, scalar and vectorised."""

from __future__ import annotations

import math
from collections.abc import MutableSequence

import numpy as np
import pandas as pd

from tools.fraud.schema import CURRENCY_EXPONENT, METHODS, USD_PER_UNIT, Transaction

TABULAR_FEATURES: tuple[str, ...] = (
    "amount_usd_log",
    "currency_code",
    "method_code",
    "mcc",
    "ip_country_mismatch",
    "ship_country_mismatch",
    "hour_of_day",
    "day_of_week",
    "account_age_d",
    "profile_change_age_h",
    "cvv_fail",
    "avs_fail",
    "liveness_score",
)

_CURRENCY_CODE = {c: float(i) for i, c in enumerate(sorted(CURRENCY_EXPONENT))}
_METHOD_CODE = {m: float(i) for i, m in enumerate(METHODS)}
_DAY = 86_400.0


def _fail(value: bool | None) -> float:
    if value is None:
        return math.nan
    return 0.0 if value else 1.0


USD_SCALE: dict[str, float] = {
    c: USD_PER_UNIT[c] / (10 ** CURRENCY_EXPONENT[c]) for c in CURRENCY_EXPONENT
}
"""Per currency, USD per minor unit: the factor :attr:`Transaction.amount_usd` computes on
every call, computed once (the same division, so the same float)."""


def tabular_row(txn: Transaction, log_amount: float, out: MutableSequence[float]) -> None:
    """Append the tabular features of ``txn`` to ``out`` (``log_amount``: log1p of its USD
    amount, which the caller has computed for the sequence features already)."""
    ts = txn.ts
    out.extend(
        [
            log_amount,
            _CURRENCY_CODE[txn.currency],
            _METHOD_CODE.get(txn.method, math.nan),
            float(txn.mcc),
            1.0 if txn.card_country != txn.ip_country else 0.0,
            1.0 if txn.card_country != txn.ship_country else 0.0,
            float(int(ts // 3600) % 24),
            float((int(ts // _DAY) + 3) % 7),  # 1970-01-01 was a Thursday; 0 = Monday
            (ts - txn.account_created_ts) / _DAY
            if txn.account_created_ts is not None
            else math.nan,
            (ts - txn.profile_changed_ts) / 3600.0
            if txn.profile_changed_ts is not None
            else math.nan,
            _fail(txn.cvv_match),
            _fail(txn.avs_match),
            txn.liveness_score if txn.liveness_score is not None else math.nan,
        ]
    )


def amounts_usd(frame: pd.DataFrame) -> np.ndarray:
    """Amount of each row on the common (approximate USD) scale."""
    cur = frame["currency"]
    scale = cur.map(lambda c: USD_PER_UNIT[c] / (10 ** CURRENCY_EXPONENT[c]))
    out: np.ndarray = frame["amount_minor"].to_numpy(dtype=np.float64) * scale.to_numpy(
        dtype=np.float64
    )
    return out


def _fail_col(col: pd.Series) -> np.ndarray:
    mapped = col.map(lambda v: math.nan if v is None or v != v else (0.0 if v else 1.0))
    out: np.ndarray = mapped.to_numpy(dtype=np.float64)
    return out


def bulk_tabular_features(frame: pd.DataFrame, *, amount_usd: np.ndarray) -> pd.DataFrame:
    """Tabular features for every row of ``frame`` (same definition as :func:`tabular_row`)."""
    ts = frame["ts"].to_numpy(dtype=np.float64)
    created = frame["account_created_ts"].to_numpy(dtype=np.float64)
    changed = frame["profile_changed_ts"].to_numpy(dtype=np.float64)
    cols = {
        "amount_usd_log": np.log1p(amount_usd),
        "currency_code": frame["currency"].map(_CURRENCY_CODE).to_numpy(dtype=np.float64),
        "method_code": frame["method"].map(_METHOD_CODE).to_numpy(dtype=np.float64),
        "mcc": frame["mcc"].to_numpy(dtype=np.float64),
        "ip_country_mismatch": (frame["card_country"] != frame["ip_country"]).to_numpy(
            dtype=np.float64
        ),
        "ship_country_mismatch": (frame["card_country"] != frame["ship_country"]).to_numpy(
            dtype=np.float64
        ),
        "hour_of_day": ((ts // 3600).astype(np.int64) % 24).astype(np.float64),
        "day_of_week": (((ts // _DAY).astype(np.int64) + 3) % 7).astype(np.float64),
        "account_age_d": (ts - created) / _DAY,
        "profile_change_age_h": (ts - changed) / 3600.0,
        "cvv_fail": _fail_col(frame["cvv_match"]),
        "avs_fail": _fail_col(frame["avs_match"]),
        "liveness_score": frame["liveness_score"].to_numpy(dtype=np.float64),
    }
    return pd.DataFrame(cols, index=frame.index)


__all__ = ["TABULAR_FEATURES", "USD_SCALE", "amounts_usd", "bulk_tabular_features", "tabular_row"]
