"""AP2 mandate verification without a database: good chains pass and validate against the
official schemas; every tampered chain is refused with the spec's error code."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.tools.commerce.ap2_world import (
    CABLE,
    HEADPHONES,
    INSTRUMENT,
    MERCHANT,
    World,
    acp_checkout,
    disclosed_mandates,
)
from tests.tools.commerce.specs import ap2_validator
from tools.commerce.ap2 import wallet
from tools.commerce.ap2.constraints import (
    CartLine,
    LineItemRequirement,
    Usage,
    line_items_satisfied,
    next_allowed,
)
from tools.commerce.ap2.errors import MandateRejected
from tools.commerce.ap2.mandates import verify_checkout_mandate, verify_payment_mandate
from tools.commerce.ap2.sdjwt import (
    TYP_INTERMEDIATE,
    TYP_ROOT,
    Hop,
    SdJwtError,
    b64url_decode,
    join_chain,
    sign_jwt,
    split_chain,
)
from tools.commerce.ap2.wire import VCT_CHECKOUT_OPEN, VCT_PAYMENT_OPEN


def verify(
    w: World,
    presented: wallet.Presented,
    *,
    usage: Usage | None = None,
    current: dict[str, Any] | None = None,
    merchant_id: str = MERCHANT["id"],
    trusted: list[dict[str, Any]] | None = None,
    at_shift: timedelta = timedelta(0),
) -> Any:
    at = w.at + at_shift
    co = verify_checkout_mandate(
        presented.checkout_chain,
        trusted=w.trusted if trusted is None else trusted,
        merchant_id=merchant_id,
        issued=w.issued,
        merchant_key=w.merchant_public,
        current=current or w.checkout,
        lines=w.lines,
        at=at,
    )
    return verify_payment_mandate(
        presented.payment_chain,
        trusted=w.trusted if trusted is None else trusted,
        merchant_id=merchant_id,
        checkout=co,
        amount=w.amount,
        currency="sgd",
        usage_of=lambda _h: usage or Usage(),
        at=at,
    )


SCHEMA = {
    "mandate.checkout.1": "checkout_mandate.json",
    "mandate.checkout.open.1": "open_checkout_mandate.json",
    "mandate.payment.1": "payment_mandate.json",
    "mandate.payment.open.1": "open_payment_mandate.json",
}


def assert_schema_valid(presented: wallet.Presented) -> None:
    for chain in (presented.checkout_chain, presented.payment_chain):
        for mandate in disclosed_mandates(chain):
            errors = list(ap2_validator(SCHEMA[mandate["vct"]]).iter_errors(mandate))
            assert not errors, [e.message for e in errors]


# ----- good chains ---------------------------------------------------------------------------


def test_human_present_mandates_verify_and_match_the_schemas() -> None:
    w = World()
    presented = w.human_present()
    assert_schema_valid(presented)
    pay = verify(w, presented)
    assert pay.closed.payment_amount.amount == w.amount
    assert pay.closed.transaction_id == w.checkout_hash
    assert not pay.chain.opens


def test_human_not_present_mandates_verify_and_match_the_schemas() -> None:
    w = World()
    presented = w.not_present(
        payment_constraints=[
            {"type": "payment.amount_range", "currency": "SGD", "max": 20_000, "min": 100},
            {"type": "payment.budget", "currency": "SGD", "max": 50_000},
            {"type": "payment.agent_recurrence", "frequency": "WEEKLY", "max_occurrences": 4},
            {"type": "payment.allowed_payees", "allowed": [MERCHANT]},
            {"type": "payment.allowed_payment_instruments", "allowed": [INSTRUMENT]},
            {"type": "payment.execution_date", "not_before": "2026-05-01"},
        ],
        presets={"payee": MERCHANT},
    )
    assert_schema_valid(presented)
    pay = verify(w, presented)
    assert [h.model.vct for h in pay.chain.opens] == [VCT_PAYMENT_OPEN]
    assert len(pay.stateful_opens) == 1


def test_a_withheld_checkout_jwt_still_binds_by_hash() -> None:
    w = World()
    presented = w.human_present(reveal_checkout_jwt=False)
    assert "checkout_jwt" not in disclosed_mandates(presented.checkout_chain)[0]
    # The schema describes the issued mandate (checkout_jwt required, selectively disclosable):
    # the same mandate fully disclosed is valid; the verifier accepts it withheld.
    assert_schema_valid(w.human_present())
    verify(w, presented)


def test_an_intermediate_delegation_verifies() -> None:
    w = World()
    sub = wallet.Party.new("sub-agent")
    oc = w.open_checkout()
    mid = wallet.delegate(
        w.agent,
        oc,
        wallet.open_checkout_mandate(
            sub,
            [wallet.line_items_constraint([("r", [HEADPHONES], 2)])],
            at=w.at,
            ttl=timedelta(hours=1),
        ),
        aud=MERCHANT["id"],
        nonce=w.checkout_hash,
        at=w.at,
        binding="issuer_jwt_hash",
    )
    co_chain = wallet.close_checkout(
        sub,
        [oc, mid],
        merchant_id=MERCHANT["id"],
        checkout_jwt=w.checkout_jwt,
        checkout_hash=w.checkout_hash,
        at=w.at,
    )
    presented = wallet.Presented(co_chain, w.human_present().payment_chain)
    assert_schema_valid(presented)
    pay = verify(w, presented)
    assert pay.closed.payee.id == MERCHANT["id"]


# ----- tampering: table-driven ---------------------------------------------------------------


def _swap_leaf(chain: str, fn: Callable[[Hop], Hop]) -> str:
    hops = split_chain(chain)
    return join_chain([*hops[:-1], fn(hops[-1])])


def _flip_signature(hop: Hop) -> Hop:
    head, body, sig = hop.jwt.split(".")
    sig = ("A" if sig[0] != "A" else "B") + sig[1:]
    return Hop.of(f"{head}.{body}.{sig}", hop.disclosures)


def _resign(hop: Hop, signer: wallet.Party, **changes: Any) -> Hop:
    """The same hop with header/payload changes, signed again by ``signer``."""
    payload = {**hop.payload, **{k: v for k, v in changes.items() if k != "typ"}}
    typ = changes.get("typ", hop.header.get("typ"))
    return Hop.of(sign_jwt(payload, signer.key, typ=typ, kid=signer.kid), hop.disclosures)


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[World], tuple[wallet.Presented, dict[str, Any]]]
    code: str


def _hp(**kw: Any) -> Callable[[World], tuple[wallet.Presented, dict[str, Any]]]:
    return lambda w: (w.human_present(**kw), {})


def _untrusted_root(w: World) -> tuple[wallet.Presented, dict[str, Any]]:
    stranger = wallet.Party.new("stranger")
    p = wallet.human_present(
        stranger,
        merchant=MERCHANT,
        checkout_jwt=w.checkout_jwt,
        checkout_hash=w.checkout_hash,
        amount=w.amount,
        currency="SGD",
        instrument=INSTRUMENT,
        at=w.at,
    )
    return p, {}


def _bad_signature(w: World) -> tuple[wallet.Presented, dict[str, Any]]:
    p = w.human_present()
    return wallet.Presented(p.checkout_chain, _swap_leaf(p.payment_chain, _flip_signature)), {}


def _edited_disclosure(w: World) -> tuple[wallet.Presented, dict[str, Any]]:
    # Present a different (self-made) disclosure for the mandate: its digest is not signed.
    p = w.human_present()
    cheap = w.human_present(amount=1)
    hop = split_chain(p.payment_chain)[0]
    other = split_chain(cheap.payment_chain)[0]
    return wallet.Presented(p.checkout_chain, join_chain([Hop.of(hop.jwt, other.disclosures)])), {}


def _wrong_checkout_hash(w: World) -> tuple[wallet.Presented, dict[str, Any]]:
    other = World()  # another cart, signed by the same merchant's key elsewhere
    p = wallet.human_present(
        w.user,
        merchant=MERCHANT,
        checkout_jwt=other.checkout_jwt,
        checkout_hash=other.checkout_hash,
        amount=w.amount,
        currency="SGD",
        instrument=INSTRUMENT,
        at=w.at,
    )
    # the challenge nonce is ours, the bound checkout is not
    hop = split_chain(p.checkout_chain)[0]
    forged = _resign(hop, w.user, nonce=w.checkout_hash)
    pay = split_chain(p.payment_chain)[0]
    return wallet.Presented(
        join_chain([forged]), join_chain([_resign(pay, w.user, nonce=w.checkout_hash)])
    ), {}


def _cart_changed(w: World) -> tuple[wallet.Presented, dict[str, Any]]:
    changed = acp_checkout(lines=(("sku_headphones", "Headphones", 7999, 3),))
    return w.human_present(), {"current": changed}


def _hnp(**kw: Any) -> Callable[[World], tuple[wallet.Presented, dict[str, Any]]]:
    return lambda w: (w.not_present(**kw), {})


def _intermediate(aud: str | None = None, nonce: str | None = None) -> Any:
    def build(w: World) -> tuple[wallet.Presented, dict[str, Any]]:
        sub = wallet.Party.new("sub-agent")
        oc = w.open_checkout()
        mandate = wallet.open_checkout_mandate(
            sub,
            [wallet.line_items_constraint([("r", [HEADPHONES], 2)])],
            at=w.at,
            ttl=timedelta(hours=1),
        )
        mid = wallet.delegate(
            w.agent,
            oc,
            mandate,
            aud=aud or MERCHANT["id"],
            nonce=nonce or w.checkout_hash,
            at=w.at,
        )
        chain = wallet.close_checkout(
            sub,
            [oc, mid],
            merchant_id=MERCHANT["id"],
            checkout_jwt=w.checkout_jwt,
            checkout_hash=w.checkout_hash,
            at=w.at,
        )
        return wallet.Presented(chain, w.human_present().payment_chain), {}

    return build


def _leaf_typ(typ: str) -> Any:
    def build(w: World) -> tuple[wallet.Presented, dict[str, Any]]:
        p = w.not_present()
        leaf = split_chain(p.checkout_chain)[-1]
        chain = _swap_leaf(p.checkout_chain, lambda h: _resign(h, w.agent, typ=typ))
        assert split_chain(chain)[-1].payload == leaf.payload
        return wallet.Presented(chain, p.payment_chain), {}

    return build


def _leaf_by_stranger(w: World) -> tuple[wallet.Presented, dict[str, Any]]:
    p = w.not_present()
    stranger = wallet.Party.new("stranger")
    return wallet.Presented(
        _swap_leaf(p.checkout_chain, lambda h: _resign(h, stranger)), p.payment_chain
    ), {}


def _rebound(w: World) -> tuple[wallet.Presented, dict[str, Any]]:
    """The agent's closed leaf moved onto another open mandate the user signed."""
    p = w.not_present()
    other_root = w.open_checkout()
    leaf = split_chain(p.checkout_chain)[-1]
    return wallet.Presented(join_chain([other_root, leaf]), p.payment_chain), {}


def _leaf_with_cnf(w: World) -> tuple[wallet.Presented, dict[str, Any]]:
    oc = w.open_checkout()
    mandate = {**wallet.closed_checkout_mandate(w.checkout_jwt, w.checkout_hash, at=w.at)}
    mandate["cnf"] = w.agent.cnf
    leaf = wallet.close(w.agent, oc, mandate, aud=MERCHANT["id"], nonce=w.checkout_hash, at=w.at)
    return wallet.Presented(join_chain([oc, leaf]), w.not_present().payment_chain), {}


def _wrong_vct(w: World) -> tuple[wallet.Presented, dict[str, Any]]:
    oc = w.open_checkout()
    mandate = wallet.closed_checkout_mandate(w.checkout_jwt, w.checkout_hash, at=w.at)
    mandate["vct"] = "mandate.checkout"  # the SDK readme's spelling, without ".1"
    leaf = wallet.close(w.agent, oc, mandate, aud=MERCHANT["id"], nonce=w.checkout_hash, at=w.at)
    return wallet.Presented(join_chain([oc, leaf]), w.not_present().payment_chain), {}


def _open_vct_on_root(w: World) -> tuple[wallet.Presented, dict[str, Any]]:
    p = w.not_present()
    root = split_chain(p.payment_chain)[0]
    mandate = disclosed_mandates(p.payment_chain)[0]
    assert mandate["vct"] == VCT_PAYMENT_OPEN
    bad = wallet.open_checkout(w.user, w.agent, mandate["constraints"], at=w.at)
    assert bad.payload != root.payload
    return wallet.Presented(
        p.checkout_chain, join_chain([bad, split_chain(p.payment_chain)[1]])
    ), {}


def _line_items_unsatisfied(w: World) -> tuple[wallet.Presented, dict[str, Any]]:
    return w.not_present(
        checkout_constraints=[wallet.line_items_constraint([("r", [CABLE], 2)])]
    ), {}


def _hidden_merchants(w: World) -> tuple[wallet.Presented, dict[str, Any]]:
    oc = w.open_checkout(reveal=lambda parts: parts[-1] != MERCHANT)
    chain = wallet.close_checkout(
        w.agent,
        [oc],
        merchant_id=MERCHANT["id"],
        checkout_jwt=w.checkout_jwt,
        checkout_hash=w.checkout_hash,
        at=w.at,
    )
    return wallet.Presented(chain, w.human_present().payment_chain), {}


def _reference_elsewhere(w: World) -> tuple[wallet.Presented, dict[str, Any]]:
    p = w.not_present()
    other = w.open_checkout()
    op = w.open_payment(other)
    pay = wallet.close_payment(
        w.agent,
        [op],
        merchant=MERCHANT,
        checkout_hash=w.checkout_hash,
        amount=w.amount,
        currency="SGD",
        instrument=INSTRUMENT,
        at=w.at,
    )
    return wallet.Presented(p.checkout_chain, pay), {}


CASES = [
    Case(
        "malformed", lambda w: (wallet.Presented("not-a-chain", "x~~y"), {}), "invalid_credential"
    ),
    Case("untrusted root key", _untrusted_root, "invalid_credential"),
    Case("nothing trusted", lambda w: (w.human_present(), {"trusted": []}), "invalid_credential"),
    Case("bad signature", _bad_signature, "invalid_credential"),
    Case("edited disclosure", _edited_disclosure, "invalid_credential"),
    Case("wrong checkout hash", _wrong_checkout_hash, "invalid_mandate"),
    Case("cart changed after signing", _cart_changed, "invalid_mandate"),
    Case(
        "expired",
        lambda w: (w.human_present(), {"at_shift": timedelta(hours=1)}),
        "invalid_credential",
    ),
    Case(
        "issued in the future",
        lambda w: (w.human_present(), {"at_shift": -timedelta(hours=1)}),
        "invalid_credential",
    ),
    Case(
        "other merchant (aud)",
        lambda w: (w.human_present(), {"merchant_id": "mer_other"}),
        "invalid_credential",
    ),
    Case("other payee", _hp(merchant={"id": "mer_other", "name": "Other"}), "invalid_credential"),
    Case("amount is not the total", _hp(amount=100), "invalid_mandate"),
    Case("currency is not the checkout's", _hp(currency="USD"), "invalid_mandate"),
    Case("wrong nonce", _hp(checkout_hash="bm9wZQ"), "invalid_credential"),
    Case("intermediate hop: wrong aud", _intermediate(aud="mer_other"), "invalid_credential"),
    Case("intermediate hop: wrong nonce", _intermediate(nonce="c3RhbGU"), "invalid_credential"),
    Case("leaf typ says intermediate", _leaf_typ(TYP_INTERMEDIATE), "invalid_credential"),
    Case("leaf typ says root", _leaf_typ(TYP_ROOT), "invalid_credential"),
    Case("leaf not signed by cnf key", _leaf_by_stranger, "invalid_credential"),
    Case("leaf bound to another open mandate", _rebound, "invalid_credential"),
    Case("closed leaf delegates on", _leaf_with_cnf, "invalid_credential"),
    Case("wrong vct", _wrong_vct, "invalid_credential"),
    Case("open checkout vct in a payment chain", _open_vct_on_root, "invalid_credential"),
    Case(
        "unknown constraint",
        _hnp(payment_constraints=[{"type": "payment.loyalty_points", "max": 3}]),
        "unresolved_constraint",
    ),
    Case(
        "unreadable constraint",
        _hnp(payment_constraints=[{"type": "payment.amount_range", "max": "lots"}]),
        "unresolved_constraint",
    ),
    Case("line items not satisfied", _line_items_unsatisfied, "invalid_mandate"),
    Case("allowed merchant not revealed", _hidden_merchants, "invalid_mandate"),
    Case(
        "merchant not allowed",
        _hnp(
            checkout_constraints=[
                wallet.line_items_constraint([("r", [HEADPHONES], 2)]),
                wallet.allowed_merchants_constraint([{"id": "mer_other", "name": "Other"}]),
            ]
        ),
        "invalid_mandate",
    ),
    Case(
        "amount above range",
        _hnp(
            payment_constraints=[{"type": "payment.amount_range", "currency": "SGD", "max": 10_000}]
        ),
        "invalid_mandate",
    ),
    Case(
        "amount below range",
        _hnp(
            payment_constraints=[
                {"type": "payment.amount_range", "currency": "SGD", "max": 90_000, "min": 20_000}
            ]
        ),
        "invalid_mandate",
    ),
    Case(
        "range in another currency",
        _hnp(
            payment_constraints=[{"type": "payment.amount_range", "currency": "USD", "max": 90_000}]
        ),
        "invalid_mandate",
    ),
    Case(
        "budget exceeded",
        lambda w: (
            w.not_present(
                payment_constraints=[{"type": "payment.budget", "currency": "SGD", "max": 20_000}]
            ),
            {"usage": Usage(total_amount=5_000, uses=1)},
        ),
        "invalid_mandate",
    ),
    Case(
        "recurrence: too many occurrences",
        lambda w: (
            w.not_present(
                payment_constraints=[
                    {
                        "type": "payment.agent_recurrence",
                        "frequency": "ON_DEMAND",
                        "max_occurrences": 2,
                    }
                ]
            ),
            {"usage": Usage(uses=2)},
        ),
        "invalid_mandate",
    ),
    Case(
        "recurrence: too soon",
        lambda w: (
            w.not_present(
                payment_constraints=[{"type": "payment.agent_recurrence", "frequency": "MONTHLY"}]
            ),
            {"usage": Usage(uses=1, last_used_at=w.at - timedelta(days=20))},
        ),
        "invalid_mandate",
    ),
    Case(
        "payee not allowed",
        _hnp(
            payment_constraints=[
                {"type": "payment.allowed_payees", "allowed": [{"id": "mer_x", "name": "X"}]}
            ]
        ),
        "invalid_mandate",
    ),
    Case(
        "instrument not allowed",
        _hnp(
            payment_constraints=[
                {
                    "type": "payment.allowed_payment_instruments",
                    "allowed": [{"id": "spt_other", "type": "card"}],
                }
            ]
        ),
        "invalid_mandate",
    ),
    Case(
        "no PISP named",
        _hnp(
            payment_constraints=[
                {
                    "type": "payment.allowed_pisps",
                    "allowed": [{"legal_name": "P", "brand_name": "P", "domain_name": "p.example"}],
                }
            ]
        ),
        "invalid_mandate",
    ),
    Case(
        "execution window closed",
        _hnp(payment_constraints=[{"type": "payment.execution_date", "not_after": "2026-05-01"}]),
        "invalid_mandate",
    ),
    Case(
        "open mandate fixes another payee",
        _hnp(presets={"payee": {"id": "mer_x", "name": "X"}}),
        "invalid_mandate",
    ),
    Case(
        "open mandate fixes another amount",
        _hnp(presets={"payment_amount": {"amount": 1, "currency": "SGD"}}),
        "invalid_mandate",
    ),
    Case("payment.reference names another open checkout", _reference_elsewhere, "invalid_mandate"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_tampered_mandates_are_refused_with_the_spec_code(case: Case) -> None:
    w = World()
    presented, kwargs = case.build(w)
    with pytest.raises(MandateRejected) as info:
        verify(w, presented, **kwargs)
    assert info.value.code == case.code, info.value.message


def test_every_case_has_a_passing_twin() -> None:
    """The world the cases tamper with verifies untouched (so each case fails for its reason)."""
    w = World()
    verify(w, w.human_present())
    verify(w, w.not_present())
    verify(
        w,
        w.not_present(
            payment_constraints=[
                {"type": "payment.budget", "currency": "SGD", "max": 20_000},
                {"type": "payment.agent_recurrence", "frequency": "MONTHLY", "max_occurrences": 3},
            ]
        ),
        usage=Usage(total_amount=4_002, uses=2, last_used_at=w.at - timedelta(days=31)),
    )


# ----- tampering: any byte of the signed parts -----------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_changed_character_of_a_chain_is_refused(data: st.DataObject) -> None:
    w = World()
    p = w.not_present()
    field = data.draw(st.sampled_from(["checkout_chain", "payment_chain"]))
    text = getattr(p, field)
    pos = data.draw(st.integers(0, len(text) - 2))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    new = data.draw(st.sampled_from(alphabet).filter(lambda c: c != text[pos]))
    if text[pos] in "~.":
        new = "A"
    tampered = text[:pos] + new + text[pos + 1 :]
    presented = wallet.Presented(
        **{
            **{"checkout_chain": p.checkout_chain, "payment_chain": p.payment_chain},
            field: tampered,
        }
    )
    if _decoded(tampered) == _decoded(text):
        return  # base64url's last character carries unused bits: the bytes did not change
    with pytest.raises(MandateRejected) as info:
        verify(w, presented)
    assert info.value.code in ("invalid_credential", "invalid_mandate")


def _decoded(text: str) -> list[bytes] | None:
    try:
        return [b64url_decode(seg) for part in text.split("~") for seg in part.split(".") if seg]
    except SdJwtError:
        return None


# ----- line items max-flow -------------------------------------------------------------------


def _req(rid: str, ids: list[str], qty: int) -> LineItemRequirement:
    return LineItemRequirement(
        id=rid, acceptable_items=[{"id": i, "title": i} for i in ids], quantity=qty
    )


@pytest.mark.parametrize(
    ("requirements", "lines", "ok"),
    [
        ([_req("a", ["x"], 2)], [CartLine("x", 2)], True),
        ([_req("a", ["x"], 2)], [CartLine("x", 3)], False),  # an extra unit is not authorised
        ([_req("a", ["x"], 2)], [CartLine("x", 1)], False),
        ([_req("a", ["x", "y"], 2)], [CartLine("x", 1), CartLine("y", 1)], True),
        (
            [_req("a", ["x"], 1), _req("b", ["x", "y"], 1)],
            [CartLine("x", 1), CartLine("y", 1)],
            True,
        ),
        (
            [_req("a", ["x", "y"], 1), _req("b", ["x"], 1)],
            [CartLine("y", 1), CartLine("x", 1)],
            True,
        ),
        ([_req("a", ["x"], 1), _req("b", ["x"], 1)], [CartLine("x", 1), CartLine("y", 1)], False),
        ([_req("a", ["x"], 1)], [], False),
    ],
)
def test_line_items_max_flow(
    requirements: list[LineItemRequirement], lines: list[CartLine], ok: bool
) -> None:
    assert line_items_satisfied(requirements, lines) is ok


def _brute_force(requirements: list[LineItemRequirement], lines: list[CartLine]) -> bool:
    """Assign every cart unit to a requirement that accepts it, all ways."""
    units = [line.item_id for line in lines for _ in range(line.quantity)]
    if not units or len(units) != sum(r.quantity for r in requirements):
        return False
    for choice in itertools.product(range(len(requirements)), repeat=len(units)):
        counts = [0] * len(requirements)
        fine = True
        for unit, r in zip(units, choice, strict=True):
            if unit not in {a.id for a in requirements[r].acceptable_items}:
                fine = False
                break
            counts[r] += 1
        if fine and counts == [r.quantity for r in requirements]:
            return True
    return False


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.sets(st.sampled_from("xyz"), min_size=1), st.integers(1, 2)),
        min_size=1,
        max_size=3,
    ),
    st.lists(st.tuples(st.sampled_from("xyz"), st.integers(1, 2)), min_size=0, max_size=3),
)
def test_max_flow_agrees_with_brute_force(
    reqs: list[tuple[set[str], int]], cart: list[tuple[str, int]]
) -> None:
    requirements = [_req(f"r{i}", sorted(ids), q) for i, (ids, q) in enumerate(reqs)]
    lines = [CartLine(i, q) for i, q in cart]
    assert line_items_satisfied(requirements, lines) == _brute_force(requirements, lines)


def test_recurrence_calendar() -> None:
    w = World()
    jan31 = w.at.replace(month=1, day=31)
    assert next_allowed(jan31, "MONTHLY").day == 28
    assert next_allowed(jan31, "QUARTERLY").month == 4
    assert next_allowed(jan31, "BIWEEKLY") == jan31 + timedelta(days=14)
    assert next_allowed(jan31, "ON_DEMAND") == jan31


def test_open_checkout_vct_is_exact() -> None:
    assert VCT_CHECKOUT_OPEN == "mandate.checkout.open.1"


def test_the_handler_is_advertised_as_an_acp_payment_handler() -> None:
    from tests.tools.commerce.specs import assert_acp
    from tools.commerce.ap2.handler import HANDLER_ID, Ap2MandateHandler

    descriptor = Ap2MandateHandler(lambda: None).descriptor()  # type: ignore[arg-type,return-value]
    assert_acp("PaymentHandler", descriptor)
    assert descriptor["id"] == HANDLER_ID == "dev.ap2.mandate"
