"""Strategies as JDM decision models: validation, embedded tests, decisions and reasons."""

from __future__ import annotations

from typing import Any

import pytest

from cockpit.errors import ToolError, ValidationFailed
from tools.credit.catalog import builtin_scorecard
from tools.credit.jdm import check_decision_model
from tools.credit.strategy import CompiledStrategy, parse_spec, referenced_fields


def node(spec: dict[str, Any], node_id: str) -> dict[str, Any]:
    return next(n for n in spec["decision_model"]["nodes"] if n["id"] == node_id)


def compile_spec(body: dict[str, Any], version_id: str = "v-test") -> CompiledStrategy:
    spec = parse_spec(body)
    return CompiledStrategy(version_id, spec, builtin_scorecard(spec.scorecard))


def test_shipped_strategies_pass_their_embedded_tests(
    consumer_spec: dict[str, Any], merchant_spec: dict[str, Any]
) -> None:
    for body in (consumer_spec, merchant_spec):
        report = compile_spec(body).run_tests()
        assert report.passed and report.failed == 0 and report.total >= 4


def test_a_wrong_expectation_fails_with_a_readable_message(consumer_spec: dict[str, Any]) -> None:
    consumer_spec["decision_model"]["tests"][0]["output"]["limit"] = 9999
    report = compile_spec(consumer_spec).run_tests()
    assert not report.passed and report.failed == 1
    bad = next(r for r in report.results if not r.passed)
    assert "limit: expected 9999, got 4000" in bad.message


def test_a_strategy_without_tests_does_not_pass(consumer_spec: dict[str, Any]) -> None:
    del consumer_spec["decision_model"]["tests"]
    report = compile_spec(consumer_spec).run_tests()
    assert not report.passed and "no embedded tests" in report.results[0].message


def _problems(doc: Any) -> list[str]:
    return check_decision_model(doc)


def test_malformed_models_are_rejected_with_the_place_named(consumer_spec: dict[str, Any]) -> None:
    dm = consumer_spec["decision_model"]
    assert _problems("nope") == ["decision_model must be a JSON object with nodes and edges"]
    assert "decision_model.nodes must be a non-empty list" in _problems({"nodes": [], "edges": []})

    cell = node(consumer_spec, "knockouts")["content"]["rules"][0]
    cell["k_age"] = ">= )"
    msgs = _problems(dm)
    assert any("Knock-out rules" in m and "rule 'minor'" in m and "'>= )'" in m for m in msgs), msgs
    cell["k_age"] = "< 18"

    node(consumer_spec, "decide")["content"]["rules"][1]["o_l"] = (
        "min([applicant.credit_amount, 15000"
    )
    assert any("rule 'prime' column 'o_l'" in m for m in _problems(dm))


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (
            lambda dm: dm["nodes"].append(
                {"id": "js", "type": "functionNode", "name": "js", "content": {}}
            ),
            "JavaScript",
        ),
        (
            lambda dm: dm["nodes"].append({"id": "x", "type": "fooNode", "name": "x"}),
            "unknown node type 'fooNode'",
        ),
        (
            lambda dm: dm["nodes"].append({"id": "input2", "type": "inputNode", "name": "in2"}),
            "exactly one inputNode",
        ),
        (
            lambda dm: dm["edges"].append(
                {"id": "ex", "sourceId": "decide", "targetId": "ghost", "type": "edge"}
            ),
            "targetId 'ghost' is not a node",
        ),
        (
            lambda dm: dm["edges"].append(
                {"id": "loop", "sourceId": "decide", "targetId": "knockouts", "type": "edge"}
            ),
            "cyclicGraph",
        ),
        (
            lambda dm: dm["nodes"][1]["content"].update(hitPolicy="sometimes"),
            "hitPolicy must be one of",
        ),
        (lambda dm: dm["nodes"].pop(), "needs an outputNode"),
    ],
)
def test_structural_problems_are_named(
    consumer_spec: dict[str, Any], mutate: Any, needle: str
) -> None:
    mutate(consumer_spec["decision_model"])
    with pytest.raises(ValidationFailed) as err:
        parse_spec(consumer_spec)
    assert err.value.code == "invalid_decision_model" and err.value.param == "decision_model"
    assert any(needle in p for p in err.value.details["problems"]), err.value.details


@pytest.mark.parametrize(
    ("patch", "param"),
    [
        ({"name": "Bad Name!"}, "name"),
        ({"currency": "euro"}, "currency"),
        ({"surprise": 1}, "surprise"),
        ({"decision_model": {"nodes": [], "edges": [], "tests": "x"}}, "decision_model"),
    ],
)
def test_bad_strategy_fields_are_rejected(
    consumer_spec: dict[str, Any], patch: dict[str, Any], param: str
) -> None:
    with pytest.raises(ValidationFailed) as err:
        parse_spec({**consumer_spec, **patch})
    assert err.value.param == param


def test_bad_test_cases_are_rejected(consumer_spec: dict[str, Any]) -> None:
    consumer_spec["decision_model"]["tests"].append({"input": {}})
    with pytest.raises(ValidationFailed) as err:
        parse_spec(consumer_spec)
    assert err.value.code == "invalid_tests" and "tests[8]" in (err.value.param or "")


def test_an_invalid_output_is_a_tool_error_not_a_crash(
    consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    for rule in node(consumer_spec, "decide")["content"]["rules"]:
        rule["o_d"] = '"maybe"'
    strat = compile_spec(consumer_spec)
    with pytest.raises(ToolError) as err:
        strat.decide(german_rows[0])
    assert err.value.code == "strategy_output_invalid" and "maybe" in err.value.message
    assert not strat.run_tests().passed


def test_decisions_carry_limits_prices_reasons_and_trace(
    consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    strat = compile_spec(consumer_spec)
    outcomes = {strat.decide(r).outcome for r in german_rows}
    assert outcomes == {"approve", "decline", "refer"}
    for row in german_rows[:200]:
        d = strat.decide(row, trace=True)
        if d.outcome == "approve":
            assert 0 < d.limit <= row["credit_amount"] and d.price is not None and d.reasons == ()
        else:
            assert d.limit == 0 and d.price is None and 1 <= len(d.reasons) <= 4
        assert d.trace is not None
        assert [s["node"] for s in d.trace] == ["input", "knockouts", "decide", "output"]
        fired = next(s for s in d.trace if s["node"] == "decide")["rules"]
        assert len(fired) == 1


def test_a_knockout_is_the_first_reason_and_score_factors_follow(
    consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    strat = compile_spec(consumer_spec)
    row = {**german_rows[0], "age_in_years": 16, "duration_in_month": 72}
    d = strat.decide(row)
    assert d.outcome == "decline"
    assert d.policy_codes == ("CR99", "CR99")
    assert [r.feature for r in d.reasons[:2]] == ["policy", "policy"]
    assert len(d.reasons) == 4 and all(r.feature != "policy" for r in d.reasons[2:])


def test_only_fields_the_model_reads_reach_the_engine(consumer_spec: dict[str, Any]) -> None:
    assert referenced_fields(consumer_spec["decision_model"]) == (
        "age_in_years",
        "credit_amount",
        "duration_in_month",
    )
    assert (
        referenced_fields({"nodes": [{"content": {"expressions": [{"value": "applicant"}]}}]})
        is None
    )


def test_missing_input_is_rejected_before_the_engine(
    consumer_spec: dict[str, Any], german_rows: list[dict[str, Any]]
) -> None:
    strat = compile_spec(consumer_spec)
    row = dict(german_rows[0])
    del row["credit_history"]
    with pytest.raises(ValidationFailed) as err:
        strat.decide(row)
    assert err.value.param == "applicant.credit_history"
