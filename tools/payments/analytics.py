"""Success-rate analytics: rates by dimension, decline breakdown, levers, dispute monitoring.

A payment counts once it has a final result (``S`` or ``F``); ``U`` is left
out, never booked as a failure. The lever ranking compares each segment with
the rate of everything outside it and ranks segments by *lost approvals*
(volume × gap), then names the lever of the segment's dominant decline code —
so a planted degraded issuer surfaces first with the right fix.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cockpit.errors import ValidationFailed
from tools.payments.codes import LEVERS, describe
from tools.payments.models import Dispute, Payment

DIMENSIONS = (
    "method_type",
    "market",
    "issuer",
    "brand",
    "three_ds",
    "network_token",
    "decline_code",
)
LEVER_DIMENSIONS = ("issuer", "method_type", "market", "brand", "three_ds", "network_token")
BUCKETS = ("day", "week")
"""Time buckets of :func:`success_series` (a week starts on Monday)."""
MIN_SEGMENT = 20
"""Segments smaller than this are too noisy to rank."""

# Monitoring thresholds (DOMAIN.md §5.6): (count, ratio).
VAMP = (1500, 0.015)
MC_ECM = (100, 0.015)
MC_HECM = (300, 0.03)


@dataclass(frozen=True, slots=True)
class Row:
    approved: bool
    values: dict[str, Any]
    decline_code: str | None


def _rows(
    session: Session, *, start: datetime | None, end: datetime | None, merchant_id: str | None
) -> list[Row]:
    cols = [getattr(Payment, d) for d in DIMENSIONS if d != "decline_code"]
    stmt = select(Payment.result_status, Payment.decline_code, *cols).where(
        Payment.result_status.in_(("S", "F"))
    )
    if start is not None:
        stmt = stmt.where(Payment.created_at >= start)
    if end is not None:
        stmt = stmt.where(Payment.created_at < end)
    if merchant_id is not None:
        stmt = stmt.where(Payment.merchant_id == merchant_id)
    names = [d for d in DIMENSIONS if d != "decline_code"]
    out = []
    for status, code, *vals in session.execute(stmt).all():
        values = dict(zip(names, vals, strict=True))
        values["decline_code"] = code or "approved"
        out.append(Row(status == "S", values, code))
    return out


def success_rate(
    session: Session, *, group_by: str, start: datetime | None = None, end: datetime | None = None,
    merchant_id: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Attempts, approvals and success rate per value of ``group_by``, worst first."""
    if group_by not in DIMENSIONS:
        raise ValidationFailed(
            f"group_by must be one of {', '.join(DIMENSIONS)}",
            code="invalid_dimension",
            param="group_by",
        )
    rows = _rows(session, start=start, end=end, merchant_id=merchant_id)
    groups: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        groups[str(r.values[group_by])].append(r)
    total_ok = sum(r.approved for r in rows)
    segments: list[dict[str, Any]] = []
    for value, items in groups.items():
        ok = sum(r.approved for r in items)
        segments.append({"value": value, "attempts": len(items), "approved": ok,
                         "successRate": round(ok / len(items), 4) if items else None})  # fmt: skip
    segments.sort(key=lambda s: (s["successRate"], -s["attempts"]))
    return {
        "groupBy": group_by,
        "attempts": len(rows),
        "approved": total_ok,
        "successRate": round(total_ok / len(rows), 4) if rows else None,
        "segments": segments,
    }


def _bucket_of(day: date, bucket: str) -> date:
    return day - timedelta(days=day.weekday()) if bucket == "week" else day


def success_series(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    bucket: str = "day",
    merchant_id: str | None = None,
) -> dict[str, Any]:
    """Attempts, approvals and success rate per day (or week) from ``start`` to ``end``.

    Buckets are UTC calendar days (weeks from Monday); every bucket the span touches is
    present, the first and last possibly partial, and one without final results has
    ``rate`` None, not 0. The totals are those of :func:`success_rate` over the same span.
    ``approvedVolume`` sums approved amounts per currency in minor units.
    """
    if bucket not in BUCKETS:
        raise ValidationFailed(
            f"bucket must be one of {', '.join(BUCKETS)}", code="invalid_bucket", param="bucket"
        )
    if end <= start:
        raise ValidationFailed("the window is empty", code="invalid_window", param="days")
    stmt = select(
        Payment.created_at, Payment.result_status, Payment.currency, Payment.amount
    ).where(
        Payment.result_status.in_(("S", "F")),
        Payment.created_at >= start,
        Payment.created_at < end,
    )
    if merchant_id is not None:
        stmt = stmt.where(Payment.merchant_id == merchant_id)
    attempts: Counter[date] = Counter()
    approved: Counter[date] = Counter()
    volume: Counter[str] = Counter()
    for at, status, currency, amount in session.execute(stmt).all():
        key = _bucket_of(at.astimezone(UTC).date(), bucket)
        attempts[key] += 1
        if status == "S":
            approved[key] += 1
            volume[currency] += amount
    first = _bucket_of(start.astimezone(UTC).date(), bucket)
    last = _bucket_of((end - timedelta(microseconds=1)).astimezone(UTC).date(), bucket)
    step = timedelta(days=7 if bucket == "week" else 1)
    points = []
    day = first
    while day <= last:
        n, ok = attempts[day], approved[day]
        rate = round(ok / n, 4) if n else None
        points.append({"date": day.isoformat(), "attempts": n, "approved": ok, "rate": rate})
        day += step
    total, total_ok = sum(attempts.values()), sum(approved.values())
    return {
        "merchantId": merchant_id,
        "bucket": bucket,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "attempts": total,
        "approved": total_ok,
        "successRate": round(total_ok / total, 4) if total else None,
        "approvedVolume": [{"currency": ccy, "value": str(v)} for ccy, v in sorted(volume.items())],
        "data": points,
    }


def decline_breakdown(
    session: Session, *, start: datetime | None = None, end: datetime | None = None, merchant_id: str | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Decline codes by count with soft/hard, Visa category and lever."""
    rows = _rows(session, start=start, end=end, merchant_id=merchant_id)
    counts = Counter(r.decline_code for r in rows if not r.approved and r.decline_code)
    total = sum(counts.values())
    out = []
    for code, n in counts.most_common():
        d = describe(code)
        out.append({"code": code, "meaning": d.meaning, "count": n, "share": round(n / total, 4),
                    "type": "SOFT" if d.soft else "HARD", "visaCategory": d.visa_category,
                    "lever": d.lever, "leverDescription": LEVERS.get(d.lever, ""), "action": d.action})  # fmt: skip
    return out


def _segments(rows: list[Row]) -> list[tuple[str, str, frozenset[int]]]:
    out = []
    for dim in LEVER_DIMENSIONS:
        groups: dict[str, set[int]] = defaultdict(set)
        for i, r in enumerate(rows):
            if r.values[dim] is not None:
                groups[str(r.values[dim])].add(i)
        out += [(dim, value, frozenset(ids)) for value, ids in groups.items()]
    return out


def _lost(rows: list[Row], ids: frozenset[int], pool: frozenset[int]) -> tuple[float, float, float]:
    """(lost approvals, segment rate, rate of the rest of ``pool``)."""
    inside = ids & pool
    rest = pool - inside
    if not inside or not rest:
        return 0.0, 0.0, 0.0
    rate = sum(rows[i].approved for i in inside) / len(inside)
    rest_rate = sum(rows[i].approved for i in rest) / len(rest)
    return len(inside) * (rest_rate - rate), rate, rest_rate


def top_levers(
    session: Session, *, start: datetime | None = None, end: datetime | None = None,
    merchant_id: str | None = None, limit: int = 5,
) -> list[dict[str, Any]]:  # fmt: skip
    """Segments losing the most approvals against the rest of the traffic, with their lever.

    Greedy and residual: a segment whose loss is mostly explained by a narrower
    segment of another dimension (a brand by one of its issuers) gives way to
    it, and once a segment is picked its traffic is set aside before ranking
    the next, so one planted problem is reported once.
    """
    rows = _rows(session, start=start, end=end, merchant_id=merchant_id)
    pool = frozenset(range(len(rows)))
    candidates = [
        (dim, value, ids)
        for dim, value, ids in _segments(rows)
        if MIN_SEGMENT <= len(ids) < len(rows)
    ]
    stats = {(d, v): _lost(rows, ids, pool) for d, v, ids in candidates}

    def gap(key: tuple[str, str]) -> float:
        return stats[key][2] - stats[key][1]

    # A broad segment (all cards) whose loss is carried by a narrower, worse segment of
    # another dimension (one issuer) gives way to it: the narrow one names the fix.
    narrower = [
        (d, v, ids)
        for d, v, ids in candidates
        if not any(
            other < ids
            and gap((od, ov)) > gap((d, v))
            and stats[(od, ov)][0] >= 0.25 * stats[(d, v)][0] > 0
            for od, ov, other in candidates
            if od != d
        )
    ]
    findings: list[dict[str, Any]] = []
    while narrower and len(findings) < limit:
        scored = [(_lost(rows, ids, pool), d, v, ids) for d, v, ids in narrower]
        scored = [x for x in scored if x[0][0] > 0 and len(x[3] & pool) >= MIN_SEGMENT]
        if not scored:
            break
        (lost, rate, rest_rate), dim, value, ids = max(scored, key=lambda x: x[0][0])
        inside = ids & pool
        codes: Counter[str] = Counter(
            rows[i].decline_code or "" for i in inside if not rows[i].approved
        )
        top_code, top_n = codes.most_common(1)[0] if codes else ("", 0)
        d = describe(top_code)
        findings.append({
            "dimension": dim, "value": value, "attempts": len(inside), "successRate": round(rate, 4),
            "restSuccessRate": round(rest_rate, 4), "lostApprovals": round(lost, 1),
            "topDeclineCode": top_code,
            "topDeclineShare": round(top_n / max(1, sum(codes.values())), 4),
            "declineType": "SOFT" if d.soft else "HARD", "lever": d.lever,
            "leverDescription": LEVERS.get(d.lever, ""),
        })  # fmt: skip
        pool = pool - ids
        narrower = [x for x in narrower if x[2] != ids]
    return findings


def dispute_monitoring(
    session: Session, *, merchant_id: str, start: datetime, end: datetime
) -> dict[str, Any]:
    """Disputes / sales by network in a period against VAMP and Mastercard ECM/HECM."""
    sales = dict(session.execute(
        select(Payment.brand, func.count()).where(
            Payment.merchant_id == merchant_id, Payment.state == "CAPTURED",
            Payment.created_at >= start, Payment.created_at < end,
        ).group_by(Payment.brand)
    ).tuples().all())  # fmt: skip
    disputes = dict(session.execute(
        select(Dispute.network, func.count()).where(
            Dispute.merchant_id == merchant_id, Dispute.opened_at >= start, Dispute.opened_at < end,
        ).group_by(Dispute.network)
    ).tuples().all())  # fmt: skip
    out: dict[str, Any] = {
        "merchantId": merchant_id,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "programmes": [],
    }
    for network, sales_key, programmes in (
        ("VISA", "VISA", [("VAMP", VAMP)]),
        ("MASTERCARD", "MASTERCARD", [("ECM", MC_ECM), ("HECM", MC_HECM)]),
    ):
        n, s = int(disputes.get(network, 0)), int(sales.get(sales_key, 0))
        ratio = n / s if s else 0.0
        for name, (count_limit, ratio_limit) in programmes:
            flagged = (
                (n > count_limit and ratio > ratio_limit)
                if name == "VAMP"
                else (n >= count_limit and ratio >= ratio_limit)
            )
            out["programmes"].append({"network": network, "programme": name, "disputes": n, "sales": s,
                                      "ratio": round(ratio, 5), "countThreshold": count_limit,
                                      "ratioThreshold": ratio_limit, "flagged": flagged,
                                      "ratioHeadroom": round(ratio_limit - ratio, 5)})  # fmt: skip
    return out


__all__ = [
    "BUCKETS",
    "DIMENSIONS",
    "decline_breakdown",
    "dispute_monitoring",
    "success_rate",
    "success_series",
    "top_levers",
]
