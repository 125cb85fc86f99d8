"""Indexing documents again, by itself, when the embedding model or the way passages are cut changed.

Each document remembers the index version it was made with (pipeline.embed.index_version: the model,
and PASSAGES_VERSION). When a worker starts (config/celery.py), every READY document made under another
version gets an ordinary indexing job on the ingest queue, one per document, so the household's library
moves to the new model in the background; each document is unsearchable only while its own job runs.
Running this twice is harmless: a document whose indexing is waiting or running is left alone.
"""

from __future__ import annotations

import logging

from assistant.documents.pipeline.embed import index_version
from assistant.documents.services import document_reindex
from assistant.jobs.services import job_active
from assistant.models import Document, DocumentStatus

log = logging.getLogger(__name__)


def documents_stale() -> list[Document]:
    """READY documents indexed under another model or passage version than today's."""
    return list(
        Document.objects.filter(status=DocumentStatus.READY).exclude(index_version=index_version()).order_by("pk")
    )


def documents_reindex_stale() -> int:
    """Queue an indexing job for every stale document that has none waiting or running; how many were queued."""
    queued = 0
    for document in documents_stale():
        if job_active(job_id=document.job_id) is not None:
            continue
        document_reindex(document=document)
        queued += 1
    if queued:
        log.info("queued %s documents to be indexed again with %s", queued, index_version())
    return queued
