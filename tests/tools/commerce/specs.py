"""The official protocol files (ACP 2026-04-17, AP2 v0.2) as JSON Schema validators, for tests.

Runtime code never reads these files (it has its own pydantic models and serialisers); tests
validate every message they send or receive against them. The files live in the workspace's
``shared/specs`` beside the repository (override with ``COCKPIT_SPECS_DIR``); when they are
absent the calling test is skipped with a message saying where they were looked for.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ACP_VERSION = "2026-04-17"
AP2_VERSION = "v0.2"
_AP2_BASE = "https://ap2-protocol.org/schemas/"


def spec_dir() -> Path:
    """``shared/specs`` beside the repository, or skip the test when it is missing."""
    env = os.environ.get("COCKPIT_SPECS_DIR")
    root = Path(env) if env else Path(__file__).resolve().parents[3] / ".." / "shared" / "specs"
    root = root.resolve()
    if not (root / "acp" / ACP_VERSION).is_dir():
        pytest.skip(f"official specs not found at {root} (set COCKPIT_SPECS_DIR)")
    return root


def acp_dir() -> Path:
    return spec_dir() / "acp" / ACP_VERSION


@cache
def _json(path: str) -> Any:
    return json.loads(Path(path).read_text())


def acp_bundle(bundle: str = "agentic_checkout") -> dict[str, Any]:
    """One ACP JSON Schema bundle (``schema.<bundle>.json``) as a dict."""
    data: dict[str, Any] = _json(str(acp_dir() / "json-schema" / f"schema.{bundle}.json"))
    return data


def acp_examples(name: str) -> dict[str, Any]:
    """``examples/examples.<name>.json`` (or a path under ``examples/`` ending in .json)."""
    rel = name if name.endswith(".json") else f"examples.{name}.json"
    data: dict[str, Any] = _json(str(acp_dir() / "examples" / rel))
    return data


def acp_validator(def_name: str, *, bundle: str = "agentic_checkout") -> Draft202012Validator:
    """A Draft 2020-12 validator for ``#/$defs/<def_name>`` of an ACP JSON Schema bundle."""
    schema = dict(acp_bundle(bundle))
    defs = schema["$defs"]
    if def_name not in defs:
        raise KeyError(f"{def_name} is not defined in schema.{bundle}.json")
    schema["$ref"] = f"#/$defs/{def_name}"
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def assert_acp(def_name: str, instance: Any, *, bundle: str = "agentic_checkout") -> None:
    """Fail with every schema error of ``instance`` against ``def_name``."""
    errors = sorted(acp_validator(def_name, bundle=bundle).iter_errors(instance), key=str)
    assert not errors, f"not a valid ACP {def_name}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10]
    )


@cache
def _ap2_registry(root: str) -> Registry:
    registry: Registry = Registry()
    base = Path(root)
    for sub in ("ap2", "ucp"):
        folder = base / sub
        for path in sorted(folder.rglob("*.json")):
            contents = json.loads(path.read_text())
            resource = Resource.from_contents(contents, default_specification=DRAFT202012)
            uris = {_AP2_BASE + path.relative_to(folder).as_posix()}
            if "$id" in contents:
                uris.add(contents["$id"])
            for uri in uris:
                registry = registry.with_resource(uri, resource)
    return registry


def ap2_validator(file: str) -> Draft202012Validator:
    """A validator for an AP2 v0.2 schema file (``checkout_mandate.json``, ``types/amount.json``),
    its ``$ref`` s resolved over the ap2/ and ucp/ type files."""
    root = spec_dir() / "ap2" / AP2_VERSION
    path = root / "ap2" / file
    if not path.exists():
        path = root / "ucp" / file
    schema = json.loads(path.read_text())
    schema.setdefault("$id", _AP2_BASE + file)
    return Draft202012Validator(
        schema,
        registry=_ap2_registry(str(root)),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


__all__ = [
    "ACP_VERSION",
    "acp_bundle",
    "acp_dir",
    "acp_examples",
    "acp_validator",
    "ap2_validator",
    "assert_acp",
    "spec_dir",
]
