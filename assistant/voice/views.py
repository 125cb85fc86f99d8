"""The Voice notes pages: record or upload, the list with live transcription progress, a note's player
and transcript, corrections, rename, search and delete.

Every lookup is filtered to the member who asks (404 for anyone else's id). Scripts send
Accept: application/json and get JSON; plain form posts get a message and a redirect.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from assistant.core.http import MemberRequest, wants_json
from assistant.core.uploads import UploadRefused, upload_refused_response, uploads_of
from assistant.voice.dictation import dictation_result, dictation_start
from assistant.voice.intake import AudioRejected, max_bytes
from assistant.voice.models import Segment, VoiceNote, VoiceNoteStatus
from assistant.voice.ranges import ranged_file_response
from assistant.voice.services import (
    LANGUAGES,
    note_payload,
    voice_note_cancel,
    voice_note_delete,
    voice_note_path,
    voice_note_rename,
    voice_note_retry,
    voice_segment_edit,
    voice_upload,
)
from assistant.voice.speech_models import speech_choices

ACCEPT = "audio/*,.webm,.ogg,.opus,.oga,.mp3,.m4a,.aac,.mp4,.wav,.flac"
PAGE_SIZE = 200
SEARCH_LIMIT = 20


def _own_note(request: MemberRequest, note_id: int) -> VoiceNote:
    return get_object_or_404(VoiceNote.objects.owned_by(request.user).select_related("job"), pk=note_id)


def _choices() -> dict[str, Any]:
    return {
        "models": speech_choices(),
        "languages": LANGUAGES,
        "accept": ACCEPT,
        "max_bytes": max_bytes(),
        "max_label": f"{max_bytes() // 1_000_000} MB",
    }


def voice_page(request: MemberRequest) -> HttpResponse:
    query = " ".join(request.GET.get("q", "").split())[:1000]
    notes = list(VoiceNote.objects.owned_by(request.user).select_related("job")[:PAGE_SIZE])
    results, error = [], ""
    if query:
        from assistant.documents.pipeline.embed import EmbeddingUnavailable
        from assistant.voice.search import voice_search

        try:
            results = voice_search(owner=request.user, query=query, limit=SEARCH_LIMIT)
        except (ConnectionError, EmbeddingUnavailable) as exc:
            error = f"Search is unavailable right now: {exc}"
    context = {"notes": notes, "payloads": [note_payload(n) for n in notes], "query": query, "results": results}
    return render(request, "voice/list.html", {**context, "error": error, **_choices()})


@require_POST
def voice_upload_view(request: MemberRequest) -> HttpResponse:
    """One recording or file (the raw body, or a form's field `file`), with optional `title`, `model` and
    `language` (in the address with a raw body, in the form otherwise)."""
    try:
        uploads = uploads_of(request, field="file")
    except UploadRefused as exc:
        return upload_refused_response(exc)
    upload = uploads[0] if uploads else None
    given = request.POST if request.POST else request.GET
    fields = {key: given.get(key, "") for key in ("title", "model", "language")}
    if upload is None:
        return _refused(request, "Choose a recording to upload, in the field “file”.")
    try:
        note = voice_upload(owner=request.user, upload=upload, **fields)
    except AudioRejected as exc:
        return _refused(request, str(exc))
    if wants_json(request):
        return JsonResponse({"note": note_payload(note)}, status=201)
    messages.success(request, f"Uploaded “{note.title}”. It is being transcribed.")
    return redirect("voice_note", note.pk)


@require_POST
def voice_dictate_view(request: MemberRequest) -> HttpResponse:
    """Push-to-talk: the recording as the raw body; 202 with the job that turns it into text."""
    try:
        uploads = uploads_of(request, field="file")
    except UploadRefused as exc:
        return upload_refused_response(exc)
    if not uploads:
        return JsonResponse({"error": "Nothing was recorded. Press the microphone and speak."}, status=400)
    try:
        job = dictation_start(owner=request.user, upload=uploads[0], language=request.GET.get("language", ""))
    except AudioRejected as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    result = dictation_result(owner=request.user, job_id=job.pk)
    return JsonResponse(result, status=202)


@require_GET
def voice_dictation_view(request: MemberRequest, job_id: int) -> HttpResponse:
    """Where a dictation stands, and its words once heard (only for the member who spoke them)."""
    result = dictation_result(owner=request.user, job_id=job_id)
    if result is None:
        raise Http404("No such dictation")
    return JsonResponse(result)


def _refused(request: MemberRequest, error: str) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": error}, status=400)
    messages.error(request, error)
    return redirect("voice")


def voice_note_page(request: MemberRequest, note_id: int) -> HttpResponse:
    note = _own_note(request, note_id)
    segments = Segment.objects.filter(note=note).order_by("number")
    if wants_json(request):
        rows = list(segments.values("number", "start", "end", "text", "edited"))
        return JsonResponse({"note": note_payload(note), "segments": rows})
    start = request.GET.get("t", "")
    return render(
        request,
        "voice/detail.html",
        {
            "note": note,
            "payload": note_payload(note),
            "segments": segments,
            "start": int(start) if start.isdigit() and int(start) < 10**6 else "",
            "active": note.effective_status in (VoiceNoteStatus.QUEUED, VoiceNoteStatus.TRANSCRIBING),
        },
    )


def voice_audio(request: MemberRequest, note_id: int) -> HttpResponse | StreamingHttpResponse:
    note = _own_note(request, note_id)
    path = voice_note_path(note)
    if path is None or not path.is_file():
        raise Http404("The audio of this note is missing")
    return ranged_file_response(
        path=path, content_type=note.content_type, range_header=request.headers.get("Range", "")
    )


@require_POST
def voice_rename_view(request: MemberRequest, note_id: int) -> HttpResponse:
    note = voice_note_rename(note=_own_note(request, note_id), title=request.POST.get("title", ""))
    return _note_response(request, note, f"Renamed to “{note.title}”.")


@require_POST
def voice_segment_view(request: MemberRequest, note_id: int, number: int) -> HttpResponse:
    note = _own_note(request, note_id)
    try:
        segment = voice_segment_edit(note=note, number=number, text=request.POST.get("text", ""))
    except Segment.DoesNotExist as exc:
        raise Http404("No such segment") from exc
    except ValueError as exc:
        if wants_json(request):
            return JsonResponse({"error": str(exc)}, status=400)
        messages.error(request, str(exc))
        return redirect("voice_note", note.pk)
    if wants_json(request):
        return JsonResponse({"segment": {"number": segment.number, "text": segment.text, "edited": segment.edited}})
    messages.success(request, "Correction saved.")
    return redirect("voice_note", note.pk)


@require_POST
def voice_cancel_view(request: MemberRequest, note_id: int) -> HttpResponse:
    note = voice_note_cancel(note=_own_note(request, note_id))
    return _note_response(request, note, f"Stopped transcribing “{note.title}”.")


@require_POST
def voice_retry_view(request: MemberRequest, note_id: int) -> HttpResponse:
    note = _own_note(request, note_id)
    voice_note_retry(note=note)
    return _note_response(request, _own_note(request, note_id), f"Transcribing “{note.title}” again.")


@require_POST
def voice_delete_view(request: MemberRequest, note_id: int) -> HttpResponse:
    note = _own_note(request, note_id)
    title = note.title
    try:
        voice_note_delete(note=note)
    except ConnectionError:
        error = "The vector store is not answering, so nothing was deleted. Try again in a minute."
        if wants_json(request):
            return JsonResponse({"error": error}, status=503)
        messages.error(request, error)
        return redirect("voice_note", note_id)
    if wants_json(request):
        return JsonResponse({"deleted": note_id})
    messages.success(request, f"Deleted “{title}”.")
    return redirect("voice")


def _note_response(request: MemberRequest, note: VoiceNote, text: str) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"note": note_payload(note)})
    messages.info(request, text)
    return redirect("voice_note", note.pk)
