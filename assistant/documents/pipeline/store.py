"""Passage vectors in the Chroma server: one collection per member.

A member's searches go to their own collection, so no query ever needs an owner filter (which costs
Chroma a scan of the metadata) and none can reach another member's passages even if a filter were
wrong. Each record's id is f"{document_id}:{chunk_number}", so writing a document again overwrites
instead of adding; its metadata still names the owner, the document, the page and the character
offsets. A Chroma server that does not answer raises ConnectionError, which the job runner retries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from assistant.core.vectors import collection_call
from assistant.documents.pipeline.chunk import Chunk

COLLECTION_PREFIX = "hearth_documents_"
# Cosine distance on unit vectors: similarity is 1 - distance.
COLLECTION_METADATA = {"hnsw:space": "cosine"}

T = TypeVar("T")


@dataclass(frozen=True)
class VectorHit:
    document_id: int
    chunk_number: int
    similarity: float


def vector_id(document_id: int, chunk_number: int) -> str:
    return f"{document_id}:{chunk_number}"


def collection_name(owner_id: int) -> str:
    return f"{COLLECTION_PREFIX}{owner_id}"


def _call(owner_id: int, action: Callable[[Any], T]) -> T:
    return collection_call(name=collection_name(owner_id), metadata=COLLECTION_METADATA, action=action)


def vectors_upsert(
    *, owner_id: int, document_id: int, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]
) -> None:
    if len(chunks) != len(embeddings):
        raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} vectors")
    if not chunks:
        return
    _call(
        owner_id,
        lambda collection: collection.upsert(
            ids=[vector_id(document_id, chunk.number) for chunk in chunks],
            embeddings=[list(vector) for vector in embeddings],
            metadatas=[
                {
                    "owner_id": owner_id,
                    "document_id": document_id,
                    "chunk": chunk.number,
                    "page": chunk.page,
                    "start": chunk.start,
                    "end": chunk.end,
                }
                for chunk in chunks
            ],
        ),
    )


def vectors_delete(*, owner_id: int, document_id: int) -> None:
    """Remove every vector of the document; nothing to remove is not an error."""
    _call(owner_id, lambda collection: collection.delete(where={"document_id": document_id}))


def vectors_count(*, owner_id: int, document_id: int) -> int:
    ids = _call(owner_id, lambda collection: collection.get(where={"document_id": document_id}, include=[])["ids"])
    return len(ids)


def vectors_query(
    *, owner_id: int, embedding: Sequence[float], document_ids: Sequence[int] | None, limit: int
) -> list[VectorHit]:
    """The owner's passages nearest to `embedding`: among `document_ids`, or among all when None."""
    if limit < 1 or (document_ids is not None and not document_ids):
        return []
    where = None if document_ids is None else {"document_id": {"$in": list(document_ids)}}
    found = _call(
        owner_id,
        lambda collection: collection.query(
            query_embeddings=[list(embedding)], n_results=limit, where=where, include=["metadatas", "distances"]
        ),
    )
    return [
        VectorHit(
            document_id=int(metadata["document_id"]),
            chunk_number=int(metadata["chunk"]),
            similarity=1.0 - float(distance),
        )
        for metadata, distance in zip(found["metadatas"][0], found["distances"][0], strict=True)
        if metadata.get("owner_id") == owner_id  # the collection is the owner's; this is the belt to its braces
    ]


def vectors_similarity(
    *, owner_id: int, embedding: Sequence[float], keys: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], float]:
    """Cosine similarity of `embedding` to the stored vectors of these (document, chunk) passages."""
    if not keys:
        return {}
    import numpy as np

    found = _call(
        owner_id,
        lambda collection: collection.get(
            ids=[vector_id(document_id, number) for document_id, number in keys], include=["embeddings", "metadatas"]
        ),
    )
    query = np.asarray(embedding, dtype=np.float32)
    similarity: dict[tuple[int, int], float] = {}
    for metadata, vector in zip(found["metadatas"], found["embeddings"], strict=True):
        if metadata.get("owner_id") == owner_id:
            key = (int(metadata["document_id"]), int(metadata["chunk"]))
            similarity[key] = float(np.dot(query, np.asarray(vector, dtype=np.float32)))
    return similarity
