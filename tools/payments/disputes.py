"""Disputes: reason codes, stages, deadlines, evidence checklists, accept / defend, outcomes.

Card disputes (DOMAIN.md §5.1): first chargeback → representment →
pre-arbitration → arbitration. Opening one moves the disputed amount from the
merchant's available balance to its dispute reserve; a win releases it, a
loss pays it to the buyer plus a scheme fee (an arbitration fee on top when
lost there). Mastercard 4808/4871 skip pre-arbitration.

Wallet disputes have no card chargeback: retrieval request → escalation →
chargeback, with no ECI / CE 3.0 logic and no funds moved until the
chargeback stage.

The issuer's and scheme's decisions are deterministic draws from the
simulator seed, weighted by the checklist's win-rate level.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.db.base import utcnow
from cockpit.errors import Conflict, NotFound, ValidationFailed
from tools.payments import ledger, queries
from tools.payments.documents import evidence_by_tag
from tools.payments.gateway import Gateway, load_merchant, load_payment, new_id
from tools.payments.methods import CARD_BRANDS
from tools.payments.models import (
    Device,
    Dispute,
    DisputeEvidence,
    Merchant,
    Payment,
)
from tools.payments.notifications import enqueue
from tools.payments.reasons import (
    AGENT_AUTHORIZATION,
    EVIDENCE_TAGS,
    REASONS,
    Reason,
    network_for,
)
from tools.payments.tx import read_tx, run_tx
from tools.payments.views import dispute_view

PSP_BUFFER = timedelta(days=3)
"""The gateway's deadline is this much earlier than the scheme's (§5.2)."""
WALLET_WINDOW = timedelta(days=7)
DISPUTE_FEE_EUR_MINOR = 1500
ARBITRATION_FEE_EUR_MINOR = 50000
HANDLING_COST_EUR_MINOR = 2500
WIN_PROBABILITY = {"HIGH": 0.85, "MEDIUM": 0.5, "LOW": 0.15}
MAX_EVIDENCE_CHARS = 1_000_000
SHIFT_ECI = {"VISA": ("05", "06"), "MASTERCARD": ("02", "01")}


def load_dispute(session: Session, dispute_id: str, *, merchant_id: str | None = None) -> Dispute:
    stmt = select(Dispute).where(Dispute.id == dispute_id).with_for_update()
    if merchant_id is not None:
        stmt = stmt.where(Dispute.merchant_id == merchant_id)
    dispute = session.scalar(stmt)
    if dispute is None:
        raise NotFound(f"no dispute {dispute_id!r}", code="dispute_not_found", param="dispute_id")
    return dispute


def reason_of(dispute: Dispute) -> Reason:
    return REASONS[(dispute.network, dispute.reason_code)]


# ----- preconditions ---------------------------------------------------------------------
# The write path runs these on the locked row; agent tools run them on a plain read before a
# human is asked to approve (``register_tool(precheck=...)``). Messages are the merchant's words.

_STATUS_WORDS = {
    "UNDER_REVIEW": "was already answered and is under review",
    "WON": "was already won",
    "LOST": "was already lost",
    "ACCEPTED": "was already accepted",
}


def _closed_for(dispute: Dispute, action: str) -> Conflict:
    words = _STATUS_WORDS.get(dispute.status, f"is {dispute.status.lower()}")
    return Conflict(f"{dispute.id} {words}, so it cannot be {action} now",
                    code="not_allow_in_current_status", param="dispute_id")  # fmt: skip


def check_response(dispute: Dispute, evidence: dict[str, str] | None, *, at: datetime) -> None:
    """Raise the reason a defence (``evidence``; None: not checked) cannot be submitted now."""
    if evidence is not None:
        if not evidence:
            raise ValidationFailed(
                "supply at least one evidence item", code="evidence_required", param="evidence"
            )
        unknown = sorted(set(evidence) - EVIDENCE_TAGS)
        if unknown:
            raise ValidationFailed(f"unknown evidence tags: {', '.join(unknown)}",
                                   code="unknown_evidence_tag", param="evidence")  # fmt: skip
        for tag, text in evidence.items():
            if not isinstance(text, str) or not text.strip() or len(text) > MAX_EVIDENCE_CHARS:
                raise ValidationFailed(f"evidence {tag} must be 1–{MAX_EVIDENCE_CHARS} characters",
                                       code="evidence_invalid", param="evidence")  # fmt: skip
    if (dispute.defense or {}).get(dispute.stage):
        raise Conflict(f"a defence for {dispute.id} was already submitted at this stage and "
                       "cannot change", code="defense_already_submitted",
                       param="dispute_id")  # fmt: skip
    if dispute.status != "NEEDS_RESPONSE":
        raise _closed_for(dispute, "contested")
    if not reason_of(dispute).defendable:
        raise Conflict(
            f"{dispute.id} has reason code {dispute.reason_code} ({dispute.reason_msg}), which "
            "cannot be defended; accept it instead",
            code="not_defendable",
            param="dispute_id",
        )
    if at > dispute.defense_due_at:
        raise Conflict(f"the response deadline of {dispute.id} passed on "
                       f"{dispute.defense_due_at:%d %b %Y}, so it can no longer be contested",
                       code="time_exceeds_limit", param="dispute_id")  # fmt: skip


def check_accept(dispute: Dispute) -> None:
    """Raise the reason ``dispute`` cannot be accepted now."""
    if dispute.status != "NEEDS_RESPONSE":
        raise _closed_for(dispute, "accepted")


@dataclass(slots=True)
class Disputes:
    """Dispute operations over the gateway's database, rates and simulator."""

    gateway: Gateway

    # ----- opening -----------------------------------------------------------------------
    def open_in(
        self,
        session: Session,
        payment_id: str,
        reason_code: str,
        *,
        at: datetime,
        amount: int | None = None,
    ) -> Dispute:
        """The issuer (or wallet) opens a dispute on a captured payment."""
        payment = load_payment(session, payment_id, lock=True)
        network = network_for(payment.method_category, payment.brand)
        reason = REASONS.get((network, reason_code))
        if reason is None:
            raise ValidationFailed(f"{reason_code!r} is not a {network} reason code",
                                   code="unknown_reason_code", param="reason_code")  # fmt: skip
        if payment.state != "CAPTURED":
            raise Conflict(
                "only captured payments can be disputed",
                code="payment_not_captured",
                param="payment_id",
            )
        if payment.disputed:
            raise Conflict(
                "payment already has a dispute", code="dispute_exists", param="payment_id"
            )
        open_amount = payment.captured_amount - payment.refunded_amount
        value = open_amount if amount is None else amount
        if value <= 0 or value > open_amount:
            raise Conflict(f"dispute amount must be within the {open_amount} not refunded",
                           code="dispute_amount_exceed", param="amount")  # fmt: skip
        merchant = load_merchant(session, payment.merchant_id)
        card = network != "WALLET"
        window = timedelta(
            days=int(str(CARD_BRANDS.get(payment.brand or "VISA", {}).get("window_days", 30)))
        )
        dispute = Dispute(
            id=new_id("dsp"), merchant_id=payment.merchant_id, payment_id=payment.id, network=network,
            reason_code=reason.code, reason_msg=reason.name, category=reason.category,
            dispute_type="CHARGEBACK" if card else "RETRIEVAL_REQUEST",
            stage="CHARGEBACK" if card else "RETRIEVAL_REQUEST", status="NEEDS_RESPONSE",
            amount=value, currency=payment.currency, funds_held=0, opened_at=at,
            defense_due_at=at + (window - PSP_BUFFER if card else WALLET_WINDOW),
            history=[{"at": at.isoformat(), "event": "DISPUTE_CREATED", "stage": "CHARGEBACK" if card else "RETRIEVAL_REQUEST"}],
        )  # fmt: skip
        payment.disputed = True
        session.add(dispute)
        session.flush()
        if card:
            self._hold_funds(session, dispute, merchant, at=at)
        for tag, contribution in reason.evidence:
            session.add(DisputeEvidence(dispute_id=dispute.id, tag=tag, contribution=contribution,
                                        obtained=False, source="system"))  # fmt: skip
        session.flush()
        self._refresh_system_evidence(session, dispute, payment)
        self._notify(session, dispute, "DISPUTE_CREATED", at=at)
        return dispute

    def open(self, tenant_id: str, payment_id: str, reason_code: str, *, at: datetime | None = None,
             amount: int | None = None) -> dict[str, Any]:  # fmt: skip
        return run_tx(self.gateway.db, tenant_id,
                      lambda s: dispute_view(self.open_in(s, payment_id, reason_code, at=at or utcnow(), amount=amount)))  # fmt: skip

    def _hold_funds(
        self, session: Session, dispute: Dispute, merchant: Merchant, *, at: datetime
    ) -> None:
        held = self.gateway.rates.convert(
            dispute.amount, dispute.currency, merchant.settlement_currency
        ).target_minor
        draft = ledger.JournalDraft("dispute_hold", "dispute", dispute.id)
        draft.move(ledger.merchant_account(merchant.id, "available"),
                   ledger.merchant_account(merchant.id, "reserve"), held, merchant.settlement_currency)  # fmt: skip
        ledger.post(session, draft, at=at)
        dispute.funds_held, dispute.funds_currency = held, merchant.settlement_currency

    # ----- evidence ----------------------------------------------------------------------
    def _refresh_system_evidence(
        self, session: Session, dispute: Dispute, payment: Payment
    ) -> None:
        """Mark what the platform itself holds: order data, 3DS, device links, CE 3.0, refunds."""
        ce3 = compelling_evidence(session, payment) if dispute.reason_code == "10.4" else None
        shift = liability_shift(payment)
        known = {
            "ORDER_INFORMATION": True,
            "THREE_DS_RESULT": shift,
            # AVS/CVV2 result codes are not stored: an approval alone does not prove a match,
            # so that evidence stays for the merchant to attach (the draft says so too).
            "DEVICE_IP_LINK": payment.device_id is not None,
            "PRIOR_UNDISPUTED_TXNS": bool(ce3 and ce3["state"] == "qualified"),
            "REFUND_PROOF": payment.refunded_amount > 0,
        }
        items = {i.tag: i for i in session.scalars(
            select(DisputeEvidence).where(DisputeEvidence.dispute_id == dispute.id))}  # fmt: skip
        for item in items.values():
            if item.tag in known and known[item.tag] and not item.obtained:
                item.obtained = True
                item.source = "system"
        # Documents attached to the payment (an agentic checkout, a signed mandate) prove what
        # they name; a tag the reason does not list joins the checklist as the document's own.
        for tag in evidence_by_tag(session, payment.id):
            held = items.get(tag)
            if held is not None:
                held.obtained, held.source = True, "document"
                continue
            fraud = tag == AGENT_AUTHORIZATION and reason_of(dispute).is_fraud
            session.add(DisputeEvidence(dispute_id=dispute.id, tag=tag, contribution="HIGH" if fraud
                                        else "MEDIUM", obtained=True, source="document"))  # fmt: skip

    def checklist_in(self, session: Session, dispute: Dispute, *, at: datetime) -> dict[str, Any]:
        """The ``notifyDefenseStrategySuggestion`` shape plus our recommendation."""
        payment = load_payment(session, dispute.payment_id)
        reason = reason_of(dispute)
        items = session.scalars(
            select(DisputeEvidence)
            .where(DisputeEvidence.dispute_id == dispute.id)
            .order_by(DisputeEvidence.id)
        ).all()
        evidence = [{"evidenceTag": i.tag, "winRateContribution": i.contribution, "obtained": i.obtained,
                     "source": i.source} for i in items]  # fmt: skip
        shift = liability_shift(payment)
        ce3 = compelling_evidence(session, payment) if dispute.reason_code == "10.4" else None
        missing_high = [i.tag for i in items if i.contribution == "HIGH" and not i.obtained]
        # Only a dispute still waiting for the merchant can be late; a closed or already
        # defended one keeps the level its evidence earns.
        late = dispute.status == "NEEDS_RESPONSE" and at > dispute.defense_due_at
        if not reason.defendable or late:
            level = "LOW"
        elif reason.is_fraud and dispute.network != "WALLET" and reason.code in ("10.4", "4837"):
            # Liability shift or CE 3.0 makes a card-absent fraud claim invalid (§5.3).
            qualified = shift or bool(ce3 and ce3["state"] == "qualified")
            level = "HIGH" if qualified else ("LOW" if not any(
                i.obtained for i in items if i.tag in ("AVS_CVV_MATCH", "DEVICE_IP_LINK")) else "MEDIUM")  # fmt: skip
        elif missing_high:
            level = "LOW"
        else:
            level = "HIGH"
        amount_eur = self.gateway.rates.convert(
            dispute.amount, dispute.currency, "EUR"
        ).target_minor
        expected_recovery = amount_eur * WIN_PROBABILITY[level]
        recommend_accept = (
            level == "LOW" and expected_recovery < HANDLING_COST_EUR_MINOR + DISPUTE_FEE_EUR_MINOR
        )
        if recommend_accept:
            strategy = "Accept: the win likelihood is low and the expected recovery is below the handling cost."
        elif level == "HIGH":
            strategy = "Defend: the evidence that wins this reason is in hand."
        else:
            missing = ", ".join(i.tag for i in items if not i.obtained) or "none"
            strategy = f"Defend after collecting the missing evidence ({missing})."
        return {
            "disputeId": dispute.id,
            "reasonCode": dispute.reason_code,
            "network": dispute.network,
            "cardholderDisputeReason": dispute.reason_msg,
            "winRateLevel": level,
            "evidenceList": evidence,
            "liabilityShift": shift,
            "compellingEvidence3": ce3,
            "defenseDueTime": dispute.defense_due_at.isoformat(),
            "recommendAccept": recommend_accept,
            "defenseStrategyDescription": strategy,
        }

    def checklist(
        self, tenant_id: str, dispute_id: str, *, at: datetime | None = None
    ) -> dict[str, Any]:
        return run_tx(self.gateway.db, tenant_id,
                      lambda s: self.checklist_in(s, load_dispute(s, dispute_id), at=at or utcnow()))  # fmt: skip

    # ----- drafting ----------------------------------------------------------------------
    def draft_in(self, session: Session, dispute: Dispute, *, at: datetime) -> dict[str, Any]:
        """Draft the response: one evidence text per checklist tag, from facts the gateway holds
        (see :mod:`tools.payments.dispute_draft`); nothing is invented and nothing is written."""
        from tools.payments.dispute_draft import compose_draft  # it builds on this module

        return compose_draft(session, dispute, self.checklist_in(session, dispute, at=at), at=at)

    def draft(self, tenant_id: str, dispute_id: str, *, at: datetime | None = None,
              merchant_id: str | None = None) -> dict[str, Any]:  # fmt: skip
        """Read only: the dispute is not locked (nothing is written)."""

        def fn(session: Session) -> dict[str, Any]:
            dispute = queries.scoped_dispute(session, dispute_id, merchant_id)
            return self.draft_in(session, dispute, at=at or utcnow())

        return read_tx(self.gateway.db, tenant_id, fn)

    # ----- merchant actions --------------------------------------------------------------
    def submit_in(
        self, session: Session, dispute_id: str, evidence: dict[str, str], *, at: datetime,
        merchant_id: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Supply the defence for the current stage (immutable once submitted)."""
        dispute = load_dispute(session, dispute_id, merchant_id=merchant_id)
        check_response(dispute, evidence, at=at)
        items = {i.tag: i for i in session.scalars(
            select(DisputeEvidence).where(DisputeEvidence.dispute_id == dispute.id))}  # fmt: skip
        for tag, text in evidence.items():
            item = items.get(tag)
            if item is None:
                item = DisputeEvidence(
                    dispute_id=dispute.id,
                    tag=tag,
                    contribution="LOW",
                    obtained=False,
                    source="merchant",
                )
                session.add(item)
            item.obtained, item.source, item.content = True, "merchant", text
        session.flush()
        dispute.defense = {
            **(dispute.defense or {}),
            dispute.stage: {"submittedAt": at.isoformat(), "tags": sorted(evidence)},
        }
        dispute.defense_submitted_at = at
        dispute.status = "UNDER_REVIEW"
        self._log(dispute, at, "DEFENSE_SUPPLIED")
        self._notify(session, dispute, "DEFENSE_SUPPLIED", at=at)
        return dispute_view(dispute)

    def submit(self, tenant_id: str, dispute_id: str, evidence: dict[str, str], *, at: datetime | None = None,
               merchant_id: str | None = None) -> dict[str, Any]:  # fmt: skip
        return run_tx(self.gateway.db, tenant_id,
                      lambda s: self.submit_in(s, dispute_id, evidence, at=at or utcnow(), merchant_id=merchant_id))  # fmt: skip

    def accept_in(self, session: Session, dispute_id: str, *, at: datetime, merchant_id: str | None = None,
                  reason: str = "MERCHANT_ACCEPTED") -> dict[str, Any]:  # fmt: skip
        dispute = load_dispute(session, dispute_id, merchant_id=merchant_id)
        check_accept(dispute)
        self._lose(session, dispute, at=at, outcome="ACCEPT_BY_MERCHANT", accept_reason=reason)
        self._notify(session, dispute, "DISPUTE_ACCEPTED", at=at)
        return dispute_view(dispute)

    def accept(self, tenant_id: str, dispute_id: str, *, at: datetime | None = None,
               merchant_id: str | None = None) -> dict[str, Any]:  # fmt: skip
        return run_tx(self.gateway.db, tenant_id,
                      lambda s: self.accept_in(s, dispute_id, at=at or utcnow(), merchant_id=merchant_id))  # fmt: skip

    # ----- scheme / issuer steps ---------------------------------------------------------
    def _judge_draw(self, session: Session, dispute: Dispute) -> float:
        """The scheme's verdict draw for this dispute at its stage.

        Keyed on what the merchant sent (its payment request id) and the dispute's own facts,
        never on ids the platform draws at random: the same seed gives the same verdicts, so a
        seeded world's balances are the same in every build.
        """
        payment = load_payment(session, dispute.payment_id)
        return self.gateway.simulator.uniform(
            payment.merchant_id,
            payment.request_id,
            dispute.reason_code,
            dispute.opened_at.isoformat(),
            dispute.stage,
            "judge",
        )

    def advance_in(self, session: Session, dispute_id: str, *, at: datetime) -> dict[str, Any]:
        """One step by the other side: timeout, issuer review, pre-arbitration or arbitration."""
        dispute = load_dispute(session, dispute_id)
        if dispute.status in ("WON", "LOST", "ACCEPTED"):
            return dispute_view(dispute)
        if dispute.status == "NEEDS_RESPONSE":
            if at > dispute.defense_due_at:
                self._lose(
                    session, dispute, at=at, outcome="ACCEPT_BY_MERCHANT", accept_reason="TIMEOUT"
                )
                self._notify(session, dispute, "DISPUTE_ACCEPTED", at=at)
            return dispute_view(dispute)
        level = self.checklist_in(session, dispute, at=dispute.defense_submitted_at or at)[
            "winRateLevel"
        ]
        won = self._judge_draw(session, dispute) < WIN_PROBABILITY[level]
        reason = reason_of(dispute)
        final_stage = dispute.stage in ("ARBITRATION", "ESCALATION")
        if won:
            self._win(session, dispute, at=at)
        elif dispute.network == "WALLET":
            if dispute.stage == "RETRIEVAL_REQUEST":
                self._next_stage(dispute, "ESCALATION", at=at, window=WALLET_WINDOW)
            else:  # escalation lost: the wallet charges back
                self._lose(session, dispute, at=at, outcome="VALIDATE_FAIL")
        elif final_stage:
            self._lose(session, dispute, at=at, outcome="VALIDATE_FAIL", arbitration_fee=True)
        elif dispute.stage == "CHARGEBACK" and not reason.straight_to_arbitration:
            self._next_stage(dispute, "PRE_ARBITRATION", at=at)
        else:
            # Straight to arbitration (MC 4808/4871, or after pre-arbitration): the scheme decides now.
            self._next_stage(dispute, "ARBITRATION", at=at)
            dispute.status = "UNDER_REVIEW"
        self._notify(
            session, dispute, "DISPUTE_JUDGED" if dispute.closed_at else "DEFENSE_DUE_ALERT", at=at
        )
        return dispute_view(dispute)

    def advance(
        self, tenant_id: str, dispute_id: str, *, at: datetime | None = None
    ) -> dict[str, Any]:
        return run_tx(
            self.gateway.db, tenant_id, lambda s: self.advance_in(s, dispute_id, at=at or utcnow())
        )

    # ----- outcomes ----------------------------------------------------------------------
    def _next_stage(
        self, dispute: Dispute, stage: str, *, at: datetime, window: timedelta | None = None
    ) -> None:
        days = {"VISA": 30, "MASTERCARD": 45}.get(dispute.network, 30)
        dispute.stage, dispute.status = stage, "NEEDS_RESPONSE"
        dispute.defense_due_at = at + (window or timedelta(days=days) - PSP_BUFFER)
        self._log(dispute, at, f"STAGE_{stage}")

    def _win(self, session: Session, dispute: Dispute, *, at: datetime) -> None:
        if dispute.funds_held:
            draft = ledger.JournalDraft("dispute_won", "dispute", dispute.id)
            draft.move(ledger.merchant_account(dispute.merchant_id, "reserve"),
                       ledger.merchant_account(dispute.merchant_id, "available"),
                       dispute.funds_held, dispute.funds_currency or dispute.currency)  # fmt: skip
            ledger.post(session, draft, at=at)
            dispute.funds_held = 0
        self._close(session, dispute, at=at, status="WON", outcome="VALIDATE_SUCCESS")

    def _lose(self, session: Session, dispute: Dispute, *, at: datetime, outcome: str,
              accept_reason: str | None = None, arbitration_fee: bool = False) -> None:  # fmt: skip
        merchant = load_merchant(session, dispute.merchant_id)
        settle = merchant.settlement_currency
        draft = ledger.JournalDraft("dispute_lost", "dispute", dispute.id)
        if dispute.funds_held:
            held_ccy = dispute.funds_currency or settle
            reserve = ledger.merchant_account(merchant.id, "reserve")
            if held_ccy == dispute.currency:
                draft.move(reserve, ledger.BUYER_FUNDS, dispute.funds_held, held_ccy)
            else:
                draft.move(reserve, ledger.fx_clearing(held_ccy), dispute.funds_held, held_ccy)
                draft.move(
                    ledger.fx_clearing(dispute.currency),
                    ledger.BUYER_FUNDS,
                    dispute.amount,
                    dispute.currency,
                )
            dispute.funds_held = 0
        else:
            # Wallet disputes (and any not yet funded) are debited only now.
            ledger.pay_out_of_merchant(
                draft, merchant.id, settle, dispute.amount, dispute.currency,
                dst=ledger.BUYER_FUNDS, rates=self.gateway.rates,
            )  # fmt: skip
        if dispute.network != "WALLET":
            fee = DISPUTE_FEE_EUR_MINOR + (ARBITRATION_FEE_EUR_MINOR if arbitration_fee else 0)
            fee_local = self.gateway.rates.convert(fee, "EUR", settle).target_minor
            draft.move(
                ledger.merchant_account(merchant.id, "available"),
                ledger.SCHEME_FEES,
                fee_local,
                settle,
            )
        ledger.post(session, draft, at=at)
        status = "ACCEPTED" if outcome == "ACCEPT_BY_MERCHANT" else "LOST"
        self._close(
            session, dispute, at=at, status=status, outcome=outcome, accept_reason=accept_reason
        )

    def _close(self, session: Session, dispute: Dispute, *, at: datetime, status: str, outcome: str,
               accept_reason: str | None = None) -> None:  # fmt: skip
        dispute.status, dispute.outcome, dispute.accept_reason, dispute.closed_at = (
            status,
            outcome,
            accept_reason,
            at,
        )
        self._log(dispute, at, f"CLOSED_{status}")

    def _log(self, dispute: Dispute, at: datetime, event: str) -> None:
        dispute.history = [
            *dispute.history,
            {"at": at.isoformat(), "event": event, "stage": dispute.stage},
        ]

    def _notify(self, session: Session, dispute: Dispute, kind: str, *, at: datetime) -> None:
        enqueue(session, dispute.merchant_id, "notifyDispute",
                {"disputeNotificationType": kind, **dispute_view(dispute)}, at=at)  # fmt: skip


def liability_shift(payment: Payment) -> bool:
    """3DS authenticated or attempted with a shifting ECI (no shift for exemptions)."""
    return bool(
        payment.three_ds and payment.eci in SHIFT_ECI.get(payment.brand or "VISA", ("05", "06"))
    )


CE3_WINDOW = (timedelta(days=120), timedelta(days=365))
"""Visa CE 3.0: prior transactions processed 120–365 days before the disputed one (§5.5)."""


def prior_matches(session: Session, payment: Payment) -> list[tuple[Payment, list[str]]]:
    """Captured, undisputed payments on the same card at the same merchant in the CE 3.0 window,
    newest first, each with the data elements it shares with ``payment``: ``account id``
    (customer), ``device id`` and ``IP address`` (the elements the gateway holds)."""
    if not payment.card_id:
        return []
    newest, oldest = CE3_WINDOW
    priors = session.scalars(
        select(Payment).where(
            Payment.card_id == payment.card_id, Payment.merchant_id == payment.merchant_id,
            Payment.state == "CAPTURED", Payment.disputed.is_(False), Payment.id != payment.id,
            Payment.created_at >= payment.created_at - oldest,
            Payment.created_at <= payment.created_at - newest,
        ).order_by(Payment.created_at.desc())
    ).all()  # fmt: skip
    if not priors:
        return []
    devices = {payment.device_id} | {p.device_id for p in priors}
    ips = dict(session.execute(select(Device.id, Device.ip).where(
        Device.id.in_({d for d in devices if d}))).tuples().all())  # fmt: skip
    ip = ips.get(payment.device_id) if payment.device_id else None
    out = []
    for prior in priors:
        shared = [
            label
            for label, same in (
                (
                    "account id",
                    bool(payment.customer_id) and prior.customer_id == payment.customer_id,
                ),
                ("device id", bool(payment.device_id) and prior.device_id == payment.device_id),
                ("IP address", ip is not None and ips.get(prior.device_id or "") == ip),
            )
            if same
        ]
        out.append((prior, shared))
    return out


def compelling_evidence(session: Session, payment: Payment) -> dict[str, Any]:
    """Visa CE 3.0 eligibility for a 10.4 dispute (§5.5)."""
    missing: list[str] = []
    if not payment.card_id:
        return {
            "state": "not_qualified",
            "missing": ["missing_prior_undisputed_transactions"],
            "priorTransactions": [],
        }
    if not (payment.customer_id or payment.device_id):
        missing.append("missing_customer_identifiers")
    matching = [p.id for p, shared in prior_matches(session, payment) if len(shared) >= 2]
    if len(matching) < 2:
        missing.append("missing_prior_undisputed_transactions")
    state = "qualified" if not missing else ("requires_action" if matching else "not_qualified")
    return {"state": state, "missing": missing, "priorTransactions": matching[:2]}


__all__ = [
    "Disputes",
    "check_accept",
    "check_response",
    "compelling_evidence",
    "liability_shift",
    "load_dispute",
    "prior_matches",
    "reason_of",
]
