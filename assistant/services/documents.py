"""Documents: upload, the indexing job, cancel, re-index and delete (search is in document_search.py).

Where things live:
  DATA_DIR/users/<owner>/documents/<random>.<kind>   the uploaded bytes, under a name Hearth chose
  Document, DocumentChunk rows                        what the member sees, and the passages' text
  the owner's Chroma collection "hearth_documents_<owner>"  one vector per passage, id f"{document}:{number}"

A document is searchable only once its status is READY, which the indexing job writes last, after
every passage is in the database and in Chroma; search reads only READY documents. The job starts by
removing what an earlier, interrupted run left, so running it twice never duplicates anything.
Callers check ownership: every function here trusts the document it is given.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
import unicodedata
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from assistant.documents.chunk import Chunk, chunks_make
from assistant.documents.detect import DocumentRejected, kind_detect
from assistant.documents.embed import EmbeddingUnavailable, embedder
from assistant.documents.extract import pages_extract
from assistant.documents.store import vectors_count, vectors_delete, vectors_upsert
from assistant.events import event_publish
from assistant.models import Document, DocumentChunk, DocumentKind, DocumentStatus, Job, JobKind, JobStatus
from assistant.services.images import user_folder
from assistant.services.jobs import JobLost, job_cancel, job_create
from assistant.services.runner import TRANSIENT_ERRORS, JobCancelled, JobContext, JobFailed

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

log = logging.getLogger(__name__)

__all__ = [
    "DocumentDuplicate",
    "DocumentRejected",
    "document_cancel",
    "document_delete",
    "document_ingest_run",
    "document_name_clean",
    "document_payload",
    "document_reindex",
    "document_upload",
]

FOLDER = "documents"
# The file suffix Hearth gives each kind; the member's own name is only ever shown.
SUFFIX = {
    DocumentKind.PDF: ".pdf",
    DocumentKind.DOCX: ".docx",
    DocumentKind.EPUB: ".epub",
    DocumentKind.HTML: ".html",
    DocumentKind.MARKDOWN: ".md",
    DocumentKind.TEXT: ".txt",
}
MAX_NAME_CHARS = 200
# Progress is written at most this often while pages are read (each write is a row and a push).
PROGRESS_SECONDS = 0.5


class DocumentDuplicate(DocumentRejected):
    """The member already has a document with exactly these bytes."""

    def __init__(self, existing: Document) -> None:
        super().__init__(f"You already uploaded this as “{existing.name}”.")
        self.existing = existing


def document_payload(document: Document) -> dict[str, Any]:
    """What a page shows of a document, also pushed to the owner's pages when its status changes."""
    return {
        "id": document.pk,
        "name": document.name,
        "kind": document.kind,
        "kind_label": document.get_kind_display(),
        "size_bytes": document.size_bytes,
        "status": document.effective_status,
        "status_label": DocumentStatus(document.effective_status).label,
        "error": document.effective_error,
        "page_count": document.page_count,
        "page_label": document.page_label,
        "chunk_count": document.chunk_count,
        "job": document.job_id,
        "created_at": document.created_at.isoformat(),
        "indexed_at": document.indexed_at.isoformat() if document.indexed_at else None,
    }


def _publish(document_id: int) -> None:
    document = Document.objects.select_related("job").filter(pk=document_id).first()
    if document is None:
        return
    try:
        event_publish(user_id=document.owner_id, event={"type": "document", "document": document_payload(document)})
    except Exception:  # a push that fails must never fail the work; the page re-reads the row
        log.warning("could not push document %s", document_id, exc_info=True)


# --- upload ----------------------------------------------------------------------------------------


def document_name_clean(raw: str) -> str:
    """The plain base name of an uploaded file: no folders, no control or direction-changing characters."""
    name = unicodedata.normalize("NFC", raw.replace("\\", "/").rsplit("/", 1)[-1])
    kept = []
    for ch in name:
        category = unicodedata.category(ch)
        if category == "Zs":
            kept.append(" ")
        elif category[0] != "C" and category not in ("Zl", "Zp"):
            kept.append(ch)
    name = " ".join("".join(kept).split()).strip(" .")
    if not name:
        return "document"
    if len(name) > MAX_NAME_CHARS:
        stem, dot, suffix = name.rpartition(".")
        if dot and stem and len(suffix) <= 10:
            return f"{stem[: MAX_NAME_CHARS - len(suffix) - 1].rstrip()}.{suffix}"
        return name[:MAX_NAME_CHARS]
    return name


def _limit_text() -> str:
    return f"{settings.HEARTH_DOCUMENT_MAX_BYTES / 1024**2:,.0f} MB"


def document_upload(*, owner: Any, upload: UploadedFile[bytes]) -> Document:
    """Keep an uploaded file for `owner` and queue its indexing. DocumentRejected says why not.

    The bytes are streamed to the owner's folder under a random name while they are hashed; the
    kind is read from the content. The same bytes uploaded twice by one member are refused
    (DocumentDuplicate names the earlier upload).
    """
    name = document_name_clean(upload.name or "")
    limit = settings.HEARTH_DOCUMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise DocumentRejected(f"“{name}” is larger than the {_limit_text()} limit for documents.")
    folder = user_folder(owner.pk, FOLDER)
    stem = uuid.uuid4().hex
    partial = folder / f"{stem}.part"
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            for piece in upload.chunks():
                size += len(piece)
                if size > limit:
                    raise DocumentRejected(f"“{name}” is larger than the {_limit_text()} limit for documents.")
                digest.update(piece)
                out.write(piece)
        if size == 0:
            raise DocumentRejected(f"“{name}” is empty.")
        kind = kind_detect(partial, name=name)
        sha256 = digest.hexdigest()
        existing = Document.objects.filter(owner=owner, sha256=sha256).first()
        if existing is not None:
            raise DocumentDuplicate(existing)
        final = folder / f"{stem}{SUFFIX[kind]}"
        os.replace(partial, final)
        try:
            with transaction.atomic():
                document = Document.objects.create(
                    owner=owner,
                    name=name,
                    file=str(final.relative_to(settings.DATA_DIR)),
                    kind=kind,
                    size_bytes=size,
                    sha256=sha256,
                )
                document.job = _ingest_job_create(document)
                document.save(update_fields=["job"])
        except IntegrityError:
            final.unlink(missing_ok=True)
            existing = Document.objects.filter(owner=owner, sha256=sha256).first()
            if existing is None:
                raise
            raise DocumentDuplicate(existing) from None
        except BaseException:
            final.unlink(missing_ok=True)
            raise
    finally:
        partial.unlink(missing_ok=True)
    return document


def _ingest_job_create(document: Document) -> Job:
    return job_create(
        owner=document.owner,
        kind=JobKind.DOCUMENT_INGEST,
        title=f"Index “{document.name}”"[:200],
        payload={"document_id": document.pk},
    )


# --- cancel, re-index, delete ------------------------------------------------------------------------


def document_cancel(*, document: Document) -> Document:
    """Stop the document's indexing: at once when it is waiting, at the next step when it runs."""
    current = Job.objects.filter(pk=document.job_id).first() if document.job_id else None
    if current is not None and current.is_active:
        job = job_cancel(job=current)
        if job.status == JobStatus.CANCELLED:
            Document.objects.filter(pk=document.pk, job=job).update(status=DocumentStatus.CANCELLED)
            _publish(document.pk)
    document.refresh_from_db()
    return document


def document_reindex(*, document: Document) -> Job:
    """Index the document again from its file (after a failure, a cancel, or a change of model).

    While it runs the document is not searchable. A job already waiting or running is returned as is.
    """
    current = Job.objects.filter(pk=document.job_id).first() if document.job_id else None
    if current is not None and current.is_active:
        return current
    with transaction.atomic():
        job = _ingest_job_create(document)
        Document.objects.filter(pk=document.pk).update(job=job, status=DocumentStatus.QUEUED, error="")
    document.refresh_from_db()
    _publish(document.pk)
    return job


def _document_path(document: Document) -> Path | None:
    """The document's file, or None when the stored path would point outside the owner's folder."""
    folder = (settings.DATA_DIR / "users" / str(document.owner_id) / FOLDER).resolve()
    path = (settings.DATA_DIR / document.file).resolve()
    return path if path.parent == folder else None


def document_delete(*, document: Document) -> None:
    """Remove the document's file, rows and vectors. ConnectionError (nothing removed) when Chroma is down."""
    if document.job_id:
        job = Job.objects.filter(pk=document.job_id).first()
        if job is not None and job.is_active:
            job_cancel(job=job)
    document_id = document.pk
    path = _document_path(document)
    owner_id = document.owner_id
    vectors_delete(owner_id=owner_id, document_id=document_id)
    document.delete()

    def after_commit() -> None:
        # Again, for the vectors a running indexing job may have written since the first delete.
        try:
            vectors_delete(owner_id=owner_id, document_id=document_id)
        except ConnectionError:
            log.warning("vectors of deleted document %s may remain until Chroma answers", document_id)
        if path is not None:
            path.unlink(missing_ok=True)

    transaction.on_commit(after_commit)


# --- the indexing job ----------------------------------------------------------------------------


def _document_set(context: JobContext, document_id: int, **changes: Any) -> bool:
    """Write the document's state, only while this run holds its job's claim. False when it does not."""
    updated = Document.objects.filter(
        pk=document_id,
        job_id=context.job.pk,
        job__claim_token=context.token,
        job__status=JobStatus.RUNNING,
    ).update(**changes)
    if updated:
        _publish(document_id)
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


def _ingest(context: JobContext, document: Document) -> str:
    path = _document_path(document)
    if path is None or not path.is_file():
        raise JobFailed(f"The file of “{document.name}” is missing from Hearth's data folder. Upload it again.")
    progress = _Throttled(context)
    progress(0.01, "Reading the file", force=True)
    label = "page" if document.kind == DocumentKind.PDF else "section"

    def on_page(done: int, total: int) -> None:
        progress(0.02 + 0.28 * done / max(total, 1), f"Reading {label} {done} of {total}", force=done == total)

    try:
        kind = kind_detect(path, name=document.name)
        pages = pages_extract(path, kind=kind, name=document.name, on_page=on_page)
    except DocumentRejected as exc:
        raise JobFailed(str(exc)) from exc
    label = "page" if kind == DocumentKind.PDF else "section"
    chunks = chunks_make(
        pages, size=settings.HEARTH_DOCUMENT_CHUNK_CHARS, overlap=settings.HEARTH_DOCUMENT_CHUNK_OVERLAP
    )
    if not chunks:
        raise JobFailed(f"No text found in “{document.name}”.")

    # Whatever an interrupted earlier run wrote goes first, so nothing is left twice or left over.
    vectors_delete(owner_id=document.owner_id, document_id=document.pk)
    if not _chunks_replace(document.pk, chunks):
        return "The document was deleted while it was being indexed"
    progress(0.32, f"Read {len(pages)} {label}s into {len(chunks)} passages; loading the embedding model", force=True)
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
            return "The document was deleted while it was being indexed"
        done = first + len(batch)
        progress(0.35 + 0.63 * done / len(chunks), f"Indexed {done} of {len(chunks)} passages", force=True)

    stored = vectors_count(owner_id=document.owner_id, document_id=document.pk)
    if stored != len(chunks):
        raise JobFailed(
            f"The vector store holds {stored} of the {len(chunks)} passages of “{document.name}”. Index it again."
        )
    progress(0.99, "Finishing", force=True)
    ready = _document_set(
        context,
        document.pk,
        status=DocumentStatus.READY,
        kind=kind,
        page_count=len(pages),
        chunk_count=len(chunks),
        indexed_at=timezone.now(),
        error="",
    )
    if not ready:
        if not Document.objects.filter(pk=document.pk).exists():
            vectors_delete(owner_id=document.owner_id, document_id=document.pk)
            return "The document was deleted while it was being indexed"
        raise JobLost(context.job.pk)
    plural = "" if len(pages) == 1 else "s"
    return f"Indexed {len(pages)} {label}{plural} into {len(chunks)} passages"


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
