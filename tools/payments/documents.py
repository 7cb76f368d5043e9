"""Documents attached to a payment: what another system knows about it, kept as evidence.

The gateway holds no order contents. A system that does — the agentic checkout that sold the
cart, the AP2 verifier that checked the buyer's signed mandate — attaches a document to the
payment *in the same transaction* as the payment, with the evidence it supports per dispute tag
(``PRODUCT_DESCRIPTION``: the cart as the merchant signed it; ``AGENT_AUTHORIZATION``: the
buyer's agent held a signed mandate for exactly this cart). Dispute checklists then count those
tags as obtained and drafts quote them; nothing else about the payment changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.errors import ValidationFailed
from tools.payments.gateway import load_payment
from tools.payments.models import PaymentDocument
from tools.payments.reasons import AGENT_AUTHORIZATION, EVIDENCE_TAGS
from tools.payments.requests import new_id

EVIDENCE_TEXT_MAX = 512
"""An evidence text is one of the gateway's ``recommendedEvidence`` texts (§5.7)."""


def attach(
    session: Session,
    payment_id: str,
    *,
    kind: str,
    evidence: Mapping[str, str],
    body: Mapping[str, Any],
    at: datetime,
) -> PaymentDocument:
    """Attach a document to ``payment_id`` (which must be the caller's) in ``session``."""
    payment = load_payment(session, payment_id)
    if not kind or len(kind) > 64:
        raise ValidationFailed("kind is 1–64 characters", code="invalid_document_kind")
    for tag, text in evidence.items():
        if tag not in EVIDENCE_TAGS or not 0 < len(text) <= EVIDENCE_TEXT_MAX:
            raise ValidationFailed(
                f"evidence {tag!r}: a known evidence tag and 1–{EVIDENCE_TEXT_MAX} characters",
                code="invalid_document_evidence",
            )
    document = PaymentDocument(
        id=new_id("doc"),
        payment_id=payment.id,
        kind=kind,
        evidence=dict(evidence),
        body=dict(body),
        created_at=at,
    )
    session.add(document)
    session.flush()
    return document


def documents_for(session: Session, payment_id: str) -> list[PaymentDocument]:
    """The payment's documents, oldest first."""
    return list(
        session.scalars(
            select(PaymentDocument)
            .where(PaymentDocument.payment_id == payment_id)
            .order_by(PaymentDocument.created_at, PaymentDocument.id)
        )
    )


def evidence_by_tag(session: Session, payment_id: str) -> dict[str, list[str]]:
    """Tag → the texts the payment's documents give for it, oldest first."""
    found: dict[str, list[str]] = {}
    for document in documents_for(session, payment_id):
        for tag, text in document.evidence.items():
            found.setdefault(tag, []).append(text)
    return found


__all__ = [
    "AGENT_AUTHORIZATION",
    "EVIDENCE_TEXT_MAX",
    "attach",
    "documents_for",
    "evidence_by_tag",
]
