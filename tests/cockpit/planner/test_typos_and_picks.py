"""Merchant wording the ranking must survive: typos, records picked by their place in a list,
and Thai phrases that must not match inside a written syllable."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cockpit.planner.languages import compile_lexicons
from cockpit.planner.picks import Pick, choose, find_pick
from cockpit.planner.typos import Speller

TODAY = date(2026, 11, 25)
EXAMPLES = [
    "fight it",
    "accept dispute dsp_1",
    "file the representment",
    "draft a response to this chargeback",
    "refund the payment",
    "contest the chargeback",
]


# ----- typos ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def speller() -> Speller:
    return Speller(EXAMPLES)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("fite it", "fight it"),  # sounds alike
        ("acept dispute", "accept dispute"),  # a letter missing
        ("refnd the paymnt", "refund the payment"),
        ("contset the chargebak", "contest the chargeback"),  # two letters swapped
        ("draft a respnose", "draft a response"),
    ],
)
def test_misspelt_words_read_as_the_agents_words(speller: Speller, typed: str, meant: str) -> None:
    assert speller.correct(typed) == meant


@pytest.mark.parametrize(
    "text",
    [
        "we shipped it with dhl, signed for",  # English words no example says stay as they are
        "fit",  # too short to tell a slip from another word
        "the order arrived damaged",
    ],
)
def test_known_or_short_words_are_left_alone(speller: Speller, text: str) -> None:
    assert speller.correct(text) == text


# ----- picks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "pick"),
    [
        ("draft the reply for the one due first", Pick("first")),
        ("accept the most urgent one", Pick("first")),
        ("fight whichever chargeback is due tomorrow", Pick("day", date(2026, 11, 26))),
        ("show me the dispute that's due today", Pick("day", TODAY)),
        ("which one expires last", Pick("last")),
    ],
)
def test_a_record_picked_by_its_date(text: str, pick: Pick) -> None:
    assert find_pick(text, TODAY) == pick


@pytest.mark.parametrize(
    "text",
    [
        "which chargebacks are due first",  # a question about several: the list
        "what disputes are due soon",
        "draft a reply to dsp_1",
    ],
)
def test_no_pick_without_one_record(text: str) -> None:
    assert find_pick(text, TODAY) is None


ITEMS: list[dict[str, Any]] = [
    {"id": "dsp_b", "due": "2026-11-26T09:00:00+00:00"},
    {"id": "dsp_a", "due": "2026-11-25T22:23:00+00:00"},
    {"id": "dsp_c", "due": "2026-12-20T09:00:00+00:00"},
    {"id": "dsp_x", "due": None},
]


@pytest.mark.parametrize(
    ("pick", "chosen"),
    [
        (Pick("first"), "dsp_a"),
        (Pick("last"), "dsp_c"),
        (Pick("day", TODAY), "dsp_a"),
        (Pick("day", date(2026, 11, 27)), None),  # nothing due that day: asked, not guessed
    ],
)
def test_choose_orders_by_the_date_field(pick: Pick, chosen: str | None) -> None:
    assert choose(ITEMS, pick, id_field="id", date_field="due") == chosen


def test_a_day_with_two_records_picks_neither() -> None:
    twice = [*ITEMS, {"id": "dsp_d", "due": "2026-11-25T08:00:00+00:00"}]
    assert choose(twice, Pick("day", TODAY), id_field="id", date_field="due") is None


# ----- Thai syllables and dispute vocabulary ---------------------------------------------------


@pytest.fixture(scope="module")
def lexicons() -> dict[str, Any]:
    return compile_lexicons(("tools.payments:planner_lexicon.yaml",), ["refund", "payment"])


def test_a_thai_phrase_never_matches_inside_a_syllable(lexicons: dict[str, Any]) -> None:
    # กี่ ("how many") is written inside เกี่ยวกับ ("about"); it must not be read there.
    assert lexicons["th"].translate("ข้อพิพาทนี้เกี่ยวกับอะไร").text == "dispute this about what"


@pytest.mark.parametrize(
    ("code", "text", "english"),
    [
        ("th", "หลักฐานที่ต้องส่งสำหรับ dsp_81kd2 มีอะไรบ้าง", "evidence need to provide"),
        ("id", "bukti apa yang diperlukan untuk sengketa dsp_81kd2", "evidence what needed"),
        ("es", "qué pruebas necesito para la disputa dsp_81kd2", "what evidence"),
        ("zh", "争议 dsp_81kd2 的截止日期是什么时候", "deadline"),
        ("vi", "hạn chót của tranh chấp dsp_81kd2 là khi nào", "deadline of dispute"),
        ("de", "welche Nachweise brauche ich für den Streitfall dsp_81kd2", "which evidence need"),
    ],
)
def test_dispute_details_vocabulary_in_every_language(
    lexicons: dict[str, Any], code: str, text: str, english: str
) -> None:
    translation = lexicons[code].translate(text)
    assert english in translation.text
    assert "dsp_81kd2" in translation.text
    assert "disputes" in translation.topics
    assert translation.coverage == 1.0
