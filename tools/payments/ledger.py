"""Double-entry ledger: balanced journals, per-account balances, invariant checks.

Every movement of money is one :class:`Journal` whose entries sum to zero in
each currency; it is written in the caller's transaction together with the
business row it belongs to, so a crash leaves either both or neither. A
``pay_balances`` row per account and currency is updated in the same
transaction (``balance = balance + x`` in SQL, so concurrent writers never
lose an update). Entry ``amount`` is the signed change to the account.

Accounts (DOMAIN.md §1.3): ``merchant:<id>:pending|available|reserve``,
``external:buyer_funds``, ``platform:fees``, ``external:scheme_fees``,
``fx_clearing:<CCY>``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from cockpit.db.base import utcnow
from cockpit.db.session import session_tenant
from cockpit.errors import InternalError
from tools.payments import statements
from tools.payments.models import Balance, Journal, LedgerEntry
from tools.payments.money import FixedRates, FxQuote

BUYER_FUNDS = "external:buyer_funds"
PLATFORM_FEES = "platform:fees"
SCHEME_FEES = "external:scheme_fees"
BUCKETS = ("pending", "available", "reserve")
JOURNALS = cast(Table, Journal.__table__)
ENTRIES = cast(Table, LedgerEntry.__table__)


def merchant_account(merchant_id: str, bucket: str) -> str:
    if bucket not in BUCKETS:
        raise InternalError(f"unknown merchant bucket {bucket!r}", code="ledger_bad_account")
    return f"merchant:{merchant_id}:{bucket}"


def fx_clearing(currency: str) -> str:
    return f"fx_clearing:{currency}"


@dataclass(slots=True)
class JournalDraft:
    """Legs of one journal being built; :func:`post` checks and writes it."""

    kind: str
    ref_type: str
    ref_id: str
    legs: list[tuple[str, str, int]] = field(default_factory=list)
    memo: dict[str, Any] = field(default_factory=dict)

    def move(self, src: str, dst: str, amount: int, currency: str) -> None:
        """Move ``amount`` of ``currency`` from ``src`` to ``dst``."""
        if amount < 0:
            raise InternalError("ledger moves are non-negative", code="ledger_negative_move")
        if amount:
            self.legs.append((src, currency, -amount))
            self.legs.append((dst, currency, amount))

    def move_fx(
        self,
        src: str,
        dst: str,
        amount: int,
        *,
        source_currency: str,
        target_currency: str,
        rates: FixedRates,
    ) -> FxQuote:
        """Move across currencies through the two ``fx_clearing`` accounts; returns the quote."""
        quote = rates.convert(amount, source_currency, target_currency)
        if source_currency == target_currency:
            self.move(src, dst, amount, source_currency)
            return quote
        self.move(src, fx_clearing(source_currency), amount, source_currency)
        self.move(fx_clearing(target_currency), dst, quote.target_minor, target_currency)
        self.memo.setdefault("fx", []).append(
            {
                "source": source_currency,
                "target": target_currency,
                "rate": str(quote.rate),
                "source_minor": amount,
                "target_minor": quote.target_minor,
                "quote_id": quote.quote_id,
            }
        )
        return quote


def pay_out_of_merchant(
    draft: JournalDraft,
    merchant_id: str,
    settlement_currency: str,
    amount: int,
    currency: str,
    *,
    dst: str,
    rates: FixedRates,
    bucket: str = "available",
) -> None:
    """Pay ``amount`` of ``currency`` to ``dst`` out of the merchant's settlement-currency balance."""
    src = merchant_account(merchant_id, bucket)
    if settlement_currency == currency:
        draft.move(src, dst, amount, currency)
        return
    # Two legs through FX clearing so each currency balances on its own.
    needed = rates.convert(amount, currency, settlement_currency).target_minor
    draft.move(src, fx_clearing(settlement_currency), needed, settlement_currency)
    draft.move(fx_clearing(currency), dst, amount, currency)
    draft.memo.setdefault("fx", []).append(
        {"source": settlement_currency, "target": currency, "source_minor": needed, "target_minor": amount,
         "rate": str(rates.rate(settlement_currency, currency))}
    )  # fmt: skip


def post(session: Session, draft: JournalDraft, *, at: datetime | None = None) -> str | None:
    """Write a balanced journal and update balances, in the caller's transaction; returns its id."""
    return post_many(session, [draft], at=at)[0]


def post_many(
    session: Session, drafts: Sequence[JournalDraft], *, at: datetime | None = None
) -> list[str | None]:
    """Write balanced journals and update balances, in the caller's transaction: one INSERT
    for the journals, one for their entries, one balance update for them all (a settlement
    run posts a journal per capture). Returns each draft's journal id (None: no legs).

    Every draft is checked before anything is written: one unbalanced draft writes none.
    """
    net: dict[tuple[str, str], int] = defaultdict(int)
    for draft in drafts:
        totals: dict[str, int] = defaultdict(int)
        for account, currency, amount in draft.legs:
            totals[currency] += amount
            net[(account, currency)] += amount
        unbalanced = {ccy: total for ccy, total in totals.items() if total}
        if unbalanced:
            raise InternalError(
                f"journal {draft.kind} does not balance: {unbalanced}", code="ledger_unbalanced"
            )
    when = at or utcnow()
    tenant = session_tenant(session)
    ids: list[str | None] = []
    journals: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for draft in drafts:
        if not draft.legs:
            ids.append(None)
            continue
        journal_id = "jnl_" + uuid.uuid4().hex
        ids.append(journal_id)
        journals.append(
            {
                "id": journal_id,
                "tenant_id": tenant,
                "kind": draft.kind,
                "memo": draft.memo,
                "ref_type": draft.ref_type,
                "ref_id": draft.ref_id,
                "created_at": when,
            }
        )
        entries.extend(
            {
                "journal_id": journal_id,
                "tenant_id": tenant,
                "account": account,
                "currency": currency,
                "amount": amount,
                "created_at": when,
            }
            for account, currency, amount in draft.legs
        )
    if not journals:
        return ids
    # Core INSERTs on the transaction's connection (entries are append-only, so the ORM never
    # needs them in its identity map); Core bypasses the session's stamping, so the tenant
    # is written here.
    conn = statements.bound(session)
    statements.insert_values(conn, JOURNALS, journals)
    statements.insert_values(conn, ENTRIES, entries)
    deltas = [(account, currency, delta) for (account, currency), delta in sorted(net.items())]
    batch = session.info.get(_BATCH)
    if batch is None:
        statements.add_to_balances(conn, tenant, deltas)
        return ids
    for account, currency, delta in deltas:
        batch[(account, currency)] = batch.get((account, currency), 0) + delta
    return ids


_BATCH = "pay_ledger_balance_batch"


@contextmanager
def batched_balances(session: Session) -> Iterator[None]:
    """Within one transaction, add balance deltas up in memory and write them once at the end.

    For bulk loads (the demo world): entries are still written per journal, and
    the balances land in the same transaction, so the invariants hold at commit.
    """
    if session.info.get(_BATCH) is not None:
        yield
        return
    session.info[_BATCH] = {}
    try:
        yield
        pending: dict[tuple[str, str], int] = session.info[_BATCH]
        statements.add_to_balances(
            statements.bound(session),
            session_tenant(session),
            [(account, currency, delta) for (account, currency), delta in sorted(pending.items())],
        )
    finally:
        session.info.pop(_BATCH, None)


def balance(session: Session, account: str, currency: str) -> int:
    if session.info.get(_BATCH):
        raise InternalError(
            "balances are not readable inside batched_balances", code="ledger_batched"
        )
    value = session.scalar(
        select(Balance.balance).where(Balance.account == account, Balance.currency == currency)
    )
    return int(value or 0)


def merchant_balances(session: Session, merchant_id: str) -> dict[str, dict[str, int]]:
    """``{currency: {pending, available, reserve}}`` for one merchant."""
    prefix = f"merchant:{merchant_id}:"
    rows = session.execute(
        select(Balance.account, Balance.currency, Balance.balance).where(
            Balance.account.startswith(prefix, autoescape=True)
        )
    ).all()
    out: dict[str, dict[str, int]] = {}
    for account, currency, value in rows:
        bucket = account.removeprefix(prefix)
        out.setdefault(currency, dict.fromkeys(BUCKETS, 0))[bucket] = int(value)
    return out


def currency_totals(session: Session) -> dict[str, int]:
    """Sum of every entry per currency (the invariant: all zero)."""
    rows = session.execute(
        select(LedgerEntry.currency, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.currency)
    ).all()
    return {ccy: int(total or 0) for ccy, total in rows}


def entries_for(session: Session, ref_type: str, ref_id: str) -> list[LedgerEntry]:
    jids = select(Journal.id).where(Journal.ref_type == ref_type, Journal.ref_id == ref_id)
    return list(session.scalars(select(LedgerEntry).where(LedgerEntry.journal_id.in_(jids))))


def check_invariants(session: Session) -> list[str]:
    """Problems found: unbalanced currencies, journals or balances that differ from entries."""
    problems = [
        f"currency {ccy} sums to {total}"
        for ccy, total in currency_totals(session).items()
        if total
    ]
    per_journal = session.execute(
        select(LedgerEntry.journal_id, LedgerEntry.currency, func.sum(LedgerEntry.amount))
        .group_by(LedgerEntry.journal_id, LedgerEntry.currency)
        .having(func.sum(LedgerEntry.amount) != 0)
    ).all()
    problems += [f"journal {j} {c} sums to {s}" for j, c, s in per_journal]
    sums = {
        (a, c): int(s)
        for a, c, s in session.execute(
            select(
                LedgerEntry.account, LedgerEntry.currency, func.sum(LedgerEntry.amount)
            ).group_by(LedgerEntry.account, LedgerEntry.currency)
        ).all()
    }
    stored = {
        (b.account, b.currency): int(b.balance) for b in session.scalars(select(Balance)).all()
    }
    for key in set(sums) | set(stored):
        if sums.get(key, 0) != stored.get(key, 0):
            problems.append(
                f"balance {key} is {stored.get(key, 0)}, entries say {sums.get(key, 0)}"
            )
    return problems


__all__ = [
    "BUCKETS",
    "BUYER_FUNDS",
    "PLATFORM_FEES",
    "SCHEME_FEES",
    "JournalDraft",
    "balance",
    "batched_balances",
    "check_invariants",
    "currency_totals",
    "entries_for",
    "fx_clearing",
    "merchant_account",
    "merchant_balances",
    "pay_out_of_merchant",
    "post",
]
