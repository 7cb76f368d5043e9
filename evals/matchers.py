"""Argument matchers for gold and forbidden actions: exact, ``{any: true}``, regex, tolerance.

A matcher is written in YAML as a literal (exact match, numbers compared as numbers) or as a
one-key mapping: ``{any: true}``, ``{regex: "^pay_"}``, ``{approx: 120.0, tol: 0.5}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MATCHER_KEYS = frozenset({"any", "regex", "approx"})


@dataclass(frozen=True, slots=True)
class Matcher:
    """One argument expectation."""

    kind: str
    """``exact`` | ``any`` | ``regex`` | ``approx``."""
    value: Any = None
    tol: float = 0.0

    def __call__(self, actual: Any) -> bool:
        if self.kind == "any":
            return True
        if self.kind == "regex":
            return actual is not None and re.search(str(self.value), str(actual)) is not None
        if self.kind == "approx":
            try:
                return abs(float(actual) - float(self.value)) <= self.tol
            except (TypeError, ValueError):
                return False
        return _equal(self.value, actual)

    def describe(self) -> str:
        if self.kind == "exact":
            return repr(self.value)
        if self.kind == "approx":
            return f"≈{self.value}±{self.tol}"
        return f"{self.kind}:{self.value}" if self.kind != "any" else "any"


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual or expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return float(expected) == float(actual)
    if isinstance(expected, str) and isinstance(actual, str):
        return expected.strip().casefold() == actual.strip().casefold()
    return bool(expected == actual)


def is_matcher_spec(raw: Any) -> bool:
    return (
        isinstance(raw, dict) and len(raw.keys() - {"tol"}) == 1 and bool(raw.keys() & MATCHER_KEYS)
    )


def parse_matcher(raw: Any) -> Matcher:
    """The matcher a YAML value stands for (a bad one raises ``ValueError`` naming the key)."""
    if not is_matcher_spec(raw):
        return Matcher("exact", raw)
    if "any" in raw:
        if raw["any"] is not True:
            raise ValueError("matcher 'any' takes true")
        return Matcher("any")
    if "regex" in raw:
        try:
            re.compile(str(raw["regex"]))
        except re.error as exc:
            raise ValueError(f"matcher 'regex' is not a valid pattern: {exc}") from None
        return Matcher("regex", str(raw["regex"]))
    value, tol = raw["approx"], raw.get("tol", 0)
    if not isinstance(value, int | float) or not isinstance(tol, int | float):
        raise ValueError("matcher 'approx' takes a number and a numeric 'tol'")
    return Matcher("approx", float(value), float(tol))


def args_match(expected: dict[str, Matcher], actual: dict[str, Any]) -> bool:
    """Every expected argument matches (arguments not named are free)."""
    return all(m(actual.get(name)) for name, m in expected.items())


__all__ = ["Matcher", "args_match", "is_matcher_spec", "parse_matcher"]
