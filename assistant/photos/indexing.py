"""The photo jobs, on the `media` queue: a member's thumbnails and vectors, and checking a CLIP model.

`photo_index_run` takes the member's photos that lack a thumbnail or a vector of the active CLIP model,
a batch at a time, until none is left (photos uploaded meanwhile are taken too). Per batch: decode each
original once, write its preview and thumbnail, embed the thumbnails in one CLIP batch, upsert the
vectors under `photo:<id>`, and only then mark the rows. A run killed mid-batch leaves rows unmarked,
so the next run does that batch again and overwrites the same files and vector ids: nothing twice.
A photo the worker cannot read gets its error and the batch goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q
from PIL import Image

from assistant.documents.pipeline.embed import embed_threads
from assistant.jobs.runner import JobContext, JobFailed
from assistant.photos.clip import ClipSpec, ClipUnavailable, ImageEmbedder, clip_load
from assistant.photos.intake import PhotoRejected, Rendition, renditions_write
from assistant.photos.models import ClipModel, ClipStatus, Photo
from assistant.photos.services import (
    PREVIEW_SIDE,
    THUMB_SIDE,
    clip_active,
    photo_files,
    photos_index_queue,
    photos_publish,
)
from assistant.photos.store import collections_drop, vectors_upsert

log = logging.getLogger(__name__)


def _todo(owner_id: int, model: ClipModel | None) -> Any:
    pending = Q(ready=False)
    if model is not None:
        pending |= Q(embedded_with__isnull=True) | ~Q(embedded_with=model)
    return Photo.objects.filter(pending, owner_id=owner_id, error="").order_by("id")


def _picture(photo: Photo) -> Image.Image | None:
    """The photo as CLIP sees it: the thumbnail, made first when missing. None (and the row's error
    written) when the file cannot be read."""
    files = photo_files(photo=photo)
    if files is None or not files.original.is_file():
        _fail(photo, f"The file of {photo.name} is missing from Hearth's data folder. Upload it again.")
        return None
    try:
        if photo.ready and files.thumb.is_file():
            with Image.open(files.thumb) as thumb:
                return thumb.convert("RGB")
        targets = [Rendition(files.thumb, THUMB_SIDE)]
        if photo.has_preview:
            targets.append(Rendition(files.preview, PREVIEW_SIDE))
        return renditions_write(source=files.original, targets=targets, max_pixels=settings.HEARTH_PHOTO_MAX_PIXELS)
    except PhotoRejected as exc:
        _fail(photo, str(exc))
    except OSError as exc:
        _fail(photo, f"{photo.name} could not be read ({exc}).")
    return None


def _fail(photo: Photo, error: str) -> None:
    Photo.objects.filter(pk=photo.pk).update(error=error)
    photo.error = error


def _batch_index(photos: Sequence[Photo], model: ClipModel | None, embedder: ImageEmbedder | None) -> list[Photo]:
    pictures = [(photo, _picture(photo)) for photo in photos]
    usable = [(photo, picture) for photo, picture in pictures if picture is not None]
    if embedder is not None and model is not None and usable:
        vectors = embedder.embed_batch([picture for _, picture in usable])
        owner_id = usable[0][0].owner_id
        vectors_upsert(owner_id=owner_id, model_id=model.pk, photo_ids=[p.pk for p, _ in usable], embeddings=vectors)
    done: list[Photo] = []
    for photo, _ in usable:
        changes: dict[str, Any] = {"ready": True}
        if model is not None and embedder is not None:
            changes["embedded_with"] = model
        if Photo.objects.filter(pk=photo.pk).update(**changes):
            for field, value in changes.items():
                setattr(photo, field, value)
            done.append(photo)
    return [*done, *(photo for photo, picture in pictures if picture is None)]


def _embedder(model: ClipModel | None) -> ImageEmbedder | None:
    if model is None:
        return None
    spec = ClipSpec(architecture=model.architecture, checkpoint=Path(model.checkpoint))
    try:
        return ImageEmbedder(spec=spec, threads=embed_threads())
    except ClipUnavailable as exc:
        raise JobFailed(f"The photo search model cannot be loaded: {exc} Import it again on the Models page.") from exc


def photo_index_run(context: JobContext) -> str:
    """The job handler: thumbnails and vectors for the member's photos that lack them."""
    owner_id = int(context.job.payload.get("owner_id", 0))
    model = clip_active()
    total = _todo(owner_id, model).count()
    if total == 0:
        return "Every photo is indexed"
    context.progress(0.01, f"{total} photos to index" + ("; loading the photo search model" if model else ""))
    embedder = _embedder(model)
    done = 0
    batch_size = settings.HEARTH_PHOTO_BATCH_SIZE
    while batch := list(_todo(owner_id, model)[:batch_size]):
        handled = _batch_index(batch, model, embedder)
        photos_publish(owner_id=owner_id, photos=handled)
        done += len(batch)
        total = max(total, done + _todo(owner_id, model).count())
        context.progress(done / total, f"Indexed {done} of {total} photos")
    if model is not None:
        collections_drop(owner_id=owner_id, keep_model_id=model.pk)
    failed = Photo.objects.filter(owner_id=owner_id).exclude(error="").count()
    return f"Indexed {done} photos" + (f"; {failed} could not be read" if failed else "")


def clip_check_run(context: JobContext) -> str:
    """The job handler: load the imported checkpoint (which validates it) and, if it works, put it in use
    and queue every member's photos for new vectors."""
    model = ClipModel.objects.filter(pk=int(context.job.payload.get("clip_model_id", 0))).first()
    if model is None:
        return "The model was removed before it was checked"
    context.progress(0.1, f"Loading {model.architecture} from {model.checkpoint}")
    try:
        info = clip_load(spec=ClipSpec(architecture=model.architecture, checkpoint=Path(model.checkpoint))).info
    except ClipUnavailable as exc:
        ClipModel.objects.filter(pk=model.pk).update(status=ClipStatus.FAILED, error=str(exc))
        raise JobFailed(str(exc)) from exc
    ClipModel.objects.filter(pk=model.pk).update(
        status=ClipStatus.READY,
        error="",
        dimensions=info.dimensions,
        parameters=info.parameters,
        ram_bytes=info.ram_bytes,
        image_size=info.image_size,
    )
    owners = Photo.objects.values_list("owner", flat=True).distinct()
    from django.contrib.auth import get_user_model

    for owner in get_user_model().objects.filter(pk__in=owners):
        photos_index_queue(owner=owner)
    return f"{model.architecture} works: {info.dimensions}-dimensional vectors, about {info.ram_bytes / 1e6:,.0f} MB"
