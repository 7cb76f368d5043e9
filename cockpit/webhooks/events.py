"""The catalogue of webhook event types: the one place a type is declared.

Endpoints subscribe to names from this catalogue (or ``*``), ``enqueue`` refuses a name that
is not in it (a typo would otherwise queue events nobody can subscribe to), and
``GET /v1/webhooks/event-types`` lists it. Core types are declared here; another package adds
its own with :func:`register_event_type` when it is imported.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from cockpit.errors import ValidationFailed

WILDCARD = "*"
"""Subscribes an endpoint to every event type, present and future."""
_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    """Dotted, lower case: ``<resource>.<what happened>`` (``run.completed``)."""
    description: str
    """What happened, and what ``data`` holds (shown in the catalogue)."""


_TYPES: dict[str, EventType] = {}
_LOCK = threading.Lock()


def register_event_type(name: str, description: str) -> EventType:
    """Declare an event type (idempotent for the same declaration)."""
    if not _NAME.match(name):
        raise ValueError(f"event type {name!r} must be dotted lower case, like 'run.completed'")
    event = EventType(name, description)
    with _LOCK:
        existing = _TYPES.get(name)
        if existing is not None and existing != event:
            raise ValueError(f"event type {name!r} is already declared differently")
        _TYPES[name] = event
    return event


def event_types() -> list[EventType]:
    """Every declared type, by name."""
    with _LOCK:
        return sorted(_TYPES.values(), key=lambda e: e.name)


def is_known(name: str) -> bool:
    with _LOCK:
        return name in _TYPES


def check_subscriptions(names: list[str], *, param: str = "event_types") -> list[str]:
    """``names`` without duplicates if each is declared (or is ``*``), else 422 naming one."""
    if not names:
        raise ValidationFailed(
            f"{param}: name at least one event type, or '*' for all",
            code="no_event_types",
            param=param,
        )
    for index, name in enumerate(names):
        if name != WILDCARD and not is_known(name):
            known = ", ".join(e.name for e in event_types())
            raise ValidationFailed(
                f"{param}[{index}]: unknown event type {name!r} (known: {known}, or '*')",
                code="unknown_event_type",
                param=f"{param}[{index}]",
            )
    unique = list(dict.fromkeys(names))
    return [WILDCARD] if WILDCARD in unique else unique


def subscribed(subscriptions: list[str], event_type: str) -> bool:
    return WILDCARD in subscriptions or event_type in subscriptions


MONITOR_FINDING = register_event_type(
    "monitor.finding",
    "A proactive monitor found something a merchant should act on; data is the finding.",
)
RUN_COMPLETED = register_event_type(
    "run.completed",
    "A run ended (success, error, interrupted or cancelled); data is the run. Sent to the "
    "webhook URL the run was created with.",
)
WEBHOOK_TEST = register_event_type(
    "webhook.test",
    "Sent by POST /v1/webhooks/endpoints/{id}/test to check a receiver; data names the endpoint.",
)

__all__ = [
    "MONITOR_FINDING",
    "RUN_COMPLETED",
    "WEBHOOK_TEST",
    "WILDCARD",
    "EventType",
    "check_subscriptions",
    "event_types",
    "is_known",
    "register_event_type",
    "subscribed",
]
