"""The Documents page: upload (JSON and plain form), the list, a document's page, download, actions, search.

Alice and Bob are members; Bob must never see, fetch or change anything of Alice's. The end-to-end
test uploads through the view and lets the session's real Celery worker index on the real Chroma server.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from assistant.documents.services import document_upload
from assistant.documents.views import text_pieces
from assistant.models import Document, DocumentChunk, DocumentStatus
from tests.support.documents import ELF_PROGRAM, filler, pdf_bytes, upload
from tests.support.services import WorkerProcess, wait_for

JSON = {"HTTP_ACCEPT": "application/json"}
MANUAL_PAGES = [
    ["Household manual", "This manual covers the appliances in the house.", filler("the kitchen", 3)],
    ["Heating", "The boiler pressure should be 1.5 bar when the heating is cold.", filler("the heating", 3)],
    ["Garden", "The lawn mower needs fresh petrol every spring.", filler("the garden", 3)],
]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def a_document(owner: Any, name: str = "Manual.pdf", pages: list[list[str]] | None = None) -> Document:
    return document_upload(owner=owner, upload=upload(name, pdf_bytes(pages or MANUAL_PAGES)))


@pytest.mark.django_db
def test_the_empty_page_explains_what_documents_are_for(alice: Any) -> None:
    response = client_for(alice).get("/documents/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "No documents yet" in body
    assert "page citations" in body
    assert "webkitdirectory" in body
    assert 'name="file" multiple' in body
    assert "<script>" not in body.split("</head>")[1]  # no inline scripts (CSP)


@pytest.mark.django_db
def test_the_list_shows_only_the_members_own_documents(alice: Any, bob: Any) -> None:
    a_document(alice, "Alice's lease.pdf")
    body = client_for(alice).get("/documents/").content.decode()
    assert "Alice&#x27;s lease.pdf" in body
    assert "Waiting to be indexed" in body
    assert "No documents yet" in body  # the empty state is there, but hidden
    bob_body = client_for(bob).get("/documents/").content.decode()
    assert "lease.pdf" not in bob_body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/documents/{id}/"),
        ("get", "/documents/{id}/download/"),
        ("post", "/documents/{id}/delete/"),
        ("post", "/documents/{id}/reindex/"),
        ("post", "/documents/{id}/cancel/"),
    ],
)
def test_another_member_gets_404_for_every_lookup(alice: Any, bob: Any, method: str, path: str) -> None:
    document = a_document(alice)
    client = client_for(bob)
    response = getattr(client, method)(path.format(id=document.pk))
    assert response.status_code == 404
    response = getattr(client, method)(path.format(id=document.pk), **JSON)
    assert response.status_code == 404
    document.refresh_from_db()
    assert document.status == DocumentStatus.QUEUED
    assert Document.objects.filter(pk=document.pk).exists()


@pytest.mark.django_db
def test_a_batch_goes_on_past_a_bad_file_and_a_duplicate_names_the_existing_document(alice: Any) -> None:
    client = client_for(alice)
    bad = client.post("/documents/upload/", {"file": upload("program.pdf", ELF_PROGRAM)}, **JSON)
    assert bad.status_code == 400
    assert "program.pdf" in bad.json()["error"]
    good = client.post("/documents/upload/", {"file": upload("Manual.pdf", pdf_bytes(MANUAL_PAGES))}, **JSON)
    assert good.status_code == 201
    payload = good.json()["document"]
    assert payload["name"] == "Manual.pdf"
    assert payload["status"] == "queued"
    assert payload["kind_label"] == "PDF"
    again = client.post("/documents/upload/", {"file": upload("Copy.pdf", pdf_bytes(MANUAL_PAGES))}, **JSON)
    assert again.status_code == 409
    assert "Manual.pdf" in again.json()["error"]
    assert again.json()["existing"]["id"] == payload["id"]
    assert list(Document.objects.owned_by(alice).values_list("name", flat=True)) == ["Manual.pdf"]


@pytest.mark.django_db
def test_the_plain_form_uploads_many_files_and_says_what_was_refused(alice: Any) -> None:
    client = client_for(alice)
    files = [
        upload("One.pdf", pdf_bytes([["First document"]])),
        upload("bad.docx", ELF_PROGRAM),
        upload("Two.pdf", pdf_bytes([["Second document"]])),
    ]
    response = client.post("/documents/upload/", {"file": files}, follow=True)
    assert response.redirect_chain[-1][0] == "/documents/"
    body = response.content.decode()
    assert "Uploaded 2 documents" in body
    assert "bad.docx" in body
    assert sorted(Document.objects.owned_by(alice).values_list("name", flat=True)) == ["One.pdf", "Two.pdf"]


@pytest.mark.django_db
def test_delete_removes_the_document(alice: Any, chroma_server: str) -> None:
    document = a_document(alice)
    response = client_for(alice).post(f"/documents/{document.pk}/delete/", **JSON)
    assert response.json() == {"deleted": document.pk}
    assert not Document.objects.filter(pk=document.pk).exists()
    other = a_document(alice, "Other.pdf", [["Another one"]])
    response = client_for(alice).post(f"/documents/{other.pk}/delete/", follow=True)
    assert "Deleted “Other.pdf”." in response.content.decode()
    assert not Document.objects.filter(pk=other.pk).exists()


@pytest.mark.django_db
def test_cancel_and_reindex_change_the_members_document(alice: Any) -> None:
    document = a_document(alice)
    client = client_for(alice)
    cancelled = client.post(f"/documents/{document.pk}/cancel/", **JSON).json()["document"]
    assert cancelled["status"] == "cancelled"
    queued = client.post(f"/documents/{document.pk}/reindex/", **JSON).json()["document"]
    assert queued["status"] == "queued"
    assert queued["job"] != cancelled["job"]


@pytest.mark.django_db
def test_the_download_is_the_original_file_as_an_attachment(alice: Any) -> None:
    data = pdf_bytes(MANUAL_PAGES)
    document = document_upload(owner=alice, upload=upload("Manual.pdf", data))
    response = client_for(alice).get(f"/documents/{document.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="Manual.pdf"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == data


@pytest.mark.django_db
def test_the_document_page_shows_its_passages_with_page_anchors_escaped(alice: Any) -> None:
    document = a_document(alice)
    rows = [
        (1, "Intro", "Welcome <b>home</b>"),
        (1, "Intro", "More of page one"),
        (2, "Heating", "<script>x()</script>"),
    ]
    rows += [(3 + n // 10, "", f"Filler passage {n}") for n in range(120)]
    DocumentChunk.objects.bulk_create(
        DocumentChunk(document=document, number=n, page=page, heading=heading, start=0, end=len(text), text=text)
        for n, (page, heading, text) in enumerate(rows)
    )
    Document.objects.filter(pk=document.pk).update(status=DocumentStatus.READY, chunk_count=len(rows), page_count=15)
    client = client_for(alice)
    body = client.get(f"/documents/{document.pk}/").content.decode()
    assert body.count('id="p1"') == 1
    assert 'id="p2"' in body
    assert 'id="p3"' in body
    assert "Welcome &lt;b&gt;home&lt;/b&gt;" in body
    assert "&lt;script&gt;x()&lt;/script&gt;" in body
    assert "<script>x()" not in body
    assert "Filler passage 46" in body
    assert "Filler passage 47" not in body
    assert "Part 1 of 3" in body

    cited = client.get(f"/documents/{document.pk}/?page=9").content.decode()
    assert "Part 2 of 3" in cited
    assert 'class="doc-chunk doc-chunk--current" id="p9"' in cited
    assert cited.count("doc-chunk--current") == 10
    assert client.get(f"/documents/{document.pk}/?part=3").content.decode().count("Filler passage") == 23


def test_search_highlighting_wraps_whole_words_of_the_query() -> None:
    assert text_pieces("The Boiler <b>boiler</b>s boiler.", "boiler?") == [
        ("The ", False),
        ("Boiler", True),
        (" <b>", False),
        ("boiler", True),
        ("</b>s ", False),
        ("boiler", True),
        (".", False),
    ]
    assert text_pieces("nothing", "  ") == [("nothing", False)]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_upload_is_indexed_listed_ready_and_searchable_only_by_its_owner(
    alice: Any, bob: Any, worker: WorkerProcess
) -> None:
    client = client_for(alice)
    response = client.post("/documents/upload/", {"file": upload("Manual.pdf", pdf_bytes(MANUAL_PAGES))}, **JSON)
    assert response.status_code == 201
    document_id = response.json()["document"]["id"]

    def ready() -> bool:
        status = client.get(f"/documents/{document_id}/", **JSON).json()["document"]["status"]
        assert status not in ("failed", "cancelled"), status
        return status == "ready"

    wait_for(ready, timeout=120, what="the document to be indexed")
    listed = client.get("/documents/").content.decode()
    assert ">Ready<" in listed
    assert "3 pages" in listed

    found = client.get("/documents/search/", {"q": "boiler pressure <script>"}).content.decode()
    assert f'href="/documents/{document_id}/?page=2#p2"' in found
    assert "Manual.pdf, page 2" in found
    assert "<mark>boiler</mark>" in found
    assert "<mark>pressure</mark>" in found
    assert re.search(r"relevance \d+%</span>", found)  # the relevance score, as a percentage
    assert "<script>" not in found.split("</head>")[1]

    page = client.get(f"/documents/{document_id}/?page=2").content.decode()
    assert 'id="p2"' in page
    assert "1.5 bar" in page

    other = client_for(bob)
    assert "Manual.pdf" not in other.get("/documents/search/", {"q": "boiler pressure"}).content.decode()
    assert "Manual.pdf" not in other.get("/documents/").content.decode()
