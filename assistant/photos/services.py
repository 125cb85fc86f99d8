"""Photos: upload, the gallery's pages, delete, and the household's CLIP model (search is in search.py,
the indexing job in indexing.py).

Where things live:
  DATA_DIR/users/<owner>/photos/<random>.<ext>          the uploaded bytes, under a name Hearth chose
  DATA_DIR/users/<owner>/photos/previews/<random>.jpg   upright JPEG for the viewer, of HEIC photos only
  DATA_DIR/users/<owner>/photos/thumbs/<random>.jpg     upright JPEG for the gallery (THUMB_SIDE)
  Photo rows; ClipModel rows (household-wide); Chroma "hearth_photos_<owner>_m<model>", id "photo:<id>"

Uploads are checked completely in the web process (every byte decoded, at a reduced scale for JPEG);
the worker makes the thumbnails and vectors. Callers check ownership.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from assistant.core.events import event_publish
from assistant.core.storage import member_file, member_folder, upload_received
from assistant.documents.services import document_name_clean
from assistant.jobs.models import Job, JobStatus
from assistant.jobs.services import job_cancel, job_create
from assistant.photos.intake import PhotoFacts, PhotoRejected, photo_inspect
from assistant.photos.models import ClipModel, ClipStatus, Photo
from assistant.photos.store import model_collections_drop, vectors_delete

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

log = logging.getLogger(__name__)

FOLDER = "photos"
PREVIEW_SIDE = 1600
THUMB_SIDE = 400
INDEX_KIND = "photo_index"
CLIP_CHECK_KIND = "clip_check"


class PhotoDuplicate(PhotoRejected):
    """The member already has a photo with exactly these bytes."""

    def __init__(self, name: str, existing: Photo) -> None:
        super().__init__(f"{name} is already in your library, as “{existing.name}”.")
        self.existing = existing


@dataclass(frozen=True)
class PhotoFiles:
    original: Path
    preview: Path
    thumb: Path


def photo_files(*, photo: Photo) -> PhotoFiles | None:
    """The photo's files, or None when its stored path would point outside the owner's folder."""
    original = member_file(owner_id=photo.owner_id, kind=FOLDER, stored=photo.file)
    if original is None:
        return None
    folder, stem = original.parent, original.stem
    return PhotoFiles(original, folder / "previews" / f"{stem}.jpg", folder / "thumbs" / f"{stem}.jpg")


def photo_payload(photo: Photo) -> dict[str, Any]:
    """What a page shows of a photo, also pushed to the owner's pages when its thumbnail is made."""
    return {
        "id": photo.pk,
        "name": photo.name,
        "width": photo.width,
        "height": photo.height,
        "taken_at": photo.taken_at.isoformat() if photo.taken_at else None,
        "sort_at": photo.sort_at.isoformat(),
        "month": timezone.localtime(photo.sort_at).strftime("%Y-%m"),
        "ready": photo.ready,
        "error": photo.error,
        "searchable": photo.embedded_with_id is not None,
    }


def photos_publish(*, owner_id: int, photos: list[Photo]) -> None:
    try:
        event_publish(user_id=owner_id, event={"type": "photos", "photos": [photo_payload(p) for p in photos]})
    except Exception:  # a push that fails must never fail the work; the page re-reads the rows
        log.warning("could not push %d photos", len(photos), exc_info=True)


# --- upload ----------------------------------------------------------------------------------------


def _limit_text() -> str:
    return f"{settings.HEARTH_PHOTO_MAX_BYTES / 1024**2:,.0f} MB"


def photo_upload(*, owner: Any, upload: UploadedFile[bytes]) -> tuple[Photo, str]:
    """Keep an uploaded photo for `owner` and queue its thumbnail and vector: (photo, notice).

    PhotoRejected (naming the file) when it is not a photo Hearth can keep; PhotoDuplicate when the
    member already has these bytes. Nothing is left behind by a refused upload.
    """
    name = document_name_clean(upload.name or "photo")

    def too_big() -> PhotoRejected:
        return PhotoRejected(f"{name} is larger than the {_limit_text()} limit for photos.")

    if upload.size is not None and upload.size > settings.HEARTH_PHOTO_MAX_BYTES:
        raise too_big()
    folder = member_folder(owner_id=owner.pk, kind=FOLDER)
    limit = settings.HEARTH_PHOTO_MAX_BYTES
    with upload_received(chunks=upload.chunks(), folder=folder, limit=limit, too_big=too_big) as received:
        with received.path.open("rb") as stream:
            facts = photo_inspect(
                stream=stream,
                name=name,
                max_pixels=settings.HEARTH_PHOTO_MAX_PIXELS,
                local=timezone.get_default_timezone(),
            )
        existing = Photo.objects.filter(owner=owner, sha256=facts.sha256).first()
        if existing is not None:
            raise PhotoDuplicate(name, existing)
        final = received.path.with_suffix(f".{facts.extension}")
        os.replace(received.path, final)
        try:
            photo = _photo_create(owner, name, final, received.size, facts)
        except BaseException:
            final.unlink(missing_ok=True)
            raise
    return photo, facts.notice


def _photo_create(owner: Any, name: str, final: Path, size: int, facts: PhotoFacts) -> Photo:
    now = timezone.now()
    try:
        with transaction.atomic():
            photo = Photo.objects.create(
                owner=owner,
                name=name,
                file=str(final.relative_to(settings.DATA_DIR)),
                format=facts.format,
                size_bytes=size,
                sha256=facts.sha256,
                width=facts.width,
                height=facts.height,
                taken_at=facts.taken_at,
                sort_at=facts.taken_at or now,
            )
            photos_index_queue(owner=owner)
    except IntegrityError:
        existing = Photo.objects.filter(owner=owner, sha256=facts.sha256).first()
        if existing is None:
            raise
        raise PhotoDuplicate(name, existing) from None
    return photo


def photos_index_queue(*, owner: Any) -> Job:
    """The member's waiting indexing job, or a new one. A running job may have looked already, so a
    new upload always has a job that has not started yet."""
    waiting = Job.objects.filter(owner=owner, kind=INDEX_KIND, status=JobStatus.QUEUED, cancel_requested=False)
    job = waiting.order_by("-pk").first()
    if job is not None:
        return job
    return job_create(owner=owner, kind=INDEX_KIND, title="Index photos", payload={"owner_id": owner.pk})


# --- the gallery -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GalleryPage:
    photos: list[Photo]
    # Where the next page starts ("<sort_at in µs since 1970>.<id>"), or "" at the end.
    after: str


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _cursor(photo: Photo) -> str:
    return f"{(photo.sort_at - EPOCH) // timedelta(microseconds=1)}.{photo.pk}"


def gallery_page(*, owner: Any, after: str = "", size: int = 100) -> GalleryPage:
    """One page of the member's photos, newest first, after the cursor of the page before: a keyset
    query on (owner, sort_at, id), as fast for the 200th page as for the first."""
    photos = Photo.objects.owned_by(owner).newest_first()
    micros, _, last_id = after.partition(".")
    if micros.lstrip("-").isdigit() and last_id.isdigit():
        when = EPOCH + timedelta(microseconds=int(micros))
        photos = photos.filter(Q(sort_at__lt=when) | Q(sort_at=when, id__lt=int(last_id)))
    page = list(photos[: size + 1])
    more = len(page) > size
    page = page[:size]
    return GalleryPage(photos=page, after=_cursor(page[-1]) if more and page else "")


# --- delete ----------------------------------------------------------------------------------------


def photo_model_copy(*, owner_id: int, photo_id: int, side: int) -> Path:
    """Where chat keeps the scaled JPEG of a photo it showed a vision model (chat/photo_answer.py)."""
    return member_folder(owner_id=owner_id, kind="images") / f"photo-{photo_id}-{side}.jpg"


def photo_delete(*, photo: Photo) -> None:
    """Remove the photo's files, row and vectors. ConnectionError (nothing removed) when Chroma is down."""
    files = photo_files(photo=photo)
    owner_id, photo_id = photo.owner_id, photo.pk
    vectors_delete(owner_id=owner_id, photo_ids=[photo_id])
    photo.delete()

    def after_commit() -> None:
        # Again, for a vector a running indexing job may have written since the first delete.
        try:
            vectors_delete(owner_id=owner_id, photo_ids=[photo_id])
        except ConnectionError:
            log.warning("the vector of deleted photo %s may remain until Chroma answers", photo_id)
        if files is not None:
            for path in (files.original, files.preview, files.thumb):
                path.unlink(missing_ok=True)
        for copy in photo_model_copy(owner_id=owner_id, photo_id=photo_id, side=0).parent.glob(
            f"photo-{photo_id}-*.jpg"
        ):
            copy.unlink(missing_ok=True)

    transaction.on_commit(after_commit)


# --- the household's CLIP model ----------------------------------------------------------------------


def clip_active() -> ClipModel | None:
    """The CLIP model in use: the newest one that loaded. None: photo search is off."""
    return ClipModel.objects.filter(status=ClipStatus.READY).first()


def clip_import(*, architecture: str, checkpoint: str, created_by: Any) -> ClipModel:
    """Record the household's choice and check it in a worker (which loads it: the web process never does)."""
    architecture, checkpoint = architecture.strip(), checkpoint.strip()
    if not architecture or not checkpoint:
        raise ValueError("Give both the architecture (e.g. ViT-B-32) and the checkpoint file's full path.")
    if not Path(checkpoint).is_absolute():
        raise ValueError(f"{checkpoint} is not a full path. Give the checkpoint's whole path, starting with /.")
    with transaction.atomic():
        model = ClipModel.objects.create(architecture=architecture, checkpoint=checkpoint, created_by=created_by)
        job_create(
            owner=created_by,
            kind=CLIP_CHECK_KIND,
            title=f"Check the photo search model {architecture}"[:200],
            payload={"clip_model_id": model.pk},
        )
    return model


def clip_delete(*, model: ClipModel) -> None:
    """Forget a CLIP model and its vectors (the file stays where the household put it). ConnectionError
    (nothing removed) when Chroma is down."""
    for job in Job.objects.filter(kind=CLIP_CHECK_KIND, payload__clip_model_id=model.pk).active():
        job_cancel(job=job)
    model_collections_drop(model_id=model.pk)
    model.delete()


def clip_section() -> dict[str, Any]:
    """What the Models page shows of the photo search models."""
    return {
        "clip_models": list(ClipModel.objects.all()[:10]),
        "clip_active": clip_active(),
        "clip_folder": settings.MODELS_DIR / "clip",
    }
