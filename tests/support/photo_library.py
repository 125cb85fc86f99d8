"""The photo library's test helpers: the household's CLIP model row, uploads, and indexing in this process.

Jobs run here through job_execute, the worker's own entry point (with the `inline_jobs` fixture their
broker message is not sent, so the session's worker does not race them).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from assistant.jobs.models import Job, JobStatus
from assistant.jobs.runner import job_execute
from assistant.photos.clip import ClipSpec, clip_loaded
from assistant.photos.models import ClipModel, ClipStatus, Photo
from assistant.photos.services import photo_upload
from tests.support.documents import upload
from tests.support.tiny_clip import TINY_ARCHITECTURE


def photo_collections_drop() -> None:
    """Delete every photos collection on the Chroma server: owner and photo ids repeat between tests."""
    from chromadb.errors import NotFoundError

    from assistant.core.vectors import chroma_client, collection_forget
    from assistant.photos import store

    client = chroma_client()
    for collection in client.list_collections():
        if collection.name.startswith(store.COLLECTION_PREFIX):
            with contextlib.suppress(NotFoundError):
                client.delete_collection(collection.name)
    collection_forget()
    store._samples.clear()


@pytest.fixture
def photo_vectors(chroma_server: str) -> None:
    photo_collections_drop()


def clip_model_ready(checkpoint: Path) -> ClipModel:
    """The household's CLIP model, as a successful check leaves it."""
    info = clip_loaded(spec=ClipSpec(architecture=TINY_ARCHITECTURE, checkpoint=checkpoint)).info
    return ClipModel.objects.create(
        architecture=TINY_ARCHITECTURE,
        checkpoint=str(checkpoint),
        status=ClipStatus.READY,
        dimensions=info.dimensions,
        parameters=info.parameters,
        ram_bytes=info.ram_bytes,
        image_size=info.image_size,
    )


def add(owner: Any, name: str, data: bytes) -> Photo:
    photo, _ = photo_upload(owner=owner, upload=upload(name, data))
    return photo


def index_inline(owner: Any) -> list[Job]:
    """Run the member's waiting indexing jobs here; each must succeed."""
    jobs = list(Job.objects.filter(owner=owner, kind="photo_index", status=JobStatus.QUEUED))
    for job in jobs:
        job_execute(job_id=job.pk, worker="inline")
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, job.error
    return jobs


def vector_ids(owner: Any, model: ClipModel) -> list[str]:
    from assistant.core.vectors import collection_get
    from assistant.photos import store

    collection = collection_get(name=store.collection_name(owner_id=owner.pk, model_id=model.pk))
    return sorted(collection.get(include=[])["ids"])
