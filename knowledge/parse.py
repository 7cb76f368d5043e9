"""Turn uploaded bytes (Markdown, text, JSON, PDF) into a titled list of sections.

Every check that can reject a document runs here, before anything is
written: unsupported types, empty files, binary garbage, bad JSON or PDF and
oversize input all raise a :mod:`cockpit.errors` error with a stable code.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from cockpit.errors import PayloadTooLarge, ValidationFailed

#: Largest document accepted (bytes). Big manuals should be split by the caller.
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024

_TYPES = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".json": "json",
    ".pdf": "pdf",
}
SUPPORTED_EXTENSIONS = tuple(sorted(_TYPES))
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True, slots=True)
class Section:
    """A run of text under one heading path (outermost heading first)."""

    path: tuple[str, ...]
    text: str

    @property
    def heading(self) -> str:
        return self.path[-1] if self.path else ""


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    title: str
    doc_type: str
    sections: list[Section]


def doc_type_for(filename: str, *, declared: str | None = None) -> str:
    """The document type from an explicit type or the file extension."""
    if declared:
        if declared not in _TYPES.values():
            raise ValidationFailed(
                f"unsupported document type {declared!r}; use one of markdown, text, json, pdf",
                code="unsupported_type",
                param="doc_type",
            )
        return declared
    suffix = PurePath(filename).suffix.lower()
    if suffix not in _TYPES:
        raise ValidationFailed(
            f"unsupported file type {suffix or '(none)'!r}; supported: {', '.join(SUPPORTED_EXTENSIONS)}",
            code="unsupported_type",
            param="file",
        )
    return _TYPES[suffix]


def _decode_text(data: bytes) -> str:
    if b"\x00" in data:
        raise ValidationFailed(
            "the file looks binary (NUL bytes), not text", code="binary_content", param="file"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            "the file is not valid UTF-8 text", code="binary_content", param="file"
        ) from None
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(8, len(text) // 100):
        raise ValidationFailed(
            "the file looks binary (control characters)", code="binary_content", param="file"
        )
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _fallback_title(filename: str) -> str:
    stem = PurePath(filename).stem
    return re.sub(r"[-_]+", " ", stem).strip().capitalize() or "Untitled"


def _parse_markdown(text: str, filename: str) -> ParsedDocument:
    title = ""
    stack: list[tuple[int, str]] = []
    sections: list[Section] = []
    buffer: list[str] = []
    in_fence = False

    def flush() -> None:
        body = "\n".join(buffer).strip()
        buffer.clear()
        if body:
            sections.append(Section(tuple(h for _, h in stack), body))

    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match is None:
            buffer.append(line)
            continue
        flush()
        level, heading = len(match.group(1)), match.group(2).strip()
        if level == 1 and not title:
            title = heading
            stack = []
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, heading))
    flush()
    return ParsedDocument(title or _fallback_title(filename), "markdown", sections)


def _parse_text(text: str, filename: str) -> ParsedDocument:
    return ParsedDocument(_fallback_title(filename), "text", [Section((), text.strip())])


def _json_lines(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        lines: list[str] = []
        for key, item in value.items():
            lines.extend(_json_lines(item, f"{prefix}.{key}" if prefix else str(key)))
        return lines
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return [f"{prefix}: {', '.join(str(v) for v in value)}"]
        lines = []
        for index, item in enumerate(value):
            lines.extend(_json_lines(item, f"{prefix}[{index}]"))
        return lines
    return [f"{prefix}: {value}" if prefix else str(value)]


def _item_heading(item: Any, fallback: str) -> str:
    if isinstance(item, dict):
        for key in ("title", "name", "heading", "id"):
            if isinstance(item.get(key), str | int):
                return str(item[key])
    return fallback


def _markdown_field(value: Any) -> str | None:
    """The Markdown text of a knowledge-base export record (``{"id", "title", "content"}``
    and the like): its ``content`` or ``body`` string, when that is the record's text. Such a
    record is its Markdown, not a table of fields, so its headings become sections."""
    if not isinstance(value, dict):
        return None
    for key in ("content", "body"):
        text = value.get(key)
        if isinstance(text, str) and text.strip():
            return text
    return None


def _parse_json(text: str, filename: str) -> ParsedDocument:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"invalid JSON: {exc.msg} at line {exc.lineno}", code="invalid_json", param="file"
        ) from None
    title = _fallback_title(filename)
    sections: list[Section] = []
    markdown = _markdown_field(value)
    if markdown is not None:
        parsed = _parse_markdown(markdown, filename)
        given = value.get("title")
        title = given if isinstance(given, str) and given.strip() else parsed.title
        return ParsedDocument(title, "json", [s for s in parsed.sections if s.text.strip()])
    if isinstance(value, dict):
        if isinstance(value.get("title"), str):
            title = value["title"]
        for key, item in value.items():
            if key == "title":
                continue
            if isinstance(item, list) and item and all(isinstance(v, dict) for v in item):
                for index, entry in enumerate(item):
                    heading = _item_heading(entry, f"{key}[{index}]")
                    sections.append(Section((str(key), heading), "\n".join(_json_lines(entry))))
            else:
                sections.append(Section((str(key),), "\n".join(_json_lines(item, str(key)))))
    elif isinstance(value, list):
        for index, entry in enumerate(value):
            sections.append(
                Section((_item_heading(entry, f"item {index + 1}"),), "\n".join(_json_lines(entry)))
            )
    else:
        sections.append(Section((), str(value)))
    return ParsedDocument(title, "json", [s for s in sections if s.text.strip()])


def _parse_pdf(data: bytes, filename: str) -> ParsedDocument:
    if not data.lstrip().startswith(b"%PDF-"):
        raise ValidationFailed(
            "the file is not a PDF (no %PDF header)", code="invalid_pdf", param="file"
        )
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [(page.extract_text() or "") for page in reader.pages]
        meta_title = reader.metadata.title if reader.metadata else None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise ValidationFailed(
            f"unreadable PDF: {type(exc).__name__}", code="invalid_pdf", param="file"
        ) from None
    sections = [
        Section((f"Page {n}",), text.strip()) for n, text in enumerate(pages, 1) if text.strip()
    ]
    return ParsedDocument(str(meta_title or _fallback_title(filename)), "pdf", sections)


def parse_document(data: bytes, *, filename: str, doc_type: str | None = None) -> ParsedDocument:
    """Parse and validate one document; raises before anything is stored."""
    kind = doc_type_for(filename, declared=doc_type)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise PayloadTooLarge(
            f"document is {len(data)} bytes; the limit is {MAX_DOCUMENT_BYTES}",
            code="document_too_large",
            param="file",
        )
    if not data.strip():
        raise ValidationFailed("the document is empty", code="empty_document", param="file")
    if kind == "pdf":
        parsed = _parse_pdf(data, filename)
    else:
        text = _decode_text(data)
        parsed = {"markdown": _parse_markdown, "text": _parse_text, "json": _parse_json}[kind](
            text, filename
        )
    if not parsed.sections:
        raise ValidationFailed(
            "the document has no text to index", code="empty_document", param="file"
        )
    return parsed


__all__ = [
    "MAX_DOCUMENT_BYTES",
    "SUPPORTED_EXTENSIONS",
    "ParsedDocument",
    "Section",
    "doc_type_for",
    "parse_document",
]
