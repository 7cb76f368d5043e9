"""Agent tools for fraud and risk.

READ: ``score_transaction``, ``explain_score``, ``entity_graph``, ``merchant_risk_report``
(``score_transaction`` stores its result, idempotently per txn id: see its docstring for why it
is still READ).
WRITE: ``block_entity``, ``release_entity`` — idempotent on ``ctx.idempotency_key``; whether a
human must approve them is the agent spec's policy, enforced by the runtime. A merchant-bound
key's blocks apply to its own merchant's payments only and it releases only those
(:mod:`tools.fraud.blocks`); it sees the entity graph with other merchants' ids withheld.
The tenant is always ``ctx.principal.tenant_id``; state never crosses tenants.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cockpit.config import Settings
from cockpit.errors import NotFound, ValidationFailed
from cockpit.money import MinorAmount
from cockpit.toolkit import ToolContext, ToolKind, register_tool
from cockpit.toolkit.ids import check_id
from tools.fraud.blocks import active_blocks, check_entity
from tools.fraud.blocks import block_entity as _block
from tools.fraud.blocks import release_entity as _release
from tools.fraud.payments import score_payment
from tools.fraud.schema import TransactionIn, parse_transaction

if TYPE_CHECKING:
    from tools.fraud.service import FraudService

EntityKind = Literal["customer", "card", "device", "ip"]


def _service(ctx: ToolContext) -> FraudService:
    # Imported here, not at the top: the service brings the model's LightGBM, pandas,
    # scikit-learn and SciPy (~2 s of CPU), which registering these tools (every CLI command,
    # every server start) should not cost. After the first call the import is a dict lookup.
    from tools.fraud.service import get_service

    settings = ctx.extras.get("settings")
    if not isinstance(settings, Settings):
        settings = Settings()
    return get_service(ctx.extras, settings, ctx.principal.tenant_id)


_FROM_RECORD = "leave out when payment_id is given (read from the stored payment)"


class ScoreArgs(TransactionIn):
    """A transaction to score: a stored payment's id alone, or the transaction's fields (as
    the HTTP API takes them)."""

    payment_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="A stored payment (pay_…) to score from its record: customer, card, device, "
        "IP, amount, currency, method and countries are read from it. Give it alone.",
    )
    txn_id: str | None = Field(  # type: ignore[assignment]
        default=None, min_length=1, max_length=128, description="Your id for the transaction; "
        + _FROM_RECORD,
    )  # fmt: skip
    ts: datetime | float | None = Field(  # type: ignore[assignment]
        default=None, description="Time: ISO-8601 or epoch seconds; " + _FROM_RECORD
    )
    customer_id: str | None = Field(default=None, min_length=1, max_length=128)  # type: ignore[assignment]
    card_id: str | None = Field(  # type: ignore[assignment]
        default=None, min_length=1, max_length=128, description="Card fingerprint or token."
    )
    device_id: str | None = Field(default=None, min_length=1, max_length=128)  # type: ignore[assignment]
    ip: str | None = Field(default=None, min_length=1, max_length=64)  # type: ignore[assignment]
    merchant_id: str | None = Field(default=None, min_length=1, max_length=128)  # type: ignore[assignment]
    amount_minor: MinorAmount | None = Field(  # type: ignore[assignment]
        default=None, ge=0, le=10**15, description="Amount in minor units (e.g. cents)."
    )
    currency: str | None = Field(  # type: ignore[assignment]
        default=None, min_length=3, max_length=3, description="ISO 4217 code, e.g. USD."
    )

    def transaction_fields(self) -> dict[str, Any]:
        """The transaction's fields as given (for :func:`parse_transaction`)."""
        return self.model_dump(exclude={"payment_id"}, exclude_unset=True)


class ExplainArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    txn_id: str = Field(
        min_length=1, max_length=128, description="Id of a transaction scored earlier"
    )


class GraphArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: EntityKind = Field(description="customer, card, device or ip")
    entity_id: str = Field(min_length=1, max_length=128, description="The entity's id")
    hops: int = Field(default=2, ge=1, le=3, description="How far to look (1-3 links)")


class MerchantArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    merchant_id: str = Field(min_length=1, max_length=128, description="Merchant to report on")


class BlockArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: EntityKind = Field(description="customer, card, device or ip")
    entity_id: str = Field(min_length=1, max_length=128, description="The entity's id")
    reason: str = Field(min_length=3, max_length=500, description="Why (kept in the audit trail)")


_SCORE_DESCRIPTION = (
    "Score a payment for fraud risk ('is pay_… legit?', 'how risky is …'): give a stored "
    "payment's payment_id alone and its customer, card, device, IP and amount are read from the "
    "record; or give a new transaction's fields. Returns the calibrated probability, decision "
    "(approve / review / "
    "decline from the cost-based policy), and the top reason codes with the features behind "
    "them. Blocked cards, devices, customers or IPs are declined. Scoring errors give 'review', "
    "never approve. A transaction id is scored once: asking again with the same details returns "
    "the stored result (replayed: true); other details under the same id are refused "
    "(txn_already_scored)."
)


@register_tool(
    "score_transaction",
    kind=ToolKind.READ,
    args=ScoreArgs,
    description=_SCORE_DESCRIPTION,
    rest=("POST", "/v1/fraud/score"),
)
def score_transaction(ctx: ToolContext, args: ScoreArgs) -> dict[str, Any]:
    """Score one transaction for the caller's tenant and store the result.

    Why READ although it records something: scoring observes a payment, it does not act on
    one — no money moves, no payment, dispute or block changes state, and nothing needs a
    human's approval. What it records (the stored score, and the payment counted once in the
    tenant's velocity and entity-graph state, as the payment itself would be) is keyed by the
    transaction id, not by the tool call: a retry, a resumed run or a second agent asking
    about the same payment gets the stored result back (``replayed: true``) and counts
    nothing again; different details under a scored id are a 409 ``txn_already_scored``.
    As a WRITE it would instead be deduplicated by the runtime's per-call idempotency key,
    which two calls about the same payment do not share — weaker than the txn id.
    """
    bound = ctx.principal.merchant_id
    tenant = ctx.principal.tenant_id
    blocked = active_blocks(ctx.db, tenant)
    if args.payment_id is not None:
        return score_payment(_service(ctx), ctx.db, ctx.extras, tenant, args.payment_id,
                             blocked=blocked, merchant_id=bound)  # fmt: skip
    txn = parse_transaction(args.transaction_fields())
    return _service(ctx).score(ctx.db, txn, blocked=blocked, merchant_id=bound)


@register_tool(
    "explain_score",
    kind=ToolKind.READ,
    args=ExplainArgs,
    rest=("GET", "/v1/fraud/explain/{txn_id}"),
)
def explain_score(ctx: ToolContext, args: ExplainArgs) -> dict[str, Any]:
    """Explain a scored transaction: every feature's value and its contribution to the fraud
    log-odds (positive = towards fraud), the decision and thresholds used, and the model version."""
    return _service(ctx).explain(ctx.db, args.txn_id, merchant_id=ctx.principal.merchant_id)


@register_tool(
    "entity_graph",
    kind=ToolKind.READ,
    args=GraphArgs,
    rest=("GET", "/v1/fraud/entities/{kind}/{entity_id}/graph"),
)
def entity_graph(ctx: ToolContext, args: GraphArgs) -> dict[str, Any]:
    """Show the neighbourhood of an account, device, card or IP in the entity graph: linked
    entities, how many accounts share each device / card, confirmed-fraud accounts nearby,
    and whether it looks like a fraud ring. Entities seen only at other merchants are counted
    (other_merchants), not named."""
    return _service(ctx).entity_graph(
        args.kind, args.entity_id, hops=args.hops, merchant_id=ctx.principal.merchant_id
    )


@register_tool(
    "merchant_risk_report",
    kind=ToolKind.READ,
    args=MerchantArgs,
    rest=("GET", "/v1/fraud/merchants/{merchant_id}/report"),
)
def merchant_risk_report(ctx: ToolContext, args: MerchantArgs) -> dict[str, Any]:
    """Risk report for a merchant from its scored traffic: approve / review / decline rates,
    mean score, declined amount and the most frequent reason codes."""
    check_id(args.merchant_id, "merchant", param="merchant_id")
    bound = ctx.principal.merchant_id
    if bound and args.merchant_id != bound:
        # A merchant-bound key sees its own merchant only; others do not exist for it.
        raise NotFound(
            f"no merchant {args.merchant_id!r}", code="merchant_not_found", param="merchant_id"
        )
    return _service(ctx).merchant_report(args.merchant_id)


def _key(ctx: ToolContext) -> str:
    if not ctx.idempotency_key:
        raise ValidationFailed(
            "this write needs an idempotency key", code="idempotency_key_missing"
        )
    return ctx.idempotency_key


def _entity_precheck(ctx: ToolContext, args: BlockArgs) -> None:
    """The id must be of the kind named (a payment id is no device): refused before approval."""
    check_entity(args.kind, args.entity_id)


@register_tool(
    "block_entity",
    kind=ToolKind.WRITE,
    args=BlockArgs,
    rest=("POST", "/v1/fraud/entities/block"),
    precheck=_entity_precheck,
)
def block_entity(ctx: ToolContext, args: BlockArgs) -> dict[str, Any]:
    """Block a card, device, customer or IP: every later payment using it is declined with reason
    ENTITY_BLOCKED (a merchant's block: that merchant's payments). entity_id must be an id of
    that kind — for "the device (card, customer, IP) used on pay_…", read the payment first and
    use its entities.device (card, customer, ip); a payment id is refused (wrong_id_kind).
    Repeating the same call returns the first result."""
    return _block(
        ctx.db,
        ctx.principal.tenant_id,
        kind=args.kind,
        entity_id=args.entity_id,
        reason=args.reason,
        actor=ctx.principal.key_id,
        idempotency_key=_key(ctx),
        merchant_id=ctx.principal.merchant_id,
    )


@register_tool(
    "release_entity",
    kind=ToolKind.WRITE,
    args=BlockArgs,
    rest=("POST", "/v1/fraud/entities/release"),
    precheck=_entity_precheck,
)
def release_entity(ctx: ToolContext, args: BlockArgs) -> dict[str, Any]:
    """Release a blocked card, device, customer or IP (error entity_not_blocked if it is not
    blocked; tenant_block if only the whole tenant blocked it and this key is a merchant's).
    Repeating the same call returns the first result."""
    return _release(
        ctx.db,
        ctx.principal.tenant_id,
        kind=args.kind,
        entity_id=args.entity_id,
        reason=args.reason,
        actor=ctx.principal.key_id,
        idempotency_key=_key(ctx),
        merchant_id=ctx.principal.merchant_id,
    )


__all__ = [
    "block_entity",
    "entity_graph",
    "explain_score",
    "merchant_risk_report",
    "release_entity",
    "score_transaction",
]
