"""A safe template renderer for planner answers.

Templates come from agent specs and values come from tool results, so neither
is trusted. Unlike ``str.format`` this renderer never does attribute access,
never re-parses an inserted value as a template and never calls anything the
data provides. A placeholder is ``{path}`` or ``{path|filter:arg}``:

- ``path``: dotted keys into dicts (``payment.status``) or list indices
  (``items.0.id``); nothing else.
- filters: ``money[:currency_path]`` (integer minor units -> ``12.34 USD``),
  ``pct`` (0.934 -> ``93.4%``), ``count`` (length), ``list[:key]`` (comma list,
  optionally of one key of each item), ``pairs:<key>,<key>`` (``A (a), B (b)`` from two
  keys of each item), ``upper``, ``lower``,
  ``default:<text>`` (used when the value is missing or empty).

``{{`` and ``}}`` are literal braces. A missing value renders as ``n/a``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cockpit.planner.lexicon import currency_exponent

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
_FILTERS = frozenset({"money", "pct", "count", "list", "pairs", "upper", "lower", "default"})
_MAX_VALUE_CHARS = 600
MISSING = "n/a"


class TemplateError(ValueError):
    """A template uses syntax the safe renderer does not allow."""


@dataclass(frozen=True, slots=True)
class _Field:
    path: str
    filters: tuple[tuple[str, str | None], ...]


def _parse_field(expr: str) -> _Field:
    parts = [p.strip() for p in expr.split("|")]
    path = parts[0]
    if not _PATH.match(path):
        raise TemplateError(f"invalid placeholder {{{expr}}}: use {{name}} or {{a.b}}")
    filters: list[tuple[str, str | None]] = []
    for part in parts[1:]:
        name, sep, arg = part.partition(":")
        name = name.strip()
        if name not in _FILTERS:
            raise TemplateError(f"unknown filter {name!r} in {{{expr}}}")
        if name == "money" and sep and not _PATH.match(arg.strip()):
            raise TemplateError(f"money filter needs a field path, got {arg!r}")
        keys = [k.strip() for k in arg.split(",")]
        if name == "pairs" and (len(keys) != 2 or not all(_PATH.match(k) for k in keys)):
            raise TemplateError(f"pairs filter needs two field paths, got {arg!r}")
        filters.append((name, arg if sep else None))
    return _Field(path=path, filters=tuple(filters))


def check_template(template: str) -> list[str]:
    """Validate ``template``; return the paths it reads. Raises :class:`TemplateError`."""
    paths: list[str] = []
    for match in _PLACEHOLDER.finditer(template):
        if match.group(1) is not None:
            paths.append(_parse_field(match.group(1)).path)
    stray = _PLACEHOLDER.sub("", template)
    if "{" in stray or "}" in stray:
        raise TemplateError("unbalanced brace in template (use {{ or }} for a literal brace)")
    return paths


def lookup(data: Any, path: str) -> Any:
    """Follow ``path`` through dict keys and list indices; ``None`` when absent."""
    current = data
    for key in path.split("."):
        if isinstance(current, Mapping):
            if key not in current:
                return None
            current = current[key]
        elif isinstance(current, list | tuple) and key.isdigit():
            index = int(key)
            if index >= len(current):
                return None
            current = current[index]
        else:
            return None
    return current


def format_minor(amount: Any, currency: Any) -> str:
    """Integer minor units + ISO code -> ``"12.34 USD"`` (exponent from the currency)."""
    try:
        minor = int(amount)
    except (TypeError, ValueError):
        return scalar_text(amount)
    code = str(currency or "").upper()
    exponent = currency_exponent(code) if code else 2
    value = Decimal(minor).scaleb(-exponent)
    text = f"{value:,.{exponent}f}"
    return f"{text} {code}".strip()


def scalar_text(value: Any) -> str:
    """A short, plain rendering of any JSON value."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".")
    elif isinstance(value, Mapping):
        text = ", ".join(f"{k}: {scalar_text(v)}" for k, v in value.items())
    elif isinstance(value, list | tuple):
        text = ", ".join(scalar_text(v) for v in value) if value else "none"
    else:
        text = str(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 1] + "…"
    return text


def _apply(value: Any, name: str, arg: str | None, context: Mapping[str, Any]) -> Any:
    if name == "default":
        return arg if value is None or value in ("", [], {}) else value
    if value is None:
        return None
    if name == "money":
        currency = lookup(context, arg.strip()) if arg else lookup(context, "currency")
        return format_minor(value, currency)
    if name == "pct":
        try:
            return f"{float(value) * 100:.1f}%"
        except (TypeError, ValueError):
            return value
    if name == "count":
        return len(value) if isinstance(value, list | tuple | Mapping) else value
    if name == "list":
        if not isinstance(value, list | tuple):
            return value
        items = [lookup(v, arg.strip()) if arg else v for v in value]
        return ", ".join(scalar_text(v) for v in items) if items else "none"
    if name == "pairs":
        if not isinstance(value, list | tuple):
            return value
        first, second = (k.strip() for k in (arg or ",").split(",", 1))
        shown = [
            f"{scalar_text(lookup(v, first))} ({scalar_text(lookup(v, second))})" for v in value
        ]
        return ", ".join(shown) if shown else "none"
    if name == "upper":
        return scalar_text(value).upper()
    if name == "lower":
        return scalar_text(value).lower()
    return value  # pragma: no cover - _parse_field admits only known filters


def render(template: str, context: Mapping[str, Any]) -> str:
    """Render ``template`` with values from ``context`` (see the module docstring)."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        field = _parse_field(match.group(1))
        value = lookup(context, field.path)
        for name, arg in field.filters:
            value = _apply(value, name, arg, context)
        return scalar_text(value)

    return _PLACEHOLDER.sub(replace, template)


__all__ = ["MISSING", "TemplateError", "check_template", "format_minor", "lookup", "render"]
