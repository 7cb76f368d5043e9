"""Argument models for remote tools: a pydantic model whose schema is the remote JSON schema.

The runtime validates a model's arguments with ``ToolDef.args.model_validate`` and tells the
model the tool's parameters with ``model_json_schema()``; a remote tool has no Python class,
only the JSON schema its server published. This builds a model that validates with that schema
(``jsonschema``, errors located at the failing property) and reports it unchanged.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from cockpit.errors import ValidationFailed

EMPTY_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}


def normalise(schema: Any, *, where: str) -> dict[str, Any]:
    """An object schema that is itself valid (422 naming ``where`` otherwise)."""
    if not schema:
        return dict(EMPTY_OBJECT)
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        raise ValidationFailed(
            f"{where}: a tool's input schema must be a JSON object schema",
            code="invalid_tool_schema",
            param=where,
        )
    out = copy.deepcopy(schema)
    out["type"] = "object"
    out.setdefault("properties", {})
    try:
        jsonschema.validators.validator_for(out).check_schema(out)
    except SchemaError as exc:
        raise ValidationFailed(
            f"{where}: invalid JSON schema: {exc.message}",
            code="invalid_tool_schema",
            param=where,
        ) from None
    return out


def args_model(tool_name: str, schema: dict[str, Any]) -> type[BaseModel]:
    """A model that accepts exactly what ``schema`` accepts and dumps it back unchanged."""
    validator = jsonschema.validators.validator_for(schema)(schema)
    published = copy.deepcopy(schema)

    def check(data: Any) -> Any:
        errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.path])
        if errors:
            first = errors[0]
            detail = InitErrorDetails(
                type=PydanticCustomError("remote_schema", first.message),
                loc=tuple(str(p) for p in first.path),
                input=data,
            )
            raise ValidationError.from_exception_data(tool_name, [detail])
        return data

    def publish(out: dict[str, Any], _cls: Any) -> None:
        out.clear()
        out.update(copy.deepcopy(published))

    class RemoteArgs(BaseModel):
        model_config = ConfigDict(extra="allow", json_schema_extra=publish)

        @model_validator(mode="before")
        @classmethod
        def _remote_schema(cls, data: Any) -> Any:
            return check(data)

    RemoteArgs.__name__ = RemoteArgs.__qualname__ = "RemoteArgs_" + "".join(
        c if c.isalnum() else "_" for c in tool_name
    )
    return RemoteArgs


__all__ = ["EMPTY_OBJECT", "args_model", "normalise"]
