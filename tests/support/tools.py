"""Tool schemas for planner tests: the OpenAI function shape a bound tool has at runtime."""

from __future__ import annotations

from typing import Any


def tool(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """A function tool named ``name`` with these JSON-schema ``properties``."""
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": name.replace("_", " "),
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }
