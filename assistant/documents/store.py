"""Passage vectors in the Chroma server: one collection for every member's documents.

Each record's id is f"{document_id}:{chunk_number}", so writing a document again overwrites
instead of adding. Its metadata names the owner, the document, the page and the character offsets,
and every query is filtered by owner_id: one member's search never sees another's passages.
A Chroma server that does not answer raises ConnectionError, which the job runner retries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from assistant.documents.chunk import Chunk
from assistant.vectors import collection_get

COLLECTION = "hearth_documents"
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


@contextmanager
def _answering() -> Iterator[None]:
    """Turn "the server is not there" into ConnectionError, whichever way the client says it."""
    import httpx

    try:
        yield
    except httpx.TransportError as exc:
        raise ConnectionError(f"the vector store did not answer ({exc})") from exc
    except ValueError as exc:
        if "could not connect" in str(exc).lower():
            raise ConnectionError(f"the vector store did not answer ({exc})") from exc
        raise


def _call(action: Callable[[Any], T]) -> T:
    with _answering():
        return action(collection_get(name=COLLECTION, metadata=COLLECTION_METADATA))


def vectors_upsert(
    *, owner_id: int, document_id: int, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]
) -> None:
    if len(chunks) != len(embeddings):
        raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} vectors")
    if not chunks:
        return
    _call(
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
        )
    )


def vectors_delete(*, document_id: int) -> None:
    """Remove every vector of the document; nothing to remove is not an error."""
    _call(lambda collection: collection.delete(where={"document_id": document_id}))


def vectors_count(*, document_id: int) -> int:
    ids = _call(lambda collection: collection.get(where={"document_id": document_id}, include=[])["ids"])
    return len(ids)


def vectors_query(
    *, owner_id: int, embedding: Sequence[float], document_ids: Sequence[int], limit: int
) -> list[VectorHit]:
    """The owner's passages nearest to `embedding`, among `document_ids` (which must not be empty)."""
    if not document_ids or limit < 1:
        return []
    where: dict[str, Any] = {"$and": [{"owner_id": owner_id}, {"document_id": {"$in": list(document_ids)}}]}
    found = _call(
        lambda collection: collection.query(
            query_embeddings=[list(embedding)], n_results=limit, where=where, include=["metadatas", "distances"]
        )
    )
    hits = []
    for metadata, distance in zip(found["metadatas"][0], found["distances"][0], strict=True):
        if metadata.get("owner_id") != owner_id:  # the filter already holds; this is the belt to its braces
            continue
        hits.append(
            VectorHit(
                document_id=int(metadata["document_id"]),
                chunk_number=int(metadata["chunk"]),
                similarity=1.0 - float(distance),
            )
        )
    return hits
