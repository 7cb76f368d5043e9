"""Wire views of payments objects (gateway-shaped JSON: amounts as ``{currency, value}``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tools.payments.codes import describe
from tools.payments.models import Cancel, Capture, Dispute, Payment, Refund

PAYMENT_STATUS = {
    "PROCESSING": "PROCESSING",
    "AUTHORIZED": "SUCCESS",
    "CAPTURED": "SUCCESS",
    "FAILED": "FAIL",
    "CANCELLED": "CANCELLED",
}


def amount(value: int, currency: str) -> dict[str, str]:
    return {"currency": currency, "value": str(value)}


def ts(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def payment_view(p: Payment) -> dict[str, Any]:
    info: dict[str, Any] = {
        "paymentMethodType": p.method_type,
        "market": p.market,
        "issuer": p.issuer,
        "issuingCountry": p.issuing_country,
    }
    if p.method_category == "CARD":
        info.update(
            cardBrand=p.brand,
            networkToken=p.network_token,
            threeDSResult={"eci": p.eci, "authenticated": p.three_ds} if p.three_ds else None,
            authorizationCode=p.authorization_code,
        )
    if p.decline_code:
        d = describe(p.decline_code)
        info.update(
            refusalCodeRaw=p.decline_code,
            refusalReasonRaw=d.meaning,
            declineType="SOFT" if d.soft else "HARD",
            merchantAdviceCode=p.merchant_advice_code,
            suggestedLever=d.lever,
        )
    return {
        "result": {
            "resultStatus": p.result_status,
            "resultCode": p.result_code,
            "resultMessage": describe(p.decline_code).meaning
            if p.decline_code
            else p.result_code.lower(),
        },
        "paymentId": p.id,
        "paymentRequestId": p.request_id,
        "merchantId": p.merchant_id,
        "paymentAmount": amount(p.amount, p.currency),
        "paymentStatus": PAYMENT_STATUS[p.state],
        "state": p.state,
        "captureMode": p.capture_mode,
        "capturedAmount": amount(p.captured_amount, p.currency),
        "refundedAmount": amount(p.refunded_amount, p.currency),
        "paymentCreateTime": ts(p.created_at),
        "paymentTime": ts(p.decided_at),
        "authExpiryTime": ts(p.auth_expires_at),
        "paymentResultInfo": info,
        # The merchant's own notes: untrusted text (the runtime screens it before an agent
        # reads it), returned as given.
        "description": p.description,
        "metadata": dict(p.metadata_ or {}),
    }


def capture_view(c: Capture, p: Payment) -> dict[str, Any]:
    return {
        "result": {"resultStatus": "S", "resultCode": "SUCCESS", "resultMessage": "success"},
        "captureId": c.id,
        "captureRequestId": c.request_id,
        "paymentId": p.id,
        "captureAmount": amount(c.amount, c.currency),
        "captureTime": ts(c.created_at),
        "isLastCapture": c.is_last,
    }


def refund_view(r: Refund, p: Payment) -> dict[str, Any]:
    return {
        "result": {"resultStatus": "S", "resultCode": "SUCCESS", "resultMessage": "success"},
        "refundId": r.id,
        "refundRequestId": r.request_id,
        "paymentId": p.id,
        "refundAmount": amount(r.amount, r.currency),
        "refundStatus": r.status,
        "refundTime": ts(r.created_at),
    }


def cancel_view(c: Cancel, p: Payment) -> dict[str, Any]:
    return {
        "result": {"resultStatus": "S", "resultCode": "SUCCESS", "resultMessage": "success"},
        "cancelId": c.id,
        "paymentId": p.id,
        "paymentRequestId": p.request_id,
        "reversedAmount": amount(c.reversed_amount, p.currency),
        "cancelTime": ts(c.created_at),
    }


def dispute_view(d: Dispute) -> dict[str, Any]:
    return {
        "disputeId": d.id,
        "paymentId": d.payment_id,
        "merchantId": d.merchant_id,
        "network": d.network,
        "disputeType": d.dispute_type,
        "disputeReasonCode": d.reason_code,
        "disputeReasonMsg": d.reason_msg,
        "category": d.category,
        "stage": d.stage,
        "status": d.status,
        "disputeAmount": amount(d.amount, d.currency),
        "disputeTime": ts(d.opened_at),
        "defenseDueTime": ts(d.defense_due_at),
        "defenseSubmittedTime": ts(d.defense_submitted_at),
        "disputeJudgedResult": d.outcome,
        "disputeAcceptReason": d.accept_reason,
        "closedTime": ts(d.closed_at),
    }


__all__ = [
    "PAYMENT_STATUS",
    "amount",
    "cancel_view",
    "capture_view",
    "dispute_view",
    "payment_view",
    "refund_view",
    "ts",
]
