"""``cockpit kb`` — ingest files and query the knowledge store from the host.

Host-side commands act for a tenant given with ``--tenant`` (default: the demo
tenant). They open the same store the server uses (settings from ``COCKPIT_*``).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cockpit.cli_errors import CliGroup
from cockpit.errors import CockpitError, ValidationFailed
from cockpit.exitcodes import CliFailure

if TYPE_CHECKING:
    from rich.console import Console

    from knowledge.store import KnowledgeStore

# Chroma, the embedder and rich are imported inside the commands: ``--help`` stays fast.
# A command fails by raising; CliGroup prints the one line and picks the exit code.
app = typer.Typer(
    cls=CliGroup, help="Knowledge store: collections, ingestion and search.", no_args_is_help=True
)

TenantOpt = Annotated[str, typer.Option("--tenant", "-t", help="Tenant to act for.")]
DEFAULT_TENANT = "demo"
_GROUP = 50
"""Files ingested per store call: embedded and written together, many times faster."""


@cache
def _console() -> Console:
    from rich.console import Console

    return Console()


def _store() -> KnowledgeStore:
    from cockpit.config import Settings
    from knowledge.service import open_store

    return open_store(Settings())


def _files(path: Path) -> list[Path]:
    from knowledge.parse import SUPPORTED_EXTENSIONS

    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS
        )
        if not files:
            raise ValidationFailed(
                f"no {', '.join(SUPPORTED_EXTENSIONS)} files under {path}",
                code="empty_directory",
                param="path",
            )
        return files
    if not path.is_file():
        raise ValidationFailed(f"no such file: {path}", code="file_not_found", param="path")
    return [path]


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A file or a folder of .md/.txt/.json/.pdf files.")],
    collection: Annotated[str, typer.Option("--collection", "-c", help="Target collection.")],
    tenant: TenantOpt = DEFAULT_TENANT,
    create: Annotated[
        bool, typer.Option("--create/--no-create", help="Create the collection if missing.")
    ] = True,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Tag (repeatable).")] = None,
    version: Annotated[str | None, typer.Option(help="Document version label.")] = None,
) -> None:
    """Ingest a file (or every supported file in a folder) into a collection."""
    from rich.table import Table

    from cockpit.progress import progress_bar
    from knowledge.ingest import DocumentInput

    store = _store()
    table = Table("document", "status", "chunks", "untrusted")
    files = _files(path)
    failures = 0

    def one(file: Path) -> DocumentInput:
        return DocumentInput(
            file.read_bytes(), file.name, version=version, tags=tag or (), source=str(file)
        )

    with progress_bar(f"Ingesting into {collection}") as progress:
        for start in range(0, len(files), _GROUP):
            progress(start, len(files))
            group = files[start : start + _GROUP]
            try:
                # A group is embedded and written together; one bad file fails the group,
                # which is then retried file by file so every other file still lands.
                results = store.ingest_many(
                    tenant, collection, [one(f) for f in group], create=create
                )
            except CockpitError:
                results = []
                for file in group:
                    try:
                        results.extend(
                            store.ingest_many(tenant, collection, [one(file)], create=create)
                        )
                    except CockpitError as exc:
                        failures += 1
                        table.add_row(file.name, f"[red]{exc.code}[/red]", "-", "-")
            for result in results:
                table.add_row(
                    result.document_id,
                    result.status,
                    str(result.chunks),
                    str(result.untrusted_chunks),
                )
        progress(len(files), len(files))
    _console().print(table)
    if failures:
        raise CliFailure(f"{failures} of {len(files)} files were not ingested (see the table)")


@app.command()
def query(
    text: Annotated[str, typer.Argument(help="What to search for.")],
    tenant: TenantOpt = DEFAULT_TENANT,
    collection: Annotated[
        list[str] | None,
        typer.Option("--collection", "-c", help="Limit to collection (repeatable)."),
    ] = None,
    k: Annotated[
        int, typer.Option("-k", help="Number of documents (with --chunks: passages).")
    ] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, bm25 or vector.")] = "hybrid",
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Only documents with this tag.")
    ] = None,
    chunks: Annotated[
        bool, typer.Option("--chunks", help="Count passages, not documents.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Search the tenant's collections and Cockpit's documentation."""
    store = _store()
    hits = store.query(
        tenant,
        text,
        collections=collection or None,
        k=k,
        mode=mode,  # type: ignore[arg-type]
        filters={"tags": tag} if tag else None,
        group="chunks" if chunks else "documents",
    )
    if as_json:
        _console().print_json(json.dumps([h.to_dict() for h in hits]))
        return
    for n, hit in enumerate(hits, 1):
        flag = " [red]UNTRUSTED[/red]" if hit.untrusted else ""
        _console().print(
            f"[bold][{n}] {hit.citation.label()}[/bold] ({hit.citation.collection}/{hit.document_id}){flag}"
        )
        _console().print(hit.text.strip()[:600], markup=False, highlight=False)
        _console().print()


@app.command("collections")
def collections(tenant: TenantOpt = DEFAULT_TENANT) -> None:
    """List the tenant's collections and the shared ones."""
    from rich.table import Table

    infos = _store().list_collections(tenant)
    table = Table("collection", "shared", "chunks")
    for info in infos:
        table.add_row(info.name, "yes" if info.shared else "", str(info.chunks))
    _console().print(table)


@app.command("delete")
def delete(
    document_id: Annotated[str, typer.Argument(help="Document id to remove.")],
    collection: Annotated[str, typer.Option("--collection", "-c")],
    tenant: TenantOpt = DEFAULT_TENANT,
) -> None:
    """Delete a document (all its chunks) from a collection."""
    removed = _store().delete_document(tenant, collection, document_id)
    _console().print(f"deleted {document_id} ({removed} chunks)")


__all__ = ["app"]
