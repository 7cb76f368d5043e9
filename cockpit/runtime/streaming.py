"""The ``messages`` stream modes: LangGraph's (message, metadata) pairs as API events.

LangGraph hands the run one pair per token chunk of a streaming model (an
``AIMessageChunk``; every chunk of one reply has the same ``id``, the last has
``chunk_position == "last"``) and one per whole message a node returns (tool
results, replies of models that do not stream). :class:`MessageStream` turns them
into the events of the modes a client asked for, in the order they came:

- ``messages-tuple`` — event ``messages``, data ``[message, metadata]`` (what the
  LangGraph server sends);
- ``messages`` — ``messages/metadata`` the first time an id is seen,
  ``messages/partial`` with the message accumulated so far after each chunk,
  ``messages/complete`` with the whole message (for a streamed reply: once its last
  chunk is in).

Two things happen on the way out. Streamed text is redacted like the reply it adds
up to (card numbers, API keys, bearer tokens; unless the agent's spec turned
``redact_pii`` off): a piece is held back until no pattern can still span it, so a
card number split over chunks never leaves in the clear. And the metadata is cut
down to what a client may see: the node, step and agent, not the tenant, the key or
the internal checkpoint key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from langchain_core.messages import AIMessageChunk, BaseMessage, BaseMessageChunk
from langchain_core.messages.utils import message_chunk_to_message

from cockpit.guardrails.redact import redact_text
from cockpit.runtime.serialize import to_json

REDACT_KEY = "cockpit_redact_pii"
"""Call metadata saying whether the agent's replies are redacted (absent: they are)."""
_PUBLIC_META = ("cockpit_agent_id", "assistant_id", "run_id", "tags", "name")
_BEARER = "bearer"

Publish = Callable[[str, Any], None]


def public_metadata(meta: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a chunk's metadata a client sees (the thread under its public id)."""
    out = {k: v for k, v in meta.items() if k.startswith(("langgraph_", "ls_"))}
    out.update({k: meta[k] for k in _PUBLIC_META if k in meta})
    if meta.get("public_thread_id"):
        out["thread_id"] = meta["public_thread_id"]
    return dict(to_json(out))


class StreamRedactor:
    """Redacts text that arrives in pieces, holding back what a pattern could still span.

    Text is let out up to the last *safe cut*. The end of the text is one when its last
    word is plain — no digit, no ``_``, not the start of ``ck_`` or ``bearer``, not right
    after ``bearer`` — which lets ordinary prose out at once. Otherwise it is the last
    whitespace whose left neighbour is neither whitespace, nor a digit (a card number's
    digits may be separated by spaces), nor the end of the word ``bearer`` (a bearer token
    follows its keyword after whitespace). No pattern of :func:`redact_text` crosses such
    a cut, so a secret split over pieces is redacted as if it came whole; at worst a piece
    is masked that the whole would not be (digits glued to a word over a cut).
    """

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, text: str) -> str:
        """The redacted text that can go out now (possibly empty)."""
        self._pending += text
        cut = _last_safe_cut(self._pending)
        if cut == 0:
            return ""
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return redact_text(ready)

    def flush(self) -> str:
        """Everything held back, redacted: the reply is complete."""
        rest, self._pending = self._pending, ""
        return redact_text(rest) if rest else ""


def _last_safe_cut(text: str) -> int:
    if text and not text[-1].isspace() and _plain_last_word(text):
        return len(text)
    for end in range(len(text), 1, -1):
        if not text[end - 1].isspace():
            continue
        before = text[end - 2]
        if before.isspace() or before.isdigit():
            continue
        word_start = end - 1
        while word_start > 0 and text[word_start - 1].isalpha():
            word_start -= 1
        if text[word_start : end - 1].lower() == _BEARER:
            continue
        return end
    return 0


def _plain_last_word(text: str) -> bool:
    words = text.split()
    word = words[-1]
    if any(c.isdigit() or c == "_" for c in word):
        return False
    tail = len(word)
    while tail > 0 and word[tail - 1].isalpha():
        tail -= 1
    letters = word[tail:].lower()
    if letters and (_BEARER.startswith(letters) or "ck".startswith(letters)):
        return False
    before = words[-2] if len(words) > 1 else ""
    return not before.lower().endswith(_BEARER)


@dataclass
class _Open:
    """A streamed reply whose last chunk has not arrived yet."""

    meta: dict[str, Any]
    redactor: StreamRedactor | None
    merged: AIMessageChunk | None = None


class MessageStream:
    """Publishes ``messages`` / ``messages-tuple`` events for the modes in ``modes``."""

    def __init__(self, modes: list[str], publish: Publish) -> None:
        self._tuple = "messages-tuple" in modes
        self._partial = "messages" in modes
        self._publish = publish
        self._open: dict[str, _Open] = {}
        self._seen: set[str] = set()

    def add(self, message: BaseMessage, meta: Mapping[str, Any]) -> None:
        mid = message.id or "msg"
        if not isinstance(message, BaseMessageChunk):
            if mid in self._open:
                self._close(mid)
            self._emit_whole(mid, message, public_metadata(meta))
            return
        state = self._open.get(mid)
        if state is None:
            redactor = StreamRedactor() if meta.get(REDACT_KEY, True) is not False else None
            state = self._open[mid] = _Open(public_metadata(meta), redactor)
        last = isinstance(message, AIMessageChunk) and message.chunk_position == "last"
        piece = message
        if state.redactor is not None and isinstance(message.content, str):
            text = state.redactor.feed(message.content)
            if last:
                text += state.redactor.flush()
            if text != message.content:
                piece = message.model_copy(update={"content": text})
        self._emit_chunk(mid, piece, state)
        if last:
            self._finish(mid)

    def flush(self) -> None:
        """Close every reply still open (another event follows, or the run ended)."""
        for mid in list(self._open):
            self._close(mid)

    # ---- internals -----------------------------------------------------------------
    def _close(self, mid: str) -> None:
        state = self._open[mid]
        rest = state.redactor.flush() if state.redactor is not None else ""
        if rest:
            self._emit_chunk(mid, AIMessageChunk(content=rest, id=mid), state)
        self._finish(mid)

    def _finish(self, mid: str) -> None:
        state = self._open.pop(mid)
        if self._partial and state.merged is not None:
            whole = message_chunk_to_message(state.merged)
            self._publish("messages/complete", [to_json(whole)])

    def _emit_chunk(self, mid: str, piece: BaseMessageChunk, state: _Open) -> None:
        if self._tuple:
            self._publish("messages", [to_json(piece), state.meta])
        if self._partial and isinstance(piece, AIMessageChunk):
            self._announce(mid, state.meta)
            state.merged = piece if state.merged is None else state.merged + piece
            self._publish("messages/partial", [to_json(state.merged)])

    def _emit_whole(self, mid: str, message: BaseMessage, meta: dict[str, Any]) -> None:
        if self._tuple:
            self._publish("messages", [to_json(message), meta])
        if self._partial:
            self._announce(mid, meta)
            self._publish("messages/complete", [to_json(message)])

    def _announce(self, mid: str, meta: dict[str, Any]) -> None:
        if mid not in self._seen:
            self._seen.add(mid)
            self._publish("messages/metadata", {mid: {"metadata": meta}})


__all__ = ["REDACT_KEY", "MessageStream", "StreamRedactor", "public_metadata"]
