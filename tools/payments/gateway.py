"""The payment lifecycle: pay → authorise/decline → capture → refund / cancel, and settlement.

Each operation runs in one transaction (:func:`tools.payments.tx.run_tx`):
the business rows, the ledger journal and the notification outbox row are
committed together or not at all. Request ids make every operation
idempotent (:mod:`cockpit.idempotency`; a payment, capture or refund row is the
record of its request id): the same id and body return the stored first response,
the same id with another body is ``idempotency_key_reused``. The payment row is
locked *before* a request id is looked up, so a retry that waited for the lock
finds the success it raced with instead of the state that success left (a closed
capture, nothing left to refund). Bad input and broken preconditions raise before
anything is written.

Result semantics follow DOMAIN.md §2.3: ``S`` / ``F`` are final, ``U`` means
the issuer did not answer; a ``U`` payment is retried (same request id) or
resolved by :meth:`Gateway.inquire`, never booked as failed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.db.base import utcnow
from cockpit.db.session import Database, session_tenant
from cockpit.errors import Conflict, NotFound, ValidationFailed
from cockpit.idempotency import Record, fingerprint, replay
from cockpit.money import format_amount
from tools.payments import ledger
from tools.payments.codes import describe
from tools.payments.methods import CancelRule, get_method, wallet_cancel_deadline
from tools.payments.models import Cancel, Capture, Card, Merchant, Payment, Refund
from tools.payments.money import FixedRates, check_minor, normalize_currency, percent_fee
from tools.payments.notifications import enqueue
from tools.payments.requests import (
    CaptureRequest,
    PayRequest,
    RefundRequest,
    check_notes,
    check_request_id,
    new_id,
)
from tools.payments.simulator import AuthContext, IssuerSimulator
from tools.payments.tx import run_tx
from tools.payments.views import cancel_view, capture_view, payment_view, refund_view

ACTIVE_KYB = ("APPROVED", "APPROVED_WITH_RESERVE")
AUTH_VALIDITY = timedelta(days=7)
CARD_CANCEL_WINDOW = timedelta(days=7)
FEE_BPS = {"CARD": 290}
DEFAULT_FEE_BPS = 220


def load_merchant(session: Session, merchant_id: str) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    # session.get bypasses the scoping criteria for identity-map hits, so check the tenant.
    if merchant is None or merchant.tenant_id != session_tenant(session):
        raise NotFound(
            f"no merchant {merchant_id!r}", code="merchant_not_found", param="merchant_id"
        )
    return merchant


def _card(session: Session, card_id: str) -> Card | None:
    # Identity-map hits skip SQL (and with it the scoping criteria), so check the tenant here.
    card = session.get(Card, card_id)
    return card if card is not None and card.tenant_id == session_tenant(session) else None


def load_payment(
    session: Session, payment_id: str, *, merchant_id: str | None = None, lock: bool = False
) -> Payment:
    stmt = select(Payment).where(Payment.id == payment_id)
    if merchant_id is not None:
        stmt = stmt.where(Payment.merchant_id == merchant_id)
    if lock:
        stmt = stmt.with_for_update()
    payment = session.scalar(stmt)
    if payment is None:
        raise NotFound(f"no payment {payment_id!r}", code="payment_not_found", param="payment_id")
    return payment


_Keyed = TypeVar("_Keyed", Capture, Refund)

REUSED_DETAILS = {"resultCode": "REPEAT_REQ_INCONSISTENT", "resultStatus": "F"}
"""What the wire adds to ``idempotency_key_reused`` for a request id (the gateway's code)."""


def _replayed(
    session: Session, model: type[_Keyed], req: CaptureRequest | RefundRequest
) -> tuple[str, dict[str, Any] | None]:
    """The first result for the same body, a conflict for another body. Call it with the
    payment locked: a concurrent twin has then committed, and its row is found."""
    fp = fingerprint(asdict(req))
    existing = session.scalar(
        select(model).where(
            model.merchant_id == req.merchant_id, model.request_id == req.request_id
        )
    )
    record = None if existing is None else Record(existing.fingerprint, existing.response)
    return fp, replay(record, fp, key=req.request_id, param="request_id", details=REUSED_DETAILS)


# ----- preconditions ---------------------------------------------------------------------
# One check per operation, raised in the merchant's words with a stable code. The write path
# runs it on the locked row; agent tools run the same function on a plain read before a human
# is asked to approve the operation (``register_tool(precheck=...)``), so a refund that cannot
# succeed is refused with its reason instead of waiting for an approval.


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
        raise Conflict(_not_captured(payment, "refund"), code="payment_not_captured",
                       param="payment_id")  # fmt: skip
    if payment.disputed:
        raise Conflict(f"{payment.id} is under dispute, so it cannot be refunded; respond to "
                       "or accept the dispute instead", code="payment_disputed",
                       param="payment_id")  # fmt: skip
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
            code="refund_window_exceeded", param="payment_id",
        )  # fmt: skip
    refundable = payment.captured_amount - payment.refunded_amount
    if refundable <= 0:
        raise Conflict(
            f"{payment.id} was already refunded in full "
            f"({_money(payment.refunded_amount, payment.currency)}), so nothing is left to refund",
            code="refund_amount_exceed", param="amount",
            details={"resultCode": "REFUND_AMOUNT_EXCEED", "refundable": 0},
        )  # fmt: skip
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
            code="refund_amount_exceed", param="amount",
            details={"resultCode": "REFUND_AMOUNT_EXCEED", "refundable": refundable},
        )  # fmt: skip


def check_capture(payment: Payment, amount: int | None, *, at: datetime) -> None:
    """Raise the reason ``payment`` cannot be captured ``amount`` now (None: any amount)."""
    pid = payment.id
    if payment.state == "CANCELLED":
        raise Conflict(f"{pid} was cancelled, so it cannot be captured",
                       code="payment_cancelled", param="payment_id")  # fmt: skip
    if payment.state not in ("AUTHORIZED", "CAPTURED"):
        raise Conflict(_not_captured(payment, "capture"),
                       code="payment_not_authorized", param="payment_id")  # fmt: skip
    if payment.capture_mode != "MANUAL":
        raise Conflict(f"{pid} was captured automatically when it was paid; there is nothing "
                       "left to capture", code="capture_not_manual", param="payment_id")  # fmt: skip
    if payment.capture_closed:
        raise Conflict(f"the last capture of {pid} was already made, so nothing more can be "
                       "captured", code="capture_closed", param="payment_id")  # fmt: skip
    if payment.auth_expires_at is not None and at > payment.auth_expires_at:
        raise Conflict(f"the authorisation of {pid} expired on {payment.auth_expires_at:%d %b %Y}, "
                       "so it can no longer be captured", code="authorization_expired",
                       param="payment_id")  # fmt: skip
    remaining = payment.amount - payment.captured_amount
    if amount is not None and amount > remaining:
        raise Conflict(
            f"only {_money(remaining, payment.currency)} of {pid} is still authorised, so "
            f"{_money(amount, payment.currency)} cannot be captured",
            code="capture_amount_exceed", param="amount",
        )  # fmt: skip


def check_cancel(payment: Payment, *, at: datetime) -> None:
    """Raise the reason ``payment`` cannot be cancelled now (DOMAIN.md: a card payment only
    before capture and within 7 days; a wallet payment until 00:15 UTC+8 the next day)."""
    pid = payment.id
    method = get_method(payment.method_type)
    if payment.state == "FAILED":
        code = f" (code {payment.decline_code})" if payment.decline_code else ""
        raise Conflict(f"{pid} was declined{code}, so there is nothing to cancel",
                       code="payment_already_final", param="payment_id")  # fmt: skip
    if payment.refunded_amount:
        raise Conflict(f"{pid} already has refunds, so it cannot be cancelled; refund the rest "
                       "instead", code="payment_refunded", param="payment_id")  # fmt: skip
    if payment.disputed:
        raise Conflict(f"{pid} is under dispute, so it cannot be cancelled",
                       code="payment_disputed", param="payment_id")  # fmt: skip
    rule = method.cancel_rule
    if rule is CancelRule.NONE:
        raise Conflict(f"{method.code} payments cannot be cancelled; refund {pid} instead",
                       code="cancel_not_supported", param="payment_id")  # fmt: skip
    if rule is CancelRule.BEFORE_COMPLETION and payment.state not in ("PROCESSING", "AUTHORIZED"):
        raise Conflict(f"{method.code} payments can only be cancelled before they complete, and "
                       f"{pid} has; refund it instead", code="cancel_window_exceeded",
                       param="payment_id")  # fmt: skip
    if rule is CancelRule.CARD:
        if payment.captured_amount:
            raise Conflict(f"{pid} is a card payment that was already captured, so it cannot be "
                           "cancelled; refund it instead", code="cancel_after_capture",
                           param="payment_id")  # fmt: skip
        if at > payment.created_at + CARD_CANCEL_WINDOW:
            raise Conflict(f"{pid} was authorised on {payment.created_at:%d %b %Y}, past the "
                           "7-day card cancel window", code="cancel_window_exceeded",
                           param="payment_id")  # fmt: skip
    if rule is CancelRule.WALLET and at > wallet_cancel_deadline(payment.created_at):
        raise Conflict(f"it is too late to cancel {pid} (a wallet payment can be cancelled until "
                       "00:15 UTC+8 the day after it was paid); refund it instead",
                       code="cancel_window_exceeded", param="payment_id",
                       details={"resultCode": "CANCEL_WINDOW_EXCEED"})  # fmt: skip


@dataclass(slots=True)
class Gateway:
    """The simulated gateway over one database."""

    db: Database
    simulator: IssuerSimulator = field(default_factory=IssuerSimulator)
    rates: FixedRates = field(default_factory=FixedRates)

    # ----- pay ---------------------------------------------------------------------------
    def pay(self, tenant_id: str, req: PayRequest, *, at: datetime | None = None) -> dict[str, Any]:
        return run_tx(self.db, tenant_id, lambda s: self.pay_in(s, req, at=at or utcnow()))

    def pay_in(self, session: Session, req: PayRequest, *, at: datetime) -> dict[str, Any]:
        """``pay`` inside an open transaction (used by the demo world to batch)."""
        fp = fingerprint(req.fingerprint_body())
        check_request_id(req.request_id, "request_id")
        check_notes(req.description, req.metadata)
        existing = session.scalar(
            select(Payment)
            .where(Payment.merchant_id == req.merchant_id, Payment.request_id == req.request_id)
            .with_for_update()  # a retry of an unknown (U) result authorises it once, in turn
        )
        if existing is not None:
            view = existing.response or payment_view(existing)
            stored = replay(
                Record(existing.fingerprint, view),
                fp,
                key=req.request_id,
                param="request_id",
                details=REUSED_DETAILS,
            )
            if existing.state == "PROCESSING":
                return self._authorize(session, existing, at=at)
            return stored if stored is not None else dict(view)
        merchant = load_merchant(session, req.merchant_id)
        if merchant.kyb_state not in ACTIVE_KYB:
            raise Conflict(
                f"merchant {merchant.id} is not active (KYB state {merchant.kyb_state})",
                code="merchant_not_active",
                param="merchant_id",
            )
        currency = normalize_currency(req.currency)
        method = get_method(req.method_type)
        if method.currencies and currency not in method.currencies:
            raise ValidationFailed(
                f"{method.code} does not accept {currency}",
                code="currency_not_supported",
                param="currency",
            )
        check_minor(req.amount, currency, method_type=method.code)
        if method.currencies and req.amount < method.min_minor:
            raise ValidationFailed(
                f"{method.code} minimum is {method.min_minor} minor units",
                code="amount_below_minimum",
                param="amount",
            )
        if method.max_minor is not None and req.amount > method.max_minor:
            raise ValidationFailed(
                f"{method.code} maximum is {method.max_minor} minor units",
                code="amount_exceeds_limit",
                param="amount",
            )
        if req.capture_mode not in ("AUTOMATIC", "MANUAL"):
            raise ValidationFailed(
                "capture_mode is AUTOMATIC or MANUAL",
                code="invalid_capture_mode",
                param="capture_mode",
            )
        if req.capture_mode == "MANUAL" and method.category != "CARD":
            raise ValidationFailed(
                "manual capture is only for cards",
                code="capture_mode_not_supported",
                param="capture_mode",
            )
        card: Card | None = None
        if method.category == "CARD":
            if not req.card_id:
                raise ValidationFailed(
                    "card payments need card_id", code="card_required", param="card_id"
                )
            card = _card(session, req.card_id)
            if card is None:
                raise NotFound(f"no card {req.card_id!r}", code="card_not_found", param="card_id")
        market = (req.market or (card.issuing_country if card else None) or
                  (method.markets[0] if method.markets else merchant.country)).upper()  # fmt: skip
        payment = Payment(
            id=new_id("pay"),
            merchant_id=merchant.id,
            request_id=req.request_id,
            amount=req.amount,
            currency=currency,
            method_type=method.code,
            method_category=method.category,
            market=market,
            card_id=card.id if card else None,
            customer_id=req.customer_id,
            device_id=req.device_id,
            brand=card.brand if card else None,
            issuer=card.issuer if card else method.code,
            issuing_country=card.issuing_country if card else market,
            three_ds=bool(req.three_ds and card),
            eci=req.eci if req.three_ds and card else None,
            network_token=bool(card and card.network_token),
            capture_mode=req.capture_mode,
            state="PROCESSING",
            result_status="U",
            result_code="PAYMENT_IN_PROCESS",
            attempts=0,
            created_at=at,
            fingerprint=fp,
            description=req.description,
            metadata_=dict(req.metadata) if req.metadata is not None else None,
        )
        session.add(payment)
        session.flush()  # a concurrent twin fails here on the unique request id and retries
        return self._authorize(session, payment, at=at, merchant=merchant, card=card)

    def _authorize(
        self,
        session: Session,
        payment: Payment,
        *,
        at: datetime,
        merchant: Merchant | None = None,
        card: Card | None = None,
    ) -> dict[str, Any]:
        merchant = merchant or load_merchant(session, payment.merchant_id)
        if payment.card_id and card is None:
            card = _card(session, payment.card_id)
        method = get_method(payment.method_type)
        payment.attempts += 1
        refusal = self._retry_cap(session, payment, at=at) if card else None
        if refusal is not None:
            decision_code, approved, unknown, mac = refusal, False, False, None
        else:
            amount_eur = (
                self.rates.convert(payment.amount, payment.currency, "EUR").target_minor / 100
            )
            expired = bool(card and (card.exp_year, card.exp_month) < (at.year, at.month))
            decision = self.simulator.decide(
                AuthContext(
                    request_id=f"{payment.merchant_id}:{payment.request_id}",
                    attempt=payment.attempts,
                    method_type=payment.method_type,
                    category=payment.method_category,
                    market=payment.market,
                    amount_eur=amount_eur,
                    at=at,
                    merchant_country=merchant.country,
                    brand=payment.brand,
                    issuer=payment.issuer,
                    issuing_country=payment.issuing_country,
                    funding=card.funding if card else None,
                    three_ds=payment.three_ds,
                    network_token=payment.network_token,
                    card_expired=expired,
                    base_approval=method.base_approval,
                )
            )
            decision_code, approved = decision.code, decision.approved
            unknown, mac = decision.unknown, decision.merchant_advice_code
        if unknown:
            payment.result_status, payment.result_code = "U", "UNKNOWN_EXCEPTION"
            return payment_view(payment)
        payment.decided_at = at
        if not approved:
            info = describe(decision_code)
            payment.state = "FAILED"
            payment.result_status = "F"
            payment.result_code = (
                decision_code if payment.method_category != "CARD" else "PROCESS_FAIL"
            )
            payment.decline_code = decision_code
            payment.decline_soft = info.soft
            payment.merchant_advice_code = mac
        else:
            payment.result_status, payment.result_code = "S", "SUCCESS"
            payment.authorization_code = (
                f"{int(self.simulator.uniform(payment.id, 'auth') * 1e6):06d}"
            )
            if payment.method_category == "CARD":
                brand_eci = {"MASTERCARD": "02"}.get(payment.brand or "", "05")
                payment.eci = (payment.eci or brand_eci) if payment.three_ds else None
            if payment.capture_mode == "MANUAL":
                payment.state = "AUTHORIZED"
                payment.auth_expires_at = at + AUTH_VALIDITY
            else:
                payment.state = "CAPTURED"
                self._capture_rows(
                    session, payment, request_id=f"auto:{payment.id}", amount=payment.amount,
                    is_last=True, at=at, fp="auto",
                )  # fmt: skip
        view = payment_view(payment)
        payment.response = view
        enqueue(
            session,
            payment.merchant_id,
            "notifyPayment",
            {"notifyType": "PAYMENT_RESULT", **view},
            at=at,
        )
        return view

    def _retry_cap(self, session: Session, payment: Payment, *, at: datetime) -> str | None:
        """Refuse before the issuer when scheme retry rules forbid another attempt (§4.2)."""
        rows = session.execute(
            select(Payment.decline_code, Payment.created_at).where(
                Payment.card_id == payment.card_id,
                Payment.merchant_id == payment.merchant_id,
                Payment.state == "FAILED",
                Payment.created_at >= at - timedelta(days=30),
                Payment.id != payment.id,
            )
        ).all()
        if any(code and describe(code).visa_category == 1 for code, _ in rows):
            return "RETRY_CAP_EXCEEDED"
        if (
            payment.brand == "MASTERCARD"
            and sum(1 for _, t in rows if t >= at - timedelta(hours=24)) > 10
        ):
            return "RETRY_CAP_EXCEEDED"
        if payment.brand == "VISA" and len(rows) >= 20:
            return "RETRY_CAP_EXCEEDED"
        return None

    # ----- capture -----------------------------------------------------------------------
    def capture(
        self, tenant_id: str, req: CaptureRequest, *, at: datetime | None = None
    ) -> dict[str, Any]:
        return run_tx(self.db, tenant_id, lambda s: self.capture_in(s, req, at=at or utcnow()))

    def capture_in(self, session: Session, req: CaptureRequest, *, at: datetime) -> dict[str, Any]:
        check_request_id(req.request_id, "request_id")
        payment = load_payment(session, req.payment_id, merchant_id=req.merchant_id, lock=True)
        fp, stored = _replayed(session, Capture, req)
        if stored is not None:
            return stored
        check_minor(req.amount, payment.currency, method_type=payment.method_type)
        check_capture(payment, req.amount, at=at)
        payment.state = "CAPTURED"
        capture = self._capture_rows(
            session,
            payment,
            request_id=req.request_id,
            amount=req.amount,
            is_last=req.is_last,
            at=at,
            fp=fp,
        )
        return dict(capture.response)

    def _capture_rows(
        self, session: Session, payment: Payment, *, request_id: str, amount: int, is_last: bool,
        at: datetime, fp: str,
    ) -> Capture:  # fmt: skip
        capture = Capture(
            id=new_id("cap"), merchant_id=payment.merchant_id, payment_id=payment.id,
            request_id=request_id, amount=amount, currency=payment.currency, is_last=is_last,
            created_at=at, fingerprint=fp, response={},
        )  # fmt: skip
        payment.captured_amount += amount
        if is_last or payment.captured_amount == payment.amount:
            payment.capture_closed = True
        capture.response = capture_view(capture, payment)
        session.add(capture)
        draft = ledger.JournalDraft("capture", "capture", capture.id)
        draft.move(ledger.BUYER_FUNDS, ledger.merchant_account(payment.merchant_id, "pending"),
                   amount, payment.currency)  # fmt: skip
        ledger.post(session, draft, at=at)
        enqueue(session, payment.merchant_id, "notifyCapture", capture.response, at=at)
        return capture

    # ----- refund ------------------------------------------------------------------------
    def refund(
        self, tenant_id: str, req: RefundRequest, *, at: datetime | None = None
    ) -> dict[str, Any]:
        return run_tx(self.db, tenant_id, lambda s: self.refund_in(s, req, at=at or utcnow()))

    def refund_in(self, session: Session, req: RefundRequest, *, at: datetime) -> dict[str, Any]:
        check_request_id(req.request_id, "request_id")
        payment = load_payment(session, req.payment_id, merchant_id=req.merchant_id, lock=True)
        fp, stored = _replayed(session, Refund, req)
        if stored is not None:
            return stored
        check_minor(req.amount, payment.currency, method_type=payment.method_type)
        check_refund(payment, req.amount, at=at)
        merchant = load_merchant(session, payment.merchant_id)
        refund = Refund(
            id=new_id("ref"), merchant_id=payment.merchant_id, payment_id=payment.id,
            request_id=req.request_id, amount=req.amount, currency=payment.currency,
            reason=req.reason, status="SUCCESS", created_at=at, fingerprint=fp, response={},
        )  # fmt: skip
        payment.refunded_amount += req.amount
        refund.response = refund_view(refund, payment)
        session.add(refund)
        session.flush()
        draft = ledger.JournalDraft("refund", "refund", refund.id)
        ledger.pay_out_of_merchant(
            draft, merchant.id, merchant.settlement_currency, req.amount, payment.currency,
            dst=ledger.BUYER_FUNDS, rates=self.rates,
        )  # fmt: skip
        ledger.post(session, draft, at=at)
        enqueue(session, payment.merchant_id, "notifyRefund", refund.response, at=at)
        return dict(refund.response)

    # ----- cancel ------------------------------------------------------------------------
    def cancel(
        self, tenant_id: str, merchant_id: str, payment_id: str, *, at: datetime | None = None
    ) -> dict[str, Any]:
        return run_tx(
            self.db,
            tenant_id,
            lambda s: self.cancel_in(s, merchant_id, payment_id, at=at or utcnow()),
        )

    def cancel_in(
        self, session: Session, merchant_id: str, payment_id: str, *, at: datetime
    ) -> dict[str, Any]:
        payment = load_payment(session, payment_id, merchant_id=merchant_id, lock=True)
        existing = session.scalar(select(Cancel).where(Cancel.payment_id == payment.id))
        if existing is not None:
            return dict(existing.response)
        check_cancel(payment, at=at)
        reversed_amount = 0
        if payment.captured_amount:
            # A paid wallet order is reversed to the buyer out of the unsettled funds.
            captures = session.scalars(
                select(Capture).where(
                    Capture.payment_id == payment.id, Capture.settled_at.is_(None)
                )
            ).all()
            draft = ledger.JournalDraft("cancel_reversal", "payment", payment.id)
            for cap in captures:
                draft.move(ledger.merchant_account(payment.merchant_id, "pending"), ledger.BUYER_FUNDS,
                           cap.amount, cap.currency)  # fmt: skip
                cap.settled_at = at
                reversed_amount += cap.amount
            if reversed_amount != payment.captured_amount:
                raise Conflict("funds were already settled; refund instead",
                               code="cancel_window_exceeded", param="payment_id")  # fmt: skip
            ledger.post(session, draft, at=at)
        payment.state = "CANCELLED"
        payment.result_status = payment.result_status if payment.result_status != "U" else "F"
        cancel = Cancel(id=new_id("cnl"), payment_id=payment.id, reversed_amount=reversed_amount,
                        created_at=at, fingerprint=fingerprint({"payment_id": payment.id}), response={})  # fmt: skip
        cancel.response = cancel_view(cancel, payment)
        session.add(cancel)
        session.flush()
        enqueue(session, payment.merchant_id, "notifyPayment",
                {"notifyType": "PAYMENT_CANCELLED", **payment_view(payment)}, at=at)  # fmt: skip
        return dict(cancel.response)

    # ----- inquiry and settlement --------------------------------------------------------
    def inquire(
        self, tenant_id: str, payment_id: str, *, at: datetime | None = None
    ) -> dict[str, Any]:
        """Current state; a ``U`` payment is asked again and resolved (§2.3)."""

        def fn(session: Session) -> dict[str, Any]:
            payment = load_payment(session, payment_id, lock=True)
            if payment.state == "PROCESSING":
                return self._authorize(session, payment, at=at or utcnow())
            return payment_view(payment)

        return run_tx(self.db, tenant_id, fn)

    def settle_in(
        self, session: Session, merchant_id: str, *, cutoff: datetime, at: datetime
    ) -> int:
        """Move captures made before ``cutoff`` from pending to available, fees split out."""
        merchant = load_merchant(session, merchant_id)
        captures = session.scalars(
            select(Capture)
            .where(
                Capture.merchant_id == merchant_id,
                Capture.settled_at.is_(None),
                Capture.created_at <= cutoff,
            )
            .order_by(Capture.created_at)
        ).all()
        methods = dict(session.execute(
            select(Payment.id, Payment.method_category).where(Payment.id.in_({c.payment_id for c in captures}))
        ).tuples().all()) if captures else {}  # fmt: skip
        for cap in captures:
            draft = ledger.JournalDraft("settlement", "capture", cap.id)
            pending = ledger.merchant_account(merchant.id, "pending")
            available = ledger.merchant_account(merchant.id, "available")
            quote = draft.move_fx(pending, available, cap.amount, source_currency=cap.currency,
                                  target_currency=merchant.settlement_currency, rates=self.rates)  # fmt: skip
            fee = percent_fee(
                quote.target_minor,
                bps=FEE_BPS.get(methods.get(cap.payment_id, ""), DEFAULT_FEE_BPS),
            )
            draft.move(available, ledger.PLATFORM_FEES, fee, merchant.settlement_currency)
            ledger.post(session, draft, at=at)
            cap.settled_at = at
        return len(captures)

    def settle(
        self, tenant_id: str, merchant_id: str, *, cutoff: datetime, at: datetime | None = None
    ) -> int:
        return run_tx(
            self.db,
            tenant_id,
            lambda s: self.settle_in(s, merchant_id, cutoff=cutoff, at=at or utcnow()),
        )


__all__ = [
    "CaptureRequest",
    "Gateway",
    "PayRequest",
    "RefundRequest",
    "check_cancel",
    "check_capture",
    "check_refund",
    "load_merchant",
    "load_payment",
    "new_id",
    "wallet_cancel_deadline",
]
