"""Applicant fields: what each one is, its allowed range, and the fast validator.

A :class:`FeatureSpec` describes one application field (numeric range or
category list, adverse-action reason code). :func:`validate_applicant` is on
the decision hot path, so it is plain Python over precomputed specs rather
than a pydantic model; it raises :class:`~cockpit.errors.ValidationFailed`
naming the first bad field and never returns a half-checked record.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cockpit.errors import ValidationFailed

Kind = Literal["numerical", "categorical"]


def _bound(value: float | None, missing: str) -> str:
    return missing if value is None else f"{value:g}"


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    """One applicant field and the values it may take."""

    name: str
    """Field name in the application (and column name in the data)."""
    kind: Kind
    """``numerical`` (a number in ``[minimum, maximum]``) or ``categorical`` (one of ``categories``)."""
    description: str
    """What the field means, in words an analyst understands."""
    minimum: float | None = None
    """Smallest allowed value (numerical only)."""
    maximum: float | None = None
    """Largest allowed value (numerical only)."""
    integer: bool = False
    """Numerical fields that must be whole numbers (months, counts)."""
    categories: tuple[str, ...] = ()
    """Allowed labels (categorical only)."""
    reason_code: str | None = None
    """Adverse-action code used when this field costs the applicant points."""
    reason_text: str = ""
    """Human sentence for the reason code."""
    protected: bool = False
    """A fairness-sensitive attribute the scorecard never uses (kept for slice reporting)."""
    _category_set: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_category_set", frozenset(self.categories))

    def check(self, value: Any, *, param_prefix: str = "applicant") -> float | str:
        """Return the value if allowed, else raise ``ValidationFailed`` naming the field."""
        param = f"{param_prefix}.{self.name}"
        if self.kind == "categorical":
            if isinstance(value, str) and value in self._category_set:
                return value
            shown = ", ".join(repr(c) for c in self.categories[:6])
            raise ValidationFailed(
                f"{self.name} must be one of: {shown}{' …' if len(self.categories) > 6 else ''}"
                f" (got {value!r})",
                code="invalid_category",
                param=param,
            )
        # bool is an int subclass; a True/False amount is never meant. numpy scalars are
        # numbers too (numbers ABCs) and become plain Python numbers for the rules engine.
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValidationFailed(
                f"{self.name} must be a number (got {type(value).__name__})",
                code="invalid_type",
                param=param,
            )
        number: float = int(value) if isinstance(value, numbers.Integral) else float(value)
        if not math.isfinite(number):
            raise ValidationFailed(f"{self.name} must be finite", code="out_of_range", param=param)
        if self.integer and number != int(number):
            raise ValidationFailed(
                f"{self.name} must be a whole number (got {number})",
                code="invalid_type",
                param=param,
            )
        if (self.minimum is not None and number < self.minimum) or (
            self.maximum is not None and number > self.maximum
        ):
            raise ValidationFailed(
                f"{self.name} must be between {_bound(self.minimum, '-inf')} and "
                f"{_bound(self.maximum, 'inf')} (got {number:g})",
                code="out_of_range",
                param=param,
            )
        return number

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "reason_code": self.reason_code,
            "reason_text": self.reason_text,
            "protected": self.protected,
        }
        if self.kind == "numerical":
            body.update(minimum=self.minimum, maximum=self.maximum, integer=self.integer)
        else:
            body["categories"] = list(self.categories)
        return body

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> FeatureSpec:
        return cls(
            name=str(body["name"]),
            kind=body["kind"],
            description=str(body.get("description", "")),
            minimum=body.get("minimum"),
            maximum=body.get("maximum"),
            integer=bool(body.get("integer", False)),
            categories=tuple(body.get("categories", ())),
            reason_code=body.get("reason_code"),
            reason_text=str(body.get("reason_text", "")),
            protected=bool(body.get("protected", False)),
        )


class ApplicantValidator:
    """A validator compiled from specs: one tuple per field, checks inlined for speed.

    The fast path only tests types and bounds; on any failure the field's
    :meth:`FeatureSpec.check` produces the precise error.
    """

    __slots__ = ("_cat", "_known", "_num", "_specs", "required")

    def __init__(
        self, specs: Sequence[FeatureSpec], *, required: frozenset[str] | None = None
    ) -> None:
        self.required = required if required is not None else frozenset(s.name for s in specs)
        self._specs = {s.name: s for s in specs}
        # Split by kind so each loop unpacks only what it needs.
        self._num = tuple(
            (
                s.name,
                -math.inf if s.minimum is None else s.minimum,
                math.inf if s.maximum is None else s.maximum,
                s.integer,
            )
            for s in specs
            if s.kind == "numerical"
        )
        self._cat = tuple((s.name, s._category_set) for s in specs if s.kind == "categorical")
        self._known = frozenset(self._specs)

    def _slow(self, name: str, value: Any, clean: dict[str, Any]) -> None:
        if value is None:
            if name in self.required:
                spec = self._specs[name]
                raise ValidationFailed(
                    f"missing field {name} ({spec.description})",
                    code="missing_field",
                    param=f"applicant.{name}",
                )
            return
        clean[name] = self._specs[name].check(value)  # raises with the exact problem

    def __call__(self, applicant: Any, *, allow_extra: bool = True) -> dict[str, Any]:
        if not isinstance(applicant, Mapping):
            raise ValidationFailed(
                "applicant must be an object", code="invalid_type", param="applicant"
            )
        clean: dict[str, Any] = {}
        get: Any = applicant.get  # values are untyped JSON until checked
        for name, lo, hi, integer in self._num:
            value = get(name)
            t = type(value)
            if (t is int or (t is float and not integer)) and lo <= value <= hi:
                clean[name] = value
            else:
                self._slow(name, value, clean)
        for name, cats in self._cat:
            value = get(name)
            if type(value) is str and value in cats:
                clean[name] = value
            else:
                self._slow(name, value, clean)
        if len(clean) != len(applicant):
            for key, value in applicant.items():
                if key in self._known:
                    continue
                if not isinstance(key, str):
                    raise ValidationFailed(
                        "field names must be strings", code="invalid_type", param="applicant"
                    )
                if not allow_extra:
                    raise ValidationFailed(
                        f"unknown field {key}", code="unknown_field", param=f"applicant.{key}"
                    )
                clean[key] = value
        return clean


def validate_applicant(
    specs: Sequence[FeatureSpec],
    applicant: Any,
    *,
    required: frozenset[str] | None = None,
    allow_extra: bool = True,
) -> dict[str, Any]:
    """Check ``applicant`` against ``specs`` and return a clean copy.

    Fields in ``required`` (default: every spec) must be present. Known fields that
    are present are always range-checked. Unknown extra fields are kept (strategies
    may read them) unless ``allow_extra`` is false.
    """
    return ApplicantValidator(specs, required=required)(applicant, allow_extra=allow_extra)


__all__ = ["ApplicantValidator", "FeatureSpec", "Kind", "validate_applicant"]
