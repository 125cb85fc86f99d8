"""The document viewer and the file it reads: only the owner's, the right headers, the cited passage.

Documents are uploaded with document_upload and indexed inline by the real pipeline (MiniLM and the
Chroma server); the PDFs and manuals are the evaluation library's real files (bench/data/docs).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from assistant.documents.pipeline.chunk import chunks_make, page_text
from assistant.documents.pipeline.extract import pages_extract
from assistant.documents.services import document_file, document_upload
from assistant.documents.viewer import passage_cited, section_text
from assistant.models import Document, DocumentChunk, DocumentKind
from tests.support.documents import filler, pdf_bytes, upload
from tests.support.indexing import indexed

DOCS = Path(__file__).resolve().parents[2] / "bench" / "data" / "docs"
PAGES = [["Household manual", filler("the kitchen", 3)], ["Heating", "The boiler pressure should be 1.5 bar."]]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def a_pdf(owner: Any) -> Document:
    return document_upload(owner=owner, upload=upload("Manual.pdf", pdf_bytes(PAGES)))


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/documents/{id}/view/", "/documents/{id}/view/?page=2", "/documents/{id}/file/"])
def test_another_member_gets_404_for_the_viewer_and_the_file(
    alice: Any, bob: Any, inline_jobs: list[int], path: str
) -> None:
    document = a_pdf(alice)
    assert client_for(bob).get(path.format(id=document.pk)).status_code == 404
    assert client_for(alice).get(path.format(id=document.pk)).status_code == 200
    assert Client().get(path.format(id=document.pk)).status_code == 302  # signed out: to the sign-in page


@pytest.mark.django_db
def test_the_owner_gets_the_pdf_inline_with_its_type_and_nosniff(alice: Any, inline_jobs: list[int]) -> None:
    document = a_pdf(alice)
    response = client_for(alice).get(f"/documents/{document.pk}/file/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="Manual.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    assert response.getvalue() == pdf_bytes(PAGES)


@pytest.mark.django_db
def test_a_web_page_is_never_served_inline(alice: Any, inline_jobs: list[int]) -> None:
    page = b"<html><body><h1>Notes</h1><p>Hello</p><script>alert(1)</script></body></html>"
    document = document_upload(owner=alice, upload=upload("notes.html", page))
    assert document.kind == DocumentKind.HTML
    response = client_for(alice).get(f"/documents/{document.pk}/file/")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "text/html"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_a_missing_file_is_said_in_words_and_the_file_address_is_404(alice: Any, inline_jobs: list[int]) -> None:
    document = a_pdf(alice)
    path = document_file(document)
    assert path is not None
    path.unlink()
    client = client_for(alice)
    body = client.get(f"/documents/{document.pk}/view/?page=2").content.decode()
    assert "The file is missing" in body
    assert f"/documents/{document.pk}/?page=1#p1" in body  # a way to the passages instead
    assert "data-file-url" not in body  # pdf.js is not started
    assert client.get(f"/documents/{document.pk}/file/").status_code == 404


@pytest.mark.parametrize("name", ["node-path.md", "dpkg.docx", "fstab.pdf", "python-policy.html"])
def test_a_section_is_rebuilt_from_its_passages_exactly(name: str) -> None:
    """The viewer shows a section as the passages' text put back together; it is the extracted text."""
    kind = {".md": "markdown", ".docx": "docx", ".pdf": "pdf", ".html": "html"}[Path(name).suffix]
    pages = pages_extract(DOCS / name, kind=kind, name=name)
    chunks = chunks_make(pages)
    for page in pages:
        rows = [(chunk.start, chunk.end, chunk.text) for chunk in chunks if chunk.page == page.number]
        assert section_text(rows) == page_text(page).rstrip()


@pytest.mark.django_db
def test_a_section_shows_its_text_escaped_with_the_cited_passage_marked(
    alice: Any, vectors: None, embedding_model: Any, inline_jobs: list[int]
) -> None:
    text = "# Notes\n\nFirst paragraph about the kitchen.\n\n# Garden\n\n" + filler("the garden", 4)
    text += "\n\nThe `<script>alert(1)</script>` mower needs fresh petrol every spring.\n"
    document = indexed(alice, "notes.md", text.encode())
    chunk = DocumentChunk.objects.get(document=document, text__contains="mower")
    body = client_for(alice).get(f"/documents/{document.pk}/view/?page={chunk.page}&passage={chunk.number + 1}")
    html = body.content.decode()
    assert '<mark class="viewer-hit" id="cited">' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; mower" in html
    assert "<script>alert(1)" not in html
    # The heading opens the cited passage, so it is marked too.
    assert re.search(r'<h2 class="viewer__heading"><mark class="viewer-hit" id="cited">Garden</mark></h2>', html)
    assert '<h2 class="viewer__heading">Notes</h2>' not in html  # another section
    # A link made from the passage's first words finds the same passage.
    cited = passage_cited(document=document, page=chunk.page, passage=None, words=" ".join(chunk.text.split()[:12]))
    assert (cited.passage, cited.page) == (chunk.number + 1, chunk.page)
    # A passage number that is not there still opens the page asked for.
    cited = passage_cited(document=document, page=1, passage=999, words="")
    assert (cited.passage, cited.page, cited.text) == (None, 1, "")
