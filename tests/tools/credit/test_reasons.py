"""Adverse-action reasons name the characteristics with the largest point losses."""

from __future__ import annotations

import math
from typing import Any

from tools.credit.scorecard import MAX_REASONS, Scorecard


def _best_bin_value(card: Scorecard, name: str, *, worst: bool = False) -> Any:
    f = next(f for f in card.features if f.name == name)
    pts = [b.points for b in f.bins]
    target = pts.index(min(pts) if worst else max(pts))
    if f.kind == "categorical":
        return next(c for c, i in f.category_bins.items() if i == target)
    edges = [-1e18, *f.splits, 1e18]
    lo, hi = edges[target], edges[target + 1]
    value = lo if lo > -1e18 else hi - 1
    spec = next(s for s in card.specs if s.name == name)
    value = max(value, spec.minimum or value)
    return math.ceil(value) if spec.integer else value


def _ideal(card: Scorecard, base: dict[str, Any]) -> dict[str, Any]:
    return {**base, **{f.name: _best_bin_value(card, f.name) for f in card.features}}


def test_reasons_are_the_largest_point_losses_for_every_applicant(
    german_card: Scorecard, german_rows: list[dict[str, Any]]
) -> None:
    best = {f.name: f.max_points for f in german_card.features}
    codes = {f.name: f.reason_code for f in german_card.features}
    for row in german_rows:
        result = german_card.evaluate(row)
        losses = sorted(
            ((best[k] - v, k) for k, v in result.points.items() if best[k] > v), key=lambda t: -t[0]
        )
        expected_top = losses[:MAX_REASONS]
        got = [(r.points_lost, r.feature) for r in result.reasons]
        assert [n for n, _ in got] == [n for n, _ in expected_top]
        # Ties may order either way; the losses named must be the top ones.
        cutoff = expected_top[-1][0] if expected_top else 0
        assert all(best[f] - result.points[f] >= cutoff for _, f in got)
        assert all(r.code == codes[r.feature] for r in result.reasons)


def test_a_perfect_applicant_has_no_reasons(
    german_card: Scorecard, german_rows: list[dict[str, Any]]
) -> None:
    ideal = german_card.validate(_ideal(german_card, german_rows[0]))
    result = german_card.evaluate(ideal)
    assert result.reasons == ()
    assert result.score == sum(f.max_points for f in german_card.features)


def test_when_one_field_lowers_the_score_it_is_the_reason_and_the_loss_is_the_drop(
    german_card: Scorecard, german_rows: list[dict[str, Any]]
) -> None:
    ideal = german_card.validate(_ideal(german_card, german_rows[0]))
    top = german_card.evaluate(ideal).score
    for f in german_card.features:
        worse = german_card.validate(
            {**ideal, f.name: _best_bin_value(german_card, f.name, worst=True)}
        )
        result = german_card.evaluate(worse)
        drop = top - result.score
        assert drop == f.max_points - f.min_points > 0
        assert [(r.feature, r.points_lost) for r in result.reasons] == [(f.name, drop)]


def test_two_fields_are_ranked_by_how_much_each_cost(
    german_card: Scorecard, german_rows: list[dict[str, Any]]
) -> None:
    ideal = german_card.validate(_ideal(german_card, german_rows[0]))
    spans = sorted(
        ((f.max_points - f.min_points, f.name) for f in german_card.features), reverse=True
    )
    (big, big_name), (small, small_name) = spans[0], spans[-1]
    worse = german_card.validate(
        {
            **ideal,
            big_name: _best_bin_value(german_card, big_name, worst=True),
            small_name: _best_bin_value(german_card, small_name, worst=True),
        }
    )
    result = german_card.evaluate(worse)
    assert [r.feature for r in result.reasons] == [big_name, small_name]
    assert [r.points_lost for r in result.reasons] == [big, small]
