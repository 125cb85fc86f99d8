"""The owner's file browser for importing models already on this machine, and the import of what was ticked.

Members who are not the owner get a 403 before anything is listed. Scripts get JSON (Accept:
application/json); the page itself works as plain links and one form.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from assistant.core.http import json_or_redirect, owner_required, wants_json
from assistant.jobs.services import job_payload
from assistant.llm.browse import BrowseRefused, Listing, Selected, folder_list, import_roots, import_selection_check
from assistant.llm.importing import model_import_path_check, model_import_start
from assistant.llm.pairing import ModelRefused
from assistant.models import Job

OWNER_ONLY = "Only the household's owner can look at this machine's files and import models."
_owner_only = owner_required(OWNER_ONLY)


def _listing_json(listing: Listing) -> dict[str, Any]:
    return {
        "root": listing.root.index,
        "path": listing.relative,
        "parent": listing.parent,
        "left_out": listing.left_out,
        "entries": [
            {"name": e.name, "path": e.relative, "kind": e.kind, "size": e.size, "importable": e.importable}
            for e in listing.entries
        ],
    }


@require_GET
@_owner_only
def models_browse(request: HttpRequest) -> HttpResponse:
    roots = import_roots()
    root = request.GET.get("root", "")
    if not root and len(roots) == 1:
        root = str(roots[0].index)
    listing, error = None, ""
    if root:
        try:
            listing = folder_list(root=root, path=request.GET.get("path", ""))
        except BrowseRefused as exc:
            error = str(exc)
    if wants_json(request):
        if error:
            return JsonResponse({"error": error}, status=400)
        roots_json = [{"index": r.index, "label": r.label} for r in roots]
        return JsonResponse({"roots": roots_json, "listing": _listing_json(listing) if listing else None})
    context = {"roots": roots, "listing": listing, "error": error}
    return render(request, "models/browse.html", context, status=400 if error else 200)


def _start(owner: Any, item: Selected) -> Job:
    if item.kind == "gguf":
        return model_import_start(owner=owner, source=model_import_path_check(source=str(item.path)))
    from assistant.voice.speech_models import speech_import_start

    return speech_import_start(owner=owner, source=item.path, root=item.root)


@require_POST
@_owner_only
def models_import_selected(request: HttpRequest) -> HttpResponse:
    """One import job per ticked file or folder; one refused item refuses them all, so nothing starts half."""
    root = request.POST.get("root", "")
    folder = request.POST.get("folder", "")
    try:
        chosen = import_selection_check(root=root, paths=request.POST.getlist("path"))
        with transaction.atomic():
            jobs = [_start(request.user, item) for item in chosen]
    except ModelRefused as exc:
        if wants_json(request):
            return JsonResponse({"error": str(exc)}, status=400)
        messages.error(request, str(exc))
        return redirect(f"{reverse('models_browse')}?{urlencode({'root': root, 'path': folder})}")
    count = len(jobs)
    note = f"Importing {count} model{'s' * (count != 1)}. Each appears in its list once it has been checked."
    return json_or_redirect(
        request, payload={"jobs": [job_payload(job) for job in jobs]}, to="models", note=note, status=202
    )
