"""The Documents page: upload, the list with live indexing progress, a document's passages, search.

Every lookup is filtered to the member who asks (404 for anyone else's id). Scripts send
Accept: application/json and get JSON; plain form posts get a message and the Documents page.
Document text is untrusted: templates only ever show it escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from assistant.core.http import MemberRequest, id_param, json_or_redirect, wants_json
from assistant.core.uploads import UploadRefused, uploads_of
from assistant.documents.pipeline.embed import EmbeddingUnavailable
from assistant.documents.search import Passage, documents_search, query_terms
from assistant.documents.services import (
    DocumentDuplicate,
    DocumentRejected,
    document_cancel,
    document_delete,
    document_file,
    document_payload,
    document_reindex,
    document_upload,
)
from assistant.documents.viewer import FILE_TYPES, passage_cited, section_paragraphs
from assistant.models import Document, DocumentChunk, DocumentKind, DocumentStatus

PAGE_SIZE = 200
CHUNKS_PER_PART = 50
SEARCH_LIMIT = 20
# Document extensions offered by the file picker and kept from a chosen folder (the server reads the content).
ACCEPT = ".pdf,.docx,.epub,.html,.htm,.xhtml,.md,.markdown,.txt,.text"
ACTIVE = (DocumentStatus.QUEUED, DocumentStatus.INDEXING)


def _own_document(request: MemberRequest, document_id: int) -> Document:
    return get_object_or_404(Document.objects.owned_by(request.user).select_related("job"), pk=document_id)


def _payload(document: Document) -> dict[str, Any]:
    payload = document_payload(document)
    job = document.job
    payload["progress"] = round(job.progress, 4) if job is not None and job.is_active else 0
    payload["message"] = job.message if job is not None and job.is_active else ""
    return payload


def documents_page(request: MemberRequest) -> HttpResponse:
    documents = list(Document.objects.owned_by(request.user).select_related("job")[:PAGE_SIZE])
    return render(
        request,
        "documents/list.html",
        {
            "documents": documents,
            "accept": ACCEPT,
            "max_bytes": settings.HEARTH_DOCUMENT_MAX_BYTES,
            "max_label": f"{settings.HEARTH_DOCUMENT_MAX_BYTES / 1024**2:,.0f} MB",
        },
    )


@require_POST
def documents_upload(request: MemberRequest) -> HttpResponse:
    """One file sent as the body by a script, answered in JSON; or a small plain form's many files.

    Large files only come as the body (assistant/core/uploads.py): the gate refuses big forms."""
    try:
        uploads = uploads_of(request, field="file")
    except UploadRefused as exc:
        return json_or_redirect(
            request, payload={"error": str(exc)}, to="documents", note=str(exc), error=True, status=exc.status
        )
    if wants_json(request):
        if len(uploads) != 1:
            return JsonResponse({"error": "Send one file at a time, in the field “file”."}, status=400)
        try:
            document = document_upload(owner=request.user, upload=uploads[0])
        except DocumentDuplicate as exc:
            return JsonResponse({"error": str(exc), "existing": _payload(exc.existing)}, status=409)
        except DocumentRejected as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        return JsonResponse({"document": _payload(document)}, status=201)

    if not uploads:
        messages.error(request, "Choose one or more documents to upload.")
        return redirect("documents")
    added = 0
    for upload in uploads:
        try:
            document_upload(owner=request.user, upload=upload)
        except DocumentRejected as exc:
            messages.error(request, str(exc))
        else:
            added += 1
    if added:
        plural = "" if added == 1 else "s"
        messages.success(request, f"Uploaded {added} document{plural}. They can be searched once indexed.")
    return redirect("documents")


def document_page(request: MemberRequest, document_id: int) -> HttpResponse:
    document = _own_document(request, document_id)
    if wants_json(request):
        return JsonResponse({"document": _payload(document)})
    chunks = DocumentChunk.objects.filter(document=document).order_by("number")
    wanted_page = _positive_int(request.GET.get("page"))
    part = _positive_int(request.GET.get("part"))
    if part is None and wanted_page is not None:
        # A citation names a page of the document: open the part of the list where that page starts.
        before = chunks.filter(page__lt=wanted_page).count()
        part = before // CHUNKS_PER_PART + 1
    paginator = Paginator(chunks, CHUNKS_PER_PART)
    shown = paginator.get_page(part or 1)
    rows = []
    previous_page = None
    if shown.number > 1:
        previous_page = chunks[(shown.number - 1) * CHUNKS_PER_PART - 1].page
    for chunk in shown.object_list:
        rows.append({"chunk": chunk, "anchor": chunk.page != previous_page, "current": chunk.page == wanted_page})
        previous_page = chunk.page
    return render(
        request,
        "documents/detail.html",
        {
            "document": document,
            "payload": _payload(document),
            "part": shown,
            "rows": rows,
            "wanted_page": wanted_page,
            "is_active": document.effective_status in ACTIVE,
        },
    )


def _positive_int(value: str | None) -> int | None:
    number = id_param(value)
    return number if number is not None and number < 10**9 else None


def document_download(request: MemberRequest, document_id: int) -> FileResponse:
    document = _own_document(request, document_id)
    path = document_file(document)
    if path is None or not path.is_file():
        raise Http404("The file of this document is missing")
    return FileResponse(path.open("rb"), as_attachment=True, filename=document.name)


def document_view(request: MemberRequest, document_id: int) -> HttpResponse:
    """The document itself at a cited page: a PDF drawn by pdf.js, other kinds as their extracted text."""
    document = _own_document(request, document_id)
    cited = passage_cited(
        document=document,
        page=_positive_int(request.GET.get("page")),
        passage=_positive_int(request.GET.get("passage")),
        words=request.GET.get("q", ""),
    )
    is_pdf = document.kind == DocumentKind.PDF
    path = document_file(document)
    context: dict[str, Any] = {
        "document": document,
        "cited": cited,
        "page_count": max(document.page_count, cited.page),
        "is_pdf": is_pdf,
        "file_missing": path is None or not path.is_file(),
    }
    if not is_pdf:
        context["paragraphs"] = section_paragraphs(document=document, page=cited.page, cited=cited)
    return render(request, "documents/viewer.html", context)


def document_file_view(request: MemberRequest, document_id: int) -> FileResponse:
    """The file's bytes for the viewer: a PDF inline, any other kind as a download."""
    document = _own_document(request, document_id)
    path = document_file(document)
    if path is None or not path.is_file():
        raise Http404("The file of this document is missing")
    response = FileResponse(
        path.open("rb"),
        as_attachment=document.kind != DocumentKind.PDF,
        filename=document.name,
        content_type=FILE_TYPES.get(DocumentKind(document.kind), "application/octet-stream"),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-cache"
    return response


@require_POST
def document_cancel_view(request: MemberRequest, document_id: int) -> HttpResponse:
    document = document_cancel(document=_own_document(request, document_id))
    return _document_response(request, document, f"Stopped indexing “{document.name}”.")


@require_POST
def document_reindex_view(request: MemberRequest, document_id: int) -> HttpResponse:
    document = _own_document(request, document_id)
    document_reindex(document=document)
    document = _own_document(request, document_id)
    return _document_response(request, document, f"Indexing “{document.name}” again.")


@require_POST
def document_delete_view(request: MemberRequest, document_id: int) -> HttpResponse:
    document = _own_document(request, document_id)
    name = document.name
    try:
        document_delete(document=document)
    except ConnectionError:
        error = "The vector store is not answering, so nothing was deleted. Try again in a minute."
        if wants_json(request):
            return JsonResponse({"error": error}, status=503)
        messages.error(request, error)
        return redirect("documents")
    if wants_json(request):
        return JsonResponse({"deleted": document_id})
    messages.success(request, f"Deleted “{name}”.")
    return redirect("documents")


def _document_response(request: MemberRequest, document: Document, note: str) -> HttpResponse:
    return json_or_redirect(request, payload={"document": _payload(document)}, to="documents", note=note)


# --- search ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    passage: Passage
    percent: int
    # The passage's text in pieces: (text, is a query word). The template escapes each piece.
    pieces: list[tuple[str, bool]]


def text_pieces(text: str, query: str) -> list[tuple[str, bool]]:
    """`text` cut at the whole-word, case-insensitive matches of the query's words (of 2+ characters)."""
    words = sorted(query_terms(query), key=len, reverse=True)
    if not words:
        return [(text, False)]
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE)
    pieces: list[tuple[str, bool]] = []
    last = 0
    for match in pattern.finditer(text):
        if match.start() > last:
            pieces.append((text[last : match.start()], False))
        pieces.append((match.group(0), True))
        last = match.end()
    if last < len(text):
        pieces.append((text[last:], False))
    return pieces


def documents_search_view(request: MemberRequest) -> HttpResponse:
    query = " ".join(request.GET.get("q", "").split())[:1000]
    results: list[SearchResult] = []
    error = ""
    if query:
        try:
            passages = documents_search(owner=request.user, query=query, limit=SEARCH_LIMIT)
        except (ConnectionError, EmbeddingUnavailable) as exc:
            passages = []
            error = f"Search is unavailable right now: {exc}"
        results = [
            SearchResult(passage=p, percent=round(p.score * 100), pieces=text_pieces(p.text, query)) for p in passages
        ]
    return render(
        request,
        "documents/search.html",
        {
            "query": query,
            "results": results,
            "error": error,
            "has_ready": Document.objects.owned_by(request.user).searchable().exists(),
        },
    )
