"""Agent tools over the payments world (registered in the ``cockpit.tools`` registry).

READ tools change nothing. WRITE tools are idempotent on
``ctx.idempotency_key`` (a repeat returns the first result and moves no
money), check their preconditions and raise errors with stable codes the
agent can read. Money-moving WRITE tools declare ``amount_field`` /
``currency_field`` so the runtime's policy can ask for approval above a
threshold. The tenant comes only from ``ctx.principal``; a principal bound to
a merchant only sees and acts on that merchant's objects.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from cockpit.db.base import utcnow
from cockpit.errors import Conflict, NotFound, ToolError
from cockpit.money import CurrencyCode, ModelMinorAmount, format_amount
from cockpit.toolkit import ToolContext, ToolKind, register_tool
from cockpit.toolkit.ids import check_id
from tools.payments import analytics, queries
from tools.payments.disputes import Disputes, check_accept, check_response
from tools.payments.gateway import (
    CaptureRequest,
    Gateway,
    RefundRequest,
    check_cancel,
    check_capture,
    check_refund,
    load_payment,
)
from tools.payments.models import Dispute, Payment
from tools.payments.money import normalize_currency
from tools.payments.monitors import tools as monitor_tools  # noqa: F401 (registers its tools)
from tools.payments.startup import GATEWAY_KEY
from tools.payments.tx import idempotent, read_tx

# ----- helpers -------------------------------------------------------------------------


def _tenant(ctx: ToolContext) -> str:
    return ctx.principal.tenant_id


def _pid(payment_id: str) -> str:
    """A payment id, or a 422 saying what the id is instead (a ``dsp_…`` is a dispute's)."""
    return check_id(payment_id, "payment", param="payment_id")


def _did(dispute_id: str) -> str:
    return check_id(dispute_id, "dispute", param="dispute_id")


def _merchant_scope(ctx: ToolContext, requested: str | None = None) -> str | None:
    if requested:
        check_id(requested, "merchant", param="merchant_id")
    bound = ctx.principal.merchant_id
    if bound and requested and requested != bound:
        raise NotFound(f"no merchant {requested!r}", code="merchant_not_found", param="merchant_id")
    return bound or requested


def _gateway(ctx: ToolContext) -> Gateway:
    """The process's shared gateway (wired with live FX rates), else a plain one."""
    gw = ctx.extras.get(GATEWAY_KEY)
    return gw if isinstance(gw, Gateway) else Gateway(ctx.db)


def _check_currency(payment_id: str, actual: str, currency: str) -> None:
    if normalize_currency(currency) != actual:
        raise Conflict(
            f"{payment_id} is in {actual}, not {currency.upper()}; give the amount in {actual}",
            code="currency_mismatch",
            param="currency",
        )


def _payment_in(ctx: ToolContext, payment_id: str, currency: str) -> str:
    """The payment's merchant, after checking the amount's currency is the payment's."""
    merchant, actual = _payment_merchant(ctx, payment_id)
    _check_currency(payment_id, actual, currency)
    return merchant


def _payment_row(ctx: ToolContext, payment_id: str) -> Payment:
    """The payment (detached, for a precheck) if the caller may act on it."""
    pid = _pid(payment_id)
    scope = _merchant_scope(ctx)
    return read_tx(ctx.db, _tenant(ctx), lambda s: load_payment(s, pid, merchant_id=scope))


def _dispute_row(ctx: ToolContext, dispute_id: str) -> Dispute:
    did = _did(dispute_id)
    scope = _merchant_scope(ctx)
    return read_tx(ctx.db, _tenant(ctx), lambda s: queries.scoped_dispute(s, did, scope))


def _require_key(ctx: ToolContext) -> str:
    if not ctx.idempotency_key:
        raise ToolError(
            "write tools need an idempotency key from the runtime", code="idempotency_key_required"
        )
    return ctx.idempotency_key


def _request_id(prefix: str, key: str) -> str:
    """A gateway request id (≤ 64 chars) derived from the runtime's idempotency key."""
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def _payment_merchant(ctx: ToolContext, payment_id: str) -> tuple[str, str]:
    """(merchant id, currency) of a payment the caller may act on."""

    _pid(payment_id)

    def fn(session: Any) -> tuple[str, str]:
        view = queries.get_payment(session, payment_id, merchant_id=_merchant_scope(ctx))
        return str(view["merchantId"]), str(view["paymentAmount"]["currency"])

    return read_tx(ctx.db, _tenant(ctx), fn)


# ----- READ ----------------------------------------------------------------------------


class PaymentArgs(BaseModel):
    payment_id: str = Field(description="Payment id, e.g. pay_3f2a…")


@register_tool(
    "payments_get_payment",
    kind=ToolKind.READ,
    args=PaymentArgs,
    rest=("GET", "/v1/payments/payments/{payment_id}"),
)
def get_payment(ctx: ToolContext, args: PaymentArgs) -> dict[str, Any]:
    """Get one payment: status (SUCCESS/FAIL/PROCESSING/CANCELLED), result code, amount in minor units,
    method, captured, refunded and still-refundable amounts, refunds, decline details if it failed,
    and who paid: `entities` maps each fraud entity kind to the id stored on the payment —
    customer, card, device, ip (null when not stored) — plus cardDetails (brand, BIN, last four).
    To block "the device used on pay_…", block kind "device" with entities.device."""
    pid = _pid(args.payment_id)
    return read_tx(
        ctx.db,
        _tenant(ctx),
        lambda s: queries.get_payment(s, pid, merchant_id=_merchant_scope(ctx)),
    )


PaymentState = Literal["AUTHORIZED", "CAPTURED", "FAILED", "CANCELLED", "PROCESSING"]
DisputeStatus = Literal["NEEDS_RESPONSE", "UNDER_REVIEW", "WON", "LOST", "ACCEPTED"]
GroupBy = Literal[
    "method_type", "market", "issuer", "brand", "three_ds", "network_token", "decline_code"
]
"""The dimensions of ``analytics.DIMENSIONS``, as a type the model's schema shows as ``enum``."""


class SearchArgs(BaseModel):
    state: PaymentState | None = Field(None, description="Only payments in this state")
    method_type: str | None = Field(
        None, description="Payment method code, e.g. CARD, GCASH, KAKAOPAY"
    )
    decline_code: str | None = Field(None, description="Decline code, e.g. 05, 51, 91")
    days: int = Field(30, ge=1, le=365, description="Look back this many days")
    merchant_id: str | None = Field(
        None, description="Merchant id (ignored when the caller is bound to one)"
    )
    limit: int = Field(20, ge=1, le=100)


@register_tool(
    "payments_search", kind=ToolKind.READ, args=SearchArgs, rest=("GET", "/v1/payments/payments")
)
def search_payments(ctx: ToolContext, args: SearchArgs) -> dict[str, Any]:
    """Search recent payments (newest first) by state, method, decline code and look-back window."""
    start = utcnow() - timedelta(days=args.days)
    rows = read_tx(ctx.db, _tenant(ctx), lambda s: queries.search_payments(
        s, merchant_id=_merchant_scope(ctx, args.merchant_id), state=args.state, method_type=args.method_type,
        decline_code=args.decline_code, start=start, limit=args.limit))  # fmt: skip
    return {"count": len(rows), "payments": rows}


class DeclineArgs(BaseModel):
    payment_id: str | None = Field(
        None, description="Payment id, e.g. pay_3f2a…; omit for the most recent declined payment"
    )


@register_tool(
    "payments_explain_decline",
    kind=ToolKind.READ,
    args=DeclineArgs,
    rest=("GET", "/v1/payments/payments/{payment_id}/decline"),
)
def explain_decline(ctx: ToolContext, args: DeclineArgs) -> dict[str, Any]:
    """Explain why a payment was declined: the issuer/wallet code and meaning, soft or hard, whether a
    retry is allowed, the Mastercard advice code, and the lever that would raise success. Without a
    payment id it explains the caller's most recent declined payment."""
    pid = _pid(args.payment_id) if args.payment_id else None
    return read_tx(
        ctx.db,
        _tenant(ctx),
        lambda s: queries.explain_decline(s, pid, merchant_id=_merchant_scope(ctx)),
    )


class ListDisputesArgs(BaseModel):
    status: DisputeStatus | None = Field(None, description="Only disputes in this status")
    merchant_id: str | None = Field(
        None, description="Merchant id (ignored when the caller is bound to one)"
    )
    limit: int = Field(50, ge=1, le=200)


@register_tool(
    "payments_list_disputes",
    kind=ToolKind.READ,
    args=ListDisputesArgs,
    rest=("GET", "/v1/payments/disputes"),
)
def list_disputes(ctx: ToolContext, args: ListDisputesArgs) -> dict[str, Any]:
    """List disputes, soonest response deadline first, with reason code, stage, status and amount."""
    rows = read_tx(ctx.db, _tenant(ctx), lambda s: queries.list_disputes(
        s, merchant_id=_merchant_scope(ctx, args.merchant_id), status=args.status, limit=args.limit))  # fmt: skip
    return {"count": len(rows), "disputes": rows}


class DisputeArgs(BaseModel):
    dispute_id: str = Field(description="Dispute id, e.g. dsp_9c1…")


@register_tool(
    "payments_dispute_details",
    kind=ToolKind.READ,
    args=DisputeArgs,
    rest=("GET", "/v1/payments/disputes/{dispute_id}"),
)
def dispute_details(ctx: ToolContext, args: DisputeArgs) -> dict[str, Any]:
    """Dispute detail with its evidence checklist: each evidence tag, its win-rate contribution and
    whether it is obtained; the win-rate level (HIGH/MEDIUM/LOW), liability shift, Visa CE 3.0
    eligibility, the deadline and whether accepting is recommended."""
    disputes = Disputes(_gateway(ctx))
    _did(args.dispute_id)

    def fn(session: Any) -> dict[str, Any]:
        from tools.payments.views import dispute_view

        d = queries.scoped_dispute(session, args.dispute_id, _merchant_scope(ctx))
        return {"dispute": dispute_view(d), "checklist": disputes.checklist_in(session, d, at=utcnow()),
                "evidence": queries.dispute_evidence(session, d.id), "history": d.history}  # fmt: skip

    return read_tx(ctx.db, _tenant(ctx), fn)


@register_tool(
    "payments_draft_dispute_response",
    kind=ToolKind.READ,
    args=DisputeArgs,
    rest=("GET", "/v1/payments/disputes/{dispute_id}"),
)
def draft_dispute_response(ctx: ToolContext, args: DisputeArgs) -> dict[str, Any]:
    """Draft a dispute's response without submitting it: `evidence` maps each checklist tag the
    gateway can support to a factual text (3DS/ECI, device and IP, Visa CE 3.0 prior undisputed
    transactions, refunds, authorisation, capture and settlement, with ids and times); `missing`
    lists the tags only the merchant can supply. Also the win-rate level, accept/defend
    recommendation, deadline, whether it can still be submitted, and the audit trail."""
    disputes = Disputes(_gateway(ctx))
    _did(args.dispute_id)

    def fn(session: Any) -> dict[str, Any]:
        d = queries.scoped_dispute(session, args.dispute_id, _merchant_scope(ctx))
        draft = disputes.draft_in(session, d, at=utcnow())
        # The answer template is chosen by how many tags were drafted (or that it is too late).
        n = len(draft["evidenceItems"])
        return {**draft, "outcome": f"drafted_{n}" if draft["submittable"] else "not_submittable"}

    return read_tx(ctx.db, _tenant(ctx), fn)


class SuccessRateArgs(BaseModel):
    group_by: GroupBy = Field("method_type", description="Dimension to group the rates by")
    days: int = Field(30, ge=1, le=365)
    merchant_id: str | None = Field(
        None, description="Merchant id (ignored when the caller is bound to one)"
    )


@register_tool(
    "payments_success_rate_report",
    kind=ToolKind.READ,
    args=SuccessRateArgs,
    rest=("GET", "/v1/payments/analytics/success-rate"),
)
def success_rate_report(ctx: ToolContext, args: SuccessRateArgs) -> dict[str, Any]:
    """Payment success rate over the last N days grouped by a dimension, the decline-code breakdown
    (soft/hard, lever) and the top levers: segments losing the most approvals and what to change."""
    start = utcnow() - timedelta(days=args.days)
    scope = _merchant_scope(ctx, args.merchant_id)

    def fn(session: Any) -> dict[str, Any]:
        return {
            "rates": analytics.success_rate(
                session, group_by=args.group_by, start=start, merchant_id=scope
            ),
            "declines": analytics.decline_breakdown(session, start=start, merchant_id=scope)[:10],
            "topLevers": analytics.top_levers(session, start=start, merchant_id=scope),
        }

    return read_tx(ctx.db, _tenant(ctx), fn)


class MerchantArgs(BaseModel):
    merchant_id: str | None = Field(
        None, description="Merchant id (defaults to the caller's merchant)"
    )


def _merchant_id(ctx: ToolContext, args: MerchantArgs) -> str:
    merchant = _merchant_scope(ctx, args.merchant_id)
    if not merchant:
        raise ToolError("say which merchant", code="merchant_required")
    return merchant


@register_tool(
    "payments_merchant_kyb_status",
    kind=ToolKind.READ,
    args=MerchantArgs,
    rest=("GET", "/v1/payments/merchants/{merchant_id}"),
)
def merchant_kyb_status(ctx: ToolContext, args: MerchantArgs) -> dict[str, Any]:
    """A merchant's onboarding (KYB) state, whether it can take payments, and what is missing."""
    merchant = _merchant_id(ctx, args)
    return read_tx(ctx.db, _tenant(ctx), lambda s: queries.merchant_kyb(s, merchant))


@register_tool(
    "payments_balances",
    kind=ToolKind.READ,
    args=MerchantArgs,
    rest=("GET", "/v1/payments/balances/{merchant_id}"),
)
def balances(ctx: ToolContext, args: MerchantArgs) -> dict[str, Any]:
    """A merchant's ledger balances per currency in minor units: pending (captured, not settled),
    available (settled, net of fees and refunds) and reserve (frozen by open disputes)."""
    merchant = _merchant_id(ctx, args)
    return read_tx(ctx.db, _tenant(ctx), lambda s: queries.balances(s, merchant))


class DisputeMonitoringArgs(BaseModel):
    merchant_id: str | None = Field(
        None, description="Merchant id (defaults to the caller's merchant)"
    )
    days: int = Field(30, ge=1, le=92, description="Look back this many days (a month: 30)")


def _percent(ratio: float) -> str:
    return f"{ratio * 100:.2f}%"


@register_tool(
    "payments_dispute_monitoring",
    kind=ToolKind.READ,
    args=DisputeMonitoringArgs,
    rest=("GET", "/v1/payments/analytics/dispute-monitoring/{merchant_id}"),
)
def dispute_monitoring(ctx: ToolContext, args: DisputeMonitoringArgs) -> dict[str, Any]:
    """A merchant's dispute-to-sales ratio per card network over the last N days against the scheme
    monitoring programmes: Visa VAMP (flagged only when disputes > 1,500 AND ratio > 1.5%) and
    Mastercard ECM (>= 100 and >= 1.5%) / HECM (>= 300 and >= 3%), with the headroom to each."""
    merchant = _merchant_scope(ctx, args.merchant_id)
    if not merchant:
        raise ToolError("say which merchant", code="merchant_required")
    end = utcnow()

    def fn(session: Any) -> dict[str, Any]:
        queries.require_merchant(session, merchant)  # unknown or other-tenant: not found
        report = analytics.dispute_monitoring(
            session, merchant_id=merchant, start=end - timedelta(days=args.days), end=end
        )
        for row in report["programmes"]:
            row["ratioPercent"] = _percent(row["ratio"])
            row["ratioThresholdPercent"] = _percent(row["ratioThreshold"])
        report["days"] = args.days
        report["flagged"] = [row["programme"] for row in report["programmes"] if row["flagged"]]
        return report

    return read_tx(ctx.db, _tenant(ctx), fn)


# ----- WRITE ---------------------------------------------------------------------------


class RefundArgs(BaseModel):
    payment_id: str = Field(description="Payment to refund")
    amount: ModelMinorAmount = Field(
        gt=0, description="Amount in minor units of the payment currency (e.g. cents)"
    )
    currency: CurrencyCode = Field(description="ISO currency of the payment, e.g. SGD")
    reason: str | None = Field(None, max_length=200)


def _refund_precheck(ctx: ToolContext, args: RefundArgs) -> None:
    """What the refund would fail on, read before an approval is asked for (same checks)."""
    payment = _payment_row(ctx, args.payment_id)
    _check_currency(payment.id, payment.currency, args.currency)
    check_refund(payment, args.amount, at=utcnow())


@register_tool(
    "payments_refund",
    kind=ToolKind.WRITE,
    args=RefundArgs,
    amount_field="amount",
    currency_field="currency",
    rest=("POST", "/v1/payments/payments/{payment_id}/refunds"),
    precheck=_refund_precheck,
)
def refund(ctx: ToolContext, args: RefundArgs) -> dict[str, Any]:
    """Refund a captured payment, fully or partly (several partial refunds are allowed; their total
    never exceeds the captured amount). Fails with refund_amount_exceed, refund_window_exceeded,
    payment_not_captured or payment_disputed."""
    key = _require_key(ctx)
    merchant = _payment_in(ctx, args.payment_id, args.currency)
    gw = _gateway(ctx)
    req = RefundRequest(
        merchant, args.payment_id, _request_id("tool", key), args.amount, args.reason
    )
    return idempotent(ctx.db, _tenant(ctx), scope="tool:payments_refund", key=key, body=args.model_dump(),
                      fn=lambda s: gw.refund_in(s, req, at=utcnow()))  # fmt: skip


class CaptureArgs(BaseModel):
    payment_id: str = Field(description="Authorised (manual-capture) payment")
    amount: ModelMinorAmount = Field(gt=0, description="Amount to capture in minor units")
    currency: CurrencyCode = Field(description="ISO currency of the payment")
    final: bool = Field(False, description="True if no further captures will follow")


def _capture_precheck(ctx: ToolContext, args: CaptureArgs) -> None:
    payment = _payment_row(ctx, args.payment_id)
    _check_currency(payment.id, payment.currency, args.currency)
    check_capture(payment, args.amount, at=utcnow())


@register_tool(
    "payments_capture",
    kind=ToolKind.WRITE,
    args=CaptureArgs,
    amount_field="amount",
    currency_field="currency",
    rest=("POST", "/v1/payments/payments/{payment_id}/captures"),
    precheck=_capture_precheck,
)
def capture(ctx: ToolContext, args: CaptureArgs) -> dict[str, Any]:
    """Capture an authorised manual-capture payment, fully or in parts before the authorisation
    expires. Fails with payment_cancelled, authorization_expired, capture_amount_exceed or capture_closed."""
    key = _require_key(ctx)
    merchant = _payment_in(ctx, args.payment_id, args.currency)
    gw = _gateway(ctx)
    req = CaptureRequest(
        merchant, args.payment_id, _request_id("tool", key), args.amount, args.final
    )
    return idempotent(ctx.db, _tenant(ctx), scope="tool:payments_capture", key=key, body=args.model_dump(),
                      fn=lambda s: gw.capture_in(s, req, at=utcnow()))  # fmt: skip


def _cancel_precheck(ctx: ToolContext, args: PaymentArgs) -> None:
    check_cancel(_payment_row(ctx, args.payment_id), at=utcnow())


@register_tool(
    "payments_cancel",
    kind=ToolKind.WRITE,
    args=PaymentArgs,
    rest=("POST", "/v1/payments/payments/{payment_id}/cancel"),
    precheck=_cancel_precheck,
)
def cancel(ctx: ToolContext, args: PaymentArgs) -> dict[str, Any]:
    """Cancel a payment: a card payment only before capture and within 7 days; a wallet payment until
    00:15 (UTC+8) the next day, reversing the funds. Fails with cancel_window_exceeded,
    cancel_after_capture or cancel_not_supported — refund instead."""
    key = _require_key(ctx)
    merchant, _ = _payment_merchant(ctx, args.payment_id)
    gw = _gateway(ctx)
    return idempotent(ctx.db, _tenant(ctx), scope="tool:payments_cancel", key=key, body=args.model_dump(),
                      fn=lambda s: gw.cancel_in(s, merchant, args.payment_id, at=utcnow()))  # fmt: skip


class DisputeResponseArgs(BaseModel):
    dispute_id: str = Field(description="Dispute to respond to")
    evidence: dict[str, str] = Field(
        description='Evidence by tag, e.g. {"DELIVERY_PROOF": "Signed POD, tracking SG123"}'
    )


def _response_precheck(ctx: ToolContext, args: DisputeResponseArgs) -> None:
    check_response(_dispute_row(ctx, args.dispute_id), args.evidence, at=utcnow())


@register_tool(
    "payments_submit_dispute_response",
    kind=ToolKind.WRITE,
    args=DisputeResponseArgs,
    rest=("POST", "/v1/payments/disputes/{dispute_id}/response"),
    precheck=_response_precheck,
)
def submit_dispute_response(ctx: ToolContext, args: DisputeResponseArgs) -> dict[str, Any]:
    """Submit the defence for a dispute's current stage. Immutable once submitted. Fails with
    time_exceeds_limit (deadline passed), defense_already_submitted, not_allow_in_current_status,
    not_defendable or unknown_evidence_tag."""
    key = _require_key(ctx)
    disputes = Disputes(_gateway(ctx))
    scope = _merchant_scope(ctx)
    _did(args.dispute_id)
    return idempotent(ctx.db, _tenant(ctx), scope="tool:payments_submit_dispute_response", key=key,
                      body=args.model_dump(),
                      fn=lambda s: disputes.submit_in(s, args.dispute_id, args.evidence, at=utcnow(), merchant_id=scope))  # fmt: skip


class AcceptDisputeArgs(BaseModel):
    dispute_id: str = Field(
        description="Dispute to accept (the disputed amount goes back to the buyer)"
    )
    amount: ModelMinorAmount = Field(
        gt=0,
        description="The disputed amount being conceded, in minor units (must match the dispute)",
    )
    currency: CurrencyCode = Field(description="ISO currency of the dispute")


def _check_conceded(d: Dispute, args: AcceptDisputeArgs) -> None:
    if (args.amount, normalize_currency(args.currency)) != (d.amount, d.currency):
        raise Conflict(
            f"{d.id} is for {format_amount(d.amount, d.currency, grouping=True)}; accept that "
            "amount",
            code="amount_mismatch",
            param="amount",
        )


def _accept_precheck(ctx: ToolContext, args: AcceptDisputeArgs) -> None:
    dispute = _dispute_row(ctx, args.dispute_id)
    check_accept(dispute)
    _check_conceded(dispute, args)


@register_tool(
    "payments_accept_dispute",
    kind=ToolKind.WRITE,
    args=AcceptDisputeArgs,
    amount_field="amount",
    currency_field="currency",
    rest=("POST", "/v1/payments/disputes/{dispute_id}/accept"),
    precheck=_accept_precheck,
)
def accept_dispute(ctx: ToolContext, args: AcceptDisputeArgs) -> dict[str, Any]:
    """Accept a dispute: the disputed amount (and any scheme fee) is debited and the case closes.
    The amount and currency must equal the dispute's, so the approval shows what is conceded."""
    key = _require_key(ctx)
    disputes = Disputes(_gateway(ctx))
    scope = _merchant_scope(ctx)
    _did(args.dispute_id)

    def fn(session: Any) -> dict[str, Any]:
        d = queries.scoped_dispute(session, args.dispute_id, scope)
        check_accept(d)
        _check_conceded(d, args)
        return disputes.accept_in(session, d.id, at=utcnow(), merchant_id=scope)

    return idempotent(
        ctx.db,
        _tenant(ctx),
        scope="tool:payments_accept_dispute",
        key=key,
        body=args.model_dump(),
        fn=fn,
    )


__all__ = [
    "accept_dispute",
    "balances",
    "cancel",
    "capture",
    "dispute_details",
    "dispute_monitoring",
    "draft_dispute_response",
    "explain_decline",
    "get_payment",
    "list_disputes",
    "merchant_kyb_status",
    "refund",
    "search_payments",
    "submit_dispute_response",
    "success_rate_report",
]
