"""Documents a member uploads, and the passages (chunks) they are cut into for search and answers.

A document is searchable only when its status is READY: that is written once, after every passage is
in the database and in the vector store, so a crash mid-file never leaves half a document findable.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from assistant.jobs.models import FINAL_STATUSES, Job, JobStatus


class DocumentKind(models.TextChoices):
    """What the content is (read from the bytes, never from the file name)."""

    PDF = "pdf", "PDF"
    DOCX = "docx", "Word document"
    EPUB = "epub", "EPUB book"
    HTML = "html", "Web page"
    MARKDOWN = "markdown", "Markdown"
    TEXT = "text", "Plain text"


class DocumentStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to be indexed"
    INDEXING = "indexing", "Indexing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Indexing stopped"


class DocumentQuerySet(models.QuerySet["Document"]):
    def owned_by(self, user: Any) -> DocumentQuerySet:
        return self.filter(owner=user)

    def searchable(self) -> DocumentQuerySet:
        return self.filter(status=DocumentStatus.READY)


class Document(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents")
    # The uploaded file's base name, cleaned of folders and control characters; only ever shown.
    name = models.CharField(max_length=255)
    # Where the bytes are, relative to DATA_DIR; a name Hearth chose, never the member's.
    file = models.CharField(max_length=500)
    kind = models.CharField(max_length=16, choices=DocumentKind.choices)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=DocumentStatus.choices, default=DocumentStatus.QUEUED)
    error = models.TextField(blank=True)
    # PDF pages, or the sections (by headings) of other kinds.
    page_count = models.PositiveIntegerField(default=0)
    chunk_count = models.PositiveIntegerField(default=0)
    # The latest indexing job; only that job may write the document's status.
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    indexed_at = models.DateTimeField(null=True, blank=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "status"])]
        constraints = [models.UniqueConstraint(fields=["owner", "sha256"], name="document_sha256_unique_per_owner")]

    def __str__(self) -> str:
        return self.name

    @property
    def page_label(self) -> str:
        """How a citation names a part of this document: PDFs have pages, the rest sections."""
        return "page" if self.kind == DocumentKind.PDF else "section"

    @property
    def effective_status(self) -> str:
        """The status a member should see, also when the job ended without the handler running.

        A queued job can be cancelled, and a job that kept hitting passing faults is given up, before
        the handler could write the document's status; a retried job is queued before it runs.
        """
        job = self.job
        if job is None:
            return self.status
        if self.status in (DocumentStatus.QUEUED, DocumentStatus.INDEXING) and job.status in FINAL_STATUSES:
            if job.status == JobStatus.CANCELLED:
                return DocumentStatus.CANCELLED
            if job.status == JobStatus.FAILED:
                return DocumentStatus.FAILED
        if self.status in (DocumentStatus.FAILED, DocumentStatus.CANCELLED) and job.is_active:
            return DocumentStatus.QUEUED
        return self.status

    @property
    def effective_error(self) -> str:
        if self.effective_status == DocumentStatus.FAILED:
            return self.error or (self.job.error if self.job else "")
        return ""


class DocumentChunk(models.Model):
    """One passage of a document, as embedded; its vector's id in Chroma is f"{document_id}:{number}"."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()  # 0-based, in reading order
    page = models.PositiveIntegerField()  # 1-based page (PDF) or section
    heading = models.CharField(max_length=300, blank=True)  # the heading the passage falls under
    # Character offsets of the passage in its page's extracted text.
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["document", "number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="document_chunk_number_unique")]

    def __str__(self) -> str:
        return f"{self.document_id}:{self.number}"

    @property
    def vector_id(self) -> str:
        return f"{self.document_id}:{self.number}"
