"""Which kind of record an id names, so a tool refuses an id of the wrong kind.

Ids the platform issues carry a prefix per kind (``pay_…`` a payment, ``dsp_…`` a dispute).
A model, a planner or a person who copies the wrong id into an argument — a payment id where a
device id belongs — must get a clear 422 naming the argument, never a silent "not found" or,
worse, an action on something else (a block on a "device" that is really a payment id).

Two strengths of check, per kind:

- **strict** kinds are only ever issued by the platform, so every id of the kind carries one of
  its prefixes (a payment id is ``pay_…``; ``dsp_…`` or ``12345`` is not one);
- **open** kinds may be the merchant's own ids (customer, card, device ids sent to fraud
  scoring), so any id is accepted *unless* it carries another kind's prefix.

IP addresses are checked by shape instead: something written like an IPv4/IPv6 address, or
an opaque hex digest (callers may send a stable hash of the address instead of the address).

Domain packages add their kinds with :func:`register_id_kind`; the platform's own are below.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from cockpit.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class IdKind:
    name: str
    """What the merchant calls it: ``payment``, ``dispute``, ``device``."""
    prefixes: tuple[str, ...]
    """Prefixes marking an id of this kind (``pay_``)."""
    strict: bool = False
    """Every id of this kind carries one of ``prefixes`` (ids only the platform issues)."""


_KINDS: dict[str, IdKind] = {}
_LOCK = threading.Lock()
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{16,128}")
_ADDRESS_LIKE = re.compile(r"(?=.*[.:])[0-9a-fA-F.:]{2,64}")
"""Digits, dots and colons: an address, even one a simulator made up (``10.0.259.3``)."""


def register_id_kind(name: str, prefixes: tuple[str, ...], *, strict: bool = False) -> IdKind:
    """Declare a kind of id (idempotent for the same declaration)."""
    kind = IdKind(name, tuple(prefixes), strict)
    with _LOCK:
        existing = _KINDS.get(name)
        if existing is not None and existing != kind:
            raise ValueError(f"id kind {name!r} is already declared as {existing}")
        _KINDS[name] = kind
    return kind


for _name, _prefixes, _strict in (
    ("payment", ("pay_",), True),
    ("dispute", ("dsp_",), True),
    ("refund", ("ref_",), True),
    ("capture", ("cap_",), True),
    ("cancel", ("cnl_",), True),
    ("approval", ("apr_",), True),
    ("credit decision", ("cdec_",), True),
    ("credit deployment", ("cdep_",), True),
    ("strategy version", ("cstr_",), True),
    ("merchant", ("mer_",), False),
    ("customer", ("cus_",), False),
    ("card", ("card_",), False),
    ("device", ("dev_",), False),
):
    register_id_kind(_name, _prefixes, strict=_strict)


def kind_of(value: str) -> IdKind | None:
    """The kind whose prefix ``value`` carries (the longest match), or None."""
    best: tuple[int, IdKind] | None = None
    with _LOCK:
        kinds = list(_KINDS.values())
    for kind in kinds:
        for prefix in kind.prefixes:
            if value.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), kind)
    return None if best is None else best[1]


def _article(noun: str) -> str:
    return "an" if noun[:1] in "aeiou" else "a"


def _wrong(value: str, expected: str, found: IdKind | None, param: str, hint: str) -> None:
    """Raise: ``expected`` is the noun phrase wanted ("a device id", "an IP address")."""
    if found is not None:
        said = f"{value!r} is {_article(found.name)} {found.name} id, not {expected}"
    else:
        said = f"{value!r} is not {expected}"
    raise ValidationFailed(f"{param}: {said}{hint}", code="wrong_id_kind", param=param)


def check_id(value: str, expected: str, *, param: str) -> str:
    """``value`` if it can be an id of kind ``expected``; else 422 ``wrong_id_kind`` on
    ``param``, saying what the id is instead (``'pay_1' is a payment id, not a device id``)."""
    if expected == "ip":
        return check_ip(value, param=param)
    with _LOCK:
        kind = _KINDS.get(expected)
    if kind is None:
        raise ValueError(f"unknown id kind {expected!r}")
    found = kind_of(value)
    if found is not None and found.name == kind.name:
        return value
    hint = f" ({kind.name} ids start with {' or '.join(kind.prefixes)})" if kind.strict else ""
    if found is not None or kind.strict:
        _wrong(value, f"{_article(kind.name)} {kind.name} id", found, param, hint)
    return value


def check_ip(value: str, *, param: str) -> str:
    """An IP address (v4 or v6, or written like one), or a hex digest of one; else 422
    ``wrong_id_kind``."""
    if _ADDRESS_LIKE.fullmatch(value) or _HEX_DIGEST.fullmatch(value):
        return value
    _wrong(value, "an IP address", kind_of(value), param, " (IPv4 or IPv6)")
    return value  # unreachable: _wrong raises


__all__ = ["IdKind", "check_id", "check_ip", "kind_of", "register_id_kind"]
