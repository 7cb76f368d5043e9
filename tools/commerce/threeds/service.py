"""The PSP's ACP delegate authentication API (``/acp/delegate_authentication``) and sandbox ACS.

An agent platform whose checkout answered ``authentication_required`` runs 3-D Secure here,
with its shopper key, against the delegated token it will pay with:

1. ``create`` — ``payment_method.number`` carries the delegated token (``spt_…``): the card
   number stays in the vault, and the token binds the authentication to its card, merchant,
   checkout and allowance (the spec's field is a free string; a raw PAN is refused with
   ``invalid_card``). ``exp_month``/``exp_year`` must be the card's; ``amount`` within the
   allowance, in its currency; ``acquirer_details``, when sent, those the checkout advertised.
   Answer: ``action_required`` + ``fingerprint`` (Visa, Mastercard), ``pending`` (American
   Express) or ``not_supported`` (other brands).
2. ``authenticate`` — with ``fingerprint_completion``: frictionless ``authenticated``, an
   ``attempted`` stand-in, or ``action_required`` + ``challenge`` (:mod:`.acs` says when).
3. The challenge — the browser posts an EMV ``CReq`` to ``acs_url`` (:meth:`challenge`, our
   sandbox ACS); the ``CRes`` says ``transStatus``. No callback is sent to
   ``challenge_notification_url`` (no outbound network): the agent polls ``retrieve``.
4. ``retrieve`` — the state and, once final, ``authentication_result`` (``trans_status``,
   ECI, cryptogram, directory-server ``transaction_id``), which the agent maps to the ACP
   ``AuthenticationResult`` it completes the checkout with.

POSTs follow the checkout's idempotency rules (``com_idempotency``: same key and body replay,
another body is 422). Only the creating key may drive or read a session (others get 404).
Error codes the spec's enum lacks (``authentication_session_not_found``,
``idempotency_key_required``, …) are ours, as in the checkout.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.db.session import Database
from cockpit.tenancy.principal import Principal, Role
from tools.commerce.acp import idempotency as idem
from tools.commerce.acp.signatures import verify_request
from tools.commerce.acp.wire import AcpResponse, RequestMeta, check_version
from tools.commerce.errors import AcpError
from tools.commerce.platforms import platform_for_key
from tools.commerce.threeds import acs
from tools.commerce.threeds.models import AuthenticationSession
from tools.commerce.threeds.sca import acquirer_details, amount_eur
from tools.commerce.threeds.wire import AuthenticateIn, CreateIn, b64url_json, parse, parse_creq
from tools.commerce.vault.models import TOKEN_ACTIVE, VaultToken
from tools.payments.models import Card

SESSION_TTL = timedelta(minutes=30)
"""An authentication session, and the result it yields, is usable this long."""
DRIVERS = frozenset({Role.SHOPPER, Role.ADMIN})
METHOD_PATH = "/acp/3ds/acs/method"
CHALLENGE_PATH = "/acp/3ds/acs/challenge"


def _invalid_card(message: str, param: str) -> AcpError:
    return AcpError(message, code="invalid_card", status=400, param=param)


def _not_found(session_id: str) -> AcpError:
    return AcpError(
        f"authentication session {session_id} not found",
        code="authentication_session_not_found",
        status=404,
    )


def view(
    row: AuthenticationSession, *, base_url: str, at: datetime, with_result: bool = False
) -> dict[str, Any]:
    """``DelegateAuthenticationSession`` of a row (as of ``at``); ``with_result``: the
    ``…WithResult`` that retrieve answers (create and authenticate carry no result)."""
    status = row.status
    if row.step != "final" and at >= row.expires_at:
        status = "expired"
    out: dict[str, Any] = {"authentication_session_id": row.id, "status": status}
    if status == "action_required" and row.step == "fingerprint":
        out["action"] = {
            "type": "fingerprint",
            "fingerprint": {
                "three_ds_method_url": base_url + METHOD_PATH,
                "three_ds_server_trans_id": row.server_trans_id,
            },
        }
    elif status == "action_required" and row.step == "challenge":
        out["action"] = {
            "type": "challenge",
            "challenge": {
                "acs_url": base_url + CHALLENGE_PATH,
                "acs_trans_id": str(row.acs_trans_id),
                "three_ds_server_trans_id": row.server_trans_id,
                "message_version": row.version,
            },
        }
    if with_result and row.trans_status is not None:
        result: dict[str, Any] = {
            "trans_status": row.trans_status,
            "transaction_id": row.ds_trans_id,
            "three_ds_server_trans_id": row.server_trans_id,
            "version": row.version,
        }
        if row.eci is not None:
            result["electronic_commerce_indicator"] = row.eci
        if row.cryptogram is not None:
            result["three_ds_cryptogram"] = row.cryptogram
            result["authentication_value"] = row.cryptogram
        if row.trans_status_reason is not None:
            result["trans_status_reason"] = row.trans_status_reason
        if row.trans_status in ("N", "R"):
            result["cardholder_info"] = "Please contact your bank's customer support."
        out["authentication_result"] = result
    return out


def _finish(row: AuthenticationSession, result: acs.Result, *, at: datetime) -> None:
    row.status, row.step, row.finished_at = result.status, "final", at
    row.trans_status, row.trans_status_reason = result.trans_status, result.reason
    row.eci, row.cryptogram = result.eci, result.cryptogram


class DelegateAuthentication:
    """The delegate authentication operations over one database (transport-free)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- guards --------------------------------------------------------------------------

    def _guard(
        self,
        principal: Principal,
        meta: RequestMeta,
        payload: Any,
        *,
        at: datetime,
        version: bool = True,
    ) -> None:
        try:
            if version:
                check_version(meta)
            if principal.role not in DRIVERS:
                raise AcpError(
                    "only an agent platform's shopper key may run delegate authentication",
                    code="role_required",
                    status=403,
                )
            with self.db.tenant_session(principal.tenant_id) as s:
                platform = platform_for_key(s, principal.key_id)
                jwk = None if platform is None else platform.signing_jwk
            if jwk:
                verify_request(jwk, meta, payload if isinstance(payload, dict) else None, at=at)
        except AcpError as exc:
            exc.headers = {**meta.echo(), **exc.headers}
            raise

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

    @staticmethod
    def _row(s: Session, principal: Principal, session_id: str) -> AuthenticationSession:
        row = s.get(AuthenticationSession, session_id, with_for_update=True)
        if row is None or row.key_id != principal.key_id:
            raise _not_found(session_id)
        return row

    # ---- create --------------------------------------------------------------------------

    def create(
        self,
        principal: Principal,
        meta: RequestMeta,
        payload: Mapping[str, Any],
        *,
        base_url: str,
        at: datetime,
    ) -> AcpResponse:
        self._guard(principal, meta, payload, at=at)
        req = parse(CreateIn, payload)

        def op(s: Session) -> tuple[int, dict[str, Any]]:
            row = self._create(s, principal, req, at=at)
            return 201, view(row, base_url=base_url, at=at)

        return self._post(principal, meta, "/delegate_authentication", payload, op, at=at)

    def _create(
        self, s: Session, principal: Principal, req: CreateIn, *, at: datetime
    ) -> AuthenticationSession:
        if principal.merchant_id is not None and req.merchant_id != principal.merchant_id:
            raise AcpError(
                "this key may only authenticate payments to its own merchant",
                code="merchant_mismatch",
                status=403,
                param="$.merchant_id",
            )
        number = req.payment_method.number.strip()
        if not number.startswith("spt_"):
            raise _invalid_card(
                "this PSP authenticates delegated payment tokens: send the spt_… token as "
                "payment_method.number (the card number stays in the vault)",
                "$.payment_method.number",
            )
        token = s.scalar(select(VaultToken).where(VaultToken.id == number))
        if token is None or token.key_id != principal.key_id:
            raise _invalid_card("the payment token is not known", "$.payment_method.number")
        if token.merchant_id != req.merchant_id:
            raise _invalid_card(
                "the payment token was issued for another merchant", "$.merchant_id"
            )
        if req.checkout_session_id not in (None, token.checkout_session_id):
            raise _invalid_card(
                "the payment token was issued for another checkout session",
                "$.checkout_session_id",
            )
        if token.status != TOKEN_ACTIVE or at >= token.expires_at:
            raise _invalid_card("the payment token is used or expired", "$.payment_method.number")
        if req.amount.currency.lower() != token.currency:
            raise _invalid_card(
                f"the payment token allows {token.currency.upper()}", "$.amount.currency"
            )
        if not 0 < req.amount.value <= token.max_amount:
            raise _invalid_card(
                f"the amount must be positive and within the allowance of {token.max_amount}",
                "$.amount.value",
            )
        card = s.get(Card, token.card_id)
        assert card is not None  # the vault's foreign key keeps it
        pm = req.payment_method
        if not (pm.exp_month.isdigit() and int(pm.exp_month) == card.exp_month):
            raise _invalid_card("the expiry month is not the card's", "$.payment_method.exp_month")
        if not (pm.exp_year.isdigit() and int(pm.exp_year) == card.exp_year):
            raise _invalid_card("the expiry year is not the card's", "$.payment_method.exp_year")
        ds = acs.directory_server(card.brand)
        acquirer = acquirer_details(s, token.merchant_id, ds) if ds is not None else {}
        if req.acquirer_details is not None and ds is not None:
            sent = req.acquirer_details.model_dump(exclude_none=True)
            fields = ("acquirer_bin", "acquirer_country", "acquirer_merchant_id")
            if any(sent[f] != acquirer[f] for f in fields):
                raise AcpError(
                    "acquirer_details are not those the checkout's authentication_metadata named",
                    code="acquirer_mismatch",
                    param="$.acquirer_details",
                )
        if ds is None:
            status, step = "not_supported", "final"
        elif acs.wants_fingerprint(ds):
            status, step = "action_required", "fingerprint"
        else:
            status, step = "pending", "areq"
        row = AuthenticationSession(
            id="auth_" + uuid.uuid4().hex[:24],
            key_id=principal.key_id,
            token_id=token.id,
            card_id=card.id,
            merchant_id=token.merchant_id,
            checkout_session_id=token.checkout_session_id,
            amount=req.amount.value,
            currency=req.amount.currency,
            directory_server=ds or "none",
            acquirer=acquirer,
            flow_preference=None
            if req.flow_preference is None
            else req.flow_preference.model_dump(exclude_none=True),
            status=status,
            step=step,
            version=acs.VERSION,
            server_trans_id=str(uuid.uuid4()),
            ds_trans_id=str(uuid.uuid4()),
            created_at=at,
            expires_at=at + SESSION_TTL,
            finished_at=at if step == "final" else None,
        )
        s.add(row)
        s.flush()
        return row

    # ---- authenticate --------------------------------------------------------------------

    def authenticate(
        self,
        principal: Principal,
        meta: RequestMeta,
        session_id: str,
        payload: Mapping[str, Any],
        *,
        base_url: str,
        at: datetime,
    ) -> AcpResponse:
        self._guard(principal, meta, payload, at=at)
        req = parse(AuthenticateIn, payload)

        def op(s: Session) -> tuple[int, dict[str, Any]]:
            row = self._row(s, principal, session_id)
            self._authenticate(s, row, req, at=at)
            return 200, view(row, base_url=base_url, at=at)

        scope = f"/delegate_authentication/{session_id}/authenticate"
        return self._post(principal, meta, scope, payload, op, at=at)

    @staticmethod
    def _authenticate(
        s: Session, row: AuthenticationSession, req: AuthenticateIn, *, at: datetime
    ) -> None:
        if req.checkout_session_id not in (None, row.checkout_session_id):
            raise _invalid_card(
                "this authentication is for another checkout session", "$.checkout_session_id"
            )
        if row.step in ("challenge", "final"):
            return  # already past the AReq: the answer is the current state
        if at >= row.expires_at:
            row.status, row.step, row.finished_at = "expired", "final", at
            return
        completion = req.fingerprint_completion if row.step == "fingerprint" else "Y"
        preference = (row.flow_preference or {}).get("type")
        route = acs.route(
            completion=completion,
            amount_eur=amount_eur(row.amount, row.currency),
            preference=preference,
        )
        if route == "frictionless":
            _finish(row, acs.authenticated(row.directory_server), at=at)
        elif route == "attempt":
            _finish(row, acs.attempted(row.directory_server), at=at)
        else:
            row.status, row.step, row.acs_trans_id = (
                "action_required",
                "challenge",
                str(uuid.uuid4()),
            )
        s.flush()

    # ---- retrieve ------------------------------------------------------------------------

    def retrieve(
        self,
        principal: Principal,
        meta: RequestMeta,
        session_id: str,
        *,
        base_url: str,
        at: datetime,
    ) -> AcpResponse:
        self._guard(principal, meta, None, at=at)
        try:
            with self.db.tenant_session(principal.tenant_id) as s:
                row = s.get(AuthenticationSession, session_id)
                if row is None or row.key_id != principal.key_id:
                    raise _not_found(session_id)
                body = view(row, base_url=base_url, at=at, with_result=True)
        except AcpError as exc:
            exc.headers = {**meta.echo(), **exc.headers}
            raise
        return AcpResponse(200, body, meta.echo())

    # ---- the sandbox ACS -----------------------------------------------------------------

    def challenge(
        self,
        principal: Principal,
        meta: RequestMeta,
        payload: Mapping[str, Any] | None,
        *,
        at: datetime,
    ) -> AcpResponse:
        """The ACS's challenge page: a ``CReq`` in, the ``CRes`` out (``{"cres": …}``)."""
        self._guard(principal, meta, payload, at=at, version=False)
        creq = parse_creq(payload)
        with self.db.tenant_session(principal.tenant_id) as s:
            row = s.scalar(
                select(AuthenticationSession)
                .where(AuthenticationSession.acs_trans_id == creq.acsTransID)
                .with_for_update()
            )
            if (
                row is None
                or row.key_id != principal.key_id
                or row.server_trans_id != creq.threeDSServerTransID
            ):
                raise AcpError(
                    "no challenge with this acsTransID", code="challenge_not_found", status=404
                )
            if row.step == "challenge":
                if at >= row.expires_at:
                    row.status, row.step, row.finished_at = "expired", "final", at
                else:
                    result = acs.challenge_answer(
                        row.directory_server,
                        entry=creq.challengeDataEntry,
                        cancel=creq.challengeCancel,
                    )
                    _finish(row, result, at=at)
            cres = {
                "threeDSServerTransID": row.server_trans_id,
                "acsTransID": row.acs_trans_id,
                "messageType": "CRes",
                "messageVersion": row.version,
                "transStatus": row.trans_status or "U",
                "challengeCompletionInd": "Y",
            }
        return AcpResponse(200, {"cres": b64url_json(cres)}, meta.echo())


__all__ = ["CHALLENGE_PATH", "METHOD_PATH", "SESSION_TTL", "DelegateAuthentication", "view"]
