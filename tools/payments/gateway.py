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
from typing import Any

from sqlalchemy import Connection, Table, select
from sqlalchemy.orm import Session

from cockpit.db.base import utcnow
from cockpit.db.session import Database, session_tenant
from cockpit.errors import Conflict, NotFound, ValidationFailed
from cockpit.idempotency import Record, fingerprint, replay
from tools.payments import ledger, statements
from tools.payments.codes import describe
from tools.payments.methods import get_method, wallet_cancel_deadline
from tools.payments.models import Cancel, Capture, Merchant, Payment, Refund
from tools.payments.money import FixedRates, check_minor, normalize_currency
from tools.payments.notifications import enqueue, enqueue_all
from tools.payments.preconditions import (
    check_cancel,
    check_capture,
    check_refund,
    merchant_not_found,
)
from tools.payments.prepared import pipelined
from tools.payments.requests import (
    CaptureRequest,
    PayRequest,
    RefundRequest,
    check_notes,
    check_request_id,
    new_id,
)
from tools.payments.settlement import settle_captures
from tools.payments.simulator import AuthContext, IssuerSimulator
from tools.payments.tx import run_tx
from tools.payments.views import cancel_view, capture_view, payment_view, refund_view

ACTIVE_KYB = ("APPROVED", "APPROVED_WITH_RESERVE")
AUTH_VALIDITY = timedelta(days=7)


def _no_payment(payment_id: str) -> NotFound:
    return NotFound(f"no payment {payment_id!r}", code="payment_not_found", param="payment_id")


def load_merchant(session: Session, merchant_id: str) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    # session.get bypasses the scoping criteria for identity-map hits, so check the tenant.
    if merchant is None or merchant.tenant_id != session_tenant(session):
        raise merchant_not_found(merchant_id)
    return merchant


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
        raise _no_payment(payment_id)
    return payment


def _locked_payment(
    conn: Connection, tenant_id: str, req: CaptureRequest | RefundRequest
) -> Payment:
    """The request's payment, row-locked, read with Core (written back with
    :func:`statements.update_payment`)."""
    payment = statements.locked_payment(
        conn, tenant_id, req.payment_id, merchant_id=req.merchant_id
    )
    if payment is None:
        raise _no_payment(req.payment_id)
    return payment


REUSED_DETAILS = {"resultCode": "REPEAT_REQ_INCONSISTENT", "resultStatus": "F"}
"""What the wire adds to ``idempotency_key_reused`` for a request id (the gateway's code)."""


def _replayed(
    conn: Connection, tenant_id: str, table: Table, req: CaptureRequest | RefundRequest
) -> tuple[str, dict[str, Any] | None]:
    """The first result for the same body, a conflict for another body. Call it with the
    payment locked: a concurrent twin has then committed, and its row is found."""
    fp = fingerprint(asdict(req))
    found = statements.keyed_record(conn, table, tenant_id, req.merchant_id, req.request_id)
    record = None if found is None else Record(*found)
    return fp, replay(record, fp, key=req.request_id, param="request_id", details=REUSED_DETAILS)


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
        tenant = session_tenant(session)
        conn = statements.connection(session)
        facts = statements.pay_facts(conn, tenant, req.merchant_id, req.card_id, req.request_id)
        if facts.record is not None:
            # Read again, locked: a retry of an unknown (U) result authorises it once, in turn.
            existing = statements.payment_record(
                conn, tenant, req.merchant_id, req.request_id, lock=True
            )
            if existing is not None:
                return self._pay_again(session, existing, req, fp, at=at)
        merchant, stored_card = facts.merchant, facts.card
        if merchant is None:
            raise merchant_not_found(req.merchant_id)
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
        card: statements.CardFacts | None = None
        if method.category == "CARD":
            if not req.card_id:
                raise ValidationFailed(
                    "card payments need card_id", code="card_required", param="card_id"
                )
            card = stored_card
            if card is None:
                raise NotFound(f"no card {req.card_id!r}", code="card_not_found", param="card_id")
        market = (req.market or (card.issuing_country if card else None) or
                  (method.markets[0] if method.markets else merchant.country)).upper()  # fmt: skip
        payment = statements.transient(
            Payment,
            id=new_id("pay"),
            tenant_id=tenant,
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
            decline_code=None,
            decline_soft=None,
            merchant_advice_code=None,
            authorization_code=None,
            attempts=0,
            captured_amount=0,
            refunded_amount=0,
            capture_closed=False,
            disputed=False,
            auth_expires_at=None,
            created_at=at,
            decided_at=None,
            fingerprint=fp,
            response=None,
            description=req.description,
            metadata_=dict(req.metadata) if req.metadata is not None else None,
            version=1,
        )
        # Decided before it is written, so the row is inserted once in its final state; a
        # concurrent twin fails on the unique request id and its retry replays this one.
        return self._authorize(
            session, payment, at=at, merchant_country=merchant.country, card=card, new=True
        )

    def _pay_again(
        self,
        session: Session,
        existing: statements.PaymentRecord,
        req: PayRequest,
        fp: str,
        *,
        at: datetime,
    ) -> dict[str, Any]:
        """A request id seen before: its first response, or (U) the issuer asked again."""
        if existing.response is not None and existing.state != "PROCESSING":
            stored = replay(
                Record(existing.fingerprint, existing.response),
                fp,
                key=req.request_id,
                param="request_id",
                details=REUSED_DETAILS,
            )
            return stored if stored is not None else dict(existing.response)
        payment = load_payment(session, existing.id)
        view = payment.response or payment_view(payment)
        stored = replay(
            Record(payment.fingerprint, view),
            fp,
            key=req.request_id,
            param="request_id",
            details=REUSED_DETAILS,
        )
        if payment.state == "PROCESSING":
            return self._authorize(session, payment, at=at)
        return stored if stored is not None else dict(view)

    def _authorize(
        self,
        session: Session,
        payment: Payment,
        *,
        at: datetime,
        merchant_country: str | None = None,
        card: statements.CardFacts | None = None,
        new: bool = False,
    ) -> dict[str, Any]:
        """Ask the issuer and record the answer; ``new``: ``payment`` is not written yet."""
        tenant = session_tenant(session)
        conn = statements.connection(session)
        if merchant_country is None:
            merchant_country = load_merchant(session, payment.merchant_id).country
        if payment.card_id and card is None:
            card = statements.card(conn, tenant, payment.card_id)
        method = get_method(payment.method_type)
        payment.attempts += 1
        refusal = self._retry_cap(conn, tenant, payment, at=at) if card else None
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
                    merchant_country=merchant_country,
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
            if new:
                statements.insert(conn, tenant, [payment])
            return payment_view(payment)
        payment.decided_at = at
        capture: Capture | None = None
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
                capture = self._new_capture(
                    payment,
                    request_id=f"auto:{payment.id}",
                    amount=payment.amount,
                    is_last=True,
                    at=at,
                    fp="auto",
                )
        view = payment_view(payment)
        payment.response = view
        with pipelined(conn):  # writes only: one round trip on PostgreSQL
            if new:
                statements.insert(conn, tenant, [payment])
            events = []
            if capture is not None:
                events.append(self._write_capture(session, payment, capture, at=at))
            events.append(("notifyPayment", {"notifyType": "PAYMENT_RESULT", **view}))
            enqueue_all(session, payment.merchant_id, events, at=at)
        return view

    def _retry_cap(
        self, conn: Connection, tenant: str, payment: Payment, *, at: datetime
    ) -> str | None:
        """Refuse before the issuer when scheme retry rules forbid another attempt (§4.2)."""
        rows = statements.recent_card_declines(conn, tenant, payment, since=at - timedelta(days=30))
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
        tenant = session_tenant(session)
        conn = statements.connection(session)
        payment = _locked_payment(conn, tenant, req)
        fp, stored = _replayed(conn, tenant, statements.CAPTURES, req)
        if stored is not None:
            return stored
        check_minor(req.amount, payment.currency, method_type=payment.method_type)
        check_capture(payment, req.amount, at=at)
        payment.state = "CAPTURED"
        capture = self._new_capture(
            payment, request_id=req.request_id, amount=req.amount, is_last=req.is_last, at=at, fp=fp
        )
        statements.update_payment(session, payment, ("state", "captured_amount", "capture_closed"))
        enqueue_all(
            session,
            payment.merchant_id,
            [self._write_capture(session, payment, capture, at=at)],
            at=at,
        )
        return dict(capture.response)

    @staticmethod
    def _new_capture(
        payment: Payment, *, request_id: str, amount: int, is_last: bool, at: datetime, fp: str
    ) -> Capture:
        """A capture of ``payment`` (its amounts updated), not written yet."""
        capture = statements.transient(
            Capture,
            id=new_id("cap"),
            tenant_id=payment.tenant_id,
            merchant_id=payment.merchant_id,
            payment_id=payment.id,
            request_id=request_id,
            amount=amount,
            currency=payment.currency,
            is_last=is_last,
            created_at=at,
            fingerprint=fp,
            settled_at=None,
        )
        payment.captured_amount += amount
        if is_last or payment.captured_amount == payment.amount:
            payment.capture_closed = True
        capture.response = capture_view(capture, payment)
        return capture

    def _write_capture(
        self, session: Session, payment: Payment, capture: Capture, *, at: datetime
    ) -> tuple[str, dict[str, Any]]:
        """The capture row and its journal (buyer funds → merchant pending); returns the
        webhook to send, for the caller to write with its own."""
        statements.insert(statements.bound(session), session_tenant(session), [capture])
        draft = ledger.JournalDraft("capture", "capture", capture.id)
        pending = ledger.merchant_account(payment.merchant_id, "pending")
        draft.move(ledger.BUYER_FUNDS, pending, capture.amount, payment.currency)
        ledger.post(session, draft, at=at)
        return "notifyCapture", capture.response

    # ----- refund ------------------------------------------------------------------------
    def refund(
        self, tenant_id: str, req: RefundRequest, *, at: datetime | None = None
    ) -> dict[str, Any]:
        return run_tx(self.db, tenant_id, lambda s: self.refund_in(s, req, at=at or utcnow()))

    def refund_in(self, session: Session, req: RefundRequest, *, at: datetime) -> dict[str, Any]:
        check_request_id(req.request_id, "request_id")
        tenant = session_tenant(session)
        conn = statements.connection(session)
        payment = _locked_payment(conn, tenant, req)
        fp, stored = _replayed(conn, tenant, statements.REFUNDS, req)
        if stored is not None:
            return stored
        check_minor(req.amount, payment.currency, method_type=payment.method_type)
        check_refund(payment, req.amount, at=at)
        merchant = statements.merchant(conn, tenant, payment.merchant_id)
        if merchant is None:
            raise merchant_not_found(payment.merchant_id)
        refund = statements.transient(
            Refund,
            id=new_id("ref"),
            tenant_id=payment.tenant_id,
            merchant_id=payment.merchant_id,
            payment_id=payment.id,
            request_id=req.request_id,
            amount=req.amount,
            currency=payment.currency,
            reason=req.reason,
            status="SUCCESS",
            created_at=at,
            fingerprint=fp,
            response={},
        )
        payment.refunded_amount += req.amount
        refund.response = refund_view(refund, payment)
        statements.insert(conn, tenant, [refund])
        statements.update_payment(session, payment, ("refunded_amount",))
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
        return settle_captures(session, merchant_id, rates=self.rates, cutoff=cutoff, at=at)

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
