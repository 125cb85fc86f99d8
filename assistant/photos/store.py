"""Photo vectors in the Chroma server: one collection per member and CLIP model.

A member's searches go to their own collection, so none can reach another member's photos. Vectors
of two CLIP models cannot be compared, so each model has its own collections (`..._<owner>_m<model>`),
and changing the model fills new ones while search keeps using the old until they are complete.
Each record's id is `photo:<id>`: indexing a photo again overwrites its vector instead of adding one.
chromadb is imported on first use, never on the web import path.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from assistant.core.vectors import chroma_client, collection_get

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


@contextmanager
def _answering() -> Iterator[None]:
    """Turn "the server is not there" into ConnectionError, which the job runner retries."""
    import httpx

    try:
        yield
    except httpx.TransportError as exc:
        raise ConnectionError(f"the vector store did not answer ({exc})") from exc
    except ValueError as exc:
        if "could not connect" in str(exc).lower():
            raise ConnectionError(f"the vector store did not answer ({exc})") from exc
        raise


_collections: dict[str, Any] = {}
_lock = threading.Lock()


def _collection(name: str) -> Any:
    with _lock:
        if name not in _collections:
            _collections[name] = collection_get(name=name, metadata=COLLECTION_METADATA)
        return _collections[name]


def _call(owner_id: int, model_id: int, action: Callable[[Any], T]) -> T:
    from chromadb.errors import NotFoundError

    name = collection_name(owner_id=owner_id, model_id=model_id)
    with _answering():
        try:
            return action(_collection(name))
        except NotFoundError:  # dropped on the server since the handle was kept: make it again
            with _lock:
                _collections.pop(name, None)
            return action(_collection(name))


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
    with _answering():
        for name in collection_names(owner_id=owner_id):
            model_id = int(name.rsplit("_m", 1)[1])
            _call(owner_id, model_id, lambda collection: collection.delete(ids=ids))
            _samples.pop((owner_id, model_id), None)


def collection_names(*, owner_id: int) -> list[str]:
    prefix = f"{COLLECTION_PREFIX}{owner_id}_m"
    with _answering():
        return [c.name for c in chroma_client().list_collections() if c.name.startswith(prefix)]


def collections_drop(*, owner_id: int, keep_model_id: int | None) -> None:
    """Drop the member's collections of models other than `keep_model_id` (after a model change)."""
    keep = collection_name(owner_id=owner_id, model_id=keep_model_id) if keep_model_id else None
    for name in collection_names(owner_id=owner_id):
        if name != keep:
            with _answering():
                chroma_client().delete_collection(name)
            with _lock:
                _collections.pop(name, None)


def model_collections_drop(*, model_id: int) -> None:
    """Drop every member's collection of one CLIP model (when the household removes that model)."""
    suffix = f"_m{model_id}"
    with _answering():
        client = chroma_client()
        for collection in client.list_collections():
            if collection.name.startswith(COLLECTION_PREFIX) and collection.name.endswith(suffix):
                client.delete_collection(collection.name)
                with _lock:
                    _collections.pop(collection.name, None)


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
