"""Derive a new strategy version from the live one with named changes (cut-offs, knock-outs, …).

A merchant-financing strategy laid out like the shipped ``merchant-default`` has two decision
tables: ``knockouts`` (rules ``disputes`` and ``new``) and ``decide`` (rules ``prime``,
``standard``, ``refer``). Each named setting is one cell of one rule:

==========================  =========================================================
setting                     cell
==========================  =========================================================
``prime_cutoff``            ``decide/prime`` score condition ``>= N``
``approve_cutoff``          ``decide/standard`` score condition ``>= N`` (lowest approval)
``refer_floor``             ``decide/refer`` score condition ``>= N``
``max_dispute_rate``        ``knockouts/disputes`` condition ``> r`` (+ its reason text)
``min_tenure_months``       ``knockouts/new`` condition ``< m`` (+ its reason text)
``prime_limit_multiple``    ``decide/prime`` limit ``min(requested, round(revenue × k))``
``standard_limit_multiple`` ``decide/standard`` limit, likewise
``prime_apr``               ``decide/prime`` price (APR %)
``standard_apr``            ``decide/standard`` price (APR %)
==========================  =========================================================

:func:`derive` edits a deep copy of the live decision model, checks the cut-offs stay ordered
(refer ≤ approve ≤ prime), and **regenerates the embedded tests** from the resulting settings so
they pin the new boundaries (each cut-off at and just below it, each knock-out at and just past
it). A strategy whose tables are laid out differently is refused with a 422 naming the missing
rule: change it through the API instead.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cockpit.errors import ValidationFailed

_NUM = r"(-?\d+(?:\.\d+)?)"


@dataclass(frozen=True, slots=True)
class Setting:
    """One editable cell: where it lives and how it is read and written."""

    name: str
    label: str
    node: str
    rule: str
    column: str
    read: re.Pattern[str]
    unit: str = ""

    def show(self, value: float) -> str:
        if self.unit == "%":
            return f"{_fmt(value * 100)}%"
        if self.unit == "x":
            return f"{_fmt(value)}× monthly revenue"
        if self.unit == "apr":
            return f"{_fmt(value)}% APR"
        if self.unit == "months":
            return f"{_fmt(value)} months"
        return _fmt(value)


_LIMIT = re.compile(r"round\(applicant\.monthly_revenue(?:\s*\*\s*" + _NUM + r")?\)")

SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting(
            "prime_cutoff",
            "prime cut-off score",
            "decide",
            "prime",
            "i_s",
            re.compile(">= ?" + _NUM),
        ),
        Setting(
            "approve_cutoff",
            "approval cut-off score",
            "decide",
            "standard",
            "i_s",
            re.compile(">= ?" + _NUM),
        ),
        Setting(
            "refer_floor", "refer floor score", "decide", "refer", "i_s", re.compile(">= ?" + _NUM)
        ),
        Setting(
            "max_dispute_rate",
            "dispute-rate knock-out",
            "knockouts",
            "disputes",
            "k_disp",
            re.compile("> ?" + _NUM),
            "%",
        ),
        Setting(
            "min_tenure_months",
            "minimum tenure",
            "knockouts",
            "new",
            "k_ten",
            re.compile("< ?" + _NUM),
            "months",
        ),
        Setting("prime_limit_multiple", "prime limit", "decide", "prime", "o_l", _LIMIT, "x"),
        Setting(
            "standard_limit_multiple", "standard limit", "decide", "standard", "o_l", _LIMIT, "x"
        ),
        Setting("prime_apr", "prime price", "decide", "prime", "o_p", re.compile(_NUM), "apr"),
        Setting(
            "standard_apr", "standard price", "decide", "standard", "o_p", re.compile(_NUM), "apr"
        ),
    )
}
_INTEGER = frozenset({"prime_cutoff", "approve_cutoff", "refer_floor", "min_tenure_months"})


def _fmt(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def _rules(model: Mapping[str, Any], node_id: str) -> list[dict[str, Any]]:
    for node in model.get("nodes", []):
        if isinstance(node, dict) and node.get("id") == node_id:
            rules = node.get("content", {}).get("rules")
            if isinstance(rules, list):
                return rules
    raise ValidationFailed(
        f"the strategy has no decision table {node_id!r}; this tool edits strategies laid out "
        "like merchant-default — change this one through the API",
        code="strategy_not_editable",
        param="strategy",
    )


def _cell(model: Mapping[str, Any], setting: Setting) -> dict[str, Any]:
    for rule in _rules(model, setting.node):
        if rule.get("_id") == setting.rule and isinstance(rule.get(setting.column), str):
            return rule
    raise ValidationFailed(
        f"the strategy's {setting.node!r} table has no {setting.rule!r} rule with a "
        f"{setting.column!r} cell; this tool edits strategies laid out like merchant-default",
        code="strategy_not_editable",
        param="strategy",
    )


def read_settings(model: Mapping[str, Any]) -> dict[str, float]:
    """The current value of every setting (raises 422 if the layout is not the expected one)."""
    out: dict[str, float] = {}
    for name, setting in SETTINGS.items():
        text = str(_cell(model, setting)[setting.column])
        match = setting.read.search(text)
        if match is None:
            raise ValidationFailed(
                f"cannot read the {setting.label} from {text!r}",
                code="strategy_not_editable",
                param="strategy",
            )
        out[name] = float(match.group(1)) if match.group(1) is not None else 1.0
    return out


def _write(setting: Setting, value: float) -> str:
    if setting.column == "i_s":
        return f">= {int(value)}"
    if setting.column == "k_disp":
        return f"> {_fmt(value)}"
    if setting.column == "k_ten":
        return f"< {int(value)}"
    if setting.column == "o_l":
        return (
            f"min([applicant.requested_amount, round(applicant.monthly_revenue * {_fmt(value)})])"
        )
    return _fmt(value)


def _knockout_text(name: str, value: float) -> str:
    if name == "max_dispute_rate":
        return f"Dispute rate above {_fmt(value * 100)}%"
    return f"Less than {int(value)} months of processing history"


def _check(values: Mapping[str, float]) -> None:
    refer, approve, prime = values["refer_floor"], values["approve_cutoff"], values["prime_cutoff"]
    if not refer <= approve <= prime:
        raise ValidationFailed(
            f"cut-offs must stay ordered refer floor ≤ approval ≤ prime; this change gives "
            f"refer {int(refer)}, approval {int(approve)}, prime {int(prime)} — name the other "
            "cut-off(s) too",
            code="cutoffs_out_of_order",
            param="approve_cutoff",
        )
    if not 0 < values["max_dispute_rate"] < 1:
        raise ValidationFailed(
            "the dispute-rate knock-out must be between 0% and 100%",
            code="invalid_change",
            param="max_dispute_rate_pct",
        )


# ----- embedded tests --------------------------------------------------------------------------

_REVENUE = 30_000
_REQUESTED = 90_000


def _limit(multiple: float) -> int:
    return min(_REQUESTED, round(_REVENUE * multiple))


def _case(
    name: str, score: int, output: dict[str, Any], *, disputes: float, tenure: int
) -> dict[str, Any]:
    return {
        "name": name,
        "input": {
            "applicant": {
                "dispute_rate": disputes,
                "tenure_months": tenure,
                "monthly_revenue": _REVENUE,
                "requested_amount": _REQUESTED,
            },
            "score": score,
        },
        "output": output,
    }


def boundary_tests(v: Mapping[str, float]) -> list[dict[str, Any]]:
    """Tests that pin every boundary of the settings ``v`` (run by the strategy engine)."""
    prime, approve, refer = int(v["prime_cutoff"]), int(v["approve_cutoff"]), int(v["refer_floor"])
    ko, tenure_min = v["max_dispute_rate"], int(v["min_tenure_months"])
    low_disputes, long_tenure = round(ko / 2, 6), max(24, tenure_min + 12)

    def case(
        name: str,
        score: int,
        output: dict[str, Any],
        *,
        disputes: float = low_disputes,
        tenure: int = long_tenure,
    ) -> dict[str, Any]:
        return _case(name, score, output, disputes=disputes, tenure=tenure)

    def approved(tier: str) -> dict[str, Any]:
        multiple, apr = v[f"{tier}_limit_multiple"], v[f"{tier}_apr"]
        return {"decision": "approve", "limit": _limit(multiple), "price": apr}

    def knocked_out(setting: str, value: float) -> dict[str, Any]:
        text = _knockout_text(setting, value)
        return {"decision": "decline", "knockouts": [{"code": "CR99", "text": text}]}

    tests = [case(f"prime at the prime cut-off {prime}", prime, approved("prime"))]
    if approve < prime:
        tests.append(
            case(
                f"standard just below the prime cut-off ({prime - 1})",
                prime - 1,
                approved("standard"),
            )
        )
        tests.append(
            case(f"standard at the approval cut-off {approve}", approve, approved("standard"))
        )
    below = approve - 1
    below_outcome = "refer" if below >= refer else "decline"
    tests.append(
        case(
            f"just below the approval cut-off ({below}): {below_outcome}",
            below,
            {"decision": below_outcome, "limit": 0},
        )
    )
    if refer < approve:
        tests.append(case(f"refer at the refer floor {refer}", refer, {"decision": "refer"}))
    tests.append(
        case(f"decline below the refer floor ({refer - 1})", refer - 1, {"decision": "decline"})
    )
    pct = _fmt(ko * 100)
    tests.append(
        case(
            f"dispute rate at the {pct}% knock-out passes",
            prime,
            {"decision": "approve"},
            disputes=ko,
        )
    )
    over = min(round(ko + max(ko * 0.05, 0.0001), 6), 1.0)
    tests.append(
        case(
            f"dispute rate above the {pct}% knock-out declines at a prime score",
            prime,
            knocked_out("max_dispute_rate", ko),
            disputes=over,
        )
    )
    if tenure_min > 0:
        tests.append(
            case(
                f"{tenure_min} months of history passes the tenure knock-out",
                prime,
                {"decision": "approve"},
                tenure=tenure_min,
            )
        )
        tests.append(
            case(
                f"{tenure_min - 1} months of history is knocked out at a prime score",
                prime,
                knocked_out("min_tenure_months", tenure_min),
                tenure=tenure_min - 1,
            )
        )
    return tests


# ----- deriving a version ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Derived:
    """A new strategy document and what changed against its base."""

    body: dict[str, Any]
    changes: list[dict[str, Any]]
    """One entry per setting that changed: setting, label, from, to, text."""
    cells: list[dict[str, Any]]
    """The JDM cells rewritten: node, rule, column, from, to."""


def derive(base: Mapping[str, Any], changes: Mapping[str, float], *, base_label: str) -> Derived:
    """``base`` is a strategy document (name, description, scorecard, currency, decision_model)."""
    unknown = sorted(set(changes) - set(SETTINGS))
    if unknown:
        raise ValidationFailed(
            f"unknown setting(s): {', '.join(unknown)}", code="invalid_change", param=unknown[0]
        )
    if not changes:
        raise ValidationFailed(
            "name at least one change: " + ", ".join(s.label for s in SETTINGS.values()),
            code="no_changes",
            param="approve_cutoff",
        )
    model = copy.deepcopy(dict(base["decision_model"]))
    current = read_settings(model)
    wanted = {**current, **{k: round(float(v), 10) for k, v in changes.items()}}
    for name in _INTEGER & set(changes):
        if not float(changes[name]).is_integer():
            raise ValidationFailed(
                f"{SETTINGS[name].label} must be a whole number", code="invalid_change", param=name
            )
    _check(wanted)
    diff: list[dict[str, Any]] = []
    cells: list[dict[str, Any]] = []
    for name, setting in SETTINGS.items():
        old, new = current[name], wanted[name]
        if math.isclose(old, new, rel_tol=0, abs_tol=1e-12):
            continue
        diff.append(
            {
                "setting": name,
                "label": setting.label,
                "from": int(old) if name in _INTEGER else old,
                "to": int(new) if name in _INTEGER else new,
                "text": f"{setting.label} {setting.show(old)} → {setting.show(new)}",
            }
        )
        rule = _cell(model, setting)
        before, after = rule[setting.column], _write(setting, new)
        rule[setting.column] = after
        cells.append(
            {
                "node": setting.node,
                "rule": setting.rule,
                "column": setting.column,
                "from": before,
                "to": after,
            }
        )
        if setting.node == "knockouts":
            text = json.dumps(_knockout_text(name, new))
            cells.append(
                {
                    "node": setting.node,
                    "rule": setting.rule,
                    "column": "ko_text",
                    "from": rule.get("ko_text"),
                    "to": text,
                }
            )
            rule["ko_text"] = text
    if not diff:
        raise ValidationFailed(
            "every named setting already has that value in the live version; nothing to change",
            code="no_effective_change",
            param=next(iter(changes)),
        )
    model["tests"] = boundary_tests(wanted)
    body = {
        "name": base["name"],
        "description": f"Derived from {base_label}: " + "; ".join(d["text"] for d in diff),
        "scorecard": base["scorecard"],
        "currency": base.get("currency", "EUR"),
        "decision_model": model,
    }
    return Derived(body=body, changes=diff, cells=cells)


__all__ = ["SETTINGS", "Derived", "Setting", "boundary_tests", "derive", "read_settings"]
