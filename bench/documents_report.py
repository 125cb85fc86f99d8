"""What bench.documents measured, and the table and notes it prints."""

from __future__ import annotations

import math
import os
import platform
from dataclasses import dataclass, field
from typing import Any

from bench.common import Row

GOAL_EMBED_RATIO = 0.8  # embedding chunks/s inside ingestion over raw encode, at least
GOAL_P95_MS = 50.0  # documents_search p95 with --chunks records stored, at most


@dataclass
class Results:
    pages: int = 0
    documents: int = 0
    chunks: int = 0
    pdf_build_seconds: float = 0.0
    ingest_seconds: float = 0.0
    ingest_embed_seconds: float = 0.0
    ingest_upsert_seconds: float = 0.0
    raw_embed_seconds: float = 0.0
    batch_size: int = 0
    threads: int = 0
    recall_hits: int = 0
    recall_hits_full: int = 0
    questions: int = 0
    misses: list[str] = field(default_factory=list)
    stored: int = 0
    fill_seconds: float = 0.0
    search_ms: list[float] = field(default_factory=list)
    search_embed_ms: list[float] = field(default_factory=list)
    search_vector_ms: list[float] = field(default_factory=list)
    search_keyword_ms: list[float] = field(default_factory=list)
    bare_ms: list[float] = field(default_factory=list)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]  # nearest rank


def p50_p95(values: list[float]) -> str:
    return f"p50 {percentile(values, 50):.1f} / p95 {percentile(values, 95):.1f} ms"


def rows(results: Results) -> list[Row]:
    r = results
    embed_rate = r.chunks / r.ingest_embed_seconds if r.ingest_embed_seconds else 0.0
    raw_rate = r.chunks / r.raw_embed_seconds if r.raw_embed_seconds else 0.0
    end_to_end = r.chunks / r.ingest_seconds if r.ingest_seconds else 0.0
    ratio = embed_rate / raw_rate if raw_rate else 0.0
    p95 = percentile(r.search_ms, 95)
    recall = r.recall_hits / r.questions if r.questions else 0.0
    recall_full = r.recall_hits_full / r.questions if r.questions else 0.0
    return [
        Row(
            f"ingest {r.pages} PDF pages ({r.documents} files, {r.chunks} chunks)",
            f"{r.pages / r.ingest_seconds:.2f} pages/s",
            "",
            f"{r.ingest_seconds:.0f} s",
            "",
            None,
        ),
        Row(
            "embedding chunks/s in ingestion vs raw encode",
            f"{embed_rate:.1f} chunks/s",
            f"{raw_rate:.1f} chunks/s",
            f"{ratio:.3f}",
            f"≥ {GOAL_EMBED_RATIO}",
            ratio >= GOAL_EMBED_RATIO,
        ),
        Row(
            "  reference: whole ingestion vs raw encode",
            f"{end_to_end:.1f} chunks/s",
            f"{raw_rate:.1f} chunks/s",
            f"{end_to_end / raw_rate if raw_rate else 0:.3f}",
            "",
            None,
        ),
        Row(
            f"documents_search, {r.stored:,} records stored",
            p50_p95(r.search_ms),
            "",
            "",
            f"p95 ≤ {GOAL_P95_MS:.0f} ms",
            p95 <= GOAL_P95_MS,
        ),
        Row("  of which query embedding", p50_p95(r.search_embed_ms), "", "", "", None),
        Row("  of which Chroma vectors_query", p50_p95(r.search_vector_ms), "", "", "", None),
        Row("  of which keyword ranking (SQLite FTS5)", p50_p95(r.search_keyword_ms), "", "", "", None),
        Row("  bare collection.query, no filter", "", p50_p95(r.bare_ms), "", "", None),
        Row(
            f"recall@5, {r.questions} questions (small collection)",
            f"{r.recall_hits}/{r.questions} = {recall:.2f}",
            "",
            "",
            "",
            None,
        ),
        Row(
            f"recall@5 again with {r.stored:,} records stored",
            f"{r.recall_hits_full}/{r.questions} = {recall_full:.2f}",
            "",
            "",
            "",
            None,
        ),
    ]


def notes(results: Results) -> list[str]:
    r = results
    other = r.ingest_seconds - r.ingest_embed_seconds - r.ingest_upsert_seconds
    return [
        f"ingestion time split: embed {r.ingest_embed_seconds:.1f} s, Chroma upsert {r.ingest_upsert_seconds:.1f} s, "
        f"the rest (upload, pypdf extract, chunk, SQLite rows, job bookkeeping) {other:.1f} s; "
        f"building the PDFs (not timed) ≈ {r.pdf_build_seconds:.1f} s",
        f"embedding: batch size {r.batch_size}, torch threads {r.threads}; raw encode {r.raw_embed_seconds:.1f} s "
        f"for the same {r.chunks} texts",
        f"fill: {r.stored:,} records in Chroma after {r.fill_seconds:.0f} s of direct upserts",
        "recall misses: " + ("; ".join(r.misses) if r.misses else "none"),
    ]


def machine() -> dict[str, Any]:
    import chromadb

    return {
        "cores": os.cpu_count(),
        "arch": platform.machine(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "chromadb": chromadb.__version__,
    }
