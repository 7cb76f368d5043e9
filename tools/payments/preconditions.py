"""Preconditions of capture, refund and cancel, raised in the merchant's words with a stable code.

One check per operation. The write path (:class:`tools.payments.gateway.Gateway`) runs it on
the locked row; agent tools run the same function on a plain read before a human is asked to
approve the operation (``register_tool(precheck=...)``), so a refund that cannot succeed is
refused with its reason instead of waiting for an approval. Nothing here reads or writes the
database.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cockpit.errors import Conflict, NotFound
from cockpit.money import format_amount
from tools.payments.methods import CancelRule, get_method, wallet_cancel_deadline
from tools.payments.models import Payment

CARD_CANCEL_WINDOW = timedelta(days=7)


def merchant_not_found(merchant_id: str) -> NotFound:
    """The error for a merchant the caller's tenant does not hold."""
    return NotFound(f"no merchant {merchant_id!r}", code="merchant_not_found", param="merchant_id")


def _money(minor: int, currency: str) -> str:
    return format_amount(minor, currency, grouping=True)


def _not_captured(payment: Payment, action: str) -> str:
    """Why ``payment`` holds no captured money, ending in ``so there is nothing to <action>``."""
    pid = payment.id
    if payment.state == "FAILED":
        code = f" (code {payment.decline_code})" if payment.decline_code else ""
        return f"{pid} was declined{code}, so there is nothing to {action}"
    if payment.state == "CANCELLED":
        return f"{pid} was cancelled, so there is nothing to {action}"
    if payment.state == "PROCESSING":
        return (
            f"{pid} is still waiting for the issuer's answer, so there is nothing to {action} yet"
        )
    if payment.state == "AUTHORIZED":
        return (
            f"{pid} is authorised but not captured yet, so there is nothing to {action}; "
            "cancel it (or capture it first)"
        )
    return f"{pid} is {payment.state.lower()}, so there is nothing to {action}"


def check_refund(payment: Payment, amount: int | None, *, at: datetime) -> None:
    """Raise the reason ``payment`` cannot be refunded ``amount`` now (None: any amount)."""
    if payment.state != "CAPTURED" or payment.captured_amount == 0:
        raise Conflict(
            _not_captured(payment, "refund"), code="payment_not_captured", param="payment_id"
        )
    if payment.disputed:
        raise Conflict(
            f"{payment.id} is under dispute, so it cannot be refunded; respond to "
            "or accept the dispute instead",
            code="payment_disputed",
            param="payment_id",
        )
    method = get_method(payment.method_type)
    if method.refund_window_days is None:
        raise Conflict(
            f"{method.code} payments cannot be refunded through the gateway",
            code="refund_not_supported",
            param="payment_id",
        )
    if at > payment.created_at + timedelta(days=method.refund_window_days):
        raise Conflict(
            f"{payment.id} was paid on {payment.created_at:%d %b %Y}, past the "
            f"{method.refund_window_days}-day refund window of {method.code}, so it can no "
            "longer be refunded",
            code="refund_window_exceeded",
            param="payment_id",
        )
    refundable = payment.captured_amount - payment.refunded_amount
    if refundable <= 0:
        raise Conflict(
            f"{payment.id} was already refunded in full "
            f"({_money(payment.refunded_amount, payment.currency)}), so nothing is left to refund",
            code="refund_amount_exceed",
            param="amount",
            details={"resultCode": "REFUND_AMOUNT_EXCEED", "refundable": 0},
        )
    if amount is not None and amount > refundable:
        already = (
            f", {_money(payment.refunded_amount, payment.currency)} already refunded"
            if payment.refunded_amount
            else ""
        )
        raise Conflict(
            f"only {_money(refundable, payment.currency)} of {payment.id} can still be refunded "
            f"({_money(payment.captured_amount, payment.currency)} captured{already}), "
            f"so {_money(amount, payment.currency)} is too much",
            code="refund_amount_exceed",
            param="amount",
            details={"resultCode": "REFUND_AMOUNT_EXCEED", "refundable": refundable},
        )


def check_capture(payment: Payment, amount: int | None, *, at: datetime) -> None:
    """Raise the reason ``payment`` cannot be captured ``amount`` now (None: any amount)."""
    pid = payment.id
    if payment.state == "CANCELLED":
        raise Conflict(
            f"{pid} was cancelled, so it cannot be captured",
            code="payment_cancelled",
            param="payment_id",
        )
    if payment.state not in ("AUTHORIZED", "CAPTURED"):
        raise Conflict(
            _not_captured(payment, "capture"), code="payment_not_authorized", param="payment_id"
        )
    if payment.capture_mode != "MANUAL":
        raise Conflict(
            f"{pid} was captured automatically when it was paid; there is nothing left to capture",
            code="capture_not_manual",
            param="payment_id",
        )
    if payment.capture_closed:
        raise Conflict(
            f"the last capture of {pid} was already made, so nothing more can be captured",
            code="capture_closed",
            param="payment_id",
        )
    if payment.auth_expires_at is not None and at > payment.auth_expires_at:
        raise Conflict(
            f"the authorisation of {pid} expired on {payment.auth_expires_at:%d %b %Y}, "
            "so it can no longer be captured",
            code="authorization_expired",
            param="payment_id",
        )
    remaining = payment.amount - payment.captured_amount
    if amount is not None and amount > remaining:
        raise Conflict(
            f"only {_money(remaining, payment.currency)} of {pid} is still authorised, so "
            f"{_money(amount, payment.currency)} cannot be captured",
            code="capture_amount_exceed",
            param="amount",
        )


def check_cancel(payment: Payment, *, at: datetime) -> None:
    """Raise the reason ``payment`` cannot be cancelled now (DOMAIN.md: a card payment only
    before capture and within 7 days; a wallet payment until 00:15 UTC+8 the next day)."""
    pid = payment.id
    method = get_method(payment.method_type)
    if payment.state == "FAILED":
        code = f" (code {payment.decline_code})" if payment.decline_code else ""
        raise Conflict(
            f"{pid} was declined{code}, so there is nothing to cancel",
            code="payment_already_final",
            param="payment_id",
        )
    if payment.refunded_amount:
        raise Conflict(
            f"{pid} already has refunds, so it cannot be cancelled; refund the rest instead",
            code="payment_refunded",
            param="payment_id",
        )
    if payment.disputed:
        raise Conflict(
            f"{pid} is under dispute, so it cannot be cancelled",
            code="payment_disputed",
            param="payment_id",
        )
    rule = method.cancel_rule
    if rule is CancelRule.NONE:
        raise Conflict(
            f"{method.code} payments cannot be cancelled; refund {pid} instead",
            code="cancel_not_supported",
            param="payment_id",
        )
    if rule is CancelRule.BEFORE_COMPLETION and payment.state not in ("PROCESSING", "AUTHORIZED"):
        raise Conflict(
            f"{method.code} payments can only be cancelled before they complete, and "
            f"{pid} has; refund it instead",
            code="cancel_window_exceeded",
            param="payment_id",
        )
    if rule is CancelRule.CARD:
        if payment.captured_amount:
            raise Conflict(
                f"{pid} is a card payment that was already captured, so it cannot be "
                "cancelled; refund it instead",
                code="cancel_after_capture",
                param="payment_id",
            )
        if at > payment.created_at + CARD_CANCEL_WINDOW:
            raise Conflict(
                f"{pid} was authorised on {payment.created_at:%d %b %Y}, past the "
                "7-day card cancel window",
                code="cancel_window_exceeded",
                param="payment_id",
            )
    if rule is CancelRule.WALLET and at > wallet_cancel_deadline(payment.created_at):
        raise Conflict(
            f"it is too late to cancel {pid} (a wallet payment can be cancelled until "
            "00:15 UTC+8 the day after it was paid); refund it instead",
            code="cancel_window_exceeded",
            param="payment_id",
            details={"resultCode": "CANCEL_WINDOW_EXCEED"},
        )


__all__ = ["CARD_CANCEL_WINDOW", "check_cancel", "check_capture", "check_refund"]
