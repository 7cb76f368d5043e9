"""pass^k arithmetic and the trajectory diagnostic."""

from __future__ import annotations

import pytest

from evals import mean_pass_hat_k, pass_hat_k
from evals.scoring import forbidden_hits, missing_facts, trajectory
from evals.task import Forbidden, GoldAction
from evals.transcript import ToolCall


@pytest.mark.parametrize(
    ("s", "n", "k", "expected"),
    [
        (4, 4, 1, 1.0),
        (4, 4, 4, 1.0),
        (3, 4, 1, 0.75),
        (3, 4, 4, 0.0),
        (3, 4, 2, 0.5),  # C(3,2)/C(4,2) = 3/6
        (2, 4, 2, 1 / 6),
        (0, 4, 1, 0.0),
        (5, 8, 4, 5 / 70),  # C(5,4)/C(8,4)
    ],
)
def test_pass_hat_k(s: int, n: int, k: int, expected: float) -> None:
    assert pass_hat_k(s, n, k) == pytest.approx(expected)


def test_pass_hat_k_needs_k_trials() -> None:
    with pytest.raises(ValueError):
        pass_hat_k(1, 2, 4)
    with pytest.raises(ValueError):
        pass_hat_k(3, 2, 1)


def test_mean_over_tasks() -> None:
    assert mean_pass_hat_k([(4, 4), (2, 4)], 1) == pytest.approx(0.75)
    assert mean_pass_hat_k([(4, 4), (3, 4)], 4) == pytest.approx(0.5)
    assert mean_pass_hat_k([(1, 2)], 4) is None


def _gold(*names: str) -> list[GoldAction]:
    return [GoldAction(tool=n, args={"x": 1}) for n in names]


def test_trajectory_kinds() -> None:
    a, b, c = (ToolCall(n, {"x": 1}) for n in "abc")
    exact = trajectory(_gold("a", "b"), [a, b])
    assert (exact.exact, exact.in_order, exact.any_order) == (True, True, True)
    extra = trajectory(_gold("a", "b"), [a, c, b])
    assert (extra.exact, extra.in_order, extra.any_order) == (False, True, True)
    swapped = trajectory(_gold("a", "b"), [b, a])
    assert (swapped.exact, swapped.in_order, swapped.any_order) == (False, False, True)
    wrong_args = trajectory(_gold("a"), [ToolCall("a", {"x": 2})])
    assert not wrong_args.any_order
    loose = GoldAction(tool="a", args={"x": 1}, match={"x": {"any": True}})
    assert trajectory([loose], [ToolCall("a", {"x": 2})]).exact


def test_forbidden_and_facts() -> None:
    calls = [ToolCall("payments_refund", {"amount": 15000}), ToolCall("payments_get_payment", {})]
    assert forbidden_hits([Forbidden(tool="payments_cancel")], calls) == []
    assert forbidden_hits(
        [Forbidden(tool="payments_refund", args={"amount": {"approx": 15000, "tol": 1}})], calls
    )
    assert missing_facts(["150.00 SGD", "approved"], ["Refund of 150.00 sgd"]) == ["approved"]
