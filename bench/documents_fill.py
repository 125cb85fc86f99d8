"""Growing the benchmark's collection to many passages: real texts, perturbed real vectors."""

from __future__ import annotations

import time
from typing import Any

from bench.common import say
from bench.corpus import SEED
from bench.documents_report import Results

SYNTHETIC_CHUNKS_PER_DOCUMENT = 100
NOISE_SIGMA = 0.03  # per-dimension noise added to a real 384-dim unit vector (cosine to it ≈ 0.85)
UPSERT_BATCH = 2000


def fill(*, chunks: int, owner: Any, results: Results) -> None:
    """Grow the collection to chunks records for `owner` with perturbed real vectors and real texts."""
    import numpy as np

    from assistant.core.vectors import collection_get
    from assistant.documents.pipeline.store import COLLECTION_METADATA, collection_name, vector_id
    from assistant.models import Document, DocumentChunk, DocumentKind, DocumentStatus

    collection = collection_get(name=collection_name(owner.pk), metadata=COLLECTION_METADATA)
    real = collection.get(include=["embeddings"])
    base = np.asarray(real["embeddings"], dtype=np.float32)
    texts = list(
        DocumentChunk.objects.filter(document__owner=owner)
        .order_by("document_id", "number")
        .values_list("text", "page")
    )
    missing = chunks - collection.count()
    results.stored = collection.count()
    if missing <= 0:
        return
    say(f"filling Chroma with {missing} records (perturbed copies of {len(base)} real vectors)")
    rng = np.random.default_rng(SEED)
    started = time.perf_counter()
    made = 0
    serial = 0
    while made < missing:
        count = min(SYNTHETIC_CHUNKS_PER_DOCUMENT, missing - made)
        serial += 1
        document = Document.objects.create(
            owner=owner,
            name=f"Synthetic notebook {serial}.pdf",
            file=f"users/{owner.pk}/documents/synthetic-{serial}.pdf",
            kind=DocumentKind.PDF,
            size_bytes=0,
            sha256=f"{serial:064x}",
            status=DocumentStatus.READY,
            page_count=count // 3 + 1,
            chunk_count=count,
        )
        sources = rng.integers(0, len(base), size=count)
        vectors = base[sources] + rng.normal(0.0, NOISE_SIGMA, size=(count, base.shape[1])).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        rows = [
            DocumentChunk(
                document=document,
                number=n,
                page=n // 3 + 1,
                heading="",
                start=0,
                end=len(texts[int(s) % len(texts)][0]),
                text=texts[int(s) % len(texts)][0],
            )
            for n, s in enumerate(sources)
        ]
        DocumentChunk.objects.bulk_create(rows, batch_size=500)
        for first in range(0, count, UPSERT_BATCH):
            part = range(first, min(first + UPSERT_BATCH, count))
            collection.upsert(
                ids=[vector_id(document.pk, n) for n in part],
                embeddings=vectors[first : part.stop].tolist(),
                metadatas=[
                    {
                        "owner_id": owner.pk,
                        "document_id": document.pk,
                        "chunk": n,
                        "page": n // 3 + 1,
                        "start": 0,
                        "end": rows[n].end,
                    }
                    for n in part
                ],
            )
        made += count
        if serial % 100 == 0:
            say(f"  {made}/{missing} records, {time.perf_counter() - started:.0f} s")
    results.fill_seconds = time.perf_counter() - started
    results.stored = collection.count()
