"""Indexing documents: jobs, search, isolation between members, crashes, retries, cancel, re-index, delete.

Real parts throughout: the all-MiniLM-L6-v2 model (loaded once per session), the Chroma server, the
test database, and a Celery worker process for the end-to-end runs. Most indexing jobs run in this
process through job_execute, the worker's own entry point.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from assistant.core.vectors import collection_get
from assistant.documents import indexing
from assistant.documents.pipeline import store
from assistant.documents.pipeline.detect import DocumentRejected
from assistant.documents.pipeline.embed import Embedder
from assistant.documents.search import documents_search
from assistant.documents.services import (
    document_cancel,
    document_delete,
    document_reindex,
    document_upload,
)
from assistant.jobs.runner import job_execute
from assistant.models import Document, DocumentChunk, DocumentStatus, Job, JobEvent, JobStatus
from tests.support.documents import (
    ELF_PROGRAM,
    docx_bomb_bytes,
    docx_bytes,
    filler,
    pdf_bytes,
    upload,
)
from tests.support.indexing import BOILER_PDF_PAGES, indexed, run_inline, vector_ids
from tests.support.services import WorkerProcess, wait_for

# --- indexing, search, isolation ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_pdf_is_indexed_and_search_finds_the_passage_on_its_page(
    alice: Any, vectors: None, embedding_model: Embedder, inline_jobs: list[int]
) -> None:
    document = indexed(alice, "Manual.pdf", pdf_bytes(BOILER_PDF_PAGES))
    assert document.page_count == 3
    assert document.chunk_count == DocumentChunk.objects.filter(document=document).count() > 0
    expected = [f"{document.pk}:{n}" for n in range(document.chunk_count)]
    assert vector_ids(document) == sorted(expected)
    job = Job.objects.get(pk=document.job_id)
    assert job.message == f"Indexed 3 pages into {document.chunk_count} passages"
    messages = list(JobEvent.objects.filter(job=job).values_list("message", flat=True))
    assert any(message.startswith("Indexed ") and " of " in message for message in messages)
    progress = list(JobEvent.objects.filter(job=job).values_list("progress", flat=True))
    assert progress == sorted(progress)

    passages = documents_search(owner=alice, query="what pressure should the boiler have?")
    assert passages[0].document == document
    assert passages[0].page == 2
    assert "1.5 bar" in passages[0].text
    assert passages[0].citation == "Manual.pdf, page 2"
    assert passages[0].similarity is not None
    assert 0 < passages[0].score <= 1
    keyword = documents_search(owner=alice, query="petrol")
    assert keyword[0].page == 3
    assert keyword[0].keyword_hits == 1
    assert documents_search(owner=alice, query="   ") == []


@pytest.mark.django_db(transaction=True)
def test_a_docx_is_indexed_by_sections_and_cited_by_section(
    alice: Any, vectors: None, embedding_model: Embedder, inline_jobs: list[int]
) -> None:
    data = docx_bytes(
        [
            ("h1", "Insurance"),
            ("p", "The home insurance policy number is HX-2231 with Acme Mutual."),
            ("h1", "Car"),
            ("p", "The car goes to the garage for its inspection every May."),
        ]
    )
    document = indexed(alice, "Papers.docx", data)
    assert document.page_count == 2
    passages = documents_search(owner=alice, query="When is the car inspected?", limit=1)
    assert [(p.page, p.heading, p.citation) for p in passages] == [(2, "Car", "Papers.docx, section 2")]
    assert documents_search(owner=alice, query="HX-2231")[0].page == 1


@pytest.mark.django_db(transaction=True)
def test_a_batch_with_bad_files_fails_only_those_files(
    alice: Any, vectors: None, embedding_model: Embedder, inline_jobs: list[int]
) -> None:
    batch = [
        ("good.pdf", pdf_bytes([["The spare key is under the blue flower pot."]])),
        ("corrupt.pdf", b"%PDF-1.4\n" + os.urandom(3000)),
        ("setup.pdf", ELF_PROGRAM),
        ("locked.pdf", pdf_bytes([["Bank details"]], password="secret")),
        ("scan.pdf", pdf_bytes([["x"]], text_layer=False)),
        ("empty.txt", b""),
        ("bomb.docx", docx_bomb_bytes()),
        ("good.docx", docx_bytes([("h1", "Wifi"), ("p", "The wifi password is on the router label.")])),
    ]
    refused: dict[str, str] = {}
    uploaded: list[Document] = []
    for name, data in batch:  # as the upload view goes through the files of one form
        try:
            uploaded.append(document_upload(owner=alice, upload=upload(name, data)))
        except DocumentRejected as exc:
            refused[name] = str(exc)
    assert set(refused) == {"setup.pdf", "empty.txt", "bomb.docx"}
    for document in uploaded:
        run_inline(document)
    outcome = {d.name: (d.effective_status, d.effective_error) for d in Document.objects.select_related("job")}
    assert outcome["good.pdf"] == (DocumentStatus.READY, "")
    assert outcome["good.docx"] == (DocumentStatus.READY, "")
    assert outcome["corrupt.pdf"][0] == DocumentStatus.FAILED
    assert "damaged" in outcome["corrupt.pdf"][1]
    assert "password-protected" in outcome["locked.pdf"][1]
    assert "No text found" in outcome["scan.pdf"][1]
    failed = Document.objects.filter(status=DocumentStatus.FAILED)
    assert failed.count() == 3
    for document in failed:
        assert Job.objects.get(pk=document.job_id).error == document.error  # the Jobs page says the same
        assert not DocumentChunk.objects.filter(document=document).exists()
        assert vector_ids(document) == []
    assert documents_search(owner=alice, query="where is the spare key")[0].document.name == "good.pdf"


@pytest.mark.django_db(transaction=True)
def test_members_never_find_each_others_passages_on_the_real_chroma_server(
    alice: Any, bob: Any, vectors: None, embedding_model: Embedder, inline_jobs: list[int]
) -> None:
    alices = indexed(alice, "Safe.pdf", pdf_bytes([["The code of the safe in the study is 4711."]]))
    bobs = indexed(bob, "Locker.pdf", pdf_bytes([["The code of the gym locker is 1234."]]))

    found = documents_search(owner=bob, query="What is the code of the safe?", limit=20)
    assert found
    assert {p.document for p in found} == {bobs}
    assert documents_search(owner=bob, query="4711 safe study", document_ids=[alices.pk]) == []
    assert all(p.document == alices for p in documents_search(owner=alice, query="locker code 1234"))

    # Straight from the server: Bob's filter never returns Alice's vectors, even asked for her document.
    vector = embedding_model.embed_batch(["code of the safe"])[0]
    hits = store.vectors_query(owner_id=bob.pk, embedding=vector, document_ids=[alices.pk, bobs.pk], limit=50)
    assert {hit.document_id for hit in hits} == {bobs.pk}
    hits = store.vectors_query(owner_id=bob.pk, embedding=vector, document_ids=None, limit=50)
    assert {hit.document_id for hit in hits} == {bobs.pk}
    stored = collection_get(name=store.collection_name(alice.pk)).get(include=["metadatas"])
    assert {m["owner_id"] for m in stored["metadatas"]} == {alice.pk}
    assert {m["document_id"] for m in stored["metadatas"]} == {alices.pk}


# --- retries, crashes, cancel, re-index, delete ---------------------------------------------------------------


class _Crash(BaseException):
    """Stands for the worker process dying: nothing in the job machinery catches it."""


def _make_stale(job: Job) -> None:
    """As the sweeper finds a job whose worker died: running, with an old heartbeat."""
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=10))


@pytest.mark.django_db(transaction=True)
def test_a_crash_mid_file_is_never_half_searchable_and_the_rerun_leaves_no_duplicates(
    alice: Any,
    vectors: None,
    embedding_model: Embedder,
    inline_jobs: list[int],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Small passages in batches of two: several batches, little embedding work.
    settings.HEARTH_EMBED_BATCH_SIZE = 2
    settings.HEARTH_DOCUMENT_CHUNK_CHARS = 200
    settings.HEARTH_DOCUMENT_CHUNK_OVERLAP = 40
    pages = [[f"Chapter {n}: the attic holds box {n} of winter clothes.", filler(f"box {n}", 3)] for n in range(1, 4)]
    document = document_upload(owner=alice, upload=upload("Attic.pdf", pdf_bytes(pages)))
    real_upsert = store.vectors_upsert
    calls = 0

    def crash_after_two_batches(**kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        if calls > 2:
            raise _Crash
        real_upsert(**kwargs)

    monkeypatch.setattr(indexing, "vectors_upsert", crash_after_two_batches)
    with pytest.raises(_Crash):
        job_execute(job_id=document.job_id, worker="doomed")
    document.refresh_from_db()
    assert document.status == DocumentStatus.INDEXING
    assert document.effective_status == DocumentStatus.INDEXING
    assert len(vector_ids(document)) == 4  # half written…
    assert documents_search(owner=alice, query="winter clothes in the attic") == []  # …and not findable

    monkeypatch.setattr(indexing, "vectors_upsert", real_upsert)
    job = Job.objects.get(pk=document.job_id)
    _make_stale(job)
    job_execute(job_id=job.pk, worker="rescuer")
    document.refresh_from_db()
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 2)
    assert document.status == DocumentStatus.READY
    chunks = DocumentChunk.objects.filter(document=document)
    assert chunks.count() == document.chunk_count > 4
    assert vector_ids(document) == sorted(f"{document.pk}:{n}" for n in range(document.chunk_count))

    # Delivered once more (a duplicate broker message after a redelivery): still exactly one of each.
    Job.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)
    _make_stale(job)
    job_execute(job_id=job.pk, worker="third")
    assert DocumentChunk.objects.filter(document=document).count() == document.chunk_count
    assert len(vector_ids(document)) == document.chunk_count
    assert documents_search(owner=alice, query="winter clothes in the attic")[0].document == document


@pytest.mark.django_db(transaction=True)
def test_a_chroma_outage_puts_the_document_back_in_the_queue_and_the_retry_completes(
    alice: Any, vectors: None, embedding_model: Embedder, inline_jobs: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.jobs.runner import TransientJobError

    document = document_upload(owner=alice, upload=upload("Boiler.txt", b"Bleed the radiators every autumn."))

    def chroma_down(**_: Any) -> None:
        raise ConnectionError("the vector store did not answer ([Errno 111] Connection refused)")

    monkeypatch.setattr(indexing, "vectors_upsert", chroma_down)
    with pytest.raises(TransientJobError):  # Celery retries it with backoff
        job_execute(job_id=document.job_id, worker="inline")
    document.refresh_from_db()
    job = Job.objects.get(pk=document.job_id)
    assert job.status == JobStatus.QUEUED
    assert job.message.startswith("Waiting to retry: the vector store did not answer")
    assert document.effective_status == DocumentStatus.QUEUED

    monkeypatch.setattr(indexing, "vectors_upsert", store.vectors_upsert)
    assert run_inline(document).status == JobStatus.SUCCEEDED
    assert document.status == DocumentStatus.READY
    assert len(vector_ids(document)) == document.chunk_count == 1


@pytest.mark.django_db(transaction=True)
def test_cancel_then_reindex(
    alice: Any,
    vectors: None,
    embedding_model: Embedder,
    inline_jobs: list[int],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.HEARTH_EMBED_BATCH_SIZE = 1
    data = pdf_bytes([["The piano was tuned in March."], ["The piano tuner is called Anna."]])

    # Cancelled while waiting: it never runs.
    waiting = document_upload(owner=alice, upload=upload("Piano.pdf", data))
    waiting = document_cancel(document=waiting)
    assert waiting.effective_status == DocumentStatus.CANCELLED
    assert Job.objects.get(pk=waiting.job_id).status == JobStatus.CANCELLED

    # Re-indexed, then cancelled while running: what it wrote is removed.
    job = document_reindex(document=waiting)
    assert document_reindex(document=waiting) == job  # one indexing at a time
    real_upsert = store.vectors_upsert

    def cancel_after_first_batch(**kwargs: Any) -> None:
        real_upsert(**kwargs)
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)

    monkeypatch.setattr(indexing, "vectors_upsert", cancel_after_first_batch)
    document = Document.objects.get(pk=waiting.pk)
    job = run_inline(document)
    assert job.status == JobStatus.CANCELLED
    assert document.status == DocumentStatus.CANCELLED
    assert not DocumentChunk.objects.filter(document=document).exists()
    assert vector_ids(document) == []

    monkeypatch.setattr(indexing, "vectors_upsert", real_upsert)
    new_job = document_reindex(document=document)
    assert new_job != job
    assert document.effective_status == DocumentStatus.QUEUED
    assert run_inline(document).status == JobStatus.SUCCEEDED
    assert document.status == DocumentStatus.READY
    assert len(vector_ids(document)) == document.chunk_count == 2

    # A superseded job retried from the Jobs page leaves the document alone.
    from assistant.jobs.services import job_retry

    job_retry(job=job)
    job_execute(job_id=job.pk, worker="inline")
    job.refresh_from_db()
    document.refresh_from_db()
    assert job.message == "A newer indexing of this document took over"
    assert (document.status, document.job_id) == (DocumentStatus.READY, new_job.pk)


@pytest.mark.django_db(transaction=True)
def test_delete_removes_the_file_the_rows_and_the_vectors(
    alice: Any, vectors: None, embedding_model: Embedder, inline_jobs: list[int]
) -> None:
    document = indexed(alice, "Recipe.pdf", pdf_bytes([["Grandma's apple cake needs six apples."]]))
    path = settings.DATA_DIR / document.file
    assert path.exists()
    assert vector_ids(document)
    document_id = document.pk

    document_delete(document=document)

    assert not path.exists()
    assert not Document.objects.filter(pk=document_id).exists()
    assert not DocumentChunk.objects.filter(document_id=document_id).exists()
    assert store.vectors_count(owner_id=alice.pk, document_id=document_id) == 0
    assert documents_search(owner=alice, query="apple cake") == []
    assert Job.objects.filter(kind="document_ingest").count() == 1  # the job stays on record


@pytest.mark.django_db(transaction=True)
def test_a_job_for_a_deleted_document_ends_quietly(alice: Any, vectors: None, inline_jobs: list[int]) -> None:
    document = document_upload(owner=alice, upload=upload("Gone.txt", b"Soon deleted."))
    job_id = document.job_id
    document_delete(document=document)
    job = Job.objects.get(pk=job_id)
    assert job.status == JobStatus.CANCELLED  # it was waiting, so the cancel stopped it at once
    Job.objects.filter(pk=job_id).update(status=JobStatus.QUEUED, cancel_requested=False)
    job_execute(job_id=job_id, worker="inline")
    job.refresh_from_db()
    assert (job.status, job.message) == (JobStatus.SUCCEEDED, "The document was deleted before it was indexed")


# --- through the real worker --------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_upload_is_indexed_by_the_worker(
    worker: WorkerProcess, alice: Any, vectors: None, embedding_model: Embedder
) -> None:
    document = document_upload(owner=alice, upload=upload("Manual.pdf", pdf_bytes(BOILER_PDF_PAGES)))
    job_id = document.job_id
    wait_for(
        lambda: not Job.objects.get(pk=job_id).is_active,  # the document is ready a moment before
        timeout=180,
        what="the worker to index the document",
        interval=0.2,
    )
    document.refresh_from_db()
    assert Job.objects.get(pk=job_id).status == JobStatus.SUCCEEDED, document.error
    assert document.status == DocumentStatus.READY
    assert len(vector_ids(document)) == document.chunk_count
    assert documents_search(owner=alice, query="boiler pressure", limit=1)[0].page == 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_ingest_leaves_exactly_one_vector_per_passage(
    worker: WorkerProcess, alice: Any, vectors: None, embedding_model: Embedder
) -> None:
    # About 96 passages: three batches of the worker's 32, so there is time to kill it between them.
    pages = [[f"Page {n} of the photo album index.", filler(f"album {n}", 32)] for n in range(1, 17)]
    document = document_upload(owner=alice, upload=upload("Album.pdf", pdf_bytes(pages)))
    job_id = document.job_id

    def first_batch_stored() -> bool:
        job = Job.objects.get(pk=job_id)
        return job.status == JobStatus.RUNNING and job.message.startswith("Indexed ")

    wait_for(first_batch_stored, timeout=180, what="the first batch of vectors", interval=0.05)
    worker.kill()
    document.refresh_from_db()
    assert document.status == DocumentStatus.INDEXING
    assert (
        0
        < store.vectors_count(owner_id=alice.pk, document_id=document.pk)
        < DocumentChunk.objects.filter(document=document).count()
    )
    assert documents_search(owner=alice, query="photo album index") == []

    worker.start()
    wait_for(
        lambda: Job.objects.get(pk=job_id).status in (JobStatus.SUCCEEDED, JobStatus.FAILED),
        timeout=240,
        what="a new worker to finish the job",
        interval=0.2,
    )
    document.refresh_from_db()
    job = Job.objects.get(pk=job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 2
    assert document.status == DocumentStatus.READY
    assert document.chunk_count == DocumentChunk.objects.filter(document=document).count() > 64
    assert vector_ids(document) == sorted(f"{document.pk}:{n}" for n in range(document.chunk_count))
    assert documents_search(owner=alice, query="photo album index page 7", limit=3)
