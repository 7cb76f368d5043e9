"""Knowledge over HTTP: ingesting a ~700-document policy KB and hybrid queries, on a real server.

    python benchmarks/knowledge_http.py [--documents 700] [--queries 200] [--out FILE]

``cockpit serve`` runs in a child process on 127.0.0.1 (one worker, embedded Chroma and SQLite
in a throw-away data dir, the configured embedder). A seeded policy knowledge base (markdown
documents of a few sections each) is uploaded ``--batch`` documents per request
(``POST .../documents/batch``), and its first ``--single-documents`` again one per request
(``POST .../documents``) into a second collection; then hybrid queries run against it.
Same-run baselines:

* ingestion: the embedder alone on the very chunk texts the server stored (same parser and
  chunker), one embed call per request's documents as the server makes it — the floor, since
  every chunk has to be embedded;
* query: BM25 alone on the same chunk texts in this process, and the server's trivial
  ``GET /v1/knowledge/collections`` round trip (what HTTP itself costs).

Targets (issue 19): ≥ 150 chunks/s and ~700 documents in ≤ 60 s; hybrid query p95 ≤ 60 ms.
Prints one JSON object. Every request loop is bounded by a count and ``--max-seconds``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from serving import cpu_seconds, free_port, start_serve  # noqa: E402

from cockpit.embeddings import Embedder, make_embedder  # noqa: E402
from knowledge.bm25 import BM25Index  # noqa: E402
from knowledge.chunking import chunk_document, indexed_text  # noqa: E402
from knowledge.parse import parse_document  # noqa: E402

TARGET_CHUNKS_PER_S = 150.0
TARGET_DOCUMENTS_S = 60.0
TARGET_QUERY_P95_MS = 60.0

_TOPICS = [
    "refunds",
    "chargebacks",
    "returns",
    "shipping",
    "data retention",
    "privacy",
    "card storage",
    "sanctions screening",
    "merchant onboarding",
    "payouts",
    "reserves",
    "currency conversion",
    "subscriptions",
    "cancellations",
    "fraud review",
    "account closure",
    "complaints",
    "accessibility",
    "travel expenses",
    "vendor approval",
]
_SECTIONS = [
    "Scope",
    "Eligibility",
    "Time limits",
    "Evidence required",
    "Exceptions",
    "Escalation",
    "Fees",
    "Records",
    "Responsibilities",
    "Review",
]
_SUBJECTS = [
    "the merchant",
    "the customer",
    "the issuer",
    "the finance team",
    "the risk team",
    "a partner",
    "support staff",
    "the acquirer",
    "the compliance officer",
]
_VERBS = [
    "must record",
    "may request",
    "should confirm",
    "is required to keep",
    "can waive",
    "will review",
    "must notify",
    "may refuse",
]
_OBJECTS = [
    "a signed delivery receipt",
    "the original invoice",
    "proof of identity",
    "the card verification result",
    "a written reason",
    "the tracking number",
    "the refund amount in the original currency",
    "the approval of a manager",
    "the sanctions screening outcome",
    "the beneficial owner list",
    "the settlement report",
    "the customer's consent",
]
_LIMITS = ["within 7 days", "within 30 days", "within 120 days", "before settlement"]
_CODES = ["10.4", "13.1", "4837", "R1", "CR07", "51", "05", "PIX", "SEPA", "3DS"]


def _sentence(rng: random.Random) -> str:
    text = (
        f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_LIMITS)}"
    )
    if rng.random() < 0.3:
        text += f" for reason code {rng.choice(_CODES)}"
    return text[0].upper() + text[1:] + "."


def policy_documents(count: int, *, seed: int = 19) -> list[tuple[str, bytes]]:
    """``count`` seeded policy documents (filename, markdown) of 2–5 sections each."""
    rng = random.Random(seed)
    docs = []
    for n in range(count):
        topic = rng.choice(_TOPICS)
        parts = [f"# {topic.capitalize()} policy {n}\n", f"Applies to region {n % 37}.\n"]
        for section in rng.sample(_SECTIONS, rng.randint(2, 5)):
            body = " ".join(_sentence(rng) for _ in range(rng.randint(2, 6)))
            parts.append(f"## {section}\n\n{body}\n")
        docs.append((f"policy-{n:04d}.md", "\n".join(parts).encode()))
    return docs


def queries(count: int, *, seed: int = 23) -> list[str]:
    rng = random.Random(seed)
    return [
        f"{rng.choice(_SECTIONS).lower()} {rng.choice(_TOPICS)} {rng.choice(_OBJECTS)}"
        for _ in range(count)
    ]


def chunk_texts(docs: list[tuple[str, bytes]]) -> list[list[str]]:
    """Per document, the texts the store embeds (same parser, chunker and indexed text)."""
    out = []
    for filename, data in docs:
        parsed = parse_document(data, filename=filename, doc_type=None)
        title = parsed.title.strip()[:300]
        out.append([indexed_text(title, d.section_path, d.body) for d in chunk_document(parsed)])
    return out


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _latency(samples: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in samples]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(_pct(ms, 0.95), 2),
        "max_ms": round(max(ms), 2),
    }


def _wait_ready(client: httpx.Client, data_dir: Path, deadline: float) -> str:
    while time.perf_counter() < deadline:
        key_file = data_dir / "admin.key"
        if key_file.exists():
            key = key_file.read_text().strip()
            try:
                # The first knowledge request opens the store and loads the shared corpus.
                reply = client.get(
                    "/v1/knowledge/collections",
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=600,
                )
                if reply.status_code == 200:
                    return key
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    raise RuntimeError("the server did not become ready in time")


def _upload(doc: tuple[str, bytes]) -> dict[str, Any]:
    return {"filename": doc[0], "content": doc[1].decode(), "tags": ["policy"]}


def ingest_over_http(
    client: httpx.Client,
    docs: list[tuple[str, bytes]],
    *,
    collection: str,
    batch: int,
    max_seconds: float,
) -> dict[str, Any]:
    """Upload ``docs`` ``batch`` per request (1: one ``POST .../documents`` each)."""
    client.post("/v1/knowledge/collections", json={"name": collection}).raise_for_status()
    chunks, sent = 0, 0
    started = time.perf_counter()
    for start in range(0, len(docs), batch):
        if time.perf_counter() - started > max_seconds:
            break
        group = docs[start : start + batch]
        if batch == 1:
            reply = client.post(
                f"/v1/knowledge/collections/{collection}/documents", json=_upload(group[0])
            )
            reply.raise_for_status()
            chunks += int(reply.json()["chunks"])
        else:
            reply = client.post(
                f"/v1/knowledge/collections/{collection}/documents/batch",
                json={"documents": [_upload(d) for d in group]},
            )
            reply.raise_for_status()
            chunks += sum(int(r["chunks"]) for r in reply.json()["data"])
        sent += len(group)
    seconds = time.perf_counter() - started
    return {
        "documents": sent,
        "documents_per_request": batch,
        "chunks": chunks,
        "seconds": round(seconds, 2),
        "chunks_per_s": round(chunks / seconds, 1),
        "documents_per_s": round(sent / seconds, 2),
    }


def embedder_alone(embedder: Embedder, per_doc: list[list[str]], *, batch: int) -> dict[str, Any]:
    """The embedder on the same chunk texts, one call per ``batch`` documents as the server."""
    calls = [
        [t for doc in per_doc[start : start + batch] for t in doc]
        for start in range(0, len(per_doc), batch)
    ]
    embedder.embed(calls[0][:8])  # warm-up
    t0, cpu0 = time.perf_counter(), time.process_time()
    for texts in calls:
        embedder.embed(texts)
    seconds, cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
    chunks = sum(len(texts) for texts in calls)
    return {
        "chunks": chunks,
        "documents_per_call": batch,
        "seconds": round(seconds, 2),
        "chunks_per_s": round(chunks / seconds, 1),
        "cpu_ms_per_chunk": round(cpu_s * 1000 / chunks, 2),
    }


def query_over_http(
    client: httpx.Client,
    texts: list[str],
    *,
    mode: str,
    collections: list[str] | None,
    server_pid: int,
    options: dict[str, Any] | None = None,
) -> dict[str, float]:
    body: dict[str, Any] = {"k": 5, "mode": mode, **(options or {})}
    if collections is not None:
        body["collections"] = collections
    for text in texts[:5]:  # warm-up: the server's BM25 index and query path
        client.post("/v1/knowledge/query", json={**body, "query": text}).raise_for_status()
    samples = []
    cpu0 = cpu_seconds(server_pid)
    for text in texts:
        t0 = time.perf_counter()
        client.post("/v1/knowledge/query", json={**body, "query": text}).raise_for_status()
        samples.append(time.perf_counter() - t0)
    cpu_ms = (cpu_seconds(server_pid) - cpu0) * 1000 / len(texts)
    # Server CPU per query hardly moves with the machine's load; wall-clock latency does.
    return {**_latency(samples), "server_cpu_ms_per_query": round(cpu_ms, 2)}


def bm25_alone(per_doc: list[list[str]], texts: list[str]) -> dict[str, float]:
    chunks = [t for doc in per_doc for t in doc]
    index = BM25Index.build([str(n) for n in range(len(chunks))], chunks)
    samples = []
    for text in texts:
        t0 = time.perf_counter()
        index.search(text, limit=30)
        samples.append(time.perf_counter() - t0)
    return _latency(samples)


def trivial_round_trip(client: httpx.Client, count: int, server_pid: int) -> dict[str, float]:
    samples = []
    cpu0 = cpu_seconds(server_pid)
    for _ in range(count):
        t0 = time.perf_counter()
        client.get("/v1/knowledge/collections").raise_for_status()
        samples.append(time.perf_counter() - t0)
    cpu_ms = (cpu_seconds(server_pid) - cpu0) * 1000 / count
    return {**_latency(samples), "server_cpu_ms_per_query": round(cpu_ms, 2)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=700)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=50, help="documents per upload request")
    parser.add_argument(
        "--single-documents", type=int, default=40, help="also uploaded one per request"
    )
    parser.add_argument(
        "--baseline-documents",
        type=int,
        default=0,
        help="embed only this many documents for the embedder baseline (0: all uploaded)",
    )
    parser.add_argument("--embeddings", default="minilm")
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    docs = policy_documents(args.documents)
    per_doc = chunk_texts(docs)
    asked = queries(args.queries)
    report: dict[str, Any] = {"benchmark": "knowledge_http", "embedder": args.embeddings}
    with tempfile.TemporaryDirectory(prefix="cockpit-bench-kb-") as tmp:
        data_dir, port = Path(tmp), free_port()
        server = start_serve(data_dir, port, settings={"COCKPIT_EMBEDDINGS": args.embeddings})
        try:
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=120) as client:
                key = _wait_ready(client, data_dir, time.perf_counter() + 300)
                client.headers["Authorization"] = f"Bearer {key}"
                cpu0 = cpu_seconds(server.pid)
                ingestion = ingest_over_http(
                    client,
                    docs,
                    collection="policies",
                    batch=args.batch,
                    max_seconds=args.max_seconds,
                )
                cpu1 = cpu_seconds(server.pid)
                ingestion["server_cpu_ms_per_chunk"] = round(
                    (cpu1 - cpu0) * 1000 / ingestion["chunks"], 2
                )
                singles = ingest_over_http(
                    client,
                    docs[: args.single_documents],
                    collection="policies-one-by-one",
                    batch=1,
                    max_seconds=args.max_seconds,
                )
                singles["server_cpu_ms_per_chunk"] = round(
                    (cpu_seconds(server.pid) - cpu1) * 1000 / singles["chunks"], 2
                )
                pid = server.pid
                latency = {
                    "hybrid": query_over_http(
                        client, asked, mode="hybrid", collections=["policies"], server_pid=pid
                    ),
                    # The query path before documents were counted and the title field added.
                    "hybrid_chunks_before": query_over_http(
                        client,
                        asked,
                        mode="hybrid",
                        collections=["policies"],
                        server_pid=pid,
                        options={"group": "chunks", "fields": False},
                    ),
                    "hybrid_all_collections": query_over_http(
                        client, asked, mode="hybrid", collections=None, server_pid=pid
                    ),
                    "bm25": query_over_http(
                        client, asked, mode="bm25", collections=["policies"], server_pid=pid
                    ),
                    "baseline_round_trip": trivial_round_trip(client, min(len(asked), 100), pid),
                }
        finally:
            server.terminate()
            server.wait(timeout=30)

    embedder = make_embedder(args.embeddings)
    sample = args.baseline_documents or ingestion["documents"]
    alone = embedder_alone(
        embedder, per_doc[: min(sample, ingestion["documents"])], batch=args.batch
    )
    alone_singles = embedder_alone(embedder, per_doc[: singles["documents"]], batch=1)
    ratio = alone["chunks_per_s"] / ingestion["chunks_per_s"]
    ratio_singles = alone_singles["chunks_per_s"] / singles["chunks_per_s"]
    # CPU per chunk, server against embedder alone: hardly moved by the machine's load.
    cpu_ratio = ingestion["server_cpu_ms_per_chunk"] / alone["cpu_ms_per_chunk"]
    latency["baseline_bm25_alone_in_process"] = bm25_alone(per_doc, asked)
    report["ingestion"] = {
        "over_http": ingestion,
        "baseline_embedder_alone": alone,
        "ratio_to_embedder": round(ratio, 2),
        "cpu_ratio_to_embedder": round(cpu_ratio, 2),
        "one_document_per_request": {
            "over_http": singles,
            "baseline_embedder_alone": alone_singles,
            "ratio_to_embedder": round(ratio_singles, 2),
            "cpu_ratio_to_embedder": round(
                singles["server_cpu_ms_per_chunk"] / alone_singles["cpu_ms_per_chunk"], 2
            ),
        },
        "target": {
            "chunks_per_s": TARGET_CHUNKS_PER_S,
            "documents": 700,
            "seconds": TARGET_DOCUMENTS_S,
        },
        "verdict": (
            "met"
            if ingestion["chunks_per_s"] >= TARGET_CHUNKS_PER_S
            and ingestion["seconds"] * 700 / max(ingestion["documents"], 1) <= TARGET_DOCUMENTS_S
            else "not met"
        ),
    }
    hybrid = latency["hybrid"]
    report["query"] = {
        "chunks": ingestion["chunks"],
        "latency": latency,
        "ratio_hybrid_to_bm25_alone_p50": round(
            hybrid["p50_ms"] / max(latency["baseline_bm25_alone_in_process"]["p50_ms"], 1e-3), 1
        ),
        "target": {"p95_ms": TARGET_QUERY_P95_MS},
        "verdict": "met" if hybrid["p95_ms"] <= TARGET_QUERY_P95_MS else "not met",
    }
    report["machine"] = {
        "cpus": os.cpu_count(),
        "load_average_1m_before": round(load_before, 2),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
        "note": "shared box: a load average above the CPU count slows every figure; "
        "compare each figure with its same-run baseline",
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
