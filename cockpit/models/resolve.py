"""Turn ``provider:model`` references into chat models.

- ``local:planner`` — the offline :class:`~cockpit.planner.LocalPlanner` (needs the
  agent's ``PlannerSpec``; without one it derives intents from the bound tools);
- ``openai:<model>`` — ``langchain_openai.ChatOpenAI`` against ``OPENAI_BASE_URL``
  (any OpenAI-compatible server) with ``OPENAI_API_KEY``;
- ``fake:<name>`` — a :class:`~cockpit.testing.ScriptedChatModel` registered with
  :func:`cockpit.testing.register_fake_script`.

Every result is a :class:`ChainedChatModel` (fallbacks tried in order).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from pydantic import ValidationError

from cockpit.config import Settings
from cockpit.errors import UserError, ValidationFailed
from cockpit.models.chain import DEFAULT_MODEL_TIMEOUT_S, ChainedChatModel
from cockpit.planner import LocalPlanner, PlannerSpec

PROVIDERS = ("local", "openai", "fake")
#: Placeholder key for OpenAI-compatible servers that need none (ChatOpenAI insists on one).
LOCAL_SERVER_KEY = "not-needed"
_MAX_RETRIES = 1


def parse_model_ref(ref: str, *, param: str = "model") -> tuple[str, str]:
    """``"openai:gpt-4o-mini"`` -> ``("openai", "gpt-4o-mini")``; bad refs raise UserError."""
    provider, sep, name = ref.strip().partition(":")
    provider = provider.lower()
    if not sep or not name.strip() or provider not in PROVIDERS:
        raise UserError(
            f"model {ref!r} must be provider:model with provider one of {', '.join(PROVIDERS)}",
            code="invalid_model",
            param=param,
        )
    if provider == "local" and name != "planner":
        raise UserError(
            f"unknown local model {name!r}; the local model is local:planner",
            code="invalid_model",
            param=param,
        )
    return provider, name.strip()


def _openai(name: str, *, param: str, timeout_s: float | None) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    base_url = os.environ.get("OPENAI_BASE_URL") or None
    key = os.environ.get("OPENAI_API_KEY") or (LOCAL_SERVER_KEY if base_url else None)
    if key is None:
        raise UserError(
            f"model openai:{name} needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server)",
            code="model_not_configured",
            param=param,
        )
    # The client's own timeout covers sync calls too; the chain's covers every async one.
    # stream_usage: a streamed answer still reports its tokens (in its last chunk).
    return ChatOpenAI(
        model=name,
        api_key=key,
        base_url=base_url,
        timeout=timeout_s,
        max_retries=_MAX_RETRIES,
        stream_usage=True,
    )


def planner_spec(planner: PlannerSpec | Mapping[str, Any] | None) -> PlannerSpec:
    """A validated :class:`PlannerSpec`; errors name the field (``planner.intents.0.examples``)."""
    if planner is None:
        return PlannerSpec()
    if isinstance(planner, PlannerSpec):
        return planner
    try:
        return PlannerSpec.model_validate(dict(planner))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in ("planner", *first["loc"]))
        raise ValidationFailed(
            f"{where}: {first['msg']}", code="invalid_planner", param=where
        ) from None


def _build(
    ref: str,
    *,
    planner: PlannerSpec,
    settings: Settings | None,
    param: str,
    timeout_s: float | None,
) -> BaseChatModel:
    provider, name = parse_model_ref(ref, param=param)
    if provider == "local":
        embedder = None
        if settings is not None and getattr(settings, "embeddings", None):
            from cockpit.embeddings import default_embedder

            embedder = default_embedder(settings)
        return LocalPlanner(spec=planner, embedder=embedder)
    if provider == "openai":
        return _openai(name, param=param, timeout_s=timeout_s)
    from cockpit.testing.scripted import scripted_model

    return scripted_model(name)


def resolve_model(
    ref: str,
    *,
    planner: PlannerSpec | Mapping[str, Any] | None = None,
    fallbacks: Sequence[str] = (),
    settings: Settings | None = None,
    timeout_s: float | None = DEFAULT_MODEL_TIMEOUT_S,
) -> BaseChatModel:
    """The chat model for ``ref`` (then ``fallbacks`` in order when one raises).

    ``planner`` (a :class:`PlannerSpec` or its dict form) configures ``local:planner``;
    ``timeout_s`` is how long each model may take per call before the next one runs.
    """
    spec = planner_spec(planner)
    if not ref.strip():
        ref = settings.default_model if settings is not None else "local:planner"
    refs = [ref.strip(), *(f.strip() for f in fallbacks)]
    models = [
        _build(
            r,
            planner=spec,
            settings=settings,
            param="model" if i == 0 else f"fallbacks.{i - 1}",
            timeout_s=timeout_s,
        )
        for i, r in enumerate(refs)
    ]
    return ChainedChatModel(refs=refs, models=models, timeout_s=timeout_s)


__all__ = ["LOCAL_SERVER_KEY", "PROVIDERS", "parse_model_ref", "planner_spec", "resolve_model"]
