"""Generate docs/partners/spec-reference.md from the AgentSpec model (and check it is current).

Every field of every model a spec is made of — name, type, default, constraints, the
docstring under the attribute, and an example — read from the pydantic models themselves.
Each example is validated against its model before it is written, and a field without a
docstring or an example stops the script: the reference cannot drift from the code.

    python scripts/spec_reference.py           # rewrite the file
    python scripts/spec_reference.py --check   # exit 1 when the file is stale
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import sys
import textwrap
import types
import typing
from enum import Enum
from pathlib import Path
from typing import Any

import annotated_types
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cockpit.planner.spec import (  # noqa: E402
    IntentSpec,
    ListSource,
    OfferSpec,
    PlannerSpec,
    RecordSource,
    SlotHint,
)
from cockpit.specs.spec import (  # noqa: E402
    AgentSpec,
    ApprovalRule,
    Guardrails,
    RateLimit,
    SuiteGate,
    ToolPolicy,
)

OUTPUT = ROOT / "docs" / "partners" / "spec-reference.md"
MODELS: tuple[type[BaseModel], ...] = (
    AgentSpec,
    ToolPolicy,
    ApprovalRule,
    RateLimit,
    Guardrails,
    SuiteGate,
    PlannerSpec,
    IntentSpec,
    SlotHint,
    OfferSpec,
    RecordSource,
    ListSource,
)
#: The smallest valid object of each model: examples are validated on top of it.
BASES: dict[str, dict[str, Any]] = {
    "AgentSpec": {
        "id": "acme-assistant",
        "name": "Acme Assistant",
        "description": "Quotes Acme's fees.",
        "instructions": "Be brief.",
    },
    "ToolPolicy": {"name": "payments_refund"},
    "RateLimit": {"calls": 10, "per_seconds": 60},
    "SuiteGate": {"suite": "acme-fees"},
    "IntentSpec": {"name": "fee_quote", "examples": ["fee on 120 SGD"], "tool": "acme_fee_quote"},
    "OfferSpec": {"intent": "submit_response"},
    "RecordSource": {"tool": "payments_get_payment", "id": "payment_id", "field": "deviceId"},
    "ListSource": {
        "tool": "payments_list_disputes",
        "items": "disputes",
        "id": "disputeId",
        "date": "defenseDueTime",
    },
}
#: One example value per field, as a partner would write it in YAML.
EXAMPLES: dict[str, dict[str, Any]] = {
    "AgentSpec": {
        "id": "acme-assistant",
        "name": "Acme Assistant",
        "description": "Quotes Acme's processing fees and answers questions on Acme's policies.",
        "instructions": "You help Acme's merchants. Quote fees with acme_fee_quote.",
        "model": "local:planner",
        "fallbacks": ["local:planner"],
        "tools": [{"name": "acme_fee_quote"}, {"name": "search_knowledge"}],
        "knowledge": ["acme-policies"],
        "handoffs": ["copilot"],
        "guardrails": {"max_tool_calls_per_turn": 4},
        "planner": {"intents": [{"name": "greet", "examples": ["hi"], "answer": "Hello!"}]},
        "evals": ["acme-fees", {"suite": "acme-refunds", "min_pass1": 0.9}],
        "roles": ["merchant"],
        "tags": ["fees", "acme"],
    },
    "ToolPolicy": {
        "name": "payments_refund",
        "max_amount": {"SGD": 50000},
        "approval": {"above": {"SGD": 10000}},
        "rate_limit": {"calls": 10, "per_seconds": 60},
    },
    "ApprovalRule": {"always": True, "above": {"SGD": 10000, "USD": 10000}, "four_eyes": True},
    "RateLimit": {"calls": 10, "per_seconds": 60},
    "Guardrails": {
        "redact_pii": True,
        "injection_screen": True,
        "max_tool_calls_per_turn": 4,
        "max_steps_per_turn": 8,
    },
    "SuiteGate": {"suite": "acme-fees", "min_pass1": 0.95, "min_passk": 0.9, "k": 4},
    "PlannerSpec": {
        "intents": [{"name": "greet", "examples": ["hi there"], "answer": "Hello!"}],
        "clarify_threshold": 0.4,
        "out_of_scope_threshold": 0.3,
        "scope_gap": 0.2,
        "ambiguity_margin": 0.05,
        "out_of_scope_examples": ["tell me a joke"],
        "clarify_template": "Did you want to {options}?",
        "out_of_scope_template": "I can only help you {capabilities}.",
        "missing_slot_template": "To {intent}, tell me {missing}.",
        "unavailable_template": "That is not something I can do for this key.",
        "handoff_template": "Passing you to {agent}.",
        "cancel_template": "Cancelled.",
        "greeting_template": "Hi! I can help you {capabilities}.",
        "thanks_template": "Any time.",
        "error_template": "That failed: {error}.",
        "approval_rejected_template": "Not approved; nothing changed.",
        "offer_declined_template": "OK, leaving it there.",
        "default_currency": "SGD",
        "affirmations": ["gas", "boleh"],
        "split_requests": False,
        "glossaries": ["tools.payments:planner_lexicon.yaml"],
    },
    "IntentSpec": {
        "name": "fee_quote",
        "description": "Quote Acme's fee on a payment amount",
        "examples": ["what fee does acme charge on 120 SGD", "fees on a 45 USD payment"],
        "tool": "acme_fee_quote",
        "handoff": "copilot",
        "answer": "I can quote fees and explain Acme's policies.",
        "slots": {"amount": {"prompt": "the amount and its currency"}},
        "responses": {"ok": "Acme's fee is {fee|money:currency}.", "error": "{error}"},
        "min_margin": 0.1,
        "offer": {"intent": "fee_quote"},
        "each": "payment_id",
        "cues": ["\\bafter fees\\b"],
    },
    "SlotHint": {
        "kind": "amount",
        "pattern": "pay_[A-Za-z0-9]+",
        "synonyms": {"open": ["pending", "unresolved"]},
        "prompt": "Which payment?",
        "default": 3,
        "required": True,
        "default_currency": "SGD",
        "from_result": "payments_search.payments.0.paymentId",
        "from_record": {
            "tool": "payments_get_payment",
            "id": "payment_id",
            "field": "deviceId",
        },
        "from_list": {
            "tool": "payments_list_disputes",
            "items": "disputes",
            "id": "disputeId",
            "date": "defenseDueTime",
        },
        "by_shape": {"id": {"device": "^dev_"}},
    },
    "OfferSpec": {"intent": "submit_response", "outcomes": ["ok"]},
    "RecordSource": {
        "tool": "payments_get_payment",
        "id": "payment_id",
        "field": "paymentAmount.currency",
        "arg": "payment_id",
        "when": "missing",
    },
    "ListSource": {
        "tool": "payments_list_disputes",
        "args": {"status": "NEEDS_RESPONSE"},
        "items": "disputes",
        "id": "disputeId",
        "date": "defenseDueTime",
    },
}
#: Fields whose examples cannot stand next to the base object's (one intent action only).
EXCLUSIVE = {"IntentSpec": ("tool", "handoff", "answer")}


def field_docs(cls: type) -> dict[str, str]:
    """The docstring under each annotated attribute of ``cls`` (and its bases)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass in (object, BaseModel) or not issubclass(klass, BaseModel):
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
        body = tree.body[0].body  # type: ignore[attr-defined]
        for node, nxt in zip(body, [*body[1:], None], strict=True):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr)
                and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)
            ):
                docs[node.target.id] = inspect.cleandoc(nxt.value.value)
    return docs


def _rst_to_md(text: str) -> str:
    """``literal`` → `literal`, :class:`X` → X; paragraphs joined into one line."""
    out = text.replace("``", "`")
    for role in (":class:", ":func:", ":mod:", ":attr:"):
        while role in out:
            start = out.index(role)
            end = out.index("`", start + len(role) + 1)
            name = out[start + len(role) + 1 : end].lstrip("~")
            shown = f"`{name}`" if role == ":mod:" else name.rsplit(".", 1)[-1]
            out = out[:start] + shown + out[end + 1 :]
    return " ".join(out.split()).replace("|", "\\|")


def type_name(ann: Any) -> str:
    """A readable type: ``list[ToolPolicy]``, ``dict[str, int]``, ``"a" | "b"``."""
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin is typing.Literal:
        return " \\| ".join(json.dumps(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(type_name(a) for a in args)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is not None:
        inner = ", ".join(type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if ann is type(None):
        return "null"
    if isinstance(ann, type) and issubclass(ann, Enum):
        return " \\| ".join(json.dumps(m.value) for m in ann)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return f"[{ann.__name__}](#{ann.__name__.lower()})"
    if ann is typing.Any:
        return "any"
    return getattr(ann, "__name__", str(ann))


def _inline(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10_000)
    text = text.strip().removesuffix("...").strip()
    return "`" + text.replace("|", "\\|") + "`"


def default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "**required**"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "all defaults"
    value = json.loads(json.dumps(value, default=lambda v: getattr(v, "value", str(v))))
    if isinstance(value, list) and len(json.dumps(value)) > 60:
        return f"{len(value)} built-in items"
    return _inline(value)


def constraints(field: FieldInfo) -> str:
    unit = "characters" if field.annotation is str else "items"
    marks = []
    for m in field.metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            if isinstance(m, getattr(annotated_types, attr.capitalize())):
                marks.append(f"{sign} {getattr(m, attr)}")
        if isinstance(m, annotated_types.MinLen):
            marks.append(f"at least {m.min_length} {unit}")
        if isinstance(m, annotated_types.MaxLen):
            marks.append(f"at most {m.max_length} {unit}")
        pattern = getattr(m, "pattern", None)
        if isinstance(pattern, str):
            marks.append(f"matches `{pattern}`")
    return "; ".join(marks)


def checked_example(model: type[BaseModel], name: str) -> Any:
    """The field's example, after checking that the model accepts it."""
    examples = EXAMPLES.get(model.__name__, {})
    if name not in examples:
        raise SystemExit(f"{model.__name__}.{name}: no example in scripts/spec_reference.py")
    base = dict(BASES.get(model.__name__, {}))
    if name in EXCLUSIVE.get(model.__name__, ()):
        for other in EXCLUSIVE[model.__name__]:
            base.pop(other, None)
    value = examples[name]
    model.model_validate({**base, name: value})
    return value


def render() -> str:
    lines = [
        "# Agent spec reference",
        "",
        "<!-- Generated by scripts/spec_reference.py from the AgentSpec model: do not edit. -->",
        "",
        "An agent is one YAML (or JSON) document, sent to `POST /v1/agents` (stored as a new",
        "immutable version) or `POST /v1/agents/validate` (checked, every error listed, nothing",
        "stored). Unknown fields are errors; an error names the field (`tools.2.name`). A complete",
        "spec is [examples/partner-tool/agent/agent.yaml](../../examples/partner-tool/agent/agent.yaml);",
        "the guides are [your first agent](first-agent.md) and [your first tool](first-tool.md).",
        "",
        "References are checked against what exists for your tenant: `tools` against the tool",
        "registry (`GET /v1/tools`), `handoffs` against your agents and the built-in ones,",
        "`knowledge` against your collections and the built-in `cockpit-docs`; a name that does",
        'not exist is refused with a "did you mean".',
        "",
        "Amounts are integers in minor units (cents) keyed by ISO 4217 currency.",
        "",
        "## Contents",
        "",
        *(f"- [{m.__name__}](#{m.__name__.lower()})" for m in MODELS),
        "",
    ]
    for model in MODELS:
        docs = field_docs(model)
        lines += [f"## {model.__name__}", ""]
        if model.__doc__:
            lines += [_rst_to_md(inspect.cleandoc(model.__doc__)), ""]
        lines += [
            "| field | type | default | description | example |",
            "|---|---|---|---|---|",
        ]
        for name, field in model.model_fields.items():
            doc = docs.get(name)
            if not doc:
                raise SystemExit(f"{model.__name__}.{name}: no docstring under the attribute")
            limits = constraints(field)
            description = _rst_to_md(doc) + (f" ({limits})" if limits else "")
            example = "`" + f"{name}: " + _inline(checked_example(model, name))[1:]
            lines.append(
                f"| `{name}` | {type_name(field.annotation)} | {default_text(field)} "
                f"| {description} | {example} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(
                f"{args.output} is stale: run python scripts/spec_reference.py",
                file=sys.stderr,
            )
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
