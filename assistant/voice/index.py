"""Transcript segments in the Chroma server: one voice collection per member, apart from documents.

Each record's id is f"{note_id}:{number}", so indexing a note again overwrites; its metadata carries
the owner, the note and the segment's start and end seconds, which is what a citation needs. A server
that does not answer raises ConnectionError, which the job runner retries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from assistant.core.vectors import collection_call

COLLECTION_PREFIX = "hearth_voice_"
COLLECTION_METADATA = {"hnsw:space": "cosine"}
T = TypeVar("T")


@dataclass(frozen=True)
class SegmentRecord:
    number: int
    start: float
    end: float


@dataclass(frozen=True)
class SegmentHit:
    note_id: int
    number: int
    similarity: float


def collection_name(owner_id: int) -> str:
    return f"{COLLECTION_PREFIX}{owner_id}"


def _call(owner_id: int, action: Callable[[Any], T]) -> T:
    return collection_call(name=collection_name(owner_id), metadata=COLLECTION_METADATA, action=action)


def segment_vectors_upsert(
    *, owner_id: int, note_id: int, segments: Sequence[SegmentRecord], embeddings: Sequence[Sequence[float]]
) -> None:
    if len(segments) != len(embeddings):
        raise ValueError(f"{len(segments)} segments but {len(embeddings)} vectors")
    if not segments:
        return
    _call(
        owner_id,
        lambda collection: collection.upsert(
            ids=[f"{note_id}:{segment.number}" for segment in segments],
            embeddings=[list(vector) for vector in embeddings],
            metadatas=[
                {"owner_id": owner_id, "note_id": note_id, "segment": s.number, "start": s.start, "end": s.end}
                for s in segments
            ],
        ),
    )


def segment_vectors_delete(*, owner_id: int, note_id: int) -> None:
    """Remove every vector of the note; nothing to remove is not an error."""
    _call(owner_id, lambda collection: collection.delete(where={"note_id": note_id}))


def segment_vectors_count(*, owner_id: int, note_id: int) -> int:
    return len(_call(owner_id, lambda collection: collection.get(where={"note_id": note_id}, include=[])["ids"]))


def segment_vectors_query(
    *, owner_id: int, embedding: Sequence[float], note_ids: Sequence[int], limit: int
) -> list[SegmentHit]:
    """The owner's segments nearest to `embedding`, among `note_ids` (the READY notes)."""
    if limit < 1 or not note_ids:
        return []
    found = _call(
        owner_id,
        lambda collection: collection.query(
            query_embeddings=[list(embedding)],
            n_results=limit,
            where={"note_id": {"$in": list(note_ids)}},
            include=["metadatas", "distances"],
        ),
    )
    return [
        SegmentHit(note_id=int(meta["note_id"]), number=int(meta["segment"]), similarity=1.0 - float(distance))
        for meta, distance in zip(found["metadatas"][0], found["distances"][0], strict=True)
        if meta.get("owner_id") == owner_id
    ]
