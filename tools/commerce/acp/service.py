"""ACP checkout operations, transport-free: the REST routes and the MCP tools call these.

Every operation checks, in this order: ``API-Version``; that the caller is a key bound to a
merchant and may do this (writes: shopper keys; reads: the shopper key that created the
session or a key of the merchant); the platform's request signature when it registered a
key; on POSTs the ``Idempotency-Key`` (:mod:`tools.commerce.acp.idempotency`); no raw HTML in
text; the body's shape. Then it runs in one transaction with the idempotency record.

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
"""

from __future__ import annotations

import copy
import hashlib
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.db.session import Database
from cockpit.idempotency import lock_writes
from cockpit.tenancy.principal import Principal, Role
from tools.commerce.acp import checkout as engine
from tools.commerce.acp import idempotency as idem
from tools.commerce.acp.catalog import items_by_id, load_merchant, storefront
from tools.commerce.acp.discounts import rules_for
from tools.commerce.acp.models import CheckoutSessionRow, Item
from tools.commerce.acp.orders import create_order, order_json, order_reference
from tools.commerce.acp.requests import (
    DETAILED_OUTCOMES,
    AuthenticationResultIn,
    CancelRequest,
    CompleteRequest,
    CreateRequest,
    UpdateRequest,
    parse,
)
from tools.commerce.acp.signatures import verify_request
from tools.commerce.acp.wire import (
    AcpResponse,
    RequestMeta,
    check_version,
    reject_html,
    require_idempotency_key,
)
from tools.commerce.errors import AcpError
from tools.commerce.evidence import attach_order_evidence
from tools.commerce.platforms import platform_for_key
from tools.commerce.ports import HANDLERS_KEY, Charge, Checkout, PaymentHandler
from tools.commerce.threeds.sca import AuthenticationRequired
from tools.payments.requests import new_id

log = logging.getLogger(__name__)

ORDER_EVENTS_KEY = "commerce_order_events"
"""``services.extras`` entry with ``enqueue(session, *, key_id, event_type, order, at)``."""
WRITERS = frozenset({Role.SHOPPER, Role.ADMIN})
READERS = frozenset({Role.SHOPPER, Role.MERCHANT, Role.ADMIN})
PAYABLE = frozenset({"ready_for_payment", "authentication_required"})
REQUIRES_3DS_TEXT = (
    "This checkout session requires issuer authentication. The request must include "
    "'authentication_result' as provided by the issuer authentication flow."
)
_NOT_AUTHENTICATED_TEXT = {
    "denied": "The card issuer denied the 3-D Secure authentication.",
    "rejected": "The card issuer rejected the 3-D Secure authentication.",
    "abandoned": "The 3-D Secure authentication was abandoned.",
    "canceled": "The 3-D Secure authentication was canceled.",
    "not_supported": "This card cannot be authenticated with 3-D Secure.",
}


def _dump(value: Any) -> Any:
    """A validated request field as plain JSON."""
    return value.model_dump(exclude_none=True) if hasattr(value, "model_dump") else value


def _not_found(session_id: str) -> AcpError:
    return AcpError(
        f"checkout session {session_id} not found", code="checkout_session_not_found", status=404
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
        self._guard(principal, meta, payload, roles=WRITERS, at=at)
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
        self._guard(principal, meta, None, roles=READERS, at=at, write=False)
        try:
            with self.db.tenant_session(principal.tenant_id) as s:
                row = self._load(s, principal, session_id, lock=False)
                body = dict(row.body)
                if body["status"] not in engine.TERMINAL | engine.HELD and at >= row.expires_at:
                    lock_writes(s)
                    row = self._load(s, principal, session_id, lock=True)
                    body = self._expire(row, at=at)
        except AcpError as exc:
            raise self._echo(exc, meta) from None
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
        self._guard(principal, meta, payload, roles=WRITERS, at=at)
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
        self._guard(principal, meta, payload, roles=WRITERS, at=at)
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
        self._guard(principal, meta, payload, roles=WRITERS, at=at)
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

    # ---- checks shared by every operation ----------------------------------------------

    def handlers(self) -> dict[str, PaymentHandler]:
        found: dict[str, PaymentHandler] = self.extras.get(HANDLERS_KEY) or {}
        return found

    def descriptors(self) -> list[dict[str, Any]]:
        """The advertised ``PaymentHandler`` objects, in display order."""
        out = [h.descriptor() for h in self.handlers().values()]
        return sorted(out, key=lambda d: (d.get("display_order", 0), d["id"]))

    @staticmethod
    def _echo(exc: AcpError, meta: RequestMeta) -> AcpError:
        exc.headers = {**meta.echo(), **exc.headers}
        return exc

    def _guard(
        self,
        principal: Principal,
        meta: RequestMeta,
        payload: Mapping[str, Any] | None,
        *,
        roles: frozenset[Role],
        at: datetime,
        write: bool = True,
    ) -> None:
        try:
            check_version(meta)
            if principal.role not in roles:
                raise AcpError(
                    f"a {principal.role.value} key may not do this on the ACP checkout",
                    code="role_required",
                    status=403,
                )
            if principal.merchant_id is None:
                raise AcpError(
                    "this key is not bound to a merchant; ACP checkout needs a merchant-bound key",
                    code="merchant_binding_required",
                    status=403,
                )
            with self.db.tenant_session(principal.tenant_id) as s:
                platform = platform_for_key(s, principal.key_id)
                jwk = None if platform is None else platform.signing_jwk
                disabled = platform is not None and platform.disabled
            if disabled:
                raise AcpError(
                    "this agent platform is disabled", code="platform_disabled", status=403
                )
            if jwk:
                verify_request(jwk, meta, payload, at=at)
            if write:
                require_idempotency_key(meta)
            if payload is not None:
                reject_html(payload)
        except AcpError as exc:
            raise self._echo(exc, meta) from None

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

    def _load(
        self, s: Session, principal: Principal, session_id: str, *, lock: bool
    ) -> CheckoutSessionRow:
        query = select(CheckoutSessionRow).where(
            CheckoutSessionRow.id == session_id,
            CheckoutSessionRow.merchant_id == principal.merchant_id,
        )
        row = s.scalar(query.with_for_update() if lock else query)
        if row is None or (principal.role is Role.SHOPPER and row.key_id != principal.key_id):
            raise _not_found(session_id)
        return row

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
        requested = [i.model_dump(exclude_none=True) for i in req.line_items]
        catalogue = items_by_id(s, seller.merchant_id, [i["id"] for i in requested])
        engine.check_items(requested, catalogue)
        inputs: dict[str, Any] = {
            "items": engine.merge_items(requested),
            "capabilities": req.capabilities.model_dump(exclude_none=True),
            "coupons": list(req.coupons or [])
            + list((req.discounts and req.discounts.codes) or []),
            "selected": [],
        }
        for name in (
            "buyer",
            "fulfillment_details",
            "locale",
            "timezone",
            "metadata",
            "quote_id",
            "order_notes",
            "affiliate_attribution",
            "fulfillment_groups",
        ):
            value = getattr(req, name)
            if value is not None:
                inputs[name] = (
                    value.model_dump(exclude_none=True) if hasattr(value, "model_dump") else value
                )
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
        row = self._load(s, principal, session_id, lock=True)
        if row.status in engine.TERMINAL | engine.HELD or at >= row.expires_at:
            raise _state_error("expired" if at >= row.expires_at else row.status, "updated")
        inputs = dict(row.inputs)
        given = req.model_fields_set
        if req.line_items is not None:
            requested = [i.model_dump(exclude_none=True) for i in req.line_items]
            engine.check_items(
                requested, items_by_id(s, row.merchant_id, [i["id"] for i in requested])
            )
            inputs["items"] = engine.merge_items(requested)
            if not inputs["items"]:
                raise AcpError(
                    "a checkout needs at least one item",
                    code="invalid_request",
                    param="$.line_items",
                )
        inputs.pop("authentication", None)  # a changed checkout starts its payment over
        inputs.pop("escalation", None)
        for name in ("buyer", "fulfillment_details", "order_notes", "fulfillment_groups"):
            if name in given:
                value = getattr(req, name)
                if value is None:
                    inputs.pop(name, None)  # null clears; absence leaves it
                else:
                    inputs[name] = (
                        value.model_dump(exclude_none=True)
                        if hasattr(value, "model_dump")
                        else value
                    )
        if "coupons" in given or "discounts" in given:
            inputs["coupons"] = list(req.coupons or []) + list(
                (req.discounts and req.discounts.codes) or []
            )
        if req.selected_fulfillment_options is not None:
            chosen = [o.model_dump() for o in req.selected_fulfillment_options]
            catalogue = items_by_id(s, row.merchant_id, [i["id"] for i in inputs["items"]])
            engine.check_selection(chosen, inputs["items"], catalogue)
            inputs["selected"] = chosen
        inputs.pop("payment_error", None)
        row.inputs = inputs
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
        row = self._load(s, principal, session_id, lock=True)
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
            return 200, self._not_authenticated(row, inputs, auth, at=at)
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
            return 200, self._intervene(row, inputs, need.metadata, at=at)
        inputs.pop("authentication", None)
        body = self._reopened(row, inputs, at=at)
        if charge.status == "declined":
            return 200, self._declined(row, inputs, body, charge, at=at)
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
    def _reopened(
        row: CheckoutSessionRow, inputs: Mapping[str, Any], *, at: datetime
    ) -> dict[str, Any]:
        """The stored body without a past decline or a pending 3DS request (status kept)."""
        body = copy.deepcopy(dict(row.body))
        body["messages"] = [m for m in body["messages"] if m.get("code") != "payment_declined"]
        body["updated_at"] = engine.iso(at)
        if "buyer" in inputs:
            body["buyer"] = inputs["buyer"]
        if body["status"] == "authentication_required":
            body["status"] = "ready_for_payment"
            body["capabilities"]["interventions"].update(required=[], enforcement="conditional")
        engine.show_intervention(body, inputs)
        return body

    @staticmethod
    def _declined(
        row: CheckoutSessionRow,
        inputs: dict[str, Any],
        body: dict[str, Any],
        charge: Charge | None,
        *,
        at: datetime,
        content: str | None = None,
        param: str = "$.payment_data",
    ) -> dict[str, Any]:
        """A ``payment_declined`` session the buyer may retry (nothing was charged)."""
        inputs["payment_error"] = {
            "type": "error",
            "code": "payment_declined",
            "content_type": "plain",
            "content": content
            or (charge.message if charge is not None else "")
            or "Your payment was declined. Please try a different payment method.",
            "severity": "high",
            "resolution": "recoverable",
            "param": param,
        }
        body["messages"].append(inputs["payment_error"])
        row.inputs, row.body, row.status, row.updated_at = inputs, body, body["status"], at
        return body

    def _not_authenticated(
        self,
        row: CheckoutSessionRow,
        inputs: dict[str, Any],
        auth: AuthenticationResultIn,
        *,
        at: datetime,
    ) -> dict[str, Any]:
        """3DS did not authenticate the buyer: decline, move nothing; a retry starts over."""
        inputs.pop("authentication", None)
        body = self._reopened(row, inputs, at=at)
        reason = _NOT_AUTHENTICATED_TEXT.get(
            auth.outcome, f"3-D Secure authentication failed ({auth.outcome})."
        )
        content = f"{reason} Nothing was charged; retry the authentication or use another card."
        return self._declined(
            row, inputs, body, None, at=at, content=content, param="$.authentication_result"
        )

    @staticmethod
    def _intervene(
        row: CheckoutSessionRow,
        inputs: dict[str, Any],
        metadata: Mapping[str, Any],
        *,
        at: datetime,
    ) -> dict[str, Any]:
        """Ask for 3DS (an agent that declared ``3ds``) or escalate to the buyer (others)."""
        inputs.pop("payment_error", None)
        asked = (inputs.get("capabilities") or {}).get("interventions") or {}
        body = copy.deepcopy(dict(row.body))
        body["messages"] = [m for m in body["messages"] if m.get("code") != "payment_declined"]
        body["updated_at"] = engine.iso(at)
        if "buyer" in inputs:
            body["buyer"] = inputs["buyer"]
        if "3ds" in (asked.get("supported") or []):
            inputs["authentication"] = dict(metadata)
            body["status"] = "authentication_required"
        else:
            inputs["escalation"] = {
                "continue_url": f"{storefront(row.merchant_id)}/checkout/{row.id}",
                "message": {
                    "type": "error",
                    "code": "intervention_required",
                    "content_type": "plain",
                    "content": "The card issuer requires 3-D Secure authentication, which this "
                    "agent did not declare it can run. The buyer can finish the purchase on "
                    "the merchant's site.",
                    "severity": "high",
                    "resolution": "requires_buyer_input",
                    "param": engine.ESCALATION_PARAM,
                },
            }
            body["status"] = "requires_escalation"
            body["messages"].append(dict(inputs["escalation"]["message"]))
        engine.show_intervention(body, inputs)
        row.inputs, row.body, row.status, row.updated_at = inputs, body, body["status"], at
        return body

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
        row = self._load(s, principal, session_id, lock=True)
        if row.status in {"completed", "canceled", "complete_in_progress"}:
            raise _state_error(row.status, "canceled", status=405)
        inputs = dict(row.inputs)
        if req.intent_trace is not None:
            inputs["intent_trace"] = req.intent_trace.model_dump(exclude_none=True)
        inputs.pop("payment_error", None)
        row.inputs = inputs
        body = self._render(s, row, status="canceled", at=at)
        return 200, body


__all__ = ["ORDER_EVENTS_KEY", "AcpResponse", "CheckoutService", "RequestMeta"]
