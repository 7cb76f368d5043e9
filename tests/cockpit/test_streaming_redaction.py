"""Streamed text is redacted like the whole reply, however the model splits it into chunks."""

from __future__ import annotations

import random

import pytest

from cockpit.guardrails.redact import redact_text
from cockpit.runtime.streaming import StreamRedactor, public_metadata

KEY = "ck_ab12cd34ef_" + "Q" * 8 + "x9" * 6
TEXTS = [
    "Your card 4111 1111 1111 1111 is on file.",
    "Card 4111-1111-1111-1111, expiry 12/29, thanks",
    "pan:4242424242424242 then 5555 5555 5555 4444",
    f"Use the key {KEY} with Authorization: Bearer abc.def-ghijklmnop123 please",
    "bearer   tok_0123456789abcdef and more words after it",
    f"({KEY}) and (ck_short) and ck_",
    "Payment pay_d980143936464 of 1 234 567 USD settled on 2026-11-25.",
    "Plain prose with no secrets at all, streamed word by word.",
    "Ends in digits 4111 1111 1111 1111",
]


def _stream(pieces: list[str]) -> str:
    redactor = StreamRedactor()
    return "".join(redactor.feed(p) for p in pieces) + redactor.flush()


@pytest.mark.parametrize("text", TEXTS)
def test_every_split_into_two_gives_the_whole_texts_redaction(text: str) -> None:
    for cut in range(len(text) + 1):
        assert _stream([text[:cut], text[cut:]]) == redact_text(text), cut


@pytest.mark.parametrize("text", TEXTS)
def test_word_and_character_streams_give_the_whole_texts_redaction(text: str) -> None:
    words = [text[: text.index(" ") + 1]] if " " in text else [text]
    rest = text[len(words[0]) :]
    words += [" " + w if i else w for i, w in enumerate(rest.split(" "))]
    assert "".join(words) == text
    assert _stream(words) == redact_text(text)
    assert _stream(list(text)) == redact_text(text)
    rng = random.Random(17)
    for _ in range(50):
        cuts = sorted(rng.sample(range(1, len(text)), k=min(6, len(text) - 1)))
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        assert _stream(pieces) == redact_text(text), pieces


def test_no_piece_ever_carries_a_secret_in_the_clear() -> None:
    redactor = StreamRedactor()
    out = [redactor.feed(c) for c in "my card is 4111 1111 1111 1111 ok"] + [redactor.flush()]
    for i in range(len(out)):
        assert "4111 1111" not in "".join(out[: i + 1])
    assert "".join(out) == "my card is [PAN ****1111] ok"


def test_prose_goes_out_as_it_comes() -> None:
    redactor = StreamRedactor()
    assert redactor.feed("All") == "All"
    assert redactor.feed(" set:") == " set:"
    assert redactor.feed(" 41") == ""  # digits wait: they may be a card number
    assert redactor.feed("11 done") == " 4111 done"
    assert redactor.feed(" Bear") == ""  # could be 'Bearer <token>'
    assert redactor.feed("ing up") == " Bearing up"


def test_metadata_keeps_what_a_client_may_see() -> None:
    meta = {
        "langgraph_node": "agent",
        "langgraph_step": 3,
        "ls_model_name": "gpt-4o-mini",
        "cockpit_agent_id": "copilot",
        "thread_id": "tenant-a:thread-internal",
        "public_thread_id": "thread-1",
        "tenant_id": "tenant-a",
        "key_id": "k_123",
        "role": "admin",
        "merchant_id": "m_1",
        "run_id": "run-1",
    }
    assert public_metadata(meta) == {
        "langgraph_node": "agent",
        "langgraph_step": 3,
        "ls_model_name": "gpt-4o-mini",
        "cockpit_agent_id": "copilot",
        "run_id": "run-1",
        "thread_id": "thread-1",
    }
