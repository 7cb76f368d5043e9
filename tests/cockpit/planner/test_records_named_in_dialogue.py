"""Records named the way merchants name them, end to end in the dialogue: picked by deadline
("whichever is due today"), several in one request ("accept dsp_1 and dsp_2"), a short
misspelt "… it" opening a longer turn, and an id that a list has no place for.

On the test-local spec of test_followups (the mechanisms are the core's).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cockpit.embeddings import Embedder, make_embedder
from cockpit.planner import LocalPlanner
from tests.cockpit.planner.test_followups import SPEC, Chat, call_of, make_planner

LISTED = {
    "disputes": [
        {"id": "dsp_late", "due": "2026-12-20T09:00:00+00:00"},
        {"id": "dsp_today", "due": "2026-11-25T22:00:00+00:00"},
        {"id": "dsp_tomorrow", "due": "2026-11-26T05:00:00+00:00"},
    ]
}
FROM_LIST = {"tool": "list_disputes", "items": "disputes", "id": "id", "date": "due"}


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return make_embedder("minilm")


@pytest.fixture(scope="module")
def planner(embedder: Embedder) -> LocalPlanner:
    intents: list[dict[str, Any]] = copy.deepcopy(SPEC["intents"])
    for intent in intents:
        if intent["name"] in ("accept", "draft", "dispute_details"):
            intent["slots"] = {"dispute_id": {"from_list": FROM_LIST}}
            intent["each"] = "dispute_id"
    return make_planner(embedder, intents=intents)


def test_a_record_picked_by_its_deadline_reads_the_list_first(planner: LocalPlanner) -> None:
    chat = Chat(planner)
    assert call_of(chat.say("accept whichever dispute is due today"))[0] == "list_disputes"
    assert call_of(chat.result(LISTED)) == ("accept_dispute", {"dispute_id": "dsp_today"})


def test_a_pick_after_the_list_takes_it_from_the_thread(planner: LocalPlanner) -> None:
    chat = Chat(planner)
    assert call_of(chat.say("show my open disputes"))[0] == "list_disputes"
    chat.result(LISTED)
    name, args = call_of(chat.say("draft a response for the one due first"))
    assert (name, args) == ("draft_response", {"dispute_id": "dsp_today"})


def test_a_request_naming_two_records_acts_on_each(planner: LocalPlanner) -> None:
    chat = Chat(planner)
    first = chat.say("accept dsp_1a and dsp_2b, we will not fight them")
    assert call_of(first) == ("accept_dispute", {"dispute_id": "dsp_1a"})
    second = chat.result({"dispute_id": "dsp_1a", "status": "ACCEPTED"})
    assert second.content == "Accepted dsp_1a."
    assert call_of(second) == ("accept_dispute", {"dispute_id": "dsp_2b"})


def test_a_misspelt_short_opening_names_the_request(planner: LocalPlanner) -> None:
    chat = Chat(planner)
    chat.say("what's happening with dsp_9x")
    chat.result({"dispute_id": "dsp_9x", "status": "NEEDS_RESPONSE"})
    name, args = call_of(chat.say("submt it!! the parcel went out with DHL, signed for on arrival"))
    assert (name, args["dispute_id"]) == ("submit_response", "dsp_9x")


def test_an_id_the_list_has_no_place_for_reads_that_record(planner: LocalPlanner) -> None:
    name, args = call_of(Chat(planner).say("whats the deadline on dsp_7k"))
    assert (name, args) == ("get_dispute", {"dispute_id": "dsp_7k"})
