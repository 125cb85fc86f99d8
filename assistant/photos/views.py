"""The Photos page: upload, the gallery by month, the files, delete, and search (words, example photo, similar).

Every lookup is filtered to the member who asks (404 for anyone else's id). Scripts send
Accept: application/json and get JSON; plain form posts get a message and the Photos page.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_POST

from assistant.core.http import MemberRequest, is_owner, json_or_redirect, owner_required, wants_json
from assistant.core.uploads import UploadRefused, upload_refused_response, uploads_of
from assistant.photos.intake import PhotoRejected
from assistant.photos.models import ClipModel, ClipStatus, Photo
from assistant.photos.search import (
    Order,
    SearchResult,
    SearchUnavailable,
    photos_search_example,
    photos_search_similar,
    photos_search_words,
)
from assistant.photos.services import (
    PhotoDuplicate,
    clip_active,
    clip_delete,
    clip_import,
    gallery_page,
    photo_delete,
    photo_files,
    photo_payload,
    photo_upload,
)

PAGE_SIZE = 100
# What the file pickers offer: every image (the phone's camera roll) and HEIC by name, which some systems miss.
ACCEPT = "image/*,.heic,.heif"
FILE_KINDS = ("thumb", "view", "original")


def _own_photo(request: MemberRequest, photo_id: int) -> Photo:
    return get_object_or_404(Photo.objects.owned_by(request.user), pk=photo_id)


def _setup_context(request: MemberRequest) -> dict[str, Any]:
    return {
        "clip": clip_active(),
        "clip_checking": ClipModel.objects.filter(status=ClipStatus.CHECKING).exists(),
        "is_owner": is_owner(request.user),
        "clip_folder": settings.MODELS_DIR / "clip",
        "accept": ACCEPT,
        "max_bytes": settings.HEARTH_PHOTO_MAX_BYTES,
        "max_label": f"{settings.HEARTH_PHOTO_MAX_BYTES / 1024**2:,.0f} MB",
    }


def photos_page(request: MemberRequest) -> HttpResponse:
    page = gallery_page(owner=request.user, size=PAGE_SIZE)
    owned = Photo.objects.owned_by(request.user)
    context = _setup_context(request)
    context.update(photos=page.photos, after=page.after, total=owned.count())
    if context["clip"] is not None:
        context["unsearchable"] = owned.exclude(embedded_with=context["clip"]).filter(error="").count()
    return render(request, "photos/page.html", context)


@require_GET
def photos_more(request: MemberRequest) -> HttpResponse:
    """The next page of the gallery, as month sections of tiles for the script to append."""
    page = gallery_page(owner=request.user, after=request.GET.get("after", ""), size=PAGE_SIZE)
    html = render_to_string("photos/_months.html", {"photos": page.photos}, request=request)
    return JsonResponse({"html": html, "after": page.after})


@require_POST
def photos_upload(request: MemberRequest) -> HttpResponse:
    """One file (the raw body) from a script, answered in JSON; or a plain form's many files."""
    try:
        uploads = uploads_of(request, field="file")
    except UploadRefused as exc:
        return upload_refused_response(exc)
    if wants_json(request):
        if len(uploads) != 1:
            return JsonResponse({"error": "Send one file at a time, in the field “file”."}, status=400)
        try:
            photo, notice = photo_upload(owner=request.user, upload=uploads[0])
        except PhotoDuplicate as exc:
            return JsonResponse({"error": str(exc), "existing": photo_payload(exc.existing)}, status=409)
        except PhotoRejected as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        tile = render_to_string("photos/_tile.html", {"photo": photo}, request=request)
        return JsonResponse({"photo": photo_payload(photo), "notice": notice, "html": tile}, status=201)
    added = 0
    for upload in uploads:
        try:
            photo_upload(owner=request.user, upload=upload)
        except PhotoRejected as exc:
            messages.error(request, str(exc))
        else:
            added += 1
    if added:
        messages.success(request, f"Added {added} photo{'s' if added != 1 else ''}.")
    elif not uploads:
        messages.error(request, "Choose one or more photos to add.")
    return redirect("photos")


@require_GET
def photo_file(request: MemberRequest, photo_id: int, kind: str) -> FileResponse:
    """The thumbnail, the photo as the viewer shows it (a JPEG copy for HEIC), or the original."""
    photo = _own_photo(request, photo_id)
    files = photo_files(photo=photo)
    if files is None or kind not in FILE_KINDS:
        raise Http404
    path = {"thumb": files.thumb, "original": files.original}.get(kind)
    if path is None:
        path = files.preview if photo.has_preview else files.original
    if not path.is_file():
        raise Http404
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    response = FileResponse(
        path.open("rb"), as_attachment=kind == "original", filename=photo.name, content_type=content_type
    )
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@require_POST
def photo_remove(request: MemberRequest, photo_id: int) -> HttpResponse:
    photo = _own_photo(request, photo_id)
    name = photo.name
    try:
        photo_delete(photo=photo)
    except ConnectionError:
        note = "The vector store is not answering, so nothing was deleted. Try again in a moment."
        return json_or_redirect(request, payload={"error": note}, to="photos", note=note, error=True, status=503)
    return json_or_redirect(request, payload={"deleted": photo_id}, to="photos", note=f"Deleted {name}.")


def _order(request: MemberRequest) -> Order:
    return "date" if request.GET.get("order") == "date" else "relevance"


def _results(request: MemberRequest, context: dict[str, Any], search: Any) -> HttpResponse:
    status = 200
    try:
        result: SearchResult | None = search()
    except (SearchUnavailable, PhotoRejected) as exc:
        result, status = None, 400 if isinstance(exc, PhotoRejected) else 503
        context["error"] = str(exc)
    context.update(_setup_context(request), result=result, order=_order(request))
    return render(request, "photos/results.html", context, status=status)


def photos_search(request: MemberRequest) -> HttpResponse:
    """GET ?q=words: search by words. POST with a file `example`: photos like that photo."""
    if request.method == "POST":
        example = request.FILES.get("example")
        if example is None:
            return redirect("photos")
        data, name = example.read(settings.HEARTH_PHOTO_MAX_BYTES + 1), example.name or "photo"
        if len(data) > settings.HEARTH_PHOTO_MAX_BYTES:
            data = b""  # refused by the search as an empty file, with the name
        context = {"mode": "example", "example_name": name}
        return _results(request, context, lambda: photos_search_example(owner=request.user, data=data, name=name))
    text = " ".join(request.GET.get("q", "").split())
    if not text:
        return redirect("photos")
    context = {"mode": "words", "q": text}
    return _results(request, context, lambda: photos_search_words(owner=request.user, text=text, order=_order(request)))


@require_GET
def photo_similar(request: MemberRequest, photo_id: int) -> HttpResponse:
    photo = _own_photo(request, photo_id)
    context = {"mode": "similar", "source": photo}
    return _results(
        request, context, lambda: photos_search_similar(owner=request.user, photo=photo, order=_order(request))
    )


@require_POST
@owner_required("Only the household's owner can choose the photo search model.")
def clip_model_import(request: MemberRequest) -> HttpResponse:
    try:
        model = clip_import(
            architecture=request.POST.get("architecture", ""),
            checkpoint=request.POST.get("checkpoint", ""),
            created_by=request.user,
        )
    except ValueError as exc:
        return json_or_redirect(
            request, payload={"error": str(exc)}, to="models", note=str(exc), error=True, status=400
        )
    note = f"Checking {model.architecture}: Hearth loads it in the background, then indexes everyone's photos with it."
    return json_or_redirect(request, payload={"clip_model": model.pk}, to="models", note=note, status=202)


@require_POST
@owner_required("Only the household's owner can choose the photo search model.")
def clip_model_remove(request: MemberRequest, model_id: int) -> HttpResponse:
    model = get_object_or_404(ClipModel, pk=model_id)
    try:
        clip_delete(model=model)
    except ConnectionError:
        note = "The vector store is not answering, so nothing was removed. Try again in a moment."
        return json_or_redirect(request, payload={"error": note}, to="models", note=note, error=True, status=503)
    return json_or_redirect(request, payload={"deleted": model_id}, to="models", note=f"Removed {model.architecture}.")
