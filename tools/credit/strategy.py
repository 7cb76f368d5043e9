"""A credit strategy: a scorecard plus a JDM decision model, compiled for the hot path.

The JDM receives ``{"applicant": {...}, "score": int, "pd": float}`` and must
return at least ``decision`` (approve / decline / refer); an approval also
returns ``limit`` (major units of the strategy currency) and ``price`` (APR
in percent). A collect table writing ``knockouts: [{"code", "text"}]`` records
policy knock-outs. The scorecard runs in Python from point tables first, then
zen-engine evaluates the rules: one decision is a few tens of microseconds.

Embedded tests live in ``decision_model.tests`` as ``{name, input, output}``:
``input`` is ``{"applicant": {...}}`` (scored by the card) or also carries
``score`` to test the rules alone; ``output`` must be a subset of the JDM
result (plus ``score``/``pd``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import zen
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cockpit.errors import CockpitError, ToolError, ValidationFailed
from tools.credit.data import POLICY_REASON
from tools.credit.jdm import build_engine, require_valid, summarise_trace, zen_error_message
from tools.credit.scorecard import MAX_REASONS, Reason, Scorecard

Outcome = Literal["approve", "decline", "refer"]
OUTCOMES: frozenset[str] = frozenset({"approve", "decline", "refer"})


class StrategyTest(BaseModel):
    """One embedded test case of a strategy."""

    model_config = ConfigDict(extra="forbid")
    name: str = ""
    input: dict[str, Any]
    output: dict[str, Any]


class StrategySpec(BaseModel):
    """What an analyst submits to create a strategy version (a trust boundary)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="Strategy slot, e.g. 'consumer-default'"
    )
    description: str = Field(default="", max_length=2000)
    scorecard: str = Field(
        description="Built-in scorecard the strategy scores with, e.g. 'german_credit'"
    )
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    decision_model: dict[str, Any] = Field(
        description="JDM graph with nodes, edges and embedded tests"
    )

    def tests(self) -> list[StrategyTest]:
        raw = self.decision_model.get("tests", [])
        if not isinstance(raw, list):
            raise ValidationFailed(
                "decision_model.tests must be a list",
                code="invalid_tests",
                param="decision_model.tests",
            )
        out: list[StrategyTest] = []
        for i, t in enumerate(raw):
            try:
                out.append(StrategyTest.model_validate(t))
            except ValidationError as exc:
                first = exc.errors()[0]
                raise ValidationFailed(
                    f"decision_model.tests[{i}]: {first['msg']} at {'.'.join(str(p) for p in first['loc']) or 'test'}",
                    code="invalid_tests",
                    param=f"decision_model.tests[{i}]",
                ) from None
        return out


def parse_spec(body: Any) -> StrategySpec:
    """Validate a raw strategy document, raising ``ValidationFailed`` that names the field."""
    try:
        spec = StrategySpec.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "strategy"
        raise ValidationFailed(
            f"{loc}: {first['msg']}", code="invalid_strategy", param=loc
        ) from None
    require_valid(spec.decision_model)
    spec.tests()
    return spec


@dataclass(slots=True)
class Decision:
    """The outcome of one application on one strategy version (treat as read-only).

    Not ``frozen``: a frozen dataclass pays ``object.__setattr__`` per field, and one
    is built per decision on the hot path.
    """

    outcome: str
    limit: float
    """Credit limit in major units of ``currency`` (0 unless approved)."""
    price: float | None
    """APR in percent (approvals only)."""
    currency: str
    score: int
    pd: float
    points: dict[str, int]
    reasons: tuple[Reason, ...]
    """Adverse-action reasons (policy knock-outs first, then score factors); empty on approval."""
    policy_codes: tuple[str, ...]
    strategy: str
    version_id: str
    trace: list[dict[str, Any]] | None = None
    result: dict[str, Any] = field(default_factory=dict, repr=False)
    """The raw JDM result (without the echoed applicant)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.outcome,
            "limit": self.limit,
            "price": self.price,
            "currency": self.currency,
            "score": self.score,
            "pd": round(self.pd, 6),
            "reasons": [r.to_dict() for r in self.reasons],
            "policy_codes": list(self.policy_codes),
            "strategy": self.strategy,
            "version_id": self.version_id,
        }


_FIELD_REF = re.compile(r"\bapplicant\b(\.[A-Za-z_][A-Za-z0-9_]*)?")


def referenced_fields(model: Mapping[str, Any]) -> tuple[str, ...] | None:
    """Applicant fields a decision model reads, or None if it uses ``applicant`` as a whole."""
    body = json.dumps({k: v for k, v in model.items() if k != "tests"})
    names: set[str] = set()
    for match in _FIELD_REF.finditer(body):
        if match.group(1) is None:
            return None
        names.add(match.group(1)[1:])
    return tuple(sorted(names))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True, slots=True)
class TestOutcome:
    name: str
    passed: bool
    message: str = ""
    actual: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TestReport:
    """Result of running a strategy's embedded tests."""

    passed: bool
    total: int
    failed: int
    results: tuple[TestOutcome, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "total": self.total,
            "failed": self.failed,
            "results": [
                {
                    "name": r.name,
                    "passed": r.passed,
                    "message": r.message,
                    **({"actual": r.actual} if not r.passed else {}),
                }
                for r in self.results
            ],
        }


def _matches(expected: Any, actual: Any) -> bool:
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            k in actual and _matches(v, actual[k]) for k, v in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(_matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if _number(expected) and _number(actual):
        return math.isclose(float(expected), float(actual), rel_tol=1e-9, abs_tol=1e-9)
    return bool(expected == actual)


class CompiledStrategy:
    """A strategy version ready to decide: scorecard tables + a zen engine. Immutable."""

    __slots__ = (
        "_engine",
        "_fields",
        "_key",
        "_names",
        "currency",
        "name",
        "scorecard",
        "spec",
        "tests",
        "version_id",
    )

    def __init__(self, version_id: str, spec: StrategySpec, scorecard: Scorecard) -> None:
        self.version_id = version_id
        self.spec = spec
        self.name = spec.name
        self.currency = spec.currency
        self.scorecard = scorecard
        self.tests = tuple(spec.tests())
        self._key = version_id
        self._engine: zen.ZenEngine = build_engine(version_id, spec.decision_model)
        # zen's cost grows with the context it converts in and echoes out, so the hot path
        # hands it only the applicant fields the model reads (None: it reads the whole object).
        self._fields = referenced_fields(spec.decision_model)
        self._names = scorecard.feature_names

    def _run_rules(
        self, context: dict[str, Any], trace: bool
    ) -> tuple[dict[str, Any], list[dict[str, Any]] | None]:
        try:
            if trace:
                response = self._engine.evaluate(self._key, context, {"trace": True})
                return response["result"], summarise_trace(response.get("trace") or {})
            return self._engine.evaluate(self._key, context)["result"], None
        except Exception as exc:  # zen raises bare RuntimeError / Exception
            raise ToolError(
                f"strategy {self.name} ({self.version_id}) failed: {zen_error_message(exc)}",
                code="strategy_failed",
            ) from None

    def _finish(
        self,
        result: dict[str, Any],
        *,
        score: int,
        pd: float,
        points: list[int] | None,
        trace: list[dict[str, Any]] | None,
    ) -> Decision:
        outcome = result.get("decision")
        if outcome not in OUTCOMES:
            raise ToolError(
                f"strategy {self.name} returned decision {outcome!r}; expected approve, decline or refer",
                code="strategy_output_invalid",
            )
        limit = result.get("limit", 0) or 0
        price = result.get("price")
        if outcome == "approve":
            if not _number(limit) or limit <= 0:
                raise ToolError(
                    f"strategy {self.name} approved without a positive limit (got {limit!r})",
                    code="strategy_output_invalid",
                )
            if price is None or not _number(price) or price < 0:
                raise ToolError(
                    f"strategy {self.name} approved without a price (got {price!r})",
                    code="strategy_output_invalid",
                )
        else:
            limit, price = 0, None
        knockouts = result.get("knockouts")
        policy: list[Reason] = []
        if knockouts and isinstance(knockouts, list):
            for k in knockouts:
                code = (k.get("code") if isinstance(k, Mapping) else k) or POLICY_REASON
                text = (k.get("text") if isinstance(k, Mapping) else None) or "Policy rule"
                policy.append(Reason(str(code), "policy", str(text), 0))
        reasons: tuple[Reason, ...] = ()
        if outcome != "approve":
            factors = self.scorecard.reasons(points) if points is not None else ()
            reasons = (*policy, *factors[: max(MAX_REASONS - len(policy), 0)])
        result.pop("applicant", None)
        return Decision(
            outcome,
            float(limit),
            None if price is None else float(price),
            self.currency,
            score,
            pd,
            dict(zip(self._names, points, strict=True)) if points is not None else {},
            reasons,
            tuple(r.code for r in policy),
            self.name,
            self.version_id,
            trace,
            result,
        )

    def decide(self, applicant: Any, *, trace: bool = False, validated: bool = False) -> Decision:
        """Score and decide one applicant. Raises ``ValidationFailed`` for bad input."""
        card = self.scorecard
        clean = applicant if validated else card.validate(applicant)
        points = card.points(clean)
        score = sum(points)
        pd = card.pd_from_score(score)
        fields = self._fields
        rules_view = clean if fields is None else {k: clean[k] for k in fields if k in clean}
        result, steps = self._run_rules({"applicant": rules_view, "score": score, "pd": pd}, trace)
        return self._finish(result, score=score, pd=pd, points=points, trace=steps)

    def run_tests(self) -> TestReport:
        """Run every embedded test; a strategy with none does not pass."""
        outcomes: list[TestOutcome] = []
        for i, test in enumerate(self.tests):
            name = test.name or f"test {i + 1}"
            try:
                decision = self._decide_test(test.input)
            except CockpitError as exc:
                outcomes.append(TestOutcome(name, False, f"{exc.code}: {exc.message}"))
                continue
            actual = {**decision.result, "score": decision.score, "pd": decision.pd}
            wrong = [
                k for k, v in test.output.items() if k not in actual or not _matches(v, actual[k])
            ]
            if wrong:
                detail = "; ".join(
                    f"{k}: expected {test.output[k]!r}, got {actual.get(k)!r}" for k in wrong
                )
                outcomes.append(
                    TestOutcome(name, False, detail, {k: actual.get(k) for k in test.output})
                )
            else:
                outcomes.append(TestOutcome(name, True))
        failed = sum(not o.passed for o in outcomes)
        if not outcomes:
            outcomes.append(
                TestOutcome(
                    "(none)", False, "strategy has no embedded tests in decision_model.tests"
                )
            )
            failed = 1
        return TestReport(
            passed=failed == 0, total=len(self.tests), failed=failed, results=tuple(outcomes)
        )

    def _decide_test(self, given: Mapping[str, Any]) -> Decision:
        applicant = given.get("applicant", {})
        if "score" not in given:
            return self.decide(applicant, trace=False)
        score = given["score"]
        if not _number(score):
            raise ValidationFailed(
                "test input score must be a number", code="invalid_tests", param="score"
            )
        clean = self.scorecard.validate(applicant, partial=True)
        pd = (
            float(given["pd"])
            if _number(given.get("pd"))
            else self.scorecard.pd_from_score(float(score))
        )
        context = {**given, "applicant": clean, "score": score, "pd": pd}
        result, _ = self._run_rules(context, False)
        return self._finish(result, score=int(score), pd=pd, points=None, trace=None)


__all__ = [
    "OUTCOMES",
    "CompiledStrategy",
    "Decision",
    "Outcome",
    "StrategySpec",
    "StrategyTest",
    "TestOutcome",
    "TestReport",
    "parse_spec",
]
