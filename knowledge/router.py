"""``/v1/knowledge`` — collections, documents and queries for the caller's tenant.

The tenant comes from the API key. Collections of other tenants are simply
not found (404); so are other merchants' for a key bound to a merchant, which
writes only its own merchant's collections (see :mod:`knowledge.store`).
Ingestion and queries embed text on the CPU, so those
endpoints are plain ``def`` and run in FastAPI's thread pool.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from cockpit.api.deps import StaffCtx
from cockpit.api.routing import api_router
from cockpit.errors import ValidationFailed
from knowledge.ingest import DocumentInput
from knowledge.segment import LONG_QUERY_LIMIT
from knowledge.service import store_from_extras

MAX_BATCH_DOCUMENTS = 100

router = api_router(prefix="/v1/knowledge", tags=["knowledge"])


class CollectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=3, max_length=63, description="a–z, 0–9 and '-'")
    description: str = Field(default="", max_length=500)


class DocumentUpload(BaseModel):
    """A document as JSON: ``content`` for text formats, ``content_base64`` for PDF (or any)."""

    model_config = ConfigDict(extra="forbid")
    filename: str = Field(
        min_length=1,
        max_length=300,
        description="Its extension picks the parser: .md .txt .json .pdf",
    )
    content: str | None = None
    content_base64: str | None = None
    document_id: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=300)
    version: str | None = Field(default=None, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=20)
    source: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _one_content(self) -> DocumentUpload:
        if (self.content is None) == (self.content_base64 is None):
            raise ValueError("send exactly one of content or content_base64")
        return self

    def data(self) -> bytes:
        if self.content is not None:
            return self.content.encode("utf-8")
        try:
            return base64.b64decode(self.content_base64 or "", validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed(
                "content_base64 is not valid base64", code="invalid_base64", param="content_base64"
            ) from None


class DocumentBatch(BaseModel):
    """Several documents for one collection, ingested together (all or none)."""

    model_config = ConfigDict(extra="forbid")
    documents: list[DocumentUpload] = Field(min_length=1, max_length=MAX_BATCH_DOCUMENTS)

    def inputs(self) -> list[DocumentInput]:
        return [
            DocumentInput(
                d.data(),
                d.filename,
                document_id=d.document_id,
                title=d.title,
                version=d.version,
                tags=d.tags,
                source=d.source,
            )
            for d in self.documents
        ]


class QueryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=LONG_QUERY_LIMIT)
    collections: list[str] | None = Field(default=None, max_length=20)
    k: int = Field(default=5, ge=1, le=50)
    mode: Literal["hybrid", "bm25", "vector"] = "hybrid"
    filters: dict[str, Any] = Field(default_factory=dict)
    group: Literal["documents", "chunks"] = Field(
        default="documents",
        description="What k counts: documents, each with its next best chunks in `more`, "
        "or chunks (the behaviour before documents were counted)",
    )
    own_first: bool = Field(
        default=True,
        description="With no collections named, the tenant's own collections rank above the "
        "shared (platform) ones; false: equal rank",
    )
    fields: bool = Field(
        default=True,
        description="Let the title/heading field raise documents (hybrid, documents)",
    )
    strict_screen: bool = Field(
        default=False,
        description="Treat passages the injection screen only flagged (procedure naming a "
        "tool) as untrusted, as before flags existed",
    )


@router.get("/collections")
def list_collections(ctx: StaffCtx) -> dict[str, Any]:
    store = store_from_extras(ctx.extras, ctx.settings)
    tenant, merchant = ctx.principal.tenant_id, ctx.principal.merchant_id
    return {"data": [c.to_dict() for c in store.list_collections(tenant, merchant_id=merchant)]}


@router.post("/collections", status_code=201)
def create_collection(body: CollectionCreate, ctx: StaffCtx) -> dict[str, Any]:
    store = store_from_extras(ctx.extras, ctx.settings)
    return store.create_collection(
        ctx.principal.tenant_id,
        body.name,
        description=body.description,
        merchant_id=ctx.principal.merchant_id,
    ).to_dict()


@router.delete("/collections/{name}", status_code=204)
def delete_collection(name: str, ctx: StaffCtx) -> Response:
    store_from_extras(ctx.extras, ctx.settings).delete_collection(
        ctx.principal.tenant_id, name, merchant_id=ctx.principal.merchant_id
    )
    return Response(status_code=204)


@router.get("/collections/{name}/documents")
def list_documents(name: str, ctx: StaffCtx) -> dict[str, Any]:
    store = store_from_extras(ctx.extras, ctx.settings)
    docs = store.list_documents(
        ctx.principal.tenant_id, name, merchant_id=ctx.principal.merchant_id
    )
    return {"data": [d.to_dict() for d in docs]}


@router.post("/collections/{name}/documents", status_code=201)
def upload_document(
    name: str, body: DocumentUpload, ctx: StaffCtx, response: Response
) -> dict[str, Any]:
    store = store_from_extras(ctx.extras, ctx.settings)
    result = store.ingest(
        ctx.principal.tenant_id,
        name,
        body.data(),
        filename=body.filename,
        document_id=body.document_id,
        title=body.title,
        version=body.version,
        tags=body.tags,
        source=body.source,
        merchant_id=ctx.principal.merchant_id,
    )
    if result.status != "created":
        response.status_code = 200
    return result.to_dict()


@router.post("/collections/{name}/documents/batch")
def upload_documents(name: str, body: DocumentBatch, ctx: StaffCtx) -> dict[str, Any]:
    """Ingest up to 100 documents in one request: they are embedded and written together,
    many times faster than one request each. Nothing is written unless every one is valid."""
    store = store_from_extras(ctx.extras, ctx.settings)
    results = store.ingest_many(
        ctx.principal.tenant_id, name, body.inputs(), merchant_id=ctx.principal.merchant_id
    )
    return {"data": [r.to_dict() for r in results]}


@router.get("/collections/{name}/documents/{document_id:path}")
def get_document(name: str, document_id: str, ctx: StaffCtx) -> dict[str, Any]:
    store = store_from_extras(ctx.extras, ctx.settings)
    return store.get_document(
        ctx.principal.tenant_id, name, document_id, merchant_id=ctx.principal.merchant_id
    ).to_dict()


@router.delete("/collections/{name}/documents/{document_id:path}")
def delete_document(name: str, document_id: str, ctx: StaffCtx) -> dict[str, Any]:
    removed = store_from_extras(ctx.extras, ctx.settings).delete_document(
        ctx.principal.tenant_id, name, document_id, merchant_id=ctx.principal.merchant_id
    )
    return {"document_id": document_id, "deleted": True, "removed_chunks": removed}


@router.post("/query")
def query(body: QueryRequest, ctx: StaffCtx) -> dict[str, Any]:
    store = store_from_extras(ctx.extras, ctx.settings)
    hits = store.query(
        ctx.principal.tenant_id,
        body.query,
        collections=body.collections,
        k=body.k,
        mode=body.mode,
        filters=body.filters or None,
        merchant_id=ctx.principal.merchant_id,
        segment_long=True,  # task descriptions arrive whole over HTTP; see knowledge.segment
        group=body.group,
        own_first=body.own_first,
        fields=body.fields,
        strict_screen=body.strict_screen,
    )
    return {"query": body.query, "mode": body.mode, "data": [h.to_dict() for h in hits]}


__all__ = ["router"]
