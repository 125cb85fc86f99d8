"""Documents: upload, cancel, re-index and delete (the indexing job is in indexing.py, search in search.py).

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

import logging
import os
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction

from assistant.core.events import event_publish
from assistant.core.storage import ReceivedFile, member_file, member_folder, upload_received
from assistant.core.uploads import staged_path
from assistant.documents.pipeline.detect import DocumentRejected, kind_detect
from assistant.documents.pipeline.store import vectors_delete
from assistant.jobs.services import job_active, job_cancel_active, job_create
from assistant.models import Document, DocumentKind, DocumentStatus, Job

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

log = logging.getLogger(__name__)

__all__ = [
    "DocumentDuplicate",
    "DocumentRejected",
    "document_cancel",
    "document_delete",
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


def document_publish(*, document_id: int) -> None:
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

    def too_big() -> DocumentRejected:
        return DocumentRejected(f"“{name}” is larger than the {_limit_text()} limit for documents.")

    if upload.size is not None and upload.size > limit:
        raise too_big()
    folder = member_folder(owner_id=owner.pk, kind=FOLDER)
    received_file = upload_received(
        chunks=upload.chunks(), folder=folder, limit=limit, too_big=too_big, staged=staged_path(upload)
    )
    with received_file as received:
        if received.size == 0:
            raise DocumentRejected(f"“{name}” is empty.")
        kind = kind_detect(received.path, name=name)
        existing = Document.objects.filter(owner=owner, sha256=received.sha256).first()
        if existing is not None:
            raise DocumentDuplicate(existing)
        final = received.path.with_suffix(SUFFIX[kind])
        os.replace(received.path, final)
        return _document_record(owner=owner, name=name, file=final, kind=kind, received=received)


def _document_record(*, owner: Any, name: str, file: Path, kind: str, received: ReceivedFile) -> Document:
    """The row for a kept file, with its indexing job. The file goes if the row cannot be written."""
    try:
        with transaction.atomic():
            document = Document.objects.create(
                owner=owner,
                name=name,
                file=str(file.relative_to(settings.DATA_DIR)),
                kind=kind,
                size_bytes=received.size,
                sha256=received.sha256,
            )
            document.job = _ingest_job_create(document)
            document.save(update_fields=["job"])
            return document
    except IntegrityError:
        file.unlink(missing_ok=True)
        existing = Document.objects.filter(owner=owner, sha256=received.sha256).first()
        if existing is None:
            raise
        raise DocumentDuplicate(existing) from None
    except BaseException:
        file.unlink(missing_ok=True)
        raise


def _ingest_job_create(document: Document) -> Job:
    return job_create(
        owner=document.owner,
        kind="document_ingest",
        title=f"Index “{document.name}”"[:200],
        payload={"document_id": document.pk},
    )


# --- cancel, re-index, delete ------------------------------------------------------------------------


def document_cancel(*, document: Document) -> Document:
    """Stop the document's indexing: at once when it is waiting, at the next step when it runs."""
    stopped = job_cancel_active(job_id=document.job_id)
    if stopped is not None:
        Document.objects.filter(pk=document.pk, job=stopped).update(status=DocumentStatus.CANCELLED)
        document_publish(document_id=document.pk)
    document.refresh_from_db()
    return document


def document_reindex(*, document: Document) -> Job:
    """Index the document again from its file (after a failure, a cancel, or a change of model).

    While it runs the document is not searchable. A job already waiting or running is returned as is.
    """
    current = job_active(job_id=document.job_id)
    if current is not None:
        return current
    with transaction.atomic():
        job = _ingest_job_create(document)
        Document.objects.filter(pk=document.pk).update(job=job, status=DocumentStatus.QUEUED, error="")
    document.refresh_from_db()
    document_publish(document_id=document.pk)
    return job


def document_file(document: Document) -> Path | None:
    """The document's file, or None when the stored path would point outside the owner's folder."""
    return member_file(owner_id=document.owner_id, kind=FOLDER, stored=document.file)


def document_delete(*, document: Document) -> None:
    """Remove the document's file, rows and vectors. ConnectionError (nothing removed) when Chroma is down."""
    job_cancel_active(job_id=document.job_id)
    document_id = document.pk
    path = document_file(document)
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
