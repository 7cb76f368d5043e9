"""A safe template renderer for planner answers.

Templates come from agent specs and values come from tool results, so neither
is trusted. Unlike ``str.format`` this renderer never does attribute access,
never re-parses an inserted value as a template and never calls anything the
data provides. A placeholder is ``{path}`` or ``{path|filter:arg}``:

- ``path``: dotted keys into dicts (``payment.status``) or list indices
  (``items.0.id``); nothing else.
- filters: ``money[:currency_path]`` (integer minor units -> ``1,234.50 SGD``, decimals
  from the currency's ISO 4217 exponent: ``15,000 KRW``; a map keyed by currency, as balances
  are, in each key's own currency: ``SGD: available 1,234.50 SGD; KRW: available 15,000 KRW``;
  an amount object ``{"currency": "SGD", "value": "1200"}`` renders as ``12.00 SGD`` anywhere), ``major[:currency_path]`` (a sum
  already in major units, as credit tools return them: 20000.0 -> ``20,000.00 EUR``), ``pct`` (0.934 -> ``93.4%``),
  ``count`` (length), ``list[:key]`` (comma list, optionally of one key of each item),
  ``map:<key>`` (that key of each item, still a list), ``pairs:<key>,<key>``
  (``A (a), B (b)`` from two keys of each item), ``date`` (an ISO date or timestamp ->
  ``25 Nov 2026``; each item of a list), ``datetime`` (``25 Nov 2026, 14:05 UTC``),
  ``upper``, ``lower``, ``default:<text>`` (used when the value is missing or empty).

``{{`` and ``}}`` are literal braces. A missing value renders as ``n/a`` — which is why
a template should say what it knows in a *section*: ``{[ Authorised with code
{auth.code}.]}`` renders its text only when every placeholder inside has a value (a
``default`` counts as one), and nothing at all otherwise. Sections do not nest.
:func:`placeholder_findings` flags templates that would show a bare ``-``, ``n/a`` or
``none (-)`` instead of a sentence (run at spec load by ``PlannerSpec.template_findings``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from cockpit.planner.lexicon import currency_exponent

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_SECTION = re.compile(r"\{\[(.*?)\]\}", re.S)
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
_FILTERS = frozenset(
    {
        "money",
        "major",
        "pct",
        "count",
        "list",
        "map",
        "pairs",
        "date",
        "datetime",
        "upper",
        "lower",
        "default",
    }
)
#: Defaults that stand in for a sentence the answer should have said instead.
_PLACEHOLDER_DEFAULTS = frozenset({"-", "--", "—", "n/a", "na", "none (-)", "(-)", "?", ""})
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
        if name in ("money", "major") and sep and not _PATH.match(arg.strip()):
            raise TemplateError(f"{name} filter needs a field path, got {arg!r}")
        keys = [k.strip() for k in arg.split(",")]
        if name == "pairs" and (len(keys) != 2 or not all(_PATH.match(k) for k in keys)):
            raise TemplateError(f"pairs filter needs two field paths, got {arg!r}")
        if name == "map" and not (sep and _PATH.match(arg.strip())):
            raise TemplateError(f"map filter needs a field path, got {arg!r}")
        filters.append((name, arg if sep else None))
    return _Field(path=path, filters=tuple(filters))


def _fields(template: str) -> list[_Field]:
    fields: list[_Field] = []
    pieces = [m.group(1) for m in _SECTION.finditer(template)]
    pieces.append(_SECTION.sub("", template))
    for piece in pieces:
        for match in _PLACEHOLDER.finditer(piece):
            if match.group(1) is not None:
                fields.append(_parse_field(match.group(1)))
        stray = _PLACEHOLDER.sub("", piece)
        if "{" in stray or "}" in stray:
            raise TemplateError(
                "unbalanced brace in template (use {{ or }} for a literal brace; "
                "sections are {[ ... ]} and do not nest)"
            )
    return fields


def check_template(template: str) -> list[str]:
    """Validate ``template``; return the paths it reads. Raises :class:`TemplateError`."""
    return [f.path for f in _fields(template)]


def placeholder_findings(template: str) -> list[str]:
    """What in ``template`` would show the reader a placeholder instead of a sentence: a
    ``default`` of ``-``, ``n/a`` or ``none (-)``, or such a literal in the text."""
    found: list[str] = []
    for f in _fields(template):
        for name, arg in f.filters:
            if name == "default" and (arg or "").strip().lower() in _PLACEHOLDER_DEFAULTS:
                found.append(f"{{{f.path}|default:{arg}}} renders a bare placeholder")
    text = _PLACEHOLDER.sub(" ", _SECTION.sub(lambda m: m.group(1), template))
    if re.search(r"(?<![\w/])n/a(?![\w/])|none \(-\)", text, re.I):
        found.append("the text itself says n/a or none (-)")
    return found


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


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _as_datetime(value: Any) -> datetime | date | None:
    if isinstance(value, datetime | date):
        return value
    if not isinstance(value, str) or len(value) < 10:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text) if len(text) > 10 else date.fromisoformat(text)
    except ValueError:
        return None


def format_date(value: Any, *, with_time: bool = False) -> Any:
    """An ISO date or timestamp -> ``25 Nov 2026`` (``25 Nov 2026, 14:05 UTC`` with time);
    anything else is returned unchanged (a template never fails on odd data)."""
    moment = _as_datetime(value)
    if moment is None:
        return value
    day = f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"
    if not with_time or not isinstance(moment, datetime):
        return day
    zone = moment.tzname() or ""
    zone = "UTC" if zone in ("UTC", "UTC+00:00") else zone
    return f"{day}, {moment:%H:%M}" + (f" {zone}" if zone else "")


def scalar_text(value: Any) -> str:
    """A short, plain rendering of any JSON value."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:.4f}".rstrip("0").rstrip(".")
    elif isinstance(value, Mapping) and set(value) == {"currency", "value"}:
        # An amount object of the payments wire format ({"currency": "SGD", "value": "1200"}).
        text = format_minor(value["value"], value["currency"])
    elif isinstance(value, Mapping):
        text = ", ".join(f"{k}: {scalar_text(v)}" for k, v in value.items())
    elif isinstance(value, list | tuple):
        text = ", ".join(scalar_text(v) for v in value) if value else "none"
    else:
        text = str(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 1] + "…"
    return text


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple | Mapping) and not value)


def _money_by_currency(value: Mapping[str, Any]) -> str:
    """Minor units keyed by currency ({"SGD": {"available": 1200}, "KRW": 500}): each sum in
    its key's currency, so a per-currency map never shows raw minor units."""
    parts: list[str] = []
    for code, entry in value.items():
        if isinstance(entry, Mapping):
            sums = ", ".join(f"{key} {format_minor(v, code)}" for key, v in entry.items())
            parts.append(f"{code}: {sums}")
        else:
            parts.append(format_minor(entry, code))
    return "; ".join(parts)


def _apply(value: Any, name: str, arg: str | None, context: Mapping[str, Any]) -> Any:
    if name == "default":
        return arg if _empty(value) else value
    if value is None:
        return None
    if name == "map":
        if not isinstance(value, list | tuple):
            return value
        return [lookup(v, (arg or "").strip()) for v in value]
    if name in ("date", "datetime"):
        if isinstance(value, list | tuple):
            return [format_date(v, with_time=name == "datetime") for v in value]
        return format_date(value, with_time=name == "datetime")
    if name == "money":
        if isinstance(value, Mapping):
            return _money_by_currency(value)
        currency = lookup(context, arg.strip()) if arg else lookup(context, "currency")
        return format_minor(value, currency)
    if name == "major":  # a sum in major units (20000.0 EUR) -> 20,000.00 EUR
        currency = lookup(context, arg.strip()) if arg else lookup(context, "currency")
        code = str(currency or "").upper()
        try:
            minor = Decimal(str(value)).scaleb(currency_exponent(code) if code else 2)
        except (ArithmeticError, ValueError):
            return value
        return format_minor(int(minor.to_integral_value()), currency)
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


def _render_piece(piece: str, context: Mapping[str, Any]) -> tuple[str, bool]:
    """``piece`` rendered, and whether every placeholder in it had a value."""
    complete = True

    def replace(match: re.Match[str]) -> str:
        nonlocal complete
        token = match.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        field = _parse_field(match.group(1))
        value = lookup(context, field.path)
        # Missing is judged on the data, not on how a filter words it ("none" for []),
        # unless the template supplies its own words with default.
        missing = _empty(value)
        for name, arg in field.filters:
            if name == "default" and _empty(value):
                missing = False
            value = _apply(value, name, arg, context)
        if missing or _empty(value):
            complete = False
        return scalar_text(value)

    return _PLACEHOLDER.sub(replace, piece), complete


def _ends_blank(out: list[str]) -> bool:
    """Whether the text rendered so far is empty or ends in a space (an empty piece between
    two sections says nothing: "{[A]}{[B]} C" without B is "A C", not "AC")."""
    last = next((piece for piece in reversed(out) if piece), "")
    return last[-1:] in (" ", "\n", "")


def render(template: str, context: Mapping[str, Any]) -> str:
    """Render ``template`` with values from ``context`` (see the module docstring)."""
    out: list[str] = []
    position = 0
    dropped = False
    for section in _SECTION.finditer(template):
        piece = _render_piece(template[position : section.start()], context)[0]
        if dropped and piece[:1] in (" ", "\n") and _ends_blank(out):
            piece = piece[1:]  # "A {[B]} C" without B is "A C", not "A  C"
        out.append(piece)
        text, complete = _render_piece(section.group(1), context)
        dropped = not complete
        if complete:
            out.append(text)
        position = section.end()
    tail = _render_piece(template[position:], context)[0]
    if dropped and tail[:1] in (" ", "\n") and _ends_blank(out):
        tail = tail[1:]
    out.append(tail)
    return "".join(out).strip() if position else "".join(out)


__all__ = [
    "MISSING",
    "TemplateError",
    "check_template",
    "format_date",
    "format_minor",
    "lookup",
    "placeholder_findings",
    "render",
]
