"""Indexing documents inside the test process, and looking at what indexing left behind.

Jobs run here through job_execute, the worker's own entry point (with the `inline_jobs` fixture their
broker message is not sent, so the session's worker does not race them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from assistant.core.vectors import collection_get
from assistant.documents.pipeline import store
from assistant.documents.services import document_upload
from assistant.jobs.runner import job_execute
from assistant.models import Document, DocumentStatus, Job, JobStatus
from tests.support.documents import filler, upload

BOILER_PDF_PAGES = [
    ["Household manual", "This manual covers the appliances in the house.", filler("the kitchen", 3)],
    ["Heating", "The boiler pressure should be 1.5 bar when the heating is cold.", filler("the heating", 3)],
    ["Garden", "The lawn mower needs fresh petrol every spring.", filler("the garden", 3)],
]


def run_inline(document: Document) -> Job:
    assert document.job_id is not None
    job_execute(job_id=document.job_id, worker="inline")
    document.refresh_from_db()
    return Job.objects.get(pk=document.job_id)


def vector_ids(document: Document) -> list[str]:
    collection = collection_get(name=store.collection_name(document.owner_id))
    return sorted(collection.get(where={"document_id": document.pk}, include=[])["ids"])


def indexed(owner: Any, name: str, data: bytes) -> Document:
    document = document_upload(owner=owner, upload=upload(name, data))
    job = run_inline(document)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert document.status == DocumentStatus.READY
    return document


def user_documents_folder(owner: Any) -> Path:
    return settings.DATA_DIR / "users" / str(owner.pk) / "documents"


def files_of(owner: Any) -> set[Path]:
    """The member's stored documents (ids repeat between tests, so compare before and after)."""
    folder = user_documents_folder(owner)
    return set(folder.iterdir()) if folder.exists() else set()
