"""Photo vectors in the Chroma server: one collection per member and CLIP model.

A member's searches go to their own collection, so none can reach another member's photos. Vectors
of two CLIP models cannot be compared, so each model has its own collections (`..._<owner>_m<model>`),
and changing the model fills new ones while search keeps using the old until they are complete.
Each record's id is `photo:<id>`: indexing a photo again overwrites its vector instead of adding one.
chromadb is imported on first use, never on the web import path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from assistant.core.vectors import chroma_client, collection_call, collection_forget, vector_store_answering

COLLECTION_PREFIX = "hearth_photos_"
COLLECTION_METADATA = {"hnsw:space": "cosine"}
# How many of the member's vectors describe "the library in general" to the cutoff.
SAMPLE_SIZE = 256
SAMPLE_WINDOWS = 8

T = TypeVar("T")


@dataclass(frozen=True)
class PhotoHit:
    photo_id: int
    similarity: float


def vector_id(photo_id: int) -> str:
    return f"photo:{photo_id}"


def collection_name(*, owner_id: int, model_id: int) -> str:
    return f"{COLLECTION_PREFIX}{owner_id}_m{model_id}"


def _call(owner_id: int, model_id: int, action: Callable[[Any], T]) -> T:
    name = collection_name(owner_id=owner_id, model_id=model_id)
    return collection_call(name=name, metadata=COLLECTION_METADATA, action=action)


def vectors_upsert(
    *, owner_id: int, model_id: int, photo_ids: Sequence[int], embeddings: Sequence[Sequence[float]]
) -> None:
    if len(photo_ids) != len(embeddings):
        raise ValueError(f"{len(photo_ids)} photos but {len(embeddings)} vectors")
    if not photo_ids:
        return
    _call(
        owner_id,
        model_id,
        lambda collection: collection.upsert(
            ids=[vector_id(pk) for pk in photo_ids],
            embeddings=[list(vector) for vector in embeddings],
            metadatas=[{"owner_id": owner_id, "photo_id": pk} for pk in photo_ids],
        ),
    )
    _samples.pop((owner_id, model_id), None)


def vectors_delete(*, owner_id: int, photo_ids: Sequence[int]) -> None:
    """Remove the photos' vectors from every CLIP model's collection of the member."""
    ids = [vector_id(pk) for pk in photo_ids]
    with vector_store_answering():
        for name in collection_names(owner_id=owner_id):
            model_id = int(name.rsplit("_m", 1)[1])
            _call(owner_id, model_id, lambda collection: collection.delete(ids=ids))
            _samples.pop((owner_id, model_id), None)


def collection_names(*, owner_id: int) -> list[str]:
    prefix = f"{COLLECTION_PREFIX}{owner_id}_m"
    with vector_store_answering():
        return [c.name for c in chroma_client().list_collections() if c.name.startswith(prefix)]


def collections_drop(*, owner_id: int, keep_model_id: int | None) -> None:
    """Drop the member's collections of models other than `keep_model_id` (after a model change)."""
    keep = collection_name(owner_id=owner_id, model_id=keep_model_id) if keep_model_id else None
    for name in collection_names(owner_id=owner_id):
        if name != keep:
            with vector_store_answering():
                chroma_client().delete_collection(name)
            collection_forget(name=name)


def model_collections_drop(*, model_id: int) -> None:
    """Drop every member's collection of one CLIP model (when the household removes that model)."""
    suffix = f"_m{model_id}"
    with vector_store_answering():
        client = chroma_client()
        for collection in client.list_collections():
            if collection.name.startswith(COLLECTION_PREFIX) and collection.name.endswith(suffix):
                client.delete_collection(collection.name)
                collection_forget(name=collection.name)


def vector_get(*, owner_id: int, model_id: int, photo_id: int) -> list[float] | None:
    found = _call(owner_id, model_id, lambda c: c.get(ids=[vector_id(photo_id)], include=["embeddings"]))
    embeddings = found.get("embeddings")
    if embeddings is None or len(embeddings) == 0:
        return None
    return [float(x) for x in embeddings[0]]


def vectors_count(*, owner_id: int, model_id: int) -> int:
    return int(_call(owner_id, model_id, lambda collection: collection.count()))


def vectors_query(*, owner_id: int, model_id: int, embedding: Sequence[float], limit: int) -> list[PhotoHit]:
    """The member's photos nearest to `embedding`, best first, with their cosine similarity."""
    if limit < 1:
        return []
    found = _call(
        owner_id,
        model_id,
        lambda collection: collection.query(
            query_embeddings=[list(embedding)], n_results=limit, include=["metadatas", "distances"]
        ),
    )
    return [
        PhotoHit(photo_id=int(metadata["photo_id"]), similarity=1.0 - float(distance))
        for metadata, distance in zip(found["metadatas"][0], found["distances"][0], strict=True)
        if metadata.get("owner_id") == owner_id  # the collection is the owner's; this is the belt to its braces
    ]


# A sample of each collection's vectors, kept while it does not change: (owner, model) -> (count, vectors)
_samples: dict[tuple[int, int], tuple[int, list[list[float]]]] = {}


def _window_get(offset: int, size: int) -> Callable[[Any], Any]:
    return lambda collection: collection.get(offset=offset, limit=size, include=["embeddings"])


def vectors_sample(*, owner_id: int, model_id: int) -> list[list[float]]:
    """About SAMPLE_SIZE of the member's vectors, in windows spread evenly over the collection, for the
    cutoff's background. Kept in memory until the collection's size changes."""
    count = vectors_count(owner_id=owner_id, model_id=model_id)
    kept = _samples.get((owner_id, model_id))
    if kept is not None and kept[0] == count:
        return kept[1]
    windows = 1 if count <= SAMPLE_SIZE else SAMPLE_WINDOWS
    size = SAMPLE_SIZE // windows
    vectors: list[list[float]] = []
    for window in range(windows):
        found = _call(owner_id, model_id, _window_get(window * (count // windows), size))
        vectors.extend([float(x) for x in vector] for vector in found["embeddings"])
    _samples[(owner_id, model_id)] = (count, vectors)
    return vectors
