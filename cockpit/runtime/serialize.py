"""Turn LangGraph values (messages, interrupts, snapshots) into JSON for the API."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from langchain_core.messages import BaseMessage
from langgraph.types import Interrupt
from pydantic import BaseModel


def to_json(value: Any, _depth: int = 0) -> Any:
    if _depth > 64:
        return str(value)
    if isinstance(value, BaseMessage):
        return value.model_dump(mode="json")
    if isinstance(value, Interrupt):
        return {"value": to_json(value.value, _depth + 1), "id": value.id}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return {str(k): to_json(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v, _depth + 1) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_json(getattr(value, f.name), _depth + 1) for f in dataclasses.fields(value)
        }
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


__all__ = ["to_json"]
