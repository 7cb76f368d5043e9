"""Test doubles that ship with Cockpit, so partners can test their agents offline.

- :class:`ScriptedChatModel` and :func:`register_fake_script`: ``fake:<name>`` models
  that replay scripted replies (tool calls included);
- :class:`FakeOpenAIServer`: an OpenAI-compatible HTTP server on 127.0.0.1;
- :class:`HashingEmbedder`: a deterministic embedder that needs no model file.
"""

from cockpit.embeddings import HashingEmbedder
from cockpit.testing.openai_server import FakeOpenAIServer, FakeReply, fake_openai_server
from cockpit.testing.scripted import (
    ScriptedChatModel,
    ScriptStep,
    fake_script,
    register_fake_script,
    scripted_model,
    unregister_fake_script,
)

__all__ = [
    "FakeOpenAIServer",
    "FakeReply",
    "HashingEmbedder",
    "ScriptStep",
    "ScriptedChatModel",
    "fake_openai_server",
    "fake_script",
    "register_fake_script",
    "scripted_model",
    "unregister_fake_script",
]
