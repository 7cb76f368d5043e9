"""``cockpit kb`` (knowledge.cli:app): ingest a folder, query, list, delete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import knowledge.service as service
from knowledge.cli import app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COCKPIT_EMBEDDINGS", "hashing")
    monkeypatch.delenv("COCKPIT_CHROMA_URL", raising=False)
    monkeypatch.setattr(service, "_STORES", {})
    return tmp_path


def test_ingest_query_delete(env: Path, markdown_doc: bytes) -> None:
    folder = env / "docs"
    folder.mkdir()
    (folder / "refunds.md").write_bytes(markdown_doc)
    (folder / "notes.txt").write_text("Chargebacks need carrier tracking numbers.")
    (folder / "ignored.bin").write_bytes(b"\x00")
    runner = CliRunner()

    result = runner.invoke(
        app, ["ingest", str(folder), "--collection", "manuals", "--tenant", "acme"]
    )
    assert result.exit_code == 0, result.output
    assert "refunds" in result.output and "created" in result.output

    result = runner.invoke(
        app, ["query", "carrier tracking", "--tenant", "acme", "-c", "manuals", "--json", "-k", "1"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["document_id"] == "notes"

    result = runner.invoke(app, ["collections", "--tenant", "acme"])
    assert "manuals" in result.output and "cockpit-docs" in result.output

    result = runner.invoke(app, ["delete", "notes", "--collection", "manuals", "--tenant", "acme"])
    assert result.exit_code == 0 and "1 chunks" in result.output


def test_errors_are_reported_not_raised(env: Path) -> None:
    bad = env / "empty.md"
    bad.write_text("")
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", str(bad), "--collection", "manuals", "--tenant", "acme"])
    assert result.exit_code == 1
    assert "empty_document" in result.output
    result = runner.invoke(app, ["query", "x", "--tenant", "acme", "--collection", "missing"])
    assert result.exit_code == 3  # names nothing that exists (cockpit/exitcodes.py)
    assert "collection_not_found" in result.output
    assert "Traceback" not in result.output
