"""Property-based tests: random operation sequences keep the ledger and lifecycle invariants."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from cockpit.errors import CockpitError
from tools.payments import ledger
from tools.payments.disputes import Disputes
from tools.payments.gateway import CaptureRequest, Gateway, PayRequest, RefundRequest
from tools.payments.models import Payment
from tools.payments.money import FixedRates
from tools.payments.simulator import IssuerSimulator

T = "t_test"
START = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
ALLOWED = {
    ("PROCESSING", "AUTHORIZED"), ("PROCESSING", "CAPTURED"), ("PROCESSING", "FAILED"),
    ("PROCESSING", "CANCELLED"), ("AUTHORIZED", "CAPTURED"), ("AUTHORIZED", "CANCELLED"),
    ("CAPTURED", "CANCELLED"),
}  # fmt: skip

pay_op = st.tuples(
    st.just("pay"),
    st.sampled_from([("SGD", "CARD"), ("USD", "CARD"), ("PHP", "GCASH"), ("JPY", "CARD")]),
    st.integers(min_value=-5, max_value=300_000),
    st.sampled_from(["AUTOMATIC", "MANUAL"]),
    st.integers(min_value=0, max_value=3),  # request id slot: repeats exercise idempotency
)
idx = st.integers(min_value=0, max_value=8)
pct = st.integers(min_value=-5, max_value=130)  # % of the payment: mostly valid, sometimes too much
op = st.one_of(
    pay_op,
    pay_op,
    st.tuples(st.just("capture"), idx, pct, st.booleans()),
    st.tuples(st.just("refund"), idx, pct),
    st.tuples(st.just("cancel"), idx),
    st.tuples(st.just("settle")),
    st.tuples(st.just("dispute"), idx),
    st.tuples(st.just("accept"), idx),
    st.tuples(st.just("advance"), idx),
    st.tuples(st.just("tick"), st.integers(min_value=1, max_value=60 * 24 * 3)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op, min_size=8, max_size=30), seed=st.integers(min_value=0, max_value=10_000))
def test_random_sequences_keep_invariants(
    make_seeded_db: Any, ops: list[tuple[Any, ...]], seed: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = make_seeded_db(Path(tmp))
        gw = Gateway(
            db, simulator=IssuerSimulator(seed=seed, unknown_rate=0.05), rates=FixedRates()
        )
        disputes = Disputes(gw)
        now = START
        payments: list[str] = []
        amounts: dict[str, int] = {}
        disputes_ids: list[str] = []
        last_state: dict[str, str] = {}
        for n, o in enumerate(ops):
            applicable = (
                o[0] in ("pay", "settle", "tick")
                or (o[0] in ("capture", "refund", "cancel", "dispute") and bool(payments))
                or (o[0] in ("accept", "advance") and bool(disputes_ids))
            )
            try:
                if o[0] == "pay":
                    (ccy, method), amount, mode, slot = o[1], o[2], o[3], o[4]
                    mode = mode if method == "CARD" else "AUTOMATIC"
                    card = {"SGD": "card_visa", "USD": "card_mc", "JPY": "card_visa"}.get(ccy)
                    r = gw.pay(T, PayRequest("m_sg", f"req{slot}", amount, ccy, method_type=method,
                                             card_id=card if method == "CARD" else None, capture_mode=mode), at=now)  # fmt: skip
                    if r["paymentId"] not in payments:
                        payments.append(r["paymentId"])
                        amounts[r["paymentId"]] = amount
                elif o[0] == "capture" and payments:
                    pid = payments[o[1] % len(payments)]
                    part = amounts[pid] * o[2] // 100
                    gw.capture(
                        T, CaptureRequest("m_sg", pid, f"cap{n}", part, is_last=o[3]), at=now
                    )
                elif o[0] == "refund" and payments:
                    pid = payments[o[1] % len(payments)]
                    part = amounts[pid] * o[2] // 100
                    gw.refund(T, RefundRequest("m_sg", pid, f"ref{n}", part), at=now)
                elif o[0] == "cancel" and payments:
                    gw.cancel(T, "m_sg", payments[o[1] % len(payments)], at=now)
                elif o[0] == "settle":
                    gw.settle(T, "m_sg", cutoff=now, at=now)
                elif o[0] == "dispute" and payments:
                    pid = payments[o[1] % len(payments)]
                    code = "4853" if o[1] % 2 else "13.1"
                    with db.tenant_session(T) as s:
                        p = s.scalar(select(Payment).where(Payment.id == pid))
                        assert p is not None
                        code = {"MASTERCARD": "4853", "VISA": "13.1"}.get(
                            p.brand or "", "NOT_RECEIVED"
                        )
                    disputes_ids.append(disputes.open(T, pid, code, at=now)["disputeId"])
                elif o[0] == "accept" and disputes_ids:
                    disputes.accept(T, disputes_ids[o[1] % len(disputes_ids)], at=now)
                elif o[0] == "advance" and disputes_ids:
                    disputes.advance(T, disputes_ids[o[1] % len(disputes_ids)], at=now)
                elif o[0] == "tick":
                    now += timedelta(minutes=o[1])
                if applicable:
                    event(f"ok: {o[0]}")
            except CockpitError as exc:
                assert exc.code and exc.code != "internal_error", exc.code
                event(f"rejected: {exc.code}")
            with db.tenant_session(T) as s:
                assert ledger.check_invariants(s) == []
                for p in s.scalars(select(Payment)):
                    assert 0 <= p.refunded_amount <= p.captured_amount <= p.amount
                    prev = last_state.get(p.id)
                    if prev is not None and prev != p.state:
                        assert (prev, p.state) in ALLOWED, (prev, p.state)
                    last_state[p.id] = p.state
        with db.tenant_session(T) as s:
            assert all(total == 0 for total in ledger.currency_totals(s).values())
        db.dispose()


@settings(max_examples=30, deadline=None)
@given(
    moves=st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c"]),
            st.sampled_from(["a", "b", "c"]),
            st.integers(0, 10**9),
            st.sampled_from(["USD", "JPY", "SGD"]),
            st.sampled_from(["USD", "JPY", "SGD"]),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_any_posted_journal_balances(
    make_seeded_db: Any, moves: list[tuple[str, str, int, str, str]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = make_seeded_db(Path(tmp))
        rates = FixedRates()
        with db.tenant_session(T) as s:
            draft = ledger.JournalDraft("test", "test", "x")
            for src, dst, amount, c1, c2 in moves:
                draft.move_fx(
                    f"acct:{src}",
                    f"acct:{dst}",
                    amount,
                    source_currency=c1,
                    target_currency=c2,
                    rates=rates,
                )
            ledger.post(s, draft, at=START)
        with db.tenant_session(T) as s:
            assert ledger.check_invariants(s) == []
            expected: dict[tuple[str, str], int] = {}
            for account, ccy, amount in draft.legs:
                expected[(account, ccy)] = expected.get((account, ccy), 0) + amount
            for (account, ccy), value in expected.items():
                assert ledger.balance(s, account, ccy) == value
        db.dispose()
