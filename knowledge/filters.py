"""Metadata filters for queries: validated once, applied to BM25 rows and Chroma ``where``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from cockpit.errors import ValidationFailed

#: Metadata keys a query may filter on (plus ``tags``).
FILTER_FIELDS = ("document_id", "source", "section", "title", "version", "doc_type", "untrusted")
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


def check_tags(tags: Sequence[str]) -> tuple[str, ...]:
    """Normalise and validate tags (lower-case, ≤ 20, each ≤ 40 chars)."""
    clean = tuple(dict.fromkeys(t.strip().lower() for t in tags if t.strip()))
    if len(clean) > 20 or not all(_TAG.match(t) for t in clean):
        raise ValidationFailed(
            "tags are up to 20 lower-case words of a–z, 0–9, '-' and '_' (≤ 40 chars)",
            code="invalid_tags",
            param="tags",
        )
    return clean


def compile_filters(filters: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    where: dict[str, Any] = {}
    tags: tuple[str, ...] = ()
    for key, value in filters.items():
        if key == "tags":
            tags = check_tags([value] if isinstance(value, str) else list(value))
        elif key in FILTER_FIELDS:
            if isinstance(value, list | tuple):
                if not value or not all(isinstance(v, str | int | bool) for v in value):
                    raise ValidationFailed(
                        f"filter {key!r} needs scalar values",
                        code="invalid_filter",
                        param=f"filters.{key}",
                    )
                where[key] = list(value)
            elif isinstance(value, str | int | bool):
                where[key] = value
            else:
                raise ValidationFailed(
                    f"filter {key!r} needs a scalar value",
                    code="invalid_filter",
                    param=f"filters.{key}",
                )
        else:
            raise ValidationFailed(
                f"unknown filter {key!r}; use {', '.join((*FILTER_FIELDS, 'tags'))}",
                code="invalid_filter",
                param=f"filters.{key}",
            )
    return where, tags


def matches(meta: Mapping[str, Any], where: Mapping[str, Any], tags: Sequence[str]) -> bool:
    for key, value in where.items():
        if isinstance(value, list):
            if meta.get(key) not in value:
                return False
        elif meta.get(key) != value:
            return False
    return all(meta.get(f"tag:{t}") is True for t in tags)


def chroma_where(where: Mapping[str, Any], tags: Sequence[str]) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = [
        {key: {"$in": value} if isinstance(value, list) else {"$eq": value}}
        for key, value in where.items()
    ]
    clauses.extend({f"tag:{t}": {"$eq": True}} for t in tags)
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


__all__ = ["FILTER_FIELDS", "check_tags", "chroma_where", "compile_filters", "matches"]
