"""A seeded demo world: merchants in several markets, customers, devices, cards and ~180 days of
traffic (payments, declines, captures, refunds, cancels, disputes) — through the real gateway.

Everything goes through :class:`~tools.payments.gateway.Gateway` and
:class:`~tools.payments.disputes.Disputes`, so the ledger, the lifecycle rules
and the simulator's structure hold in the demo exactly as in production code.
Planted problems (an issuer outage, a degraded wallet, EEA cards without 3DS)
are listed in the summary as ground truth for analytics, agents and evals.

Seeding is idempotent: a ``pay_demo_worlds`` row per (tenant, seed) is written
in the same transaction, so a second call returns the stored summary.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cockpit.db.base import utcnow
from cockpit.db.session import Database
from cockpit.progress import Progress, quiet
from tools.payments import ledger
from tools.payments.disputes import Disputes, load_dispute
from tools.payments.gateway import CaptureRequest, Gateway, PayRequest, RefundRequest
from tools.payments.models import Card, Customer, DemoWorld, Device, Merchant
from tools.payments.notifications import OUTBOX_DISABLED
from tools.payments.simulator import Degradation, IssuerSimulator

ISSUERS = {
    "SG": ["DBS Bank", "OCBC", "UOB"], "MY": ["Maybank", "CIMB"], "PH": ["BDO", "BPI"],
    "KR": ["KB Kookmin", "Shinhan Card"], "TH": ["Bangkok Bank", "Kasikornbank"],
    "DE": ["Sparkasse", "Deutsche Bank", "Commerzbank"], "US": ["Chase", "Citi"], "JP": ["MUFG"],
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _MerchantSpec:
    key: str
    name: str
    country: str
    mcc: str
    currency: str
    kyb: str
    methods: tuple[tuple[str, str, float], ...]
    """``(method, currency, share of traffic)``."""
    buyers: tuple[str, ...]
    """Buyer countries (cross-border cards come from the later ones)."""
    ticket: tuple[int, int]
    """Typical amount range in minor units of ``currency``."""
    daily: int = 6
    manual_capture: bool = False
    kyb_detail: dict[str, Any] = field(default_factory=dict)


MERCHANTS = (
    _MerchantSpec("sg", "Lion Electronics", "SG", "5732", "SGD", "APPROVED",
                  (("CARD", "SGD", 0.55), ("GRABPAY_SG", "SGD", 0.15), ("PAYNOW", "SGD", 0.1),
                   ("GCASH", "PHP", 0.1), ("TNG", "MYR", 0.1)), ("SG", "SG", "MY", "PH", "US"), (1_500, 90_000), daily=5),
    _MerchantSpec("kr", "Seoul Beauty", "KR", "5977", "KRW", "APPROVED",
                  (("CARD", "KRW", 0.5), ("KAKAOPAY", "KRW", 0.3), ("NAVERPAY", "KRW", 0.2)),
                  ("KR", "KR", "JP", "US"), (9_000, 250_000), daily=4),
    _MerchantSpec("th", "Bangkok Journeys", "TH", "4722", "THB", "APPROVED_WITH_RESERVE",
                  (("CARD", "THB", 0.6), ("TRUEMONEY", "THB", 0.25), ("PROMPTPAY", "THB", 0.15)),
                  ("TH", "SG", "DE", "US"), (150_000, 2_500_000), daily=3, manual_capture=True,
                  kyb_detail={"reserve": "10% rolling 90 days", "reason": "travel MCC 4722, delivery risk"}),
    _MerchantSpec("de", "Berlin Outdoor", "DE", "5941", "EUR", "APPROVED",
                  (("CARD", "EUR", 0.85), ("IDEAL", "EUR", 0.15)), ("DE", "DE", "US", "SG"), (2_000, 60_000), daily=5),
    _MerchantSpec("br", "Rio Games", "BR", "5816", "BRL", "EDD", (), ("BR",), (1_000, 10_000), daily=0,
                  kyb_detail={"step": "risk tier / EDD", "reason": "digital goods 5815–5817 are restricted",
                              "missing": ["FINANCIAL_REPORT", "OWNERSHIP_STRUCTURE_PIC"]}),
    _MerchantSpec("id", "Jakarta Threads", "ID", "5651", "IDR", "IN_REVIEW", (), ("ID",), (100_000, 900_000),
                  daily=0, kyb_detail={"step": "ownership and documents", "missing": ["UBO_PROVE", "ADDRESS_PROOF"]}),
    _MerchantSpec("us", "QuickMeds Online", "US", "5122", "USD", "REJECTED", (), ("US",), (1_000, 5_000), daily=0,
                  kyb_detail={"step": "screening", "reason": "MATCH listing, reason 04 excessive chargebacks"}),
)  # fmt: skip

DISPUTE_REASONS = {"VISA": ["10.4", "13.1", "13.3", "12.6", "13.7"], "MASTERCARD": ["4837", "4853", "4834"],
                   "WALLET": ["NOT_RECEIVED", "NOT_AS_DESCRIBED"]}  # fmt: skip


@dataclass(frozen=True, slots=True)
class DemoWorldSummary:
    """What :func:`seed_demo_world` created (or found)."""

    tenant_id: str
    seed: int
    days: int
    created: bool
    """False when the world already existed and nothing was written."""
    merchant_ids: dict[str, str]
    kyb_states: dict[str, str]
    customers: int
    devices: int
    cards: int
    payments: int
    approved: int
    declined: int
    refunds: int
    cancels: int
    disputes: int
    start: str
    end: str
    planted: list[dict[str, Any]]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _planted(end: datetime) -> list[Degradation]:
    return [
        Degradation(0.30, "91", issuer="UOB", start=end - timedelta(days=30)),
        Degradation(0.20, "UNAVAILABLE_PAYMENT_METHOD", method_type="TRUEMONEY"),
    ]


def seed_demo_world(
    db: Database,
    tenant_id: str,
    *,
    seed: int = 7,
    days: int = 180,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> DemoWorldSummary:
    """Fill ``tenant_id`` with a deterministic demo world; a second call changes nothing.

    ``progress(done, total)`` hears each simulated day.
    """
    started = time.perf_counter()
    with db.tenant_session(tenant_id) as session:
        existing = session.scalar(select(DemoWorld).where(DemoWorld.seed == seed))
        if existing is not None:
            return DemoWorldSummary(**{**existing.summary, "created": False})
    end = (now or utcnow()).replace(minute=0, second=0, microsecond=0)
    try:
        with db.tenant_session(tenant_id) as session:
            session.add(DemoWorld(seed=seed, summary={}))
            # History is not notified: the demo merchants have no webhook endpoint.
            session.info[OUTBOX_DISABLED] = True
            session.flush()  # claims (tenant, seed) first: a concurrent seeder fails here
            # Bulk load: balances add up in memory and autoflush is off (the gateway flushes
            # where a later query needs the rows); both are written in this transaction.
            with ledger.batched_balances(session), session.no_autoflush:
                summary = _build(
                    session,
                    db,
                    tenant_id,
                    seed=seed,
                    days=days,
                    end=end,
                    started=started,
                    progress=progress or quiet,
                )
            marker = session.scalar(select(DemoWorld).where(DemoWorld.seed == seed))
            assert marker is not None
            marker.summary = {k: v for k, v in summary.to_dict().items() if k != "created"}
            return summary
    except IntegrityError:
        with db.tenant_session(tenant_id) as session:
            row = session.scalar(select(DemoWorld).where(DemoWorld.seed == seed))
            if row is None:
                raise
            return DemoWorldSummary(**{**row.summary, "created": False})


def _build(
    session: Session,
    db: Database,
    tenant_id: str,
    *,
    seed: int,
    days: int,
    end: datetime,
    started: float,
    progress: Progress,
) -> DemoWorldSummary:
    rng = random.Random(seed)
    tag = hashlib.sha1(f"{tenant_id}:{seed}".encode()).hexdigest()[:6]
    planted = _planted(end)
    gw = Gateway(db, simulator=IssuerSimulator(seed=seed, degradations=planted))
    disputes = Disputes(gw)
    start = end - timedelta(days=days)
    ids: dict[str, str] = {}
    for spec in MERCHANTS:
        mid = f"mer_{tag}_{spec.key}"
        ids[spec.key] = mid
        session.add(Merchant(
            id=mid, name=spec.name, legal_name=f"{spec.name} Ltd", country=spec.country, mcc=spec.mcc,
            markets=sorted(set(spec.buyers)), settlement_currency=spec.currency, kyb_state=spec.kyb,
            kyb_detail={"submittedAt": (start - timedelta(days=20)).isoformat(), **spec.kyb_detail},
            webhook_url=None, webhook_secret=hashlib.sha256(f"{mid}:{seed}".encode()).hexdigest(),
            created_at=start - timedelta(days=30),
        ))  # fmt: skip
    session.flush()

    # Customers with devices and cards: a pool per merchant, some cross-border.
    counts = {"customers": 0, "devices": 0, "cards": 0}
    pools: dict[str, list[tuple[str, str, str | None]]] = {}
    dependants: list[Device | Card] = []  # added after their customers are flushed (FK order)
    for spec in MERCHANTS:
        if not spec.daily:
            continue
        pool = []
        for n in range(60):
            country = (
                spec.buyers[n % len(spec.buyers)] if rng.random() < 0.8 else rng.choice(spec.buyers)
            )
            cid, did = f"cus_{tag}_{spec.key}{n}", f"dev_{tag}_{spec.key}{n}"
            session.add(
                Customer(
                    id=cid, email=f"buyer{n}@{spec.key}.example", country=country, created_at=start
                )
            )
            dependants.append(Device(id=did, customer_id=cid, fingerprint=hashlib.sha1(did.encode()).hexdigest(),
                               ip=f"198.51.{rng.randint(0, 255)}.{rng.randint(1, 254)}", created_at=start))  # fmt: skip
            card_id = None
            if any(m == "CARD" for m, _, _ in spec.methods):
                card_id = f"card_{tag}_{spec.key}{n}"
                brand = rng.choices(
                    ["VISA", "MASTERCARD", "AMEX", "JCB"], [0.55, 0.35, 0.06, 0.04]
                )[0]
                expired = rng.random() < 0.04
                dependants.append(Card(
                    id=card_id, customer_id=cid, brand=brand, bin=f"{rng.randint(400000, 559999)}",
                    last4=f"{rng.randint(0, 9999):04d}", funding=rng.choices(["CREDIT", "DEBIT", "PREPAID"], [0.6, 0.33, 0.07])[0],
                    issuer=rng.choice(ISSUERS.get(country, ["Global Bank"])), issuing_country=country,
                    exp_month=rng.randint(1, 12), exp_year=(start.year - 1) if expired else start.year + rng.randint(1, 4),
                    network_token=rng.random() < 0.3,
                ))  # fmt: skip
                counts["cards"] += 1
            counts["customers"] += 1
            counts["devices"] += 1
            pool.append((cid, did, card_id))
        pools[spec.key] = pool
    session.flush()
    session.add_all(dependants)
    session.flush()

    stats = {"payments": 0, "approved": 0, "declined": 0, "refunds": 0, "cancels": 0, "disputes": 0}
    dispute_ids: list[str] = []
    seq = 0
    for day in range(days):
        progress(day, days)
        for spec in MERCHANTS:
            for _ in range(spec.daily + rng.randint(-2, 2) if spec.daily else 0):
                seq += 1
                at = start + timedelta(days=day, seconds=rng.randint(0, 86_399))
                method, ccy, _ = rng.choices(spec.methods, [m[2] for m in spec.methods])[0]
                cid, did, card_id = rng.choice(pools[spec.key])
                low, high = spec.ticket
                amount = round(rng.lognormvariate(0, 0.6) * (low + high) / 4)
                amount = max(low, min(high * 2, amount))
                if ccy != spec.currency:
                    amount = gw.rates.convert(amount, spec.currency, ccy).target_minor
                amount = max(amount, 100) // 100 * 100 if ccy in ("IDR",) else max(amount, 100)
                card = method == "CARD"
                eea_card = spec.country == "DE"
                req = PayRequest(
                    merchant_id=ids[spec.key], request_id=f"demo-{seq}", amount=amount, currency=ccy,
                    method_type=method, card_id=card_id if card else None, customer_id=cid, device_id=did,
                    capture_mode="MANUAL" if card and spec.manual_capture else "AUTOMATIC",
                    # planted: the German shop skips 3DS on a third of its traffic
                    three_ds=card and (rng.random() < (0.66 if eea_card else 0.5)),
                )  # fmt: skip
                result = gw.pay_in(session, req, at=at)
                stats["payments"] += 1
                if result["state"] in ("FAILED", "PROCESSING"):
                    stats["declined"] += result["state"] == "FAILED"
                    continue
                stats["approved"] += 1
                pid = result["paymentId"]
                if result["state"] == "AUTHORIZED":
                    if rng.random() < 0.05:
                        gw.cancel_in(session, ids[spec.key], pid, at=at + timedelta(hours=5))
                        stats["cancels"] += 1
                        continue
                    gw.capture_in(session, CaptureRequest(ids[spec.key], pid, f"democap-{seq}", amount, True),
                                  at=at + timedelta(hours=rng.randint(2, 40)))  # fmt: skip
                roll = rng.random()
                if roll < 0.05 and method not in ("GOPAY_ID",):
                    when = at + timedelta(days=rng.randint(1, 20))
                    if when < end:
                        part = amount if rng.random() < 0.6 else max(1, amount // 2)
                        gw.refund_in(session, RefundRequest(ids[spec.key], pid, f"demoref-{seq}", part, "customer request"),
                                     at=when)  # fmt: skip
                        stats["refunds"] += 1
                elif roll > (0.985 if card else 0.995):
                    when = at + timedelta(days=rng.randint(5, 40))
                    if when < end:
                        network = (
                            "WALLET"
                            if not card
                            else (
                                "MASTERCARD" if _brand(session, card_id) == "MASTERCARD" else "VISA"
                            )
                        )
                        reason = rng.choice(DISPUTE_REASONS[network])
                        d = disputes.open_in(session, pid, reason, at=when)
                        dispute_ids.append(d.id)
                        stats["disputes"] += 1
    progress(days, days)
    session.flush()
    for spec in MERCHANTS:
        if spec.daily:
            gw.settle_in(
                session, ids[spec.key], cutoff=end - timedelta(days=2), at=end - timedelta(days=1)
            )
    # Older disputes have moved on: some accepted, some defended; recent ones await a response.
    for dispute_id in dispute_ids:
        d = load_dispute(session, dispute_id)
        if d.defense_due_at > end:
            continue
        if rng.random() < 0.4:
            disputes.accept_in(session, dispute_id, at=d.opened_at + timedelta(days=3))
        else:
            tags = [
                e["evidenceTag"]
                for e in disputes.checklist_in(session, d, at=d.opened_at)["evidenceList"]
            ]
            disputes.submit_in(session, dispute_id, {t: "supplied by merchant" for t in tags[:2]},
                               at=d.opened_at + timedelta(days=5))  # fmt: skip
            disputes.advance_in(session, dispute_id, at=d.opened_at + timedelta(days=15))
        # A later stage (pre-arbitration) whose deadline also passed before today timed out:
        # the world holds no dispute that still "needs a response" after its deadline.
        d = load_dispute(session, dispute_id)
        if d.status == "NEEDS_RESPONSE" and d.defense_due_at <= end:
            disputes.advance_in(
                session, dispute_id, at=min(d.defense_due_at + timedelta(hours=1), end)
            )
    return DemoWorldSummary(
        tenant_id=tenant_id, seed=seed, days=days, created=True, merchant_ids=ids,
        kyb_states={ids[s.key]: s.kyb for s in MERCHANTS}, customers=counts["customers"],
        devices=counts["devices"], cards=counts["cards"], start=start.isoformat(), end=end.isoformat(),
        planted=[{"issuer": p.issuer, "method_type": p.method_type, "penalty": p.penalty, "code": p.code,
                  "start": p.start.isoformat() if p.start else None} for p in planted]
        + [{"merchant": ids["de"], "what": "a third of EEA card traffic without 3DS", "codes": ["65", "1A"]}],
        seconds=round(time.perf_counter() - started, 3), **stats,
    )  # fmt: skip


def _brand(session: Session, card_id: str | None) -> str | None:
    return session.scalar(select(Card.brand).where(Card.id == card_id)) if card_id else None


__all__ = ["MERCHANTS", "DemoWorldSummary", "seed_demo_world"]
