"""The document indexing job: read the file, cut it into passages, embed and store them, then mark it READY.

The job starts by removing what an earlier, interrupted run left, so running it twice never duplicates
anything; READY is written last, so a crash mid-file never leaves half a document findable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from assistant.documents.pipeline.chunk import Chunk, chunks_make
from assistant.documents.pipeline.detect import DocumentRejected, kind_detect
from assistant.documents.pipeline.embed import EmbeddingUnavailable, embedder
from assistant.documents.pipeline.extract import pages_extract
from assistant.documents.pipeline.store import vectors_count, vectors_delete, vectors_upsert
from assistant.documents.services import document_file, document_publish
from assistant.jobs.runner import TRANSIENT_ERRORS, JobCancelled, JobContext, JobFailed
from assistant.jobs.services import JobLost
from assistant.models import Document, DocumentChunk, DocumentKind, DocumentStatus, Job, JobStatus

log = logging.getLogger(__name__)

# Progress of many small steps is written at most this often.
PROGRESS_SECONDS = 0.5
DELETED_MEANWHILE = "The document was deleted while it was being indexed"


def _document_set(context: JobContext, document_id: int, **changes: Any) -> bool:
    """Write the document's state, only while this run holds its job's claim. False when it does not."""
    updated = Document.objects.filter(
        pk=document_id,
        job_id=context.job.pk,
        job__claim_token=context.token,
        job__status=JobStatus.RUNNING,
    ).update(**changes)
    if updated:
        document_publish(document_id=document_id)
    return bool(updated)


def _holds_claim(context: JobContext) -> bool:
    return Job.objects.filter(pk=context.job.pk, claim_token=context.token, status=JobStatus.RUNNING).exists()


def _discard(context: JobContext, document: Document) -> None:
    """Remove what a stopped run wrote, unless another run has taken the job over and is writing it."""
    if not _holds_claim(context):
        return
    try:
        DocumentChunk.objects.filter(document_id=document.pk).delete()
        vectors_delete(owner_id=document.owner_id, document_id=document.pk)
    except Exception:  # the next run starts by removing them anyway
        log.warning("could not remove the passages of document %s", document.pk, exc_info=True)


def document_ingest_run(context: JobContext) -> str:
    """The job handler: read the file, cut it into passages, embed them and store them, then mark it ready."""
    document_id = int(context.job.payload.get("document_id", 0))
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        return "The document was deleted before it was indexed"
    if document.job_id != context.job.pk:
        return "A newer indexing of this document took over"
    _document_set(context, document_id, status=DocumentStatus.INDEXING, error="")
    try:
        return _ingest(context, document)
    except JobLost:
        raise
    except JobCancelled:
        _discard(context, document)
        _document_set(context, document_id, status=DocumentStatus.CANCELLED, chunk_count=0)
        raise
    except JobFailed as exc:
        _discard(context, document)
        _document_set(context, document_id, status=DocumentStatus.FAILED, error=str(exc), chunk_count=0)
        raise
    except TRANSIENT_ERRORS:
        try:
            _document_set(context, document_id, status=DocumentStatus.QUEUED)
        except Exception:
            log.warning("could not mark document %s as waiting", document_id, exc_info=True)
        raise
    except Exception as exc:
        _discard(context, document)
        error = f"Unexpected error ({type(exc).__name__}): {exc}. The log of the worker has details."
        _document_set(context, document_id, status=DocumentStatus.FAILED, error=error, chunk_count=0)
        raise


class _Throttled:
    """Progress for many small steps, written at most every PROGRESS_SECONDS; cancels are heard every step."""

    def __init__(self, context: JobContext) -> None:
        self.context = context
        self.last = 0.0

    def __call__(self, fraction: float, message: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= PROGRESS_SECONDS:
            self.context.progress(fraction, message)
            self.last = now
        else:
            self.context.check()


def _passages_read(context: JobContext, document: Document, progress: _Throttled) -> tuple[str, int, list[Chunk]]:
    """(kind, page count, passages) of the document's file. JobFailed when it has no usable text."""
    path = document_file(document)
    if path is None or not path.is_file():
        raise JobFailed(f"The file of “{document.name}” is missing from Hearth's data folder. Upload it again.")
    progress(0.01, "Reading the file", force=True)
    label = "page" if document.kind == DocumentKind.PDF else "section"

    def on_page(done: int, total: int) -> None:
        progress(0.02 + 0.28 * done / max(total, 1), f"Reading {label} {done} of {total}", force=done == total)

    try:
        kind = kind_detect(path, name=document.name)
        pages = pages_extract(path, kind=kind, name=document.name, on_page=on_page)
    except DocumentRejected as exc:
        raise JobFailed(str(exc)) from exc
    chunks = chunks_make(
        pages, size=settings.HEARTH_DOCUMENT_CHUNK_CHARS, overlap=settings.HEARTH_DOCUMENT_CHUNK_OVERLAP
    )
    if not chunks:
        raise JobFailed(f"No text found in “{document.name}”.")
    return kind, len(pages), chunks


def _vectors_write(document: Document, chunks: Sequence[Chunk], progress: _Throttled) -> bool:
    """Embed and store every passage. False when the document was deleted meanwhile."""
    try:
        model = embedder()
    except EmbeddingUnavailable as exc:
        raise JobFailed(str(exc)) from exc
    # Passages of like length share a batch, so the model pads little (encode() sorts only within a call).
    by_length = sorted(chunks, key=lambda chunk: -len(chunk.embedding_text))
    batch_size = settings.HEARTH_EMBED_BATCH_SIZE
    for first in range(0, len(by_length), batch_size):
        batch = by_length[first : first + batch_size]
        vectors = model.embed_batch([chunk.embedding_text for chunk in batch])
        vectors_upsert(owner_id=document.owner_id, document_id=document.pk, chunks=batch, embeddings=vectors)
        if not Document.objects.filter(pk=document.pk).exists():
            vectors_delete(owner_id=document.owner_id, document_id=document.pk)
            return False
        done = first + len(batch)
        progress(0.35 + 0.63 * done / len(chunks), f"Indexed {done} of {len(chunks)} passages", force=True)
    stored = vectors_count(owner_id=document.owner_id, document_id=document.pk)
    if stored != len(chunks):
        raise JobFailed(
            f"The vector store holds {stored} of the {len(chunks)} passages of “{document.name}”. Index it again."
        )
    return True


def _ingest(context: JobContext, document: Document) -> str:
    progress = _Throttled(context)
    kind, page_count, chunks = _passages_read(context, document, progress)
    label = "page" if kind == DocumentKind.PDF else "section"
    # Whatever an interrupted earlier run wrote goes first, so nothing is left twice or left over.
    vectors_delete(owner_id=document.owner_id, document_id=document.pk)
    if not _chunks_replace(document.pk, chunks):
        return DELETED_MEANWHILE
    progress(0.32, f"Read {page_count} {label}s into {len(chunks)} passages; loading the embedding model", force=True)
    if not _vectors_write(document, chunks, progress):
        return DELETED_MEANWHILE
    progress(0.99, "Finishing", force=True)
    ready = _document_set(
        context,
        document.pk,
        status=DocumentStatus.READY,
        kind=kind,
        page_count=page_count,
        chunk_count=len(chunks),
        indexed_at=timezone.now(),
        error="",
    )
    if not ready:
        if not Document.objects.filter(pk=document.pk).exists():
            vectors_delete(owner_id=document.owner_id, document_id=document.pk)
            return DELETED_MEANWHILE
        raise JobLost(context.job.pk)
    plural = "" if page_count == 1 else "s"
    return f"Indexed {page_count} {label}{plural} into {len(chunks)} passages"


def _chunks_replace(document_id: int, chunks: Sequence[Chunk]) -> bool:
    """Store the passages' text in place of any earlier run's. False when the document is gone."""
    try:
        with transaction.atomic():
            if not Document.objects.select_for_update().filter(pk=document_id).exists():
                return False
            DocumentChunk.objects.filter(document_id=document_id).delete()
            DocumentChunk.objects.bulk_create(
                [
                    DocumentChunk(
                        document_id=document_id,
                        number=chunk.number,
                        page=chunk.page,
                        heading=chunk.heading,
                        start=chunk.start,
                        end=chunk.end,
                        text=chunk.text,
                    )
                    for chunk in chunks
                ],
                batch_size=500,
            )
    except IntegrityError:
        if Document.objects.filter(pk=document_id).exists():
            raise
        return False
    return True
