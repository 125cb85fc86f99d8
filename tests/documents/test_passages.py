"""Passages follow the document's structure: no running headers, whole entries, a context header, a relevance score."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from assistant.documents.pipeline.chunk import chunks_make, context_header, document_title
from assistant.documents.pipeline.embed import index_version
from assistant.documents.pipeline.extract import Block, Page
from assistant.documents.pipeline.keyword import keyword_ranking
from assistant.documents.pipeline.pdf import lines_blocks, page_lines, pdf_pages, running_lines_strip
from assistant.documents.pipeline.relevance import relevance, stem, term_coverage
from assistant.documents.reindex import documents_reindex_stale, documents_stale
from assistant.models import Document, DocumentChunk, DocumentKind, DocumentStatus, Job

LIBRARY = Path(__file__).resolve().parents[2] / "bench" / "data" / "docs"


def test_running_headers_and_footers_are_dropped_whatever_their_page_number() -> None:
    words = ["archives", "members", "options", "examples", "bugs"]
    header = "TAR(1) GNU TAR Manual TAR(1)"
    body = [[f"About {word}.", f"More on {word}.", f"Last of {word}."] for word in words]
    pages = [[header, *lines, f"TAR July 13, 2020 {n}"] for n, lines in enumerate(body)]
    assert running_lines_strip(pages) == body
    # A page of a few lines is all content, even when its lines repeat from page to page.
    short = [[f"Chapter {n}: box {n}.", f"Box {n} holds coats."] for n in range(5)]
    assert running_lines_strip(short) == short
    # Two pages are too few to tell a running header from a repeated line.
    assert running_lines_strip(pages[:2]) == pages[:2]


def test_a_manual_page_becomes_headings_and_one_paragraph_per_entry() -> None:
    lines = [
        "OPTIONS",
        "--exclude=PATTERN",
        "Exclude files matching PATTERN, a glob(3)-style wildcard pattern. This line is as long as the text is wide.",
        "--bwlimit=RATE limit the bandwidth of the socket",
        "ServerAliveInterval",
        "Sets a timeout interval in seconds after which ssh sends a message through the encrypted channel to",
        "request a response from the server; the de\ufffefault is 0.",
    ]
    blocks = lines_blocks(page_lines("\r\n".join(lines)), width=100)
    assert blocks[0] == Block("OPTIONS", level=1)
    assert [block.text.split("\n")[0] for block in blocks[1:]] == [
        "--exclude=PATTERN",
        "--bwlimit=RATE limit the bandwidth of the socket",
        "ServerAliveInterval",
    ]
    assert blocks[-1].text.endswith("the default is 0.")


def test_a_real_man_page_pdf_reads_without_its_running_header() -> None:
    pages = pdf_pages(LIBRARY / "tar.pdf", name="tar.pdf", on_page=lambda _done, _total: None)
    text = "\n".join(block.text for page in pages for block in page.blocks)
    assert len(pages) == 17
    assert "GNU TAR Manual" not in text
    assert "archive" in text
    assert "archi ve" not in text
    entry = next(block for page in pages for block in page.blocks if block.text.startswith("--exclude=PATTERN"))
    assert "Exclude files matching PATTERN" in entry.text


def test_entries_are_packed_whole_and_only_a_long_one_is_cut() -> None:
    entries = [Block((f"-{letter}  " + f"Option {letter} does one thing well. " * 6).strip()) for letter in "abcdef"]
    page = Page(number=1, blocks=[Block("OPTIONS", level=1), *entries, Block("x " * 700)])
    chunks = chunks_make([page], size=500, overlap=100)
    for chunk in chunks:
        for entry in entries:
            assert entry.text in chunk.text or entry.text[:40] not in chunk.text  # an entry is never split
    assert all(chunk.heading == "OPTIONS" for chunk in chunks)
    assert sum(1 for chunk in chunks if chunk.text.startswith("x x")) >= 2  # the giant block is cut


def test_the_context_header_names_the_document_and_section() -> None:
    assert document_title("Boiler manual.pdf") == "Boiler manual"
    assert document_title("notes") == "notes"
    assert context_header("rsync", "OPTIONS \u203a --delete") == "rsync \u203a OPTIONS \u203a --delete"
    assert context_header("rsync", "") == "rsync"


def test_relevance_rises_with_meaning_falls_with_absent_words_and_stays_low_for_unrelated_passages() -> None:
    assert stem("tyres") == stem("tyre")
    assert stem("compressed") == stem("compress")
    assert term_coverage(["compress", "logs"], "Old log files are compressed.") == 1.0
    assert term_coverage(["wireguard", "tunnel"], "Old log files are compressed.") == 0.0
    unrelated, related = relevance(0.1, 0.5), relevance(0.8, 0.0)
    assert 0.0 < unrelated < 0.1 < 0.9 < related < 1.0
    assert relevance(0.5, 0.2) < relevance(0.6, 0.2)
    assert relevance(0.5, 0.4) < relevance(0.5, 0.0)  # words no document holds make an answer less likely


def _document(owner: Any, name: str, *, version: str, context: str = "", text: str = "x") -> Document:
    document = Document.objects.create(
        owner=owner, name=name, file=f"users/{owner.pk}/documents/{name}", kind=DocumentKind.TEXT, size_bytes=1,
        sha256=name.ljust(64, "0"), status=DocumentStatus.READY, chunk_count=1, index_version=version,
    )  # fmt: skip
    DocumentChunk.objects.create(
        document=document, number=0, page=1, start=0, end=len(text), text=text, context=context
    )
    return document


@pytest.mark.django_db
def test_the_context_header_is_keyword_indexed_with_the_text(alice: Any) -> None:
    manual = _document(alice, "boiler.txt", version="", context="Boiler manual \u203a Pressure", text="Read 1.5 bar.")
    found = keyword_ranking(owner_id=alice.pk, document_ids=None, terms=["boiler", "pressure"], limit=5)
    assert found == [(manual.pk, 0)]


@pytest.mark.django_db
def test_documents_indexed_with_another_model_are_queued_again_once(alice: Any, inline_jobs: list[int]) -> None:
    old = _document(alice, "old.txt", version="st:all-MiniLM-L6-v2/p1")
    current = _document(alice, "current.txt", version=index_version())
    assert documents_stale() == [old]
    assert documents_reindex_stale() == 1
    old.refresh_from_db()
    assert old.status == DocumentStatus.QUEUED
    assert old.job_id is not None
    assert Job.objects.filter(pk=old.job_id, kind="document_ingest").exists()
    assert documents_reindex_stale() == 0  # not stale any more while it waits: nothing twice
    current.refresh_from_db()
    assert current.status == DocumentStatus.READY
    assert current.job_id is None
