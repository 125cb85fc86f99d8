"""Documents: upload, type detection, extraction, chunking, indexing jobs, search, isolation, deletion.

Real parts throughout: PDFs built with pypdf and DOCX with python-docx, the all-MiniLM-L6-v2 model
(loaded once per session), the Chroma server, the test database, and a Celery worker process for the
end-to-end runs. Most indexing jobs run in this process through job_execute, the worker's own entry
point; their broker message is not sent, so the session's worker does not race them.
"""

from __future__ import annotations

import itertools
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from assistant.documents import store
from assistant.documents.chunk import chunks_make, page_text
from assistant.documents.detect import DocumentRejected, kind_detect
from assistant.documents.embed import Embedder
from assistant.documents.extract import Block, Page, pages_extract
from assistant.models import Document, DocumentChunk, DocumentKind, DocumentStatus, Job, JobEvent, JobStatus
from assistant.services import documents as service
from assistant.services.document_search import documents_search
from assistant.services.documents import (
    DocumentDuplicate,
    document_cancel,
    document_delete,
    document_name_clean,
    document_reindex,
    document_upload,
)
from assistant.services.runner import job_execute
from tests.conftest import WorkerProcess, wait_for
from tests.support.documents import (
    ELF_PROGRAM,
    docx_bomb_bytes,
    docx_bytes,
    docx_with_lying_directory,
    epub_bytes,
    filler,
    pdf_bytes,
    upload,
)

BOILER_PDF_PAGES = [
    ["Household manual", "This manual covers the appliances in the house.", filler("the kitchen", 3)],
    ["Heating", "The boiler pressure should be 1.5 bar when the heating is cold.", filler("the heating", 3)],
    ["Garden", "The lawn mower needs fresh petrol every spring.", filler("the garden", 3)],
]


# --- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def embedding_model() -> Embedder:
    """The real MiniLM model, loaded once for the whole session (it takes a few seconds)."""
    from assistant.documents.embed import embedder

    model = embedder()
    model.embed_batch(["warm up"])
    return model


@pytest.fixture
def inline_jobs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Jobs are not sent to the broker; tests run them here with job_execute, as a worker would."""
    sent: list[int] = []
    monkeypatch.setattr("assistant.services.jobs.job_dispatch", lambda *, job_id: sent.append(job_id))
    return sent


def run_inline(document: Document) -> Job:
    assert document.job_id is not None
    job_execute(job_id=document.job_id, worker="inline")
    document.refresh_from_db()
    return Job.objects.get(pk=document.job_id)


def vector_ids(document: Document) -> list[str]:
    collection = store.collection_get(name=store.collection_name(document.owner_id))
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


# --- type detection, from the content ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("manual.pdf", pdf_bytes([["Hello"]]), DocumentKind.PDF),
        ("manual.docx", pdf_bytes([["Hello"]]), DocumentKind.PDF),  # the name lies; the bytes decide
        ("letter.pdf", docx_bytes([("p", "Hello")]), DocumentKind.DOCX),
        ("book.zip", epub_bytes([("One", ["Hello"])]), DocumentKind.EPUB),
        ("saved.txt", b"<!DOCTYPE html><html><body><p>Hi</p></body></html>", DocumentKind.HTML),
        ("fragment", b"<div><p>Hello</p></div>", DocumentKind.HTML),
        ("notes", b"# Shopping\n\n- milk\n", DocumentKind.MARKDOWN),
        ("notes.md", b"Just a line", DocumentKind.MARKDOWN),
        ("notes.txt", "Caf\u00e9 au lait".encode(), DocumentKind.TEXT),
        ("windows.txt", "Caf\u00e9 cr\u00e8me".encode("cp1252"), DocumentKind.TEXT),
        ("mz.txt", b"MZ is the start of this sentence, not of a program.", DocumentKind.TEXT),
    ],
)
def test_it_detects_the_kind_from_the_content(tmp_path: Path, name: str, data: bytes, kind: str) -> None:
    path = tmp_path / "upload"
    path.write_bytes(data)
    assert kind_detect(path, name=name) == kind


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("setup.pdf", ELF_PROGRAM, "“setup.pdf” is not a PDF: it is a program"),
        (
            "setup.exe",
            b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200),
            "is not a supported document: it is a Windows program",
        ),
        ("photo.docx", b"\x89PNG\r\n\x1a\n" + bytes(100), "is not a Word document: it is a picture (PNG)"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "old-style Office file"),
        ("data.bin", bytes(range(256)) * 4, "binary data"),
        ("empty.txt", b"", "“empty.txt” is empty."),
    ],
)
def test_it_refuses_what_is_not_a_document(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = tmp_path / "upload"
    path.write_bytes(data)
    with pytest.raises(DocumentRejected, match=re.escape(message)):
        kind_detect(path, name=name)


def test_a_zip_bomb_is_refused_from_its_directory_before_anything_is_inflated(tmp_path: Path) -> None:
    ratio_bomb = tmp_path / "ratio.docx"
    ratio_bomb.write_bytes(docx_bomb_bytes())
    with pytest.raises(DocumentRejected, match="zip bomb"):
        kind_detect(ratio_bomb, name="ratio.docx")
    lying = tmp_path / "lying.docx"
    lying.write_bytes(docx_with_lying_directory())
    with pytest.raises(DocumentRejected, match="would unpack to 301 MB, more than the 200 MB"):
        kind_detect(lying, name="lying.docx")


# --- extraction ---------------------------------------------------------------------------------------


def _extract(tmp_path: Path, name: str, data: bytes) -> list[Page]:
    path = tmp_path / name
    path.write_bytes(data)
    return pages_extract(path, kind=kind_detect(path, name=name), name=name)


def test_a_pdf_is_read_page_by_page(tmp_path: Path) -> None:
    pages = _extract(tmp_path, "manual.pdf", pdf_bytes(BOILER_PDF_PAGES))
    assert [page.number for page in pages] == [1, 2, 3]
    assert "boiler pressure should be 1.5 bar" in page_text(pages[1])
    assert "boiler" not in page_text(pages[0]) + page_text(pages[2])


def test_a_docx_is_read_as_sections_at_its_headings_with_its_tables(tmp_path: Path) -> None:
    data = docx_bytes(
        [
            ("p", "Written for the family."),
            ("h1", "Kitchen"),
            ("p", "The dishwasher salt goes in the bottom."),
            ("h2", "Oven"),
            ("p", "Clean the oven monthly."),
            ("h1", "Bathroom"),
            ("p", "Descale the shower head."),
        ],
        table=[["Appliance", "Warranty"], ["Fridge", "5 years"]],
    )
    pages = _extract(tmp_path, "house.docx", data)
    assert [page_text(page).split("\n\n")[0] for page in pages] == ["Written for the family.", "Kitchen", "Bathroom"]
    assert "Oven" in page_text(pages[1])
    assert "Fridge | 5 years" in page_text(pages[2])
    assert [block.level for block in pages[1].blocks] == [1, 0, 2, 0]


def test_html_markdown_epub_and_text_keep_their_sections(tmp_path: Path) -> None:
    html = (
        b"<html><head><title>x</title><style>p{}</style><script>alert(1)</script></head><body>"
        b"<nav>Home | About</nav><h1>Recipes</h1><p>Bread needs <b>flour</b><br>and water.</p>"
        b"<h1>Cleaning</h1><ul><li>Vinegar</li><li>Soda</li></ul></body></html>"
    )
    pages = _extract(tmp_path, "page.html", html)
    assert [page_text(page) for page in pages] == [
        "Recipes\n\nBread needs flour\nand water.",
        "Cleaning\n\nVinegar\n\nSoda",
    ]
    markdown = _extract(tmp_path, "notes.md", b"# One\n\nFirst *part*.\n\n# Two\n\nSecond part.\n")
    assert [page_text(page) for page in markdown] == ["One\n\nFirst part.", "Two\n\nSecond part."]
    book = _extract(tmp_path, "book.epub", epub_bytes([("Dawn", ["It began."]), ("Dusk", ["It ended."])]))
    assert [page_text(page) for page in book] == ["Dawn\n\nIt began.", "Dusk\n\nIt ended."]
    text = _extract(tmp_path, "plain.txt", b"Page one.\n\nStill one.\fPage two.")
    assert [page_text(page) for page in text] == ["Page one.\n\nStill one.", "Page two."]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog", "damaged and cannot be read as a PDF"),
        ("cut.pdf", pdf_bytes([["Hello there"]])[:400], "damaged and cannot be read as a PDF"),
        ("locked.pdf", pdf_bytes([["Secret"]], password="hunter2"), "this PDF is password-protected"),
        ("scan.pdf", pdf_bytes([["a"], ["b"]], text_layer=False), "No text found in “scan.pdf”. It looks like a scan"),
        ("blank.txt", b" \n\n \n", "No text found"),
    ],
)
def test_unreadable_documents_get_a_clear_message(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    with pytest.raises(DocumentRejected, match=re.escape(message)):
        _extract(tmp_path, name, data)


# --- chunking ------------------------------------------------------------------------------------------


def test_chunks_overlap_respect_headings_and_never_split_words() -> None:
    body = filler("the roof", 40)  # about 4,000 characters
    pages = [
        Page(number=1, blocks=[Block("Roof", level=1), Block(body), Block("Gutters", level=2), Block("Clear them.")]),
        Page(number=2, blocks=[Block(filler("the cellar", 3))]),
    ]
    chunks = chunks_make(pages, size=800, overlap=150)
    texts = {page.number: page_text(page) for page in pages}
    assert [chunk.number for chunk in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        source = texts[chunk.page]
        assert source[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= 800
        assert chunk.start == 0 or not source[chunk.start - 1].isalnum()  # starts at a word
        assert chunk.end == len(source) or not source[chunk.end].isalnum()  # ends at a word
    roof = [chunk for chunk in chunks if chunk.heading == "Roof"]
    assert len(roof) >= 5
    assert roof[0].text.startswith("Roof\n\nNote 1")
    for before, after in itertools.pairwise(roof):
        assert 0 < before.end - after.start <= 150 + 20  # overlap of about 150 characters
    gutters = [chunk for chunk in chunks if chunk.page == 1 and chunk.heading.endswith("Gutters")]
    assert [chunk.text for chunk in gutters] == ["Gutters\n\nClear them."]  # a heading starts a passage
    assert gutters[0].heading == "Roof \u203a Gutters"
    assert {chunk.page for chunk in chunks} == {1, 2}  # and a page break does too
    assert chunks[-1].page == 2
    assert chunks[-1].start == 0


def test_a_giant_word_is_kept_whole_when_it_is_not_absurd() -> None:
    token = "x" * 1000
    chunks = chunks_make([Page(number=1, blocks=[Block(f"start {token} end")])], size=800, overlap=150)
    assert any(token in chunk.text for chunk in chunks)


# --- upload ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_upload_is_kept_in_the_owners_folder_and_queued(alice: Any, inline_jobs: list[int]) -> None:
    data = pdf_bytes(BOILER_PDF_PAGES)
    document = document_upload(owner=alice, upload=upload("Manual.pdf", data))
    assert document.name == "Manual.pdf"
    assert document.kind == DocumentKind.PDF
    assert document.size_bytes == len(data)
    assert document.status == DocumentStatus.QUEUED
    path = settings.DATA_DIR / document.file
    assert path.parent == user_documents_folder(alice)
    assert path.read_bytes() == data
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert document.job is not None
    assert document.job.kind == "document_ingest"
    assert document.job.payload == {"document_id": document.pk}
    assert not list(path.parent.glob("*.part"))


@pytest.mark.django_db
def test_a_path_traversal_name_is_stored_safely_and_shown_by_its_base_name(alice: Any, inline_jobs: list[int]) -> None:
    for raw in ("../../../../etc/cron.d/evil.txt", "..\\..\\Windows\\evil2.txt"):
        document = document_upload(owner=alice, upload=upload(raw, f"content of {raw}".encode()))
        assert document.name in ("evil.txt", "evil2.txt")
        path = (settings.DATA_DIR / document.file).resolve()
        assert path.parent == user_documents_folder(alice).resolve()
        assert "evil" not in path.name
    assert not (settings.DATA_DIR / "etc").exists()
    assert not (settings.DATA_DIR.parent / "etc" / "cron.d" / "evil.txt").exists()


def test_names_are_cleaned_of_folders_and_control_characters() -> None:
    assert document_name_clean("/home/alice/Reports/Q1.pdf") == "Q1.pdf"
    assert document_name_clean("..") == "document"
    assert document_name_clean("") == "document"
    assert document_name_clean("bad\x00name\n.txt") == "badname.txt"
    assert document_name_clean("invoice\u202efdp.exe") == "invoicefdp.exe"  # no right-to-left override
    assert document_name_clean("  spaced\u00a0 out .md ") == "spaced out .md"
    long = document_name_clean("a" * 300 + ".pdf")
    assert len(long) == 200
    assert long.endswith(".pdf")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.pdf", b"", "“empty.pdf” is empty."),
        ("setup.pdf", ELF_PROGRAM, "“setup.pdf” is not a PDF: it is a program"),
        ("bomb.docx", docx_bomb_bytes(), "zip bomb"),
        ("lying.docx", docx_with_lying_directory(), "may be a zip bomb"),
        ("archive.zip", b"PK\x03\x04 this is not really a zip", "is damaged"),
    ],
)
def test_bad_uploads_are_refused_with_a_clear_message_and_leave_nothing_behind(
    alice: Any, inline_jobs: list[int], name: str, data: bytes, message: str
) -> None:
    before = files_of(alice)
    with pytest.raises(DocumentRejected, match=re.escape(message)):
        document_upload(owner=alice, upload=upload(name, data))
    assert not Document.objects.exists()
    assert not Job.objects.exists()
    assert files_of(alice) == before


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused(
    alice: Any, inline_jobs: list[int], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.HEARTH_DOCUMENT_MAX_BYTES = 1024
    before = files_of(alice)
    data = ("A long letter. " * 100).encode()
    with pytest.raises(DocumentRejected, match=re.escape("“letter.txt” is larger than the")):
        document_upload(owner=alice, upload=upload("letter.txt", data))
    # A client that under-reports the size is stopped while the bytes are streamed.
    lying = upload("letter.txt", data)
    monkeypatch.setattr(lying, "size", 10)
    with pytest.raises(DocumentRejected, match="larger than"):
        document_upload(owner=alice, upload=lying)
    assert not Document.objects.exists()
    assert files_of(alice) == before


@pytest.mark.django_db
def test_the_same_file_twice_is_named_as_a_duplicate_per_member(alice: Any, bob: Any, inline_jobs: list[int]) -> None:
    data = pdf_bytes([["Tax return 2025"]])
    before = files_of(alice)
    first = document_upload(owner=alice, upload=upload("Taxes.pdf", data))
    with pytest.raises(DocumentDuplicate, match=re.escape("You already uploaded this as “Taxes.pdf”.")) as refused:
        document_upload(owner=alice, upload=upload("taxes-copy.pdf", data))
    assert refused.value.existing == first
    assert document_upload(owner=bob, upload=upload("Taxes.pdf", data)).owner == bob  # Bob has his own copy
    assert len(files_of(alice) - before) == 1


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
    stored = store.collection_get(name=store.collection_name(alice.pk)).get(include=["metadatas"])
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

    monkeypatch.setattr(service, "vectors_upsert", crash_after_two_batches)
    with pytest.raises(_Crash):
        job_execute(job_id=document.job_id, worker="doomed")
    document.refresh_from_db()
    assert document.status == DocumentStatus.INDEXING
    assert document.effective_status == DocumentStatus.INDEXING
    assert len(vector_ids(document)) == 4  # half written…
    assert documents_search(owner=alice, query="winter clothes in the attic") == []  # …and not findable

    monkeypatch.setattr(service, "vectors_upsert", real_upsert)
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
    from assistant.services.runner import TransientJobError

    document = document_upload(owner=alice, upload=upload("Boiler.txt", b"Bleed the radiators every autumn."))

    def chroma_down(**_: Any) -> None:
        raise ConnectionError("the vector store did not answer ([Errno 111] Connection refused)")

    monkeypatch.setattr(service, "vectors_upsert", chroma_down)
    with pytest.raises(TransientJobError):  # Celery retries it with backoff
        job_execute(job_id=document.job_id, worker="inline")
    document.refresh_from_db()
    job = Job.objects.get(pk=document.job_id)
    assert job.status == JobStatus.QUEUED
    assert job.message.startswith("Waiting to retry: the vector store did not answer")
    assert document.effective_status == DocumentStatus.QUEUED

    monkeypatch.setattr(service, "vectors_upsert", store.vectors_upsert)
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

    monkeypatch.setattr(service, "vectors_upsert", cancel_after_first_batch)
    document = Document.objects.get(pk=waiting.pk)
    job = run_inline(document)
    assert job.status == JobStatus.CANCELLED
    assert document.status == DocumentStatus.CANCELLED
    assert not DocumentChunk.objects.filter(document=document).exists()
    assert vector_ids(document) == []

    monkeypatch.setattr(service, "vectors_upsert", real_upsert)
    new_job = document_reindex(document=document)
    assert new_job != job
    assert document.effective_status == DocumentStatus.QUEUED
    assert run_inline(document).status == JobStatus.SUCCEEDED
    assert document.status == DocumentStatus.READY
    assert len(vector_ids(document)) == document.chunk_count == 2

    # A superseded job retried from the Jobs page leaves the document alone.
    from assistant.services.jobs import job_retry

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
