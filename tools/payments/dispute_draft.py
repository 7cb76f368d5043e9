"""Dispute response drafts: evidence text per checklist tag, from the gateway's own records.

Each text states facts with ids and times (order and capture records, 3DS and ECI, device and
IP links, Visa CE 3.0 prior transactions, refunds, duplicate checks) and is at most
:data:`MAX_DRAFT_CHARS` long. A tag the gateway cannot support goes to ``missing`` with what the
merchant must supply: nothing is invented, and drafting writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.payments.disputes import (
    WIN_PROBABILITY,
    compelling_evidence,
    liability_shift,
    prior_matches,
    reason_of,
)
from tools.payments.documents import documents_for, evidence_by_tag
from tools.payments.gateway import load_payment
from tools.payments.models import (
    Capture,
    Card,
    Device,
    Dispute,
    Payment,
    PaymentDocument,
    Refund,
)
from tools.payments.money import format_amount
from tools.payments.views import amount

# ----- drafting: evidence text from the gateway's own records ------------------------------

MAX_DRAFT_CHARS = 512
"""Per-tag draft length, as the gateway's ``recommendedEvidence`` texts (§5.7)."""
DUPLICATE_WINDOW = timedelta(days=3)
MERCHANT_SUPPLIES = {
    "DELIVERY_PROOF": "proof of delivery (carrier, tracking number, delivery date and address, "
    "signature for high value); the gateway holds no fulfilment data",
    "LOGISTIC_INFORMATION": "carrier, tracking number, shipping address and dispatch and "
    "delivery dates",
    "CUSTOMER_COMMUNICATION": "your correspondence with the buyer about this order (e-mails, "
    "chat), with dates",
    "PRODUCT_DESCRIPTION": "the product or service description and photos as shown at purchase",
    "REFUND_POLICY_ACCEPTED": "your refund or return policy and proof the buyer accepted it at "
    "checkout",
    "CANCELLATION_POLICY": "the cancellation terms the buyer accepted and proof that no valid "
    "cancellation came before billing",
    "SERVICE_USAGE_LOG": "logs of the buyer using the service after the claimed cancellation",
}
"""Evidence only the merchant holds: what to supply (§5.3)."""
ECI_MEANING = {
    "MASTERCARD": {"02": "authenticated", "01": "attempted", "00": "failed or not attempted",
                   "04": "data only", "06": "exempt", "07": "authenticated recurring"},
    "OTHER": {"05": "authenticated", "06": "attempted", "07": "not authenticated"},
}  # fmt: skip
"""ECI values by brand (§4.4); Visa's table also serves Amex, JCB and the rest."""


@dataclass(frozen=True, slots=True)
class _Gap:
    """A tag the gateway cannot support, and what the merchant must supply instead."""

    needed: str


@dataclass(frozen=True, slots=True)
class _Facts:
    dispute: Dispute
    payment: Payment
    card: Card | None
    device: Device | None
    captures: list[Capture]
    refunds: list[Refund]
    documents: list[PaymentDocument]


def _gather(session: Session, dispute: Dispute) -> _Facts:
    payment = load_payment(session, dispute.payment_id)
    card = (
        session.scalar(select(Card).where(Card.id == payment.card_id)) if payment.card_id else None
    )
    device = (
        session.scalar(select(Device).where(Device.id == payment.device_id))
        if payment.device_id
        else None
    )
    captures = session.scalars(select(Capture).where(Capture.payment_id == payment.id)
                               .order_by(Capture.created_at, Capture.id)).all()  # fmt: skip
    refunds = session.scalars(select(Refund).where(Refund.payment_id == payment.id)
                              .order_by(Refund.created_at, Refund.id)).all()  # fmt: skip
    documents = documents_for(session, payment.id)
    return _Facts(dispute, payment, card, device, list(captures), list(refunds), documents)


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _day(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d")


def _money(value: int, currency: str) -> str:
    return format_amount(value, currency)


def _fit(text: str) -> str:
    return text if len(text) <= MAX_DRAFT_CHARS else text[: MAX_DRAFT_CHARS - 1] + "…"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _join_and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _card_name(f: _Facts) -> str:
    if f.card is None:
        return f"{f.payment.brand or 'card'} card"
    return f"{f.card.brand} card ending {f.card.last4}"


def _instrument(f: _Facts) -> str:
    if f.payment.method_category != "CARD":
        return f"{f.payment.method_type} ({f.payment.method_category.lower()})"
    if f.card is None:
        return _card_name(f)
    return f"{_card_name(f)} issued by {f.card.issuer} ({f.card.issuing_country})"


def _captured(f: _Facts) -> str:
    p = f.payment
    if not f.captures:
        return "not captured"
    last = f.captures[-1]
    text = (f"captured {_money(p.captured_amount, p.currency)} in {_plural(len(f.captures), 'capture')}"
            f" (last {last.id} at {_when(last.created_at)})")  # fmt: skip
    settled = [c.settled_at for c in f.captures if c.settled_at is not None]
    if len(settled) == len(f.captures):
        return f"{text}, settled {_when(max(settled))}"
    return f"{text}, {'partly settled' if settled else 'not yet settled'}"


def _order_information(session: Session, f: _Facts) -> str | _Gap:
    p, d = f.payment, f.dispute
    head = (f"Payment {p.id} (merchant request {p.request_id}) for {_money(p.amount, p.currency)}"
            f" by {_instrument(f)}" + (f", customer {p.customer_id}" if p.customer_id else ""))  # fmt: skip
    parts = [head, f"created {_when(p.created_at)}"]
    if p.authorization_code and p.decided_at:
        parts.append(f"authorised {_when(p.decided_at)} with approval code {p.authorization_code}")
    parts.append(_captured(f))
    refunded = _plural(len(f.refunds), "refund")
    parts.append(
        f"refunded {_money(p.refunded_amount, p.currency)} in {refunded}"
        if f.refunds
        else "no refunds"
    )
    return ("; ".join(parts) + f". Dispute {d.id} ({d.network} {d.reason_code}) opened "
            f"{_when(d.opened_at)} for {_money(d.amount, d.currency)}.")  # fmt: skip


def _three_ds(session: Session, f: _Facts) -> str | _Gap:
    p = f.payment
    if p.method_category != "CARD":
        return _Gap("not applicable: wallet payments have no 3-D Secure or ECI")
    if not p.three_ds or not p.eci:
        return _Gap(f"not available: {p.id} was not authenticated with 3-D Secure (no ECI), so "
                    "there is no liability shift to show")  # fmt: skip
    table = ECI_MEANING["MASTERCARD" if p.brand == "MASTERCARD" else "OTHER"]
    meaning = table.get(p.eci, "unknown")
    if not liability_shift(p):
        return _Gap(
            f"3-D Secure ran on {p.id} but ECI {p.eci} ({meaning}) does not shift liability"
        )
    when = f" on {_when(p.decided_at)}" if p.decided_at else ""
    code = f", approval code {p.authorization_code}" if p.authorization_code else ""
    claim = " so a card-absent fraud claim is invalid" if f.dispute.category == "fraud" else ""
    return (f"3-D Secure: {p.id} was authenticated with 3-D Secure before authorisation{when}; "
            f"{p.brand} ECI {p.eci} ({meaning}){code}. Liability for fraud shifted to the "
            f"issuer{',' + claim if claim else ''}.")  # fmt: skip


def _avs_cvv(session: Session, f: _Facts) -> str | _Gap:
    p = f.payment
    if p.method_category != "CARD":
        return _Gap("not applicable: not a card payment")
    code = f" (approval code {p.authorization_code})" if p.authorization_code else ""
    return _Gap("the gateway does not store AVS or CVV2 result codes; attach them from the "
                f"acquirer's authorisation response{code}")  # fmt: skip


def _device_ip(session: Session, f: _Facts) -> str | _Gap:
    p, dev = f.payment, f.device
    if dev is None:
        return _Gap(f"no device or IP was recorded with {p.id}; supply login or IP logs that tie "
                    "the buyer to the order")  # fmt: skip
    owner = f"registered to customer {dev.customer_id} since {_day(dev.created_at)}"
    if p.customer_id and p.customer_id != dev.customer_id:
        owner += f" (the payment names customer {p.customer_id})"
    text = (f"Device and IP: {p.id} was placed from device {dev.id} (fingerprint "
            f"{dev.fingerprint[:16]}…, IP address {dev.ip}), {owner}.")  # fmt: skip
    earlier = session.scalars(
        select(Payment).where(
            Payment.merchant_id == p.merchant_id, Payment.device_id == dev.id,
            Payment.state == "CAPTURED", Payment.created_at < p.created_at, Payment.id != p.id,
        ).order_by(Payment.created_at.desc())
    ).all()  # fmt: skip
    if not earlier:
        return text + " It made no earlier captured payments here."
    disputed = sum(1 for q in earlier if q.disputed)
    return (f"{text} Before it, this device made {_plural(len(earlier), 'captured payment')} here "
            f"({disputed or 'none'} disputed), the latest {earlier[0].id} on "
            f"{_day(earlier[0].created_at)}.")  # fmt: skip


_SHORT = {"account id": "account", "device id": "device", "IP address": "IP"}


def _identifiers(f: _Facts) -> str:
    p = f.payment
    found = [("account id", p.customer_id), ("device id", p.device_id),
             ("IP address", f.device.ip if f.device else None)]  # fmt: skip
    return ", ".join(f"{label} {value}" for label, value in found if value)


def _prior_txns(session: Session, f: _Facts) -> str | _Gap:
    p, d = f.payment, f.dispute
    if p.method_category != "CARD" or not p.card_id:
        return _Gap("not applicable: the payment has no card credential")
    matches = [(q, shared) for q, shared in prior_matches(session, p) if len(shared) >= 2]
    found = ", ".join(q.id for q, _ in matches) or "none"
    if d.network == "VISA" and d.reason_code == "10.4":
        ce3 = compelling_evidence(session, p)
        if ce3["state"] != "qualified":
            return _Gap(f"Visa CE 3.0 is {ce3['state']} ({', '.join(ce3['missing'])}): it needs "
                        f"two undisputed payments on this card 120–365 days before {p.id} that "
                        f"share two of account id, device id and IP address; found {found}")  # fmt: skip
        label, chosen = "Visa Compelling Evidence 3.0", matches[:2]
    elif not matches:
        return _Gap(f"no earlier undisputed payments on this card 120–365 days before {p.id} "
                    "share two of account id, device id and IP address; supply the buyer's "
                    "earlier order history")  # fmt: skip
    else:
        label, chosen = "Prior undisputed history", matches[:2]
    count = "two" if len(chosen) == 2 else "one"
    head = (f"{label}: {p.id} ({_day(p.created_at)}; {_identifiers(f)}) follows {count} "
            f"undisputed payment{'s' if len(chosen) == 2 else ''} on the same {_card_name(f)} "
            "made 120–365 days earlier")  # fmt: skip
    lines = "; ".join(
        f"{q.id} on {_day(q.created_at)} for {_money(q.amount, q.currency)}"
        + (f", approval code {q.authorization_code}" if q.authorization_code else "")
        + f", same {_join_and([_SHORT[s] for s in shared])}"
        for q, shared in chosen
    )
    ending = "Neither was disputed." if len(chosen) == 2 else "It was not disputed."
    return f"{head}: {lines}. {ending}"


def _refund_proof(session: Session, f: _Facts) -> str | _Gap:
    p = f.payment
    if not f.refunds:
        return _Gap(f"no refund was made on {p.id} through the gateway; supply the refund receipt "
                    "or ARN if it was refunded another way")  # fmt: skip
    shown = "; ".join(
        f"{r.id} for {_money(r.amount, r.currency)} on {_when(r.created_at)} ({r.status}"
        + (f", reason: {r.reason[:60]}" if r.reason else "")
        + ")"
        for r in f.refunds[:3]
    )
    more = f"; and {len(f.refunds) - 3} more" if len(f.refunds) > 3 else ""
    return (f"Refunds on {p.id}: {shown}{more}. Total refunded "
            f"{_money(p.refunded_amount, p.currency)} of {_money(p.captured_amount, p.currency)} "
            "captured.")  # fmt: skip


def _duplicate(session: Session, f: _Facts) -> str | _Gap:
    p = f.payment
    if p.card_id:
        same, who = Payment.card_id == p.card_id, f"the same {_card_name(f)}"
    elif p.customer_id:
        same, who = Payment.customer_id == p.customer_id, f"customer {p.customer_id}"
    else:
        return _Gap("no card or customer is recorded on the payment to compare with; explain how "
                    "the charges differ")  # fmt: skip
    start, end = p.created_at - DUPLICATE_WINDOW, p.created_at + DUPLICATE_WINDOW
    others = session.scalars(
        select(Payment).where(
            Payment.merchant_id == p.merchant_id, same, Payment.id != p.id,
            Payment.amount == p.amount, Payment.currency == p.currency,
            Payment.state.in_(("AUTHORIZED", "CAPTURED")),
            Payment.created_at >= start, Payment.created_at <= end,
        ).order_by(Payment.created_at)
    ).all()  # fmt: skip
    amt = _money(p.amount, p.currency)
    if others:
        ids = ", ".join(q.id for q in others[:3])
        return _Gap(f"other approved payments of {amt} from {who} within 3 days ({ids}): show they "
                    "were separate orders (order numbers, items, delivery)")  # fmt: skip
    code = f", approval code {p.authorization_code}" if p.authorization_code else ""
    return (f"Processed once: {p.id} (merchant request {p.request_id}{code}) is the only approved "
            f"payment of {amt} from {who} at this merchant between {_day(start)} and {_day(end)}; "
            f"it was {_captured(f)}.")  # fmt: skip


_COMPOSERS: dict[str, Callable[[Session, _Facts], str | _Gap]] = {
    "ORDER_INFORMATION": _order_information,
    "THREE_DS_RESULT": _three_ds,
    "AVS_CVV_MATCH": _avs_cvv,
    "DEVICE_IP_LINK": _device_ip,
    "PRIOR_UNDISPUTED_TXNS": _prior_txns,
    "REFUND_PROOF": _refund_proof,
    "DUPLICATE_EXPLANATION": _duplicate,
}


def _compose(session: Session, f: _Facts, tag: str) -> str | _Gap:
    if tag in MERCHANT_SUPPLIES:
        return _Gap(MERCHANT_SUPPLIES[tag])
    composer = _COMPOSERS.get(tag)
    if composer is None:
        return _Gap("the gateway holds nothing for this tag; supply it from your records")
    return composer(session, f)


def _with_documents(drafted: str | _Gap, texts: list[str]) -> str | _Gap:
    """The gateway's own text followed by what documents attached to the payment prove; a
    document fills a tag the gateway could not."""
    if not texts:
        return drafted
    own = [] if isinstance(drafted, _Gap) else [drafted]
    return " ".join([*own, *texts])


def _draft_evidence(
    session: Session, facts: _Facts, checklist: list[dict[str, Any]]
) -> tuple[dict[str, str], list[dict[str, str]], list[dict[str, str]]]:
    """(evidence by tag, drafted items in checklist order, missing items) for the checklist."""
    rows = [(str(e["evidenceTag"]), str(e["winRateContribution"])) for e in checklist]
    if all(tag != "ORDER_INFORMATION" for tag, _ in rows):
        rows.append(("ORDER_INFORMATION", "LOW"))
    documented = evidence_by_tag(session, facts.payment.id)
    evidence: dict[str, str] = {}
    items: list[dict[str, str]] = []
    missing: list[dict[str, str]] = []
    for tag, contribution in rows:
        drafted = _with_documents(_compose(session, facts, tag), documented.get(tag, []))
        if isinstance(drafted, _Gap):
            missing.append({"evidenceTag": tag, "winRateContribution": contribution,
                            "needed": drafted.needed})  # fmt: skip
            continue
        evidence[tag] = _fit(drafted)
        items.append(
            {"evidenceTag": tag, "winRateContribution": contribution, "text": evidence[tag]}
        )
    return evidence, items, missing


def _recommend(dispute: Dispute, checklist: dict[str, Any], blocker: str | None) -> tuple[str, str]:
    """``accept`` / ``defend`` (``none`` once no response is expected) and the strategy text."""
    if dispute.status != "NEEDS_RESPONSE":
        return "none", f"The dispute is {dispute.status}; nothing to decide now."
    accept = blocker is not None or bool(checklist["recommendAccept"])
    return ("accept" if accept else "defend"), str(checklist["defenseStrategyDescription"])


def _blocker(dispute: Dispute, at: datetime) -> str | None:
    """Why a response cannot be submitted now (the checks :meth:`Disputes.submit_in` makes)."""
    if (dispute.defense or {}).get(dispute.stage):
        return "a defence was already submitted at this stage and cannot change"
    if dispute.status != "NEEDS_RESPONSE":
        return f"the dispute is {dispute.status}; no response is expected"
    if not reason_of(dispute).defendable:
        return f"reason code {dispute.reason_code} cannot be defended; accept it"
    if at > dispute.defense_due_at:
        return f"the response deadline passed on {_when(dispute.defense_due_at)}"
    return None


def _trail(f: _Facts) -> list[dict[str, str]]:
    """The payment's and the dispute's history, oldest first."""
    p = f.payment
    events: list[tuple[datetime, str, str]] = [(p.created_at, "PAYMENT_CREATED", p.id)]
    if p.decided_at is not None:
        events.append((p.decided_at, "AUTHORISED" if p.authorization_code else p.state, p.id))
    for c in f.captures:
        events.append((c.created_at, "CAPTURED", c.id))
        if c.settled_at is not None:
            events.append((c.settled_at, "SETTLED", c.id))
    events += [(r.created_at, "REFUNDED", r.id) for r in f.refunds]
    events += [(datetime.fromisoformat(h["at"]), str(h["event"]), f.dispute.id)
               for h in f.dispute.history]  # fmt: skip
    events.sort(key=lambda e: e[0])
    return [{"at": at.isoformat(), "event": event, "ref": ref} for at, event, ref in events]


def _notes(f: _Facts) -> list[str]:
    """What the draft could not check, so nobody reads more into it."""
    kinds = sorted({d.kind for d in f.documents})
    notes = [
        f"Order contents come from the documents attached to the payment ({', '.join(kinds)}); "
        "the gateway holds no shipping or delivery records."
        if kinds
        else "The gateway holds no order contents, shipping or delivery records."
    ]
    if f.payment.method_category == "CARD":
        notes.append("AVS/CVV2 result codes and the 3-D Secure CAVV are not stored.")
    if (f.dispute.network, f.dispute.reason_code) == ("VISA", "10.4"):
        notes.append(
            "CE 3.0 is checked on account id, device id and IP address only: shipping addresses "
            "and fraud reports on earlier payments are not held, device-id length is not "
            "checked, and the description of the disputed purchase is yours to add."
        )
    return notes


def compose_draft(
    session: Session, dispute: Dispute, checklist: dict[str, Any], *, at: datetime
) -> dict[str, Any]:
    """The draft of ``dispute``'s response at ``at``, given its current ``checklist``.

    ``ORDER_INFORMATION`` is always drafted (the payment record), so a draft never submits
    empty.
    """
    facts = _gather(session, dispute)
    evidence, items, missing = _draft_evidence(session, facts, checklist["evidenceList"])
    blocker = _blocker(dispute, at)
    level = str(checklist["winRateLevel"])
    recommendation, strategy = _recommend(dispute, checklist, blocker)
    return {
        "disputeId": dispute.id, "paymentId": dispute.payment_id, "network": dispute.network,
        "reasonCode": dispute.reason_code, "reasonMessage": dispute.reason_msg,
        "category": dispute.category, "stage": dispute.stage, "status": dispute.status,
        "disputeAmount": amount(dispute.amount, dispute.currency),
        "evidence": evidence, "evidenceItems": items, "missing": missing,
        "winRate": level, "winProbability": WIN_PROBABILITY[level],
        "liabilityShift": checklist["liabilityShift"],
        "compellingEvidence3": checklist["compellingEvidence3"],
        "recommendation": recommendation, "strategy": strategy,
        "deadline": dispute.defense_due_at.isoformat(), "submittable": blocker is None,
        "blocker": blocker, "auditTrail": _trail(facts), "notes": _notes(facts),
    }  # fmt: skip


__all__ = ["MAX_DRAFT_CHARS", "MERCHANT_SUPPLIES", "compose_draft"]
