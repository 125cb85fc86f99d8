"""The Models page's speech section: the owner chooses the household's speech model or removes an imported one."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from assistant.core.http import json_or_redirect, owner_required
from assistant.voice.models import ImportedSpeechModel
from assistant.voice.speech_models import SpeechRefused, speech_default_set, speech_model_delete

_owner_only = owner_required("Only the household's owner can change the speech models.")


@require_POST
@_owner_only
def speech_model_default(request: HttpRequest) -> HttpResponse:
    try:
        chosen = speech_default_set(model=request.POST.get("model", ""))
    except SpeechRefused as exc:
        return json_or_redirect(
            request, payload={"error": str(exc)}, to="models", note=str(exc), error=True, status=400
        )
    note = "New voice notes are transcribed with this model from now on."
    return json_or_redirect(request, payload={"model": chosen}, to="models", note=note)


@require_POST
@_owner_only
def speech_model_remove(request: HttpRequest, model_id: int) -> HttpResponse:
    model = get_object_or_404(ImportedSpeechModel, pk=model_id)
    name = model.name
    speech_model_delete(model=model)
    messages.success(request, f"Removed the speech model {name}.")
    return redirect("models")
