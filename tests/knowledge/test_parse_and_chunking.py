"""Parsing and chunking: formats, headings, limits, overlap and clear errors on bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import pairwise

import pytest

from cockpit.errors import PayloadTooLarge, ValidationFailed
from knowledge import parse
from knowledge.chunking import chunk_document, chunk_section
from knowledge.parse import parse_document


def test_markdown_sections_follow_heading_paths(markdown_doc: bytes) -> None:
    doc = parse_document(markdown_doc, filename="refunds.md")
    assert doc.title == "Refund handbook"
    assert [s.path for s in doc.sections] == [(), ("Refund window",), ("Cross-currency refunds",)]


def test_nested_headings_and_fenced_code() -> None:
    text = b"# T\n## A\nx\n### A1\ny\n```\n# not a heading\n```\n## B\nz\n"
    doc = parse_document(text, filename="t.md")
    paths = [s.path for s in doc.sections]
    assert paths == [("A",), ("A", "A1"), ("B",)]
    assert "# not a heading" in doc.sections[1].text


def test_json_items_become_sections() -> None:
    data = {
        "title": "Codes",
        "codes": [
            {"name": "51", "meaning": "insufficient funds"},
            {"name": "05", "meaning": "do not honor"},
        ],
    }
    doc = parse_document(json.dumps(data).encode(), filename="codes.json")
    assert doc.title == "Codes"
    assert [s.path for s in doc.sections] == [("codes", "51"), ("codes", "05")]
    assert "meaning: insufficient funds" in doc.sections[0].text


def test_pdf_text_is_extracted(pdf_factory: Callable[[list[str]], bytes]) -> None:
    doc = parse_document(
        pdf_factory(["Chargeback evidence guide", "Send tracking numbers."]), filename="guide.pdf"
    )
    assert doc.doc_type == "pdf"
    assert doc.sections[0].path == ("Page 1",)
    assert "tracking numbers" in doc.sections[0].text


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (b"", "a.md", "empty_document"),
        (b"   \n\n ", "a.txt", "empty_document"),
        (b"\x00\x01\x02binary\xff", "a.txt", "binary_content"),
        (bytes(range(256)) * 4, "a.md", "binary_content"),
        (b"\xff\xfe\xfa not utf8", "a.md", "binary_content"),
        (b"hello", "a.docx", "unsupported_type"),
        (b"hello", "noextension", "unsupported_type"),
        (b"{not json", "a.json", "invalid_json"),
        (b"plain text pretending", "a.pdf", "invalid_pdf"),
        (b"%PDF-1.4 garbage that is not a pdf", "a.pdf", "invalid_pdf"),
        (b"# Only a title\n", "a.md", "empty_document"),
    ],
)
def test_bad_input_is_a_clear_error(data: bytes, filename: str, code: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        parse_document(data, filename=filename)
    assert info.value.code == code
    assert info.value.param == "file"


def test_oversize_document_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse, "MAX_DOCUMENT_BYTES", 100)
    with pytest.raises(PayloadTooLarge) as info:
        parse_document(b"x" * 101, filename="big.txt")
    assert info.value.code == "document_too_large"


def test_long_sections_split_under_the_limit_with_overlap() -> None:
    sentences = [f"Sentence number {i} explains rule {i} of the refund policy." for i in range(80)]
    bodies = chunk_section(" ".join(sentences), max_chars=400, overlap=80)
    assert len(bodies) > 5
    assert all(len(b) <= 400 + 80 + 2 for b in bodies)
    # Consecutive chunks share text, so a fact cut at a boundary is whole in one of them.
    for first, second in pairwise(bodies):
        assert first[-30:].split()[-1] in second
    joined = " ".join(bodies)
    assert all(s in joined for s in sentences)


def test_tables_keep_their_header_when_split() -> None:
    rows = "\n".join(f"| {i} | meaning {i} |" for i in range(60))
    bodies = chunk_section(f"| Code | Meaning |\n|---|---|\n{rows}", max_chars=300)
    assert len(bodies) > 2
    assert all(b.startswith("| Code | Meaning |\n|---|---|") for b in bodies)


def test_unbroken_text_is_hard_split() -> None:
    bodies = chunk_section("x" * 2500, max_chars=1000, overlap=0)
    assert [len(b) for b in bodies] == [1000, 1000, 500]


def test_chunks_never_span_sections(markdown_doc: bytes) -> None:
    drafts = chunk_document(parse_document(markdown_doc, filename="r.md"))
    assert [d.section for d in drafts] == ["", "Refund window", "Cross-currency refunds"]
    assert [d.index for d in drafts] == [0, 1, 2]


def test_too_many_chunks_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import knowledge.chunking as chunking

    monkeypatch.setattr(chunking, "MAX_CHUNKS_PER_DOCUMENT", 3)
    text = "\n\n".join(f"## S{i}\nbody {i}" for i in range(10))
    with pytest.raises(PayloadTooLarge) as info:
        chunk_document(parse_document(f"# T\n{text}".encode(), filename="t.md"))
    assert info.value.code == "too_many_chunks"
