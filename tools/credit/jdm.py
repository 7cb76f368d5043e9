"""JSON Decision Models (JDM, the zen-engine graph format): checks, errors, fast engines.

:func:`check_decision_model` finds every structural and expression problem in a
JDM document before zen-engine sees it and reports each one with where it is
(node, rule, column), so an analyst can fix a strategy from the message alone.
:func:`build_engine` then builds a ``ZenEngine`` with a static loader — the
fast path (~15 µs per evaluation) — never ``create_decision().evaluate()``.

JavaScript ``functionNode`` and nested ``decisionNode`` are refused: the first
is ~10× slower than tables and expressions, the second would need a loader
for sub-decisions that versions do not carry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import zen

from cockpit.errors import ValidationFailed

ALLOWED_NODES = {"inputNode", "outputNode", "decisionTableNode", "expressionNode", "switchNode"}
REFUSED_NODES = {
    "functionNode": "JavaScript function nodes are too slow for the decision path; use tables or expressions",
    "decisionNode": "sub-decision nodes are not supported; inline the logic",
    "customNode": "custom nodes are not supported",
}
HIT_POLICIES = {"first", "collect"}
_BACKTRACE = re.compile(r"\n\s*\n?Stack backtrace:.*", re.DOTALL)


def zen_error_message(exc: BaseException) -> str:
    """zen-engine's error text without its Rust backtrace, JSON payloads made readable."""
    text = _BACKTRACE.sub("", str(exc)).strip()
    try:
        payload = json.loads(text)
    except ValueError:
        return text.replace("\n\nCaused by:\n", ": ").replace("\n", " ").strip()
    if isinstance(payload, dict):
        kind = payload.get("type", "error")
        parts = [str(kind)]
        if payload.get("nodeId"):
            parts.append(f"in node {payload['nodeId']!r}")
        if payload.get("source"):
            parts.append(str(payload["source"]))
        return ": ".join(parts)
    return text


def _unary_problem(expr: str) -> str | None:
    try:
        zen.compile_unary_expression(expr)
    except Exception as exc:  # zen raises bare RuntimeError
        return zen_error_message(exc)
    return None


def _expr_problem(expr: str) -> str | None:
    problem = zen.validate_expression(expr)
    if problem:
        return f"{problem.get('type')}: {problem.get('source')}"
    return None


def _check_table(where: str, content: Mapping[str, Any], problems: list[str]) -> None:
    if content.get("hitPolicy") not in HIT_POLICIES:
        problems.append(
            f"{where}: hitPolicy must be one of {sorted(HIT_POLICIES)} (got {content.get('hitPolicy')!r})"
        )
    columns: dict[str, str] = {}
    for kind in ("inputs", "outputs"):
        cols = content.get(kind)
        if not isinstance(cols, list):
            problems.append(f"{where}: {kind} must be a list")
            continue
        for i, col in enumerate(cols):
            if not isinstance(col, Mapping) or not isinstance(col.get("id"), str):
                problems.append(f"{where}: {kind}[{i}] needs a string id")
                continue
            if kind == "outputs" and not col.get("field"):
                problems.append(
                    f"{where}: output column {col.get('name') or col['id']!r} needs a field"
                )
            if kind == "inputs" and col.get("field"):
                bad = _expr_problem(str(col["field"]))
                if bad:
                    problems.append(
                        f"{where}: input column {col.get('name') or col['id']!r} field {col['field']!r}: {bad}"
                    )
            columns[col["id"]] = kind
    rules = content.get("rules")
    if not isinstance(rules, list):
        problems.append(f"{where}: rules must be a list")
        return
    for i, rule in enumerate(rules):
        if not isinstance(rule, Mapping):
            problems.append(f"{where}: rules[{i}] must be an object")
            continue
        rid = rule.get("_id", i)
        for col_id, cell in rule.items():
            if col_id.startswith("_") or col_id not in columns:
                continue
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                continue
            if not isinstance(cell, str):
                problems.append(
                    f"{where}: rule {rid!r} column {col_id!r}: cell must be a string expression"
                )
                continue
            bad = _unary_problem(cell) if columns[col_id] == "inputs" else _expr_problem(cell)
            if bad:
                problems.append(f"{where}: rule {rid!r} column {col_id!r}: {cell!r}: {bad}")


def check_decision_model(doc: Any) -> list[str]:
    """Every problem found in a JDM document (empty list: it is well-formed)."""
    if not isinstance(doc, Mapping):
        return ["decision_model must be a JSON object with nodes and edges"]
    nodes, edges = doc.get("nodes"), doc.get("edges")
    problems: list[str] = []
    if not isinstance(nodes, list) or not nodes:
        problems.append("decision_model.nodes must be a non-empty list")
        nodes = []
    if not isinstance(edges, list):
        problems.append("decision_model.edges must be a list")
        edges = []
    ids: dict[str, str] = {}
    counts: dict[str, int] = {}
    switch_statements: dict[str, set[str]] = {}
    for i, node in enumerate(nodes):
        if not isinstance(node, Mapping):
            problems.append(f"nodes[{i}] must be an object")
            continue
        nid, ntype = node.get("id"), node.get("type")
        where = f"node {node.get('name') or nid!r} (nodes[{i}])"
        if not isinstance(nid, str) or not nid:
            problems.append(f"nodes[{i}] needs a string id")
            continue
        if nid in ids:
            problems.append(f"{where}: duplicate node id {nid!r}")
        ids[nid] = str(ntype)
        counts[str(ntype)] = counts.get(str(ntype), 0) + 1
        if ntype in REFUSED_NODES:
            problems.append(f"{where}: {REFUSED_NODES[str(ntype)]}")
            continue
        if ntype not in ALLOWED_NODES:
            problems.append(
                f"{where}: unknown node type {ntype!r}; use one of {sorted(ALLOWED_NODES)}"
            )
            continue
        content = node.get("content") or {}
        if not isinstance(content, Mapping):
            problems.append(f"{where}: content must be an object")
            continue
        if ntype == "decisionTableNode":
            _check_table(where, content, problems)
        elif ntype == "expressionNode":
            exprs = content.get("expressions")
            if not isinstance(exprs, list) or not exprs:
                problems.append(f"{where}: expressions must be a non-empty list")
                continue
            for e in exprs:
                if not isinstance(e, Mapping) or not e.get("key"):
                    problems.append(f"{where}: every expression needs a key and a value")
                    continue
                bad = _expr_problem(str(e.get("value", "")))
                if bad:
                    problems.append(f"{where}: expression {e['key']!r} = {e.get('value')!r}: {bad}")
        elif ntype == "switchNode":
            stmts = content.get("statements")
            if not isinstance(stmts, list) or not stmts:
                problems.append(f"{where}: statements must be a non-empty list")
                continue
            switch_statements[nid] = set()
            for s in stmts:
                if not isinstance(s, Mapping) or not s.get("id"):
                    problems.append(f"{where}: every statement needs an id")
                    continue
                switch_statements[nid].add(str(s["id"]))
                cond = s.get("condition") or ""
                if cond.strip() and not s.get("isDefault"):
                    bad = _expr_problem(cond)
                    if bad:
                        problems.append(f"{where}: statement {s['id']!r} condition {cond!r}: {bad}")
    if counts.get("inputNode", 0) != 1:
        problems.append(
            f"decision_model needs exactly one inputNode (found {counts.get('inputNode', 0)})"
        )
    if counts.get("outputNode", 0) < 1:
        problems.append("decision_model needs an outputNode")
    for i, edge in enumerate(edges):
        if not isinstance(edge, Mapping):
            problems.append(f"edges[{i}] must be an object")
            continue
        src, dst = edge.get("sourceId"), edge.get("targetId")
        for end, ref in (("sourceId", src), ("targetId", dst)):
            if ref not in ids:
                problems.append(f"edges[{i}] ({edge.get('id')!r}): {end} {ref!r} is not a node")
        handle = edge.get("sourceHandle")
        if handle and src in switch_statements and handle not in switch_statements[str(src)]:
            problems.append(
                f"edges[{i}] ({edge.get('id')!r}): sourceHandle {handle!r} is not a statement of {src!r}"
            )
    if not problems:
        try:
            body = {k: v for k, v in doc.items() if k != "tests"}
            zen.ZenEngine().create_decision(json.dumps(body)).validate()
        except Exception as exc:  # zen raises bare RuntimeError
            problems.append(f"decision graph rejected: {zen_error_message(exc)}")
    return problems


def require_valid(doc: Any, *, param: str = "decision_model") -> None:
    """Raise ``ValidationFailed`` listing every problem of a malformed JDM document."""
    problems = check_decision_model(doc)
    if problems:
        raise ValidationFailed(
            f"malformed decision model: {problems[0]}"
            + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""),
            code="invalid_decision_model",
            param=param,
            details={"problems": problems},
        )


def build_engine(key: str, doc: Mapping[str, Any]) -> zen.ZenEngine:
    """A zen engine serving ``doc`` under ``key`` from a static loader (the fast path)."""
    body = {k: v for k, v in doc.items() if k != "tests"}
    return zen.ZenEngine({"loader": {"type": "static", "content": {key: body}}})


def summarise_trace(trace: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Which nodes ran, in order, and which rules fired with the values they read."""
    steps: list[dict[str, Any]] = []
    for node_id, t in sorted(trace.items(), key=lambda kv: kv[1].get("order", 0)):
        step: dict[str, Any] = {"node": node_id, "name": t.get("name"), "order": t.get("order")}
        data = t.get("traceData")
        hits = data if isinstance(data, list) else [data] if isinstance(data, Mapping) else []
        fired = [h for h in hits if isinstance(h, Mapping) and "rule" in h]
        if fired:
            step["rules"] = [h["rule"].get("_id") for h in fired]
            step["read"] = fired[0].get("reference_map", {})
        elif isinstance(data, Mapping) and data:
            step["data"] = dict(data)
        steps.append(step)
    return steps


__all__ = [
    "ALLOWED_NODES",
    "build_engine",
    "check_decision_model",
    "require_valid",
    "summarise_trace",
    "zen_error_message",
]
