"""Searching a member's photos: by words, by an example photo, and "more like this".

Each search has the query worker embed its query with the household's CLIP model (jobs.remote: the
worker loads it on the first search and keeps it; the web process never imports torch), asks the
member's Chroma collection for the nearest POOL photos, and keeps those the per-query cutoff finds
relevant (cutoff.py): relative to the best hit and to how this query scores against a sample of the
whole library. Results carry their cosine similarity as it is, and are ordered by relevance
or by date taken.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from django.conf import settings

from assistant.jobs.remote import RemoteFailed, RemoteUnavailable, remote_call
from assistant.photos.cutoff import Background, background_of, cutoff_find
from assistant.photos.intake import photo_open, upright
from assistant.photos.models import ClipModel, Photo
from assistant.photos.services import clip_active
from assistant.photos.store import PhotoHit, vector_get, vectors_query, vectors_sample

# Nearest photos asked of Chroma per search, before the cutoff.
POOL = 200
MAX_QUERY_CHARS = 300
# Longest side of an example photo as sent to the query worker.
EXAMPLE_SIDE = 448
Order = Literal["relevance", "date"]


class SearchUnavailable(RuntimeError):
    """Photo search cannot run: no CLIP model, or it does not load. The message says what to do."""


@dataclass(frozen=True)
class Found:
    photo: Photo
    similarity: float


@dataclass
class SearchResult:
    found: list[Found]
    # How many nearest photos were looked at, and the similarity a photo needed to be kept.
    considered: int
    threshold: float
    # Seconds spent embedding the query, and in the rest (Chroma, the cutoff, the database).
    encode_seconds: float = 0.0
    search_seconds: float = 0.0
    left_out: int = field(init=False)

    def __post_init__(self) -> None:
        self.left_out = max(0, self.considered - len(self.found))


def _model() -> ClipModel:
    model = clip_active()
    if model is None:
        raise SearchUnavailable(
            "Photo search needs a CLIP model: ask the household's owner to import one on the Models page."
        )
    return model


def _query_vector(name: str, **arguments: Any) -> list[float]:
    """The query's vector from the query worker, or SearchUnavailable saying why there is none."""
    try:
        vector: list[float] = remote_call(name=name, arguments=arguments)
    except RemoteUnavailable as exc:
        raise SearchUnavailable(str(exc)) from exc
    except RemoteFailed as exc:
        raise SearchUnavailable(f"The photo search model does not load: {exc}") from exc
    return vector


def _background(owner_id: int, model_id: int, query: Sequence[float]) -> Background | None:
    """How the query scores against a sample of the library: median and spread from it (robust, so the
    relevant photos themselves do not raise the bar they must clear)."""
    import numpy as np

    sample = vectors_sample(owner_id=owner_id, model_id=model_id)
    if len(sample) < 8:
        return None
    scores = np.asarray(sample, dtype=np.float32) @ np.asarray(query, dtype=np.float32)
    return background_of(scores=[float(score) for score in scores])


def _ranked(owner: Any, model: ClipModel, query: Sequence[float], exclude: int | None) -> tuple[list[PhotoHit], Any]:
    hits = vectors_query(owner_id=owner.pk, model_id=model.pk, embedding=query, limit=POOL)
    cut = cutoff_find(scores=[hit.similarity for hit in hits], background=_background(owner.pk, model.pk, query))
    kept = [hit for hit in hits[: cut.keep] if hit.photo_id != exclude]
    return kept, cut


def _search(owner: Any, model: ClipModel, query: Sequence[float], order: Order, exclude: int | None) -> SearchResult:
    started = time.perf_counter()
    kept, cut = _ranked(owner, model, query, exclude)
    photos = Photo.objects.owned_by(owner).in_bulk([hit.photo_id for hit in kept])
    found = [Found(photos[hit.photo_id], hit.similarity) for hit in kept if hit.photo_id in photos]
    if order == "date":
        found.sort(key=lambda item: (item.photo.sort_at, item.photo.pk), reverse=True)
    considered = Photo.objects.owned_by(owner).filter(embedded_with=model).count()
    result = SearchResult(found=found, considered=considered - (exclude is not None), threshold=cut.threshold)
    result.search_seconds = time.perf_counter() - started
    return result


def photos_search_words(*, owner: Any, text: str, order: Order = "relevance") -> SearchResult:
    """The member's photos that match `text` ("our dog at the beach")."""
    model = _model()
    started = time.perf_counter()
    query = _query_vector("photos.text_vector", model_id=model.pk, text=text[:MAX_QUERY_CHARS])
    encode = time.perf_counter() - started
    result = _search(owner, model, query, order, exclude=None)
    result.encode_seconds = encode
    return result


def photos_search_example(*, owner: Any, data: bytes, name: str, order: Order = "relevance") -> SearchResult:
    """The member's photos like an example photo that need not be in the library. PhotoRejected for a bad file."""
    model = _model()
    started = time.perf_counter()
    image, _ = photo_open(io.BytesIO(data), name=name, max_pixels=settings.HEARTH_PHOTO_MAX_PIXELS, draft_side=448)
    small = upright(image).convert("RGB")
    small.thumbnail((EXAMPLE_SIDE, EXAMPLE_SIDE))  # CLIP sees a few hundred pixels; the worker needs no more
    png = io.BytesIO()
    small.save(png, format="PNG")
    query = _query_vector(
        "photos.image_vector", model_id=model.pk, png_base64=base64.b64encode(png.getvalue()).decode()
    )
    encode = time.perf_counter() - started
    result = _search(owner, model, query, order, exclude=None)
    result.encode_seconds = encode
    return result


def photos_search_similar(*, owner: Any, photo: Photo, order: Order = "relevance") -> SearchResult:
    """More like this: the member's other photos near `photo` (no model is run: its vector is stored)."""
    model = _model()
    query = vector_get(owner_id=owner.pk, model_id=model.pk, photo_id=photo.pk)
    if query is None:
        raise SearchUnavailable(f"{photo.name} is not indexed for search yet. Try again in a moment.")
    return _search(owner, model, query, order, exclude=photo.pk)
