"""ACP checkout operations, transport-free: the REST routes and the MCP tools call these.

Every operation checks, in this order (:mod:`tools.commerce.acp.access`): ``API-Version``; that
the caller is a key bound to a merchant and may do this (writes: shopper keys; reads: the
shopper key that created the session or a key of the merchant); the platform's request
signature when it registered a key; on POSTs the ``Idempotency-Key``
(:mod:`tools.commerce.acp.idempotency`); no raw HTML in text; the body's shape. Then it runs
in one transaction with the idempotency record. What the agent asked for is stored as the
session's inputs (:mod:`tools.commerce.acp.session_inputs`), from which every answer is
rendered again.

Completing a checkout charges through the payment handler named by
``payment_data.handler_id`` (``services.extras[HANDLERS_KEY]``), built from the session's
STORED JSON, inside the same transaction that writes the order and the idempotency record;
the session row is locked first, so two completes of one session make one order and one
charge. A declined charge is a 2xx session still ``ready_for_payment`` with a
``payment_declined`` message (the buyer may retry); a charge held for review leaves the
session ``complete_in_progress`` with an order pending review.

3-D Secure (DOMAIN.md §10a "3DS flow"): the handler runs inside a SAVEPOINT. When it finds the
card needs SCA and the agent brought no ``authentication_result``
(:class:`~tools.commerce.threeds.sca.AuthenticationRequired`), the savepoint is rolled back —
the token is not spent, no payment or ledger row, no mandate replay record, no risk record —
and only the session's new state and the idempotency answer commit: ``authentication_required``
with ``authentication_metadata`` when the agent declared ``3ds`` in
``capabilities.interventions.supported``, else ``requires_escalation`` with a ``continue_url``
and an ``intervention_required`` message. Completing an ``authentication_required`` session
without a result is 400 ``requires_3ds``; a result whose outcome is not a success (``denied``,
``rejected``, ``abandoned``…) is a ``payment_declined`` session with nothing moved (the buyer may
retry); a success result is verified by the handler against this PSP's own authentication.
What each outcome writes into the session is in :mod:`tools.commerce.acp.payment_outcomes`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cockpit.db.session import Database
from cockpit.idempotency import lock_writes
from cockpit.tenancy.principal import Principal
from tools.commerce.acp import checkout as engine
from tools.commerce.acp import idempotency as idem
from tools.commerce.acp.access import READERS, WRITERS, echoed, guard, load_session
from tools.commerce.acp.catalog import items_by_id, load_merchant
from tools.commerce.acp.discounts import rules_for
from tools.commerce.acp.models import CheckoutSessionRow, Item
from tools.commerce.acp.orders import create_order, order_json, order_reference
from tools.commerce.acp.payment_outcomes import declined, intervene, not_authenticated, reopened
from tools.commerce.acp.requests import (
    DETAILED_OUTCOMES,
    CancelRequest,
    CompleteRequest,
    CreateRequest,
    UpdateRequest,
    parse,
)
from tools.commerce.acp.session_inputs import created_inputs, updated_inputs
from tools.commerce.acp.wire import AcpResponse, RequestMeta, require_idempotency_key
from tools.commerce.errors import AcpError
from tools.commerce.evidence import attach_order_evidence
from tools.commerce.platforms import platform_for_key
from tools.commerce.ports import HANDLERS_KEY, Checkout, PaymentHandler
from tools.commerce.threeds.sca import AuthenticationRequired
from tools.payments.requests import new_id

log = logging.getLogger(__name__)

ORDER_EVENTS_KEY = "commerce_order_events"
"""``services.extras`` entry with ``enqueue(session, *, key_id, event_type, order, at)``."""
PAYABLE = frozenset({"ready_for_payment", "authentication_required"})
REQUIRES_3DS_TEXT = (
    "This checkout session requires issuer authentication. The request must include "
    "'authentication_result' as provided by the issuer authentication flow."
)


def _state_error(row_status: str, action: str, *, status: int = 400) -> AcpError:
    return AcpError(
        f"a {row_status} checkout session cannot be {action}",
        code="invalid_session_state",
        status=status,
    )


class CheckoutService:
    """The ACP checkout operations over one database and the app's shared services."""

    def __init__(self, db: Database, extras: dict[str, Any]) -> None:
        self.db = db
        self.extras = extras

    # ---- public operations -------------------------------------------------------------

    def create(
        self, principal: Principal, meta: RequestMeta, payload: Mapping[str, Any], *, at: datetime
    ) -> AcpResponse:
        guard(self.db, principal, meta, payload, roles=WRITERS, at=at)
        req = parse(CreateRequest, payload)
        return self._post(
            principal,
            meta,
            "/checkout_sessions",
            payload,
            lambda s: self._create(s, principal, req, at=at),
            at=at,
        )

    def get(
        self, principal: Principal, meta: RequestMeta, session_id: str, *, at: datetime
    ) -> AcpResponse:
        guard(self.db, principal, meta, None, roles=READERS, at=at, write=False)
        try:
            with self.db.tenant_session(principal.tenant_id) as s:
                row = load_session(s, principal, session_id, lock=False)
                body = dict(row.body)
                if body["status"] not in engine.TERMINAL | engine.HELD and at >= row.expires_at:
                    lock_writes(s)
                    row = load_session(s, principal, session_id, lock=True)
                    body = self._expire(row, at=at)
        except AcpError as exc:
            raise echoed(exc, meta) from None
        return AcpResponse(200, body, meta.echo())

    def update(
        self,
        principal: Principal,
        meta: RequestMeta,
        session_id: str,
        payload: Mapping[str, Any],
        *,
        at: datetime,
    ) -> AcpResponse:
        guard(self.db, principal, meta, payload, roles=WRITERS, at=at)
        req = parse(UpdateRequest, payload)
        return self._post(
            principal,
            meta,
            f"/checkout_sessions/{session_id}",
            payload,
            lambda s: self._update(s, principal, session_id, req, at=at),
            at=at,
        )

    def complete(
        self,
        principal: Principal,
        meta: RequestMeta,
        session_id: str,
        payload: Mapping[str, Any],
        *,
        at: datetime,
    ) -> AcpResponse:
        guard(self.db, principal, meta, payload, roles=WRITERS, at=at)
        req = parse(CompleteRequest, payload)
        key = require_idempotency_key(meta)
        request_key = (
            "acp_"
            + hashlib.sha256(f"{session_id}\n{principal.key_id}\n{key}".encode()).hexdigest()[:40]
        )
        return self._post(
            principal,
            meta,
            f"/checkout_sessions/{session_id}/complete",
            payload,
            lambda s: self._complete(s, principal, session_id, req, request_key, at=at),
            at=at,
        )

    def cancel(
        self,
        principal: Principal,
        meta: RequestMeta,
        session_id: str,
        payload: Mapping[str, Any] | None,
        *,
        at: datetime,
    ) -> AcpResponse:
        guard(self.db, principal, meta, payload, roles=WRITERS, at=at)
        req = parse(CancelRequest, payload)
        return self._post(
            principal,
            meta,
            f"/checkout_sessions/{session_id}/cancel",
            payload,
            lambda s: self._cancel(s, principal, session_id, req, at=at),
            at=at,
        )

    def stored_checkout(self, session: Session, session_id: str) -> dict[str, Any] | None:
        """The merchant's own stored ``CheckoutSession`` JSON (what AP2 signs and hashes)."""
        row = session.get(CheckoutSessionRow, session_id)
        return None if row is None else dict(row.body)

    # ---- shared by every operation ------------------------------------------------------

    def handlers(self) -> dict[str, PaymentHandler]:
        found: dict[str, PaymentHandler] = self.extras.get(HANDLERS_KEY) or {}
        return found

    def descriptors(self) -> list[dict[str, Any]]:
        """The advertised ``PaymentHandler`` objects, in display order."""
        out = [h.descriptor() for h in self.handlers().values()]
        return sorted(out, key=lambda d: (d.get("display_order", 0), d["id"]))

    def _post(
        self,
        principal: Principal,
        meta: RequestMeta,
        scope: str,
        payload: Mapping[str, Any] | None,
        op: Callable[[Session], tuple[int, dict[str, Any]]],
        *,
        at: datetime,
    ) -> AcpResponse:
        return idem.run_once(self.db, principal, meta, scope, payload, op, at=at)

    # ---- the operations, inside their transaction -----------------------------------------

    def _seller(self, s: Session, merchant_id: str) -> engine.Seller:
        merchant = load_merchant(s, merchant_id)
        return engine.Seller(
            merchant_id=merchant.id,
            name=merchant.name,
            country=merchant.country,
            currency=merchant.settlement_currency.upper(),
        )

    def _render(
        self,
        s: Session,
        row: CheckoutSessionRow,
        *,
        status: str | None,
        at: datetime,
        order: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        inputs = row.inputs
        catalogue = items_by_id(s, row.merchant_id, [i["id"] for i in inputs["items"]])
        body = engine.render(
            session_id=row.id,
            seller=self._seller(s, row.merchant_id),
            inputs=inputs,
            catalogue=catalogue,
            handlers=self.descriptors(),
            status=status,
            created_at=row.created_at,
            expires_at=row.expires_at,
            at=at,
            order=order,
            rules=rules_for(s, row.merchant_id),
        )
        row.body, row.status, row.total = body, body["status"], engine.session_total(body)
        row.updated_at = at
        return body

    def _expire(self, row: CheckoutSessionRow, *, at: datetime) -> dict[str, Any]:
        body = dict(row.body)
        body["status"], body["updated_at"] = "expired", engine.iso(at)
        row.body, row.status, row.updated_at = body, "expired", at
        return body

    def _create(
        self, s: Session, principal: Principal, req: CreateRequest, *, at: datetime
    ) -> tuple[int, dict[str, Any]]:
        assert principal.merchant_id is not None
        seller = self._seller(s, principal.merchant_id)
        if req.currency.upper() != seller.currency:
            raise AcpError(
                f"this merchant sells in {seller.currency.lower()}, not {req.currency}",
                code="unsupported_currency",
                param="$.currency",
            )
        inputs = created_inputs(s, seller.merchant_id, req)
        row = CheckoutSessionRow(
            id=new_id("cs"),
            merchant_id=seller.merchant_id,
            key_id=principal.key_id,
            status="incomplete",
            currency=seller.currency,
            inputs=inputs,
            body={},
            total=0,
            created_at=at,
            updated_at=at,
            expires_at=at + engine.SESSION_TTL,
        )
        s.add(row)
        body = self._render(s, row, status=None, at=at)
        s.flush()
        return 201, body

    def _update(
        self, s: Session, principal: Principal, session_id: str, req: UpdateRequest, *, at: datetime
    ) -> tuple[int, dict[str, Any]]:
        row = load_session(s, principal, session_id, lock=True)
        if row.status in engine.TERMINAL | engine.HELD or at >= row.expires_at:
            raise _state_error("expired" if at >= row.expires_at else row.status, "updated")
        row.inputs = updated_inputs(s, row, req)
        body = self._render(s, row, status=None, at=at)
        return 200, body

    def _complete(
        self,
        s: Session,
        principal: Principal,
        session_id: str,
        req: CompleteRequest,
        request_key: str,
        *,
        at: datetime,
    ) -> tuple[int, dict[str, Any]]:
        row = load_session(s, principal, session_id, lock=True)
        if row.status in engine.TERMINAL | engine.HELD or at >= row.expires_at:
            raise _state_error("expired" if at >= row.expires_at else row.status, "completed")
        payment = req.payment_data
        if payment.handler_id is None or payment.instrument is None:
            raise AcpError(
                "payment_data needs handler_id and instrument (purchase orders are not accepted)",
                code="unsupported_payment_method",
                param="$.payment_data",
            )
        handler = self.handlers().get(payment.handler_id)
        if handler is None:
            raise AcpError(
                f"unknown payment handler {payment.handler_id!r}",
                code="invalid_payment_handler",
                param="$.payment_data.handler_id",
            )
        status_now = str(row.body.get("status"))
        if status_now not in PAYABLE:
            raise _state_error(status_now, "completed before it is ready")
        auth = req.authentication_result
        if status_now == "authentication_required" and auth is None:
            raise AcpError(
                REQUIRES_3DS_TEXT, code="requires_3ds", status=400, param="$.authentication_result"
            )
        catalogue = items_by_id(s, row.merchant_id, [i["id"] for i in row.inputs["items"]])
        if self._short(row, catalogue):
            # Stock ran out since the session was last shown: show it again, charge nothing.
            return 200, self._render(s, row, status=None, at=at)
        inputs = dict(row.inputs)
        if req.buyer is not None:
            inputs["buyer"] = req.buyer.model_dump(exclude_none=True)
        if auth is not None and auth.outcome not in DETAILED_OUTCOMES:
            return 200, not_authenticated(row, inputs, auth, at=at)
        platform = platform_for_key(s, row.key_id)
        checkout = Checkout(
            tenant_id=principal.tenant_id,
            merchant_id=row.merchant_id,
            session_id=row.id,
            key_id=row.key_id,
            platform_id=None if platform is None else platform.id,
            amount=row.total,
            currency=row.currency,
            line_items=tuple(row.body.get("line_items", [])),
            snapshot=dict(row.body),
            risk_signals=None
            if req.risk_signals is None
            else req.risk_signals.model_dump(exclude_none=True),
            authentication_result=None if auth is None else auth.model_dump(exclude_none=True),
        )
        payment_data = payment.model_dump(exclude_none=True)
        try:
            with s.begin_nested():  # rolled back, all of it, when 3DS must come first
                charge = handler.charge(s, checkout, payment_data, at=at, request_key=request_key)
        except AuthenticationRequired as need:
            return 200, intervene(row, inputs, need.metadata, at=at)
        inputs.pop("authentication", None)
        body = reopened(row, inputs, at=at)
        if charge.status == "declined":
            return 200, declined(row, inputs, body, charge, at=at)
        order = create_order(
            s, row, charge, handler_id=handler.id, order_notes=req.order_notes, at=at
        )
        attach_order_evidence(
            s,
            order=order.body,
            snapshot=row.body,
            charge=charge,
            handler_id=handler.id,
            platform=platform.name if platform is not None else f"key {row.key_id}",
            at=at,
        )
        for wanted in inputs["items"]:
            item = catalogue[wanted["id"]]
            if item.stock is not None:
                item.stock -= int(wanted["quantity"])
        status = "completed" if charge.status == "captured" else "complete_in_progress"
        body["status"], body["order"] = status, order_reference(order.body)
        inputs.pop("payment_error", None)
        row.inputs, row.body, row.status, row.updated_at = inputs, body, status, at
        events = self.extras.get(ORDER_EVENTS_KEY)
        if events is not None:
            events.enqueue(
                s, key_id=row.key_id, event_type="order_create", order=order_json(order), at=at
            )
        s.flush()
        return 200, body

    @staticmethod
    def _short(row: CheckoutSessionRow, catalogue: Mapping[str, Item]) -> bool:
        for wanted in row.inputs["items"]:
            item = catalogue.get(wanted["id"])
            if item is None or not item.active:
                return True
            if item.stock is not None and item.stock < int(wanted["quantity"]):
                return True
        return False

    def _cancel(
        self, s: Session, principal: Principal, session_id: str, req: CancelRequest, *, at: datetime
    ) -> tuple[int, dict[str, Any]]:
        row = load_session(s, principal, session_id, lock=True)
        if row.status in {"completed", "canceled", "complete_in_progress"}:
            raise _state_error(row.status, "canceled", status=405)
        inputs = dict(row.inputs)
        if req.intent_trace is not None:
            inputs["intent_trace"] = req.intent_trace.model_dump(exclude_none=True)
        inputs.pop("payment_error", None)
        row.inputs = inputs
        body = self._render(s, row, status="canceled", at=at)
        return 200, body


__all__ = [
    "ORDER_EVENTS_KEY",
    "READERS",
    "WRITERS",
    "AcpResponse",
    "CheckoutService",
    "RequestMeta",
]
