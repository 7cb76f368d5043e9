"""The README's transcripts are played again and must still be what the product says and does.

``evals/transcripts/readme.yaml`` is played on fresh demo worlds; every transcript must grade as
passed (end state, assertions, facts) and the README's section must match the fresh play with ids
and instants masked. Regenerate with ``python scripts/readme_transcripts.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.docs import (
    BEGIN,
    END,
    README,
    Played,
    differences,
    mask,
    play,
    render,
    replace_section,
    section,
)
from evals.world import Template


@pytest.fixture(scope="module")
def played(template: Template, eval_cache: Path) -> list[Played]:
    return play(cache=eval_cache)


def test_every_readme_transcript_passes_as_a_task(played: list[Played]) -> None:
    failed = {p.task.id: p.reasons for p in played if not p.passed}
    assert not failed, failed


def test_the_readme_shows_what_a_fresh_play_says(played: list[Played]) -> None:
    stale = differences(README.read_text(encoding="utf-8"), played)
    assert not stale, f"run python scripts/readme_transcripts.py; stale: {stale}"


def test_a_changed_answer_is_caught(played: list[Played]) -> None:
    document = replace_section(f"intro\n{BEGIN}\nold\n{END}\nrest\n", section(played))
    assert differences(document, played) == []
    first = render(played[0])
    tampered = document.replace(first, first.replace("you>", "you >", 1))
    assert differences(tampered, played) == [played[0].task.description]


def test_mask_hides_only_ids_instants_and_authorisation_codes() -> None:
    text = "Refund ref_b0ffab9848ac407ba7990e3b at 2026-11-25T12:45:04.077539+00:00 of 12.00 SGD"
    assert mask(text) == "Refund <id> at <instant> of 12.00 SGD"
    assert mask("authorisation code 378696; 224.98 EUR") == "authorisation code <code>; 224.98 EUR"
