"""The /v1/knowledge routes on a bare FastAPI app, for one fixed caller and one store."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cockpit.api.deps import RequestContext, request_context
from cockpit.api.errors import install_error_handlers
from cockpit.config import Settings
from cockpit.tenancy.principal import Principal
from knowledge.router import router
from knowledge.store import KnowledgeStore


def knowledge_client(store: KnowledgeStore, principal: Principal, data_dir: Path) -> TestClient:
    """A client whose every request is ``principal``'s, served from ``store`` (no database)."""
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    ctx = RequestContext(
        principal=principal,
        db=None,  # type: ignore[arg-type]
        settings=Settings(data_dir=data_dir),
        extras={"knowledge": store},
    )
    app.dependency_overrides[request_context] = lambda: ctx
    return TestClient(app)


__all__ = ["knowledge_client"]
