"""HTTP API for fraud scoring: ``/v1/fraud`` (score, batch score, explain, graph, report, blocks).

Bodies are validated by :func:`tools.fraud.schema.parse_transaction`, so bad
input gets the same stable codes as the agent tools (``missing_field``,
``invalid_type``, ``unknown_currency``, ``invalid_amount``…), with ``param``
naming the field (``transactions[3].currency`` in a batch). A batch with one
bad item is refused whole, before any state changes. Every result is stored
(:mod:`tools.fraud.store`): scoring is idempotent per ``txn_id`` and
explanations survive restarts. Blocks apply to the next
payment in this worker and within a second in other workers (see
:mod:`tools.fraud.blocks`): a merchant-bound key's blocks to its own merchant's payments only,
a tenant-wide key's to every merchant's. A bound key sees the entity graph with other
merchants' entity ids withheld (:mod:`tools.fraud.graph_view`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Literal

from fastapi import Body, Header, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from cockpit.api.deps import MerchantCtx, RequestContext, StaffCtx
from cockpit.api.routing import api_router
from cockpit.errors import NotFound, ValidationFailed
from tools.fraud import blocks
from tools.fraud.payments import score_payment
from tools.fraud.schema import Transaction, parse_transaction
from tools.fraud.store import json_bytes

if TYPE_CHECKING:
    from tools.fraud.service import FraudService

router = api_router(prefix="/v1/fraud", tags=["fraud"])

MAX_BATCH = 10_000


class BlockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["customer", "card", "device", "ip"]
    entity_id: str = Field(min_length=1, max_length=128)
    reason: str = Field(min_length=3, max_length=500)


# The service module is imported where it is first used, not here: it brings the model's
# LightGBM, pandas, scikit-learn and SciPy (~2 s of CPU), which mounting this router in an
# app that never scores should not cost. After the first call the import is a dict lookup.
def _svc(ctx: RequestContext) -> FraudService:
    from tools.fraud.service import get_service

    return get_service(ctx.extras, ctx.settings, ctx.principal.tenant_id)


def _built(ctx: RequestContext) -> FraudService | None:
    """The tenant's service if it is built already (never blocks: for the event loop)."""
    if "tools.fraud.service" not in sys.modules:  # so no hub exists: the pool will import it
        return None
    from tools.fraud.service import built_service

    return built_service(ctx.extras, ctx.principal.tenant_id)


def _blocked(ctx: RequestContext) -> blocks.ActiveBlocks:
    return blocks.active_blocks(ctx.db, ctx.principal.tenant_id)


@router.post("/score", response_model=dict[str, Any])
async def score(ctx: StaffCtx, body: dict[str, Any] = Body(...)) -> Response:
    """Score one transaction: score, decision, reason codes (stored).

    Idempotent per ``txn_id``: the same transaction again returns the stored result with
    ``replayed: true``; other details under the same id are 409 ``txn_already_scored``.
    ``{"payment_id": "pay_…"}`` alone scores a stored payment from its record (its id is the
    ``txn_id``), as the ``score_transaction`` tool does.

    Async, yet no database or model work on the event loop: the transaction is scored in the
    thread pool, together with the score requests that arrive meanwhile
    (:mod:`tools.fraud.batching`), so concurrent callers share one DB transaction and one
    model call.

    The answer goes out as JSON bytes written once: returned as a dict, it was validated
    against ``dict[str, Any]`` and encoded again per request (~40 us of the event loop's time).
    """
    if "payment_id" in body:
        pid = body["payment_id"]
        if not isinstance(pid, str) or set(body) != {"payment_id"}:
            raise ValidationFailed(
                "payment_id is a string, given alone (the rest is read from the payment)",
                code="invalid_value",
                param="payment_id",
            )
        return _json(await run_in_threadpool(_score_payment, ctx, pid))
    txn = parse_transaction(body)
    svc = _built(ctx)
    if svc is None:  # first use: building may train a model or replay history
        svc = await run_in_threadpool(_svc, ctx)
    return _json(await svc.score_queued(ctx.db, txn, merchant_id=ctx.principal.merchant_id))


def _json(result: dict[str, Any]) -> Response:
    return Response(json_bytes(result), media_type="application/json")


def _score_payment(ctx: RequestContext, payment_id: str) -> dict[str, Any]:
    return score_payment(
        _svc(ctx),
        ctx.db,
        ctx.extras,
        ctx.principal.tenant_id,
        payment_id,
        blocked=_blocked(ctx),
        merchant_id=ctx.principal.merchant_id,
    )


@router.post("/score/batch")
def score_batch(ctx: StaffCtx, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    """Score up to 10,000 transactions in time order, stored in one DB transaction (sync: CPU
    and DB work run in the thread pool). Already-scored ids are replayed; a conflicting one
    (409 ``txn_already_scored``, ``param`` naming it) refuses the batch before anything is scored."""
    items = body.get("transactions")
    if not isinstance(items, list):
        raise ValidationFailed(
            "transactions must be a list", code="invalid_type", param="transactions"
        )
    if not items or len(items) > MAX_BATCH:
        raise ValidationFailed(
            f"a batch holds 1-{MAX_BATCH} transactions",
            code="invalid_batch_size",
            param="transactions",
        )
    explain = body.get("explain", False)
    if not isinstance(explain, bool):
        raise ValidationFailed(
            "explain must be true or false", code="invalid_type", param="explain"
        )
    txns: list[Transaction] = []
    for i, item in enumerate(items):
        try:
            txns.append(parse_transaction(item))
        except ValidationFailed as exc:
            param = f"transactions[{i}]" + (f".{exc.param}" if exc.param else "")
            raise ValidationFailed(
                f"transactions[{i}]: {exc.message}", code=exc.code, param=param
            ) from None
    results = _svc(ctx).score_batch(
        ctx.db,
        txns,
        blocked=_blocked(ctx),
        explain=explain,
        merchant_id=ctx.principal.merchant_id,
    )
    counts = {
        d: sum(1 for r in results if r["decision"] == d) for d in ("approve", "review", "decline")
    }
    return {"results": results, "counts": counts}


@router.get("/explain/{txn_id}")
def explain(ctx: StaffCtx, txn_id: str) -> dict[str, Any]:
    """Every feature's value and contribution for a transaction this tenant scored (from the
    score store, so it survives restarts; 404 ``transaction_not_found`` otherwise, and for
    another merchant's transaction when the key is bound to a merchant)."""
    return _svc(ctx).explain(ctx.db, txn_id, merchant_id=ctx.principal.merchant_id)


@router.get("/entities/{kind}/{entity_id}/graph")
def entity_graph(ctx: StaffCtx, kind: str, entity_id: str, hops: int = 2) -> dict[str, Any]:
    """Neighbourhood of an entity in this tenant's graph, with a ring verdict. A merchant-bound
    key sees ids only of entities in its own merchant's traffic (the others are counted under
    ``other_merchants``); an entity only other merchants saw is 404 ``entity_not_found``."""
    if not 1 <= hops <= 3:
        raise ValidationFailed("hops must be 1-3", code="invalid_value", param="hops")
    return _svc(ctx).entity_graph(kind, entity_id, hops=hops, merchant_id=ctx.principal.merchant_id)


@router.get("/merchants/{merchant_id}/report")
def merchant_report(ctx: StaffCtx, merchant_id: str) -> dict[str, Any]:
    """Decision rates, mean score and top reasons of a merchant's scored traffic."""
    bound = ctx.principal.merchant_id
    if bound and merchant_id != bound:
        raise NotFound(
            f"no merchant {merchant_id!r}", code="merchant_not_found", param="merchant_id"
        )
    return _svc(ctx).merchant_report(merchant_id)


def _idem(key: str | None) -> str:
    if not key:
        raise ValidationFailed(
            "send an Idempotency-Key header with every write",
            code="idempotency_key_missing",
            param="Idempotency-Key",
        )
    return key


@router.post("/entities/block")
def block(
    ctx: MerchantCtx, req: BlockRequest, idempotency_key: str | None = Header(default=None)
) -> dict[str, Any]:
    """Block a customer, card, device or IP (idempotent on Idempotency-Key): for the key's
    merchant's payments, or every merchant's when the key is bound to no merchant."""
    return blocks.block_entity(
        ctx.db,
        ctx.principal.tenant_id,
        kind=req.kind,
        entity_id=req.entity_id,
        reason=req.reason,
        actor=ctx.principal.key_id,
        idempotency_key=_idem(idempotency_key),
        merchant_id=ctx.principal.merchant_id,
    )


@router.post("/entities/release")
def release(
    ctx: MerchantCtx, req: BlockRequest, idempotency_key: str | None = Header(default=None)
) -> dict[str, Any]:
    """Release the key's own block of an entity (404 entity_not_blocked if it has none, also
    when another merchant blocked it; 403 tenant_block for a bound key if only the tenant did)."""
    return blocks.release_entity(
        ctx.db,
        ctx.principal.tenant_id,
        kind=req.kind,
        entity_id=req.entity_id,
        reason=req.reason,
        actor=ctx.principal.key_id,
        idempotency_key=_idem(idempotency_key),
        merchant_id=ctx.principal.merchant_id,
    )


@router.get("/entities/blocks")
def list_blocks(ctx: StaffCtx) -> dict[str, Any]:
    """This tenant's blocked and released entities (a bound key: its merchant's and the
    tenant-wide ones)."""
    rows = blocks.list_blocks(
        ctx.db, ctx.principal.tenant_id, merchant_id=ctx.principal.merchant_id
    )
    return {"blocks": rows}


@router.get("/model")
async def model_info(ctx: StaffCtx) -> dict[str, Any]:
    """The model scoring this tenant's traffic: version, thresholds, features and metrics."""
    from tools.fraud.registry import clean_json  # LightGBM: loaded with the model anyway

    model = _svc(ctx).model
    return {
        "version": model.version,
        "policy": {"review_at": model.policy.review_at, "decline_at": model.policy.decline_at},
        "feature_names": list(model.feature_names),
        "metrics": clean_json(model.metrics),
    }


__all__ = ["router"]
