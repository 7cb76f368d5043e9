"""KYB documents the onboarding review is still waiting for (DOMAIN.md §6).

Reads the merchant's onboarding record (:func:`tools.payments.queries.merchant_kyb`): a review
that lists missing documents is a finding, critical while the merchant cannot take payments.
A rejected application is final and not reported. The finding's key is the set of missing
documents, so uploading one of them and still missing another is a new notification.
"""

from __future__ import annotations

from tools.payments import queries
from tools.payments.monitors.base import CheckContext, Finding, Monitor, Params

DOCUMENTS = {
    "ENTERPRISE_REGISTRATION": "the company registration certificate",
    "LICENSE_INFO": "the business licence",
    "ARTICLES_OF_ASSOCIATION": "the articles of association",
    "ASSOCIATION_ARTICLE": "the articles of association",
    "FINANCIAL_REPORT": "the latest financial report",
    "OWNERSHIP_STRUCTURE_PIC": "a chart of the ownership structure",
    "UBO_PROVE": "proof of every ultimate beneficial owner holding 25% or more",
    "ADDRESS_PROOF": "proof of the business address, such as a recent utility bill",
    "SIGNATURE_AUTHORIZATION_LETTER": "the signatory authorisation letter",
    "AUTHORIZER_SIGNATURE_CONFIRMATION_LETTER": "the authoriser's signature confirmation letter",
    "ID_CARD": "an identity card of the representative",
    "PASSPORT": "a passport of the representative",
    "DRIVING_LICENSE": "a driving licence of the representative",
    "LOGO": "the company logo",
    "CPF": "the CPF number document",
    "CNPJ": "the CNPJ registration document",
}
"""``attachmentType`` → what the merchant has to upload, in its words."""
FINAL_STATES = ("REJECTED",)


def check(ctx: CheckContext) -> list[Finding]:
    kyb = queries.merchant_kyb(ctx.session, ctx.merchant.id)
    detail = kyb["detail"] or {}
    missing = sorted({str(doc) for doc in detail.get("missing") or []})
    if not missing or kyb["kybState"] in FINAL_STATES:
        return []
    described = [f"{doc} ({DOCUMENTS.get(doc, doc.replace('_', ' ').lower())})" for doc in missing]
    blocked = not kyb["canTransact"]
    figures = {
        "kybState": kyb["kybState"],
        "canTransact": kyb["canTransact"],
        "step": detail.get("step"),
        "missingDocuments": missing,
        "documentDescriptions": {doc: DOCUMENTS.get(doc) for doc in missing},
    }
    consequence = "cannot take payments until they are reviewed" if blocked else "stays restricted"
    summary = (
        f"The onboarding review of {kyb['name']} (KYB state {kyb['kybState']}) is waiting for "
        f"{len(missing)} document{'s' if len(missing) > 1 else ''}: {'; '.join(described)}; "
        f"the account {consequence}."
    )
    return [
        ctx.finding(
            MONITOR.name,
            severity="critical" if blocked else "warning",
            title=f"{len(missing)} KYB document{'s' if len(missing) > 1 else ''} missing",
            summary=summary,
            figures=figures,
            period="+".join(missing),
        )
    ]


MONITOR = Monitor(
    name="kyb_missing_documents",
    title="Missing KYB documents",
    params=Params,
    check=check,
    why=(
        "The onboarding review cannot finish without these documents, so the account cannot "
        "go live (or keep its limits); a standard review takes 2–5 business days once they "
        "are in, an enhanced due diligence review 5–10."
    ),
    actions=(
        "upload the missing documents in the onboarding portal",
        "make sure names and addresses match the company registration exactly",
    ),
    interval_seconds=24 * 3600,
)

__all__ = ["DOCUMENTS", "MONITOR"]
