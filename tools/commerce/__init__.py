"""Agentic commerce: the merchant and PSP sides of ACP 2026-04-17 and AP2 v0.2 (DOMAIN.md §10).

Parts, each its own subpackage or module:

    acp/        catalogue + feeds, discovery, checkout sessions and orders (merchant side)
    vault/      delegated payment: allowance-bound single-use tokens (PSP side), agent risk
    ap2/        SD-JWT mandate verification, constraints, replay store, signed receipts
    events/     order events to agent platforms: signed, retried, logged
    platforms   agent platforms behind shopper keys (signing keys, webhook endpoints)
    ports       the contract between the checkout and its payment handlers
    http/       the REST surfaces; the MCP server mounts at ``/mcp``

Money moves only through :mod:`tools.payments` (gateway and ledger).
"""
