"""Seeded transaction simulator: legitimate traffic plus planted fraud patterns, with labels.

The recipes follow DOMAIN.md section 7.1 (the recipes are ours): card-testing
bursts, account takeover, fraud rings sharing devices / cards / IPs, friendly
fraud, triangulation and synthetic identities at eKYC. Every fraud row carries
the time its label becomes known (``label_ts``: chargebacks arrive days to
months later) so that features can respect the leakage rule — only labels
that arrived strictly before a transaction may influence its features.

The simulator owns its customers, cards, devices and IPs, but a caller may
hand in :class:`SeedCustomer` entities (for example from the payments demo
world) and they are used as the legitimate population instead.

Same config + same seed = the same frame, row for row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tools.fraud.schema import CURRENCY_EXPONENT, USD_PER_UNIT, Transaction

DAY = 86_400.0
HOUR = 3_600.0
START_TS = 1_767_571_200.0  # 2026-01-05 00:00 UTC, a Monday

PATTERNS: tuple[str, ...] = (
    "legit",
    "card_testing",
    "account_takeover",
    "fraud_ring",
    "friendly_fraud",
    "triangulation",
    "synthetic_identity",
)

_COUNTRY_CURRENCY = {
    "US": "USD", "GB": "GBP", "DE": "EUR", "FR": "EUR", "NL": "EUR", "SG": "SGD",
    "JP": "JPY", "ID": "IDR", "PH": "PHP", "MY": "MYR", "BR": "BRL", "IN": "INR",
}  # fmt: skip
_COUNTRIES = tuple(_COUNTRY_CURRENCY)
_COUNTRY_WEIGHTS = np.array([0.3, 0.1, 0.1, 0.07, 0.05, 0.08, 0.06, 0.06, 0.04, 0.04, 0.05, 0.05])
_MCCS = (5411, 5812, 5999, 5732, 5691, 4121, 5814, 7372, 5942, 5945, 4511, 7011)
# Hour-of-day profile of genuine shoppers: quiet at night, peaks at lunch and evening.
_HOUR_WEIGHTS = np.array(
    [0.25, 0.15, 0.1, 0.08, 0.08, 0.12, 0.3, 0.6, 0.8, 0.9, 1.0, 1.1,
     1.3, 1.2, 1.0, 0.95, 1.0, 1.1, 1.3, 1.5, 1.6, 1.4, 1.0, 0.6]
)  # fmt: skip
_HOUR_P = _HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()


@dataclass(frozen=True, slots=True)
class SeedCustomer:
    """A customer taken from another world (e.g. the payments demo) to simulate around."""

    customer_id: str
    """Account id to reuse."""
    card_ids: tuple[str, ...]
    """Cards (fingerprints / tokens) the customer pays with; at least one."""
    device_ids: tuple[str, ...]
    """Devices the customer uses; at least one."""
    country: str = "US"
    """Home country (sets currency and the usual IP / card country)."""


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Size of the world and how much of each fraud pattern to plant."""

    seed: int = 7
    """Everything random derives from it."""
    n_customers: int = 2000
    """Genuine customers (ignored when ``customers`` is given)."""
    days: int = 60
    """Length of the simulated period."""
    txns_per_customer_day: float = 0.8
    """Mean genuine activity per customer and day."""
    n_merchants: int = 120
    """Merchants the traffic is spread over."""
    card_testing_bursts_per_day: float = 0.3
    """Card-testing bursts (one device + IP, many cards, tiny amounts)."""
    ato_per_day: float = 1.0
    """Account takeovers of genuine customers."""
    n_rings: int = 10
    """Fraud rings (accounts sharing devices, cards, IPs)."""
    ring_size: tuple[int, int] = (5, 14)
    """Accounts per ring (min, max)."""
    friendly_fraud_rate: float = 0.004
    """Share of genuine transactions later charged back by their own cardholder."""
    triangulation_shops: int = 4
    """Fake storefronts paying with stolen cards."""
    synthetic_ids_per_day: float = 0.6
    """Synthetic identities onboarded through eKYC, then busting out."""
    start_ts: float = START_TS
    """Epoch seconds of day 0."""
    customers: tuple[SeedCustomer, ...] | None = None
    """Use these genuine customers instead of generating them."""


@dataclass(slots=True)
class _Customer:
    customer_id: str
    country: str
    cards: list[str]
    devices: list[str]
    home_ips: list[str]
    created_ts: float
    mean_usd: float
    rate: float
    merchants: list[int]
    changed_ts: float | None = None


@dataclass(slots=True)
class _World:
    cfg: SimConfig
    rng: np.random.Generator
    merchants: list[tuple[str, int, str]] = field(default_factory=list)
    customers: list[_Customer] = field(default_factory=list)
    carrier_ips: list[str] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    counter: int = 0

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}_{self.counter:07d}"


def _amount_minor(usd: float, currency: str) -> int:
    exp = CURRENCY_EXPONENT[currency]
    minor = round(usd / USD_PER_UNIT[currency] * 10**exp)
    if currency == "IDR":  # whole rupiah only on the wire
        minor = round(minor / 100.0) * 100
    return max(int(minor), 1)


def _legit_time(w: _World, day: int) -> float:
    hour = int(w.rng.choice(24, p=_HOUR_P))
    return w.cfg.start_ts + day * DAY + hour * HOUR + float(w.rng.uniform(0, HOUR))


def _emit(
    w: _World,
    *,
    ts: float,
    cust: str,
    card: str,
    device: str,
    ip: str,
    merchant: int,
    usd: float,
    currency: str,
    card_country: str,
    ip_country: str,
    ship_country: str,
    created_ts: float,
    pattern: str = "legit",
    label_delay_days: tuple[float, float] = (3.0, 30.0),
    declined: bool | None = None,
    profile_changed_ts: float | None = None,
    cvv_match: bool | None = True,
    avs_match: bool | None = True,
    liveness_score: float | None = None,
    method: str | None = None,
) -> None:
    rng = w.rng
    merchant_id, mcc, _ = w.merchants[merchant]
    is_fraud = pattern != "legit"
    if declined is None:
        declined = bool(rng.random() < (0.03 if not is_fraud else 0.1))
    label_ts = float("nan")
    if is_fraud:
        label_ts = ts + float(rng.uniform(*label_delay_days)) * DAY
    w.rows.append(
        {
            "txn_id": w.next_id("txn"),
            "ts": ts,
            "customer_id": cust,
            "card_id": card,
            "device_id": device,
            "ip": ip,
            "merchant_id": merchant_id,
            "amount_minor": _amount_minor(usd, currency),
            "currency": currency,
            "method": method or ("card" if rng.random() < 0.75 else "wallet"),
            "mcc": mcc,
            "card_country": card_country,
            "ip_country": ip_country,
            "ship_country": ship_country,
            "account_created_ts": created_ts,
            "profile_changed_ts": profile_changed_ts,
            "cvv_match": cvv_match,
            "avs_match": avs_match,
            "declined": declined,
            "liveness_score": liveness_score,
            "attack_type": None,
            "is_fraud": int(is_fraud),
            "pattern": pattern,
            "label_ts": label_ts,
        }
    )


def _build_world(cfg: SimConfig) -> _World:
    rng = np.random.default_rng(cfg.seed)
    w = _World(cfg=cfg, rng=rng)
    for m in range(cfg.n_merchants):
        w.merchants.append((f"mer_{m:04d}", int(rng.choice(_MCCS)), str(rng.choice(_COUNTRIES))))
    # Mobile carriers put thousands of phones behind a few NAT addresses, so a
    # popular IP is not by itself suspicious; the model has to learn that.
    w.carrier_ips = [f"100.64.{i // 250}.{i % 250}" for i in range(40)]
    span = cfg.days * DAY
    if cfg.customers:
        seeds = cfg.customers
    else:
        seeds = tuple(
            SeedCustomer(
                customer_id=f"cus_{i:06d}",
                card_ids=tuple(f"card_{i:06d}_{k}" for k in range(1 + int(rng.random() < 0.35))),
                device_ids=tuple(f"dev_{i:06d}_{k}" for k in range(1 + int(rng.random() < 0.4))),
                country=str(rng.choice(_COUNTRIES, p=_COUNTRY_WEIGHTS)),
            )
            for i in range(cfg.n_customers)
        )
    households: list[_Customer] = []
    for i, seed in enumerate(seeds):
        devices = list(seed.device_ids)
        home_ips = [f"10.{i // 65000}.{(i // 250) % 260}.{i % 250}"]
        # A few households share a tablet and a router: small, genuine components.
        if households and rng.random() < 0.05:
            other = households[int(rng.integers(len(households)))]
            devices.append(other.devices[0])
            home_ips = [other.home_ips[0]]
        cust = _Customer(
            customer_id=seed.customer_id,
            country=seed.country if seed.country in _COUNTRY_CURRENCY else "US",
            cards=list(seed.card_ids),
            devices=devices,
            home_ips=home_ips,
            created_ts=cfg.start_ts - float(rng.uniform(30, 900)) * DAY,
            mean_usd=float(rng.lognormal(np.log(45), 0.7)),
            rate=cfg.txns_per_customer_day * float(rng.gamma(2.0, 0.5)),
            merchants=[int(x) for x in rng.integers(0, cfg.n_merchants, size=6)],
        )
        # Some genuine accounts are opened during the period.
        if rng.random() < 0.15:
            cust.created_ts = cfg.start_ts + float(rng.uniform(0, span * 0.9))
        if rng.random() < 0.2:
            cust.changed_ts = cfg.start_ts + float(rng.uniform(0, span))
        w.customers.append(cust)
        households.append(cust)
    return w


def _legit_traffic(w: _World) -> list[tuple[_Customer, float]]:
    cfg, rng = w.cfg, w.rng
    # Weekends are busier for consumer shopping.
    day_w = np.array([1.0 if (d % 7) < 5 else 1.3 for d in range(cfg.days)])
    day_p = day_w / day_w.sum()
    made: list[tuple[_Customer, float]] = []
    for cust in w.customers:
        n = int(rng.poisson(cust.rate * cfg.days))
        for day in np.sort(rng.choice(cfg.days, size=n, p=day_p)):
            ts = _legit_time(w, int(day))
            if ts < cust.created_ts:
                continue
            r = rng.random()
            if r < 0.8:
                ip, ip_country = cust.home_ips[0], cust.country
            elif r < 0.97:
                ip, ip_country = str(rng.choice(w.carrier_ips)), cust.country
            else:  # travelling
                ip_country = str(rng.choice(_COUNTRIES))
                ip = f"203.0.{int(rng.integers(0, 200))}.{int(rng.integers(0, 250))}"
            device = cust.devices[0] if rng.random() < 0.85 else str(rng.choice(cust.devices))
            merchant = (
                int(rng.choice(cust.merchants))
                if rng.random() < 0.7
                else int(rng.integers(cfg.n_merchants))
            )
            pattern = "friendly_fraud" if rng.random() < cfg.friendly_fraud_rate else "legit"
            usd = cust.mean_usd * float(rng.lognormal(0, 0.6))
            if rng.random() < 0.05:  # app stores, transit, top-ups: genuine tiny amounts
                usd = float(rng.uniform(0.5, 3.0))
            # Genuine people move and change phones too, then keep shopping.
            changed = (
                cust.changed_ts if cust.changed_ts is not None and cust.changed_ts < ts else None
            )
            _emit(
                w,
                ts=ts,
                cust=cust.customer_id,
                card=str(rng.choice(cust.cards)),
                device=device,
                ip=ip,
                merchant=merchant,
                usd=usd,
                currency=_COUNTRY_CURRENCY[cust.country],
                card_country=cust.country,
                ip_country=ip_country,
                ship_country=cust.country,
                created_ts=cust.created_ts,
                pattern=pattern,
                profile_changed_ts=changed,
                label_delay_days=(30.0, 120.0),
                declined=bool(rng.random() < 0.03),
                cvv_match=bool(rng.random() < 0.99),
                avs_match=bool(rng.random() < 0.96),
            )
            made.append((cust, ts))
    return made


def _card_testing(w: _World) -> None:
    cfg, rng = w.cfg, w.rng
    n = int(rng.poisson(cfg.card_testing_bursts_per_day * cfg.days))
    for b in range(n):
        start = cfg.start_ts + float(rng.uniform(0, cfg.days * DAY))
        device, ip = f"ctdev_{b:04d}", f"45.{b % 250}.{int(rng.integers(250))}.9"
        cust = f"guest_ct_{b:04d}"
        country = str(rng.choice(_COUNTRIES))
        merchant = int(rng.integers(cfg.n_merchants))
        bin_country = country if rng.random() < 0.7 else str(rng.choice(_COUNTRIES))
        created = start - float(rng.uniform(30, 900)) * DAY
        ts = start
        for _ in range(int(rng.integers(10, 40))):
            ts += float(rng.exponential(25.0))
            _emit(
                w,
                ts=ts,
                cust=cust,
                card=w.next_id("stolen"),
                device=device,
                ip=ip,
                merchant=merchant,
                usd=float(rng.uniform(0.5, 3.0)),
                currency=_COUNTRY_CURRENCY[country],
                card_country=bin_country,
                ip_country=country,
                ship_country=country,
                created_ts=created,
                pattern="card_testing",
                declined=bool(rng.random() < 0.7),
                cvv_match=bool(rng.random() < 0.85),
                avs_match=bool(rng.random() < 0.9),
            )


def _account_takeover(w: _World) -> None:
    cfg, rng = w.cfg, w.rng
    n = int(rng.poisson(cfg.ato_per_day * cfg.days))
    for k in range(n):
        victim = w.customers[int(rng.integers(len(w.customers)))]
        login = cfg.start_ts + float(rng.uniform(0, cfg.days * DAY))
        changed = login + float(rng.uniform(0.1, 2.0)) * HOUR
        device = f"atodev_{k:04d}"
        abroad = rng.random() < 0.6
        ip_country = str(rng.choice(_COUNTRIES)) if abroad else victim.country
        ip = f"185.{k % 250}.{int(rng.integers(250))}.{int(rng.integers(250))}"
        ship = str(rng.choice(_COUNTRIES)) if rng.random() < 0.5 else victim.country
        ts = changed
        for _ in range(int(rng.integers(1, 4))):
            ts += float(rng.uniform(0.2, 6.0)) * HOUR
            _emit(
                w,
                ts=ts,
                cust=victim.customer_id,
                card=str(rng.choice(victim.cards)),
                device=device,
                ip=ip,
                merchant=int(rng.integers(cfg.n_merchants)),
                usd=victim.mean_usd * float(rng.uniform(4.0, 15.0)),
                currency=_COUNTRY_CURRENCY[victim.country],
                card_country=victim.country,
                ip_country=ip_country,
                ship_country=ship,
                created_ts=victim.created_ts,
                pattern="account_takeover",
                profile_changed_ts=changed,
            )


def _fraud_rings(w: _World) -> None:
    cfg, rng = w.cfg, w.rng
    for r in range(cfg.n_rings):
        size = int(rng.integers(cfg.ring_size[0], cfg.ring_size[1] + 1))
        country = str(rng.choice(_COUNTRIES, p=_COUNTRY_WEIGHTS))
        currency = _COUNTRY_CURRENCY[country]
        devices = [f"ringdev_{r:02d}_{k}" for k in range(int(rng.integers(2, 4)))]
        ips = [f"92.{r}.{k}.{int(rng.integers(250))}" for k in range(int(rng.integers(2, 4)))]
        cards = [f"ringcard_{r:02d}_{k}" for k in range(int(rng.integers(3, 7)))]
        # Members join over the whole period, so later members meet a ring whose
        # earlier members' chargebacks have already arrived.
        for m in range(size):
            cust = f"ring_{r:02d}_{m:02d}"
            first = cfg.start_ts + float(rng.uniform(0, cfg.days * DAY * 0.95))
            created = first - float(rng.uniform(20, 700)) * DAY
            ts = first
            # Ring members mimic ordinary shoppers on the tabular side; what
            # gives them away is what they share with each other.
            for _ in range(int(rng.integers(2, 7))):
                ts += float(rng.uniform(0.5, 72.0)) * HOUR
                day = int((ts - cfg.start_ts) // DAY)
                if day >= cfg.days:
                    break
                ts = max(ts, _legit_time(w, day))
                _emit(
                    w,
                    ts=ts,
                    cust=cust,
                    card=str(rng.choice(cards)),
                    device=str(rng.choice(devices)),
                    ip=str(rng.choice(ips)),
                    merchant=int(rng.integers(cfg.n_merchants)),
                    usd=float(rng.lognormal(np.log(55), 0.8)),
                    currency=currency,
                    card_country=country,
                    ip_country=country,
                    ship_country=country,
                    created_ts=created,
                    pattern="fraud_ring",
                    declined=bool(rng.random() < 0.05),
                )


def _triangulation(w: _World) -> None:
    cfg, rng = w.cfg, w.rng
    for s in range(cfg.triangulation_shops):
        cust = f"shop_tri_{s:02d}"
        device, ip = f"tridev_{s:02d}", f"77.{s}.0.{int(rng.integers(250))}"
        created = cfg.start_ts + float(rng.uniform(0, cfg.days * DAY * 0.5))
        ts = created
        country = str(rng.choice(_COUNTRIES))
        while True:
            ts += float(rng.exponential(10.0)) * HOUR
            if ts > cfg.start_ts + cfg.days * DAY:
                break
            _emit(
                w,
                ts=ts,
                cust=cust,
                card=w.next_id("stolen"),
                device=device,
                ip=ip,
                merchant=int(rng.integers(cfg.n_merchants)),
                usd=float(rng.lognormal(np.log(70), 0.5)),
                currency=_COUNTRY_CURRENCY[country],
                card_country=str(rng.choice(_COUNTRIES)),
                ip_country=country,
                ship_country=str(rng.choice(_COUNTRIES)),
                created_ts=created,
                pattern="triangulation",
                label_delay_days=(20.0, 90.0),
                avs_match=bool(rng.random() < 0.5),
            )


def _synthetic_identities(w: _World) -> None:
    cfg, rng = w.cfg, w.rng
    n = int(rng.poisson(cfg.synthetic_ids_per_day * cfg.days))
    for k in range(n):
        cust = f"synth_{k:04d}"
        created = cfg.start_ts + float(rng.uniform(0, cfg.days * DAY * 0.9))
        country = str(rng.choice(_COUNTRIES, p=_COUNTRY_WEIGHTS))
        card, device = f"synthcard_{k:04d}", f"synthdev_{k:04d}"
        ip = f"10.200.{k // 250}.{k % 250}"
        # The eKYC vendor's liveness check comes with the first payments only;
        # replayed or synthetic faces score lower but overlap genuine users.
        liveness = float(np.clip(rng.normal(0.55, 0.2), 0.0, 1.0))
        ts = created
        for j in range(int(rng.integers(3, 8))):
            ts += float(rng.uniform(2.0, 96.0)) * HOUR
            bust = j >= 2
            _emit(
                w,
                ts=ts,
                cust=cust,
                card=card,
                device=device,
                ip=ip,
                merchant=int(rng.integers(cfg.n_merchants)),
                usd=float(rng.lognormal(np.log(400 if bust else 30), 0.4)),
                currency=_COUNTRY_CURRENCY[country],
                card_country=country,
                ip_country=country,
                ship_country=country,
                created_ts=created,
                pattern="synthetic_identity",
                liveness_score=liveness if j < 2 else None,
            )


def _liveness_for_new_genuine(w: _World, frame: pd.DataFrame) -> None:
    # Genuine new accounts also went through eKYC: their first payments carry a
    # (mostly high) liveness score, so the signal is not a fraud marker by itself.
    legit_new = (frame["pattern"] == "legit") & (
        frame["ts"] - frame["account_created_ts"] < 7 * DAY
    )
    idx = frame.index[legit_new]
    frame.loc[idx, "liveness_score"] = np.clip(w.rng.normal(0.88, 0.1, size=len(idx)), 0.0, 1.0)


def simulate(config: SimConfig | None = None) -> pd.DataFrame:
    """Simulate the configured world; rows sorted by time, with ``is_fraud``, ``pattern``, ``label_ts``."""
    cfg = config or SimConfig()
    w = _build_world(cfg)
    _legit_traffic(w)
    _card_testing(w)
    _account_takeover(w)
    _fraud_rings(w)
    _triangulation(w)
    _synthetic_identities(w)
    frame = pd.DataFrame(w.rows)
    frame = frame.sort_values(["ts", "txn_id"], kind="stable").reset_index(drop=True)
    frame["liveness_score"] = frame["liveness_score"].astype(float)
    frame["profile_changed_ts"] = frame["profile_changed_ts"].astype(float)
    _liveness_for_new_genuine(w, frame)
    return frame


def time_split(frame: pd.DataFrame, *, test_frac: float = 0.3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time-ordered split: the earliest ``1 - test_frac`` for training, the rest held out."""
    ordered = frame.sort_values("ts", kind="stable").reset_index(drop=True)
    cut = int(len(ordered) * (1.0 - test_frac))
    return ordered.iloc[:cut].reset_index(drop=True), ordered.iloc[cut:].reset_index(drop=True)


def _opt_float(value: Any) -> float | None:
    if value is None:
        return None
    f = float(value)
    return None if np.isnan(f) else f


def _opt_bool(value: Any) -> bool | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return bool(value)


def frame_to_transactions(frame: pd.DataFrame) -> list[Transaction]:
    """Rows of a simulator frame as :class:`Transaction` objects (label columns dropped)."""
    out: list[Transaction] = []
    for row in frame.to_dict("records"):
        out.append(
            Transaction(
                txn_id=str(row["txn_id"]),
                ts=float(row["ts"]),
                customer_id=str(row["customer_id"]),
                card_id=str(row["card_id"]),
                device_id=str(row["device_id"]),
                ip=str(row["ip"]),
                merchant_id=str(row["merchant_id"]),
                amount_minor=int(row["amount_minor"]),
                currency=str(row["currency"]),
                method=str(row["method"]),
                mcc=int(row["mcc"]),
                card_country=str(row["card_country"]),
                ip_country=str(row["ip_country"]),
                ship_country=str(row["ship_country"]),
                account_created_ts=_opt_float(row["account_created_ts"]),
                profile_changed_ts=_opt_float(row["profile_changed_ts"]),
                cvv_match=_opt_bool(row["cvv_match"]),
                avs_match=_opt_bool(row["avs_match"]),
                declined=bool(row["declined"]),
                liveness_score=_opt_float(row["liveness_score"]),
                attack_type=None,
            )
        )
    return out


def seed_customers_from(records: Sequence[dict[str, Any]]) -> tuple[SeedCustomer, ...]:
    """Build :class:`SeedCustomer` entries from plain dicts (``customer_id``, ``card_ids``, ``device_ids``, ``country``)."""
    return tuple(
        SeedCustomer(
            customer_id=str(r["customer_id"]),
            card_ids=tuple(str(c) for c in r["card_ids"]) or (f"card_{r['customer_id']}",),
            device_ids=tuple(str(d) for d in r["device_ids"]) or (f"dev_{r['customer_id']}",),
            country=str(r.get("country", "US")),
        )
        for r in records
    )


__all__ = [
    "PATTERNS",
    "SeedCustomer",
    "SimConfig",
    "frame_to_transactions",
    "seed_customers_from",
    "simulate",
    "time_split",
]
