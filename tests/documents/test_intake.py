"""Documents as they come in: type detection from the content, extraction, chunking and upload.

Real parts: PDFs built with pypdf, DOCX with python-docx, EPUBs and zips built here, the test database.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from assistant.documents.pipeline.chunk import chunks_make, page_text
from assistant.documents.pipeline.detect import DocumentRejected, kind_detect
from assistant.documents.pipeline.extract import Block, Page, pages_extract
from assistant.documents.services import (
    DocumentDuplicate,
    document_name_clean,
    document_upload,
)
from assistant.models import Document, DocumentKind, DocumentStatus, Job
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
from tests.support.indexing import BOILER_PDF_PAGES, files_of, user_documents_folder

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
