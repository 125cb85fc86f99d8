"""The Chat page and its small HTTP endpoints. Sending and stopping go over the websocket."""

from __future__ import annotations

from typing import TypeVar

from django.contrib import messages
from django.db.models import Model, QuerySet
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from assistant.chat.images import ImageRejected, image_ingest
from assistant.chat.sampling import conversation_sampling_update, sampling_panel
from assistant.chat.services import (
    ChatError,
    conversation_delete,
    conversation_get,
    conversation_rename,
    conversation_settings_update,
    conversation_start,
    conversations_for,
    conversations_listed,
    conversations_search,
    message_get,
    message_payload,
    persona_delete,
    persona_save,
    vision_model_names,
)
from assistant.chat.versions import conversation_show, thread_payloads
from assistant.core.http import MemberRequest, id_param, wants_json
from assistant.core.uploads import UploadRefused, upload_refused_response, uploads_of
from assistant.llm.sampling import SamplingInvalid
from assistant.models import Conversation, Document, ImageAttachment, LocalModel, Persona


def _conversation(request: MemberRequest, conversation_id: int) -> Conversation:
    try:
        return conversation_get(owner=request.user, conversation_id=conversation_id)
    except ChatError:
        raise Http404("No such conversation") from None


def chat_index(request: MemberRequest) -> HttpResponse:
    """Signing in lands here: the latest conversation, or one to start."""
    latest = conversations_for(owner=request.user).first() or conversation_start(owner=request.user)
    return redirect("conversation", conversation_id=latest.pk)


def conversation_page(request: MemberRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    conversation_show(owner=request.user, conversation=conversation, message_id=id_param(request.GET.get("show")))
    chat_models = LocalModel.objects.filter(role=LocalModel.Role.CHAT).select_related("projector")
    return render(
        request,
        "chat/page.html",
        {
            "conversation": conversation,
            "conversations": conversations_listed(owner=request.user)[:200],
            "history": thread_payloads(conversation=conversation),
            "chat_models": chat_models,
            "default_model": next((m for m in chat_models if m.is_default), None),
            "personas": Persona.objects.filter(owner=request.user),
            "vision_models": vision_model_names(),
            "documents_scopes": Conversation.DocumentsScope.choices,
            "ready_documents": Document.objects.owned_by(request.user).searchable().order_by("name"),
            "selected_documents": set(conversation.documents.values_list("pk", flat=True)),
            "sampling": sampling_panel(conversation=conversation) if chat_models else None,
        },
    )


@require_POST
def conversation_new(request: MemberRequest) -> HttpResponse:
    return redirect("conversation", conversation_id=conversation_start(owner=request.user).pk)


@require_POST
def conversation_rename_view(request: MemberRequest, conversation_id: int) -> HttpResponse:
    conversation = conversation_rename(
        conversation=_conversation(request, conversation_id), title=request.POST.get("title", "")
    )
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"title": conversation.title})
    return redirect("conversation", conversation_id=conversation.pk)


@require_POST
def conversation_delete_view(request: MemberRequest, conversation_id: int) -> HttpResponse:
    conversation_delete(conversation=_conversation(request, conversation_id))
    messages.success(request, "Conversation deleted.")
    return redirect("chat")


Row = TypeVar("Row", bound=Model)


def _chosen(rows: QuerySet[Row], raw_id: str | None) -> Row | None:
    """The row a form field names, None when left empty; 404 for an id that is malformed or not among `rows`."""
    if not raw_id:
        return None
    row_id = id_param(raw_id)
    if row_id is None:
        raise Http404("No such choice")
    return get_object_or_404(rows, pk=row_id)


@require_POST
def conversation_settings(request: MemberRequest, conversation_id: int) -> HttpResponse:
    conversation = _conversation(request, conversation_id)
    chosen_ids = (id_param(value) for value in request.POST.getlist("documents"))
    conversation_settings_update(
        conversation=conversation,
        model=_chosen(LocalModel.objects.filter(role=LocalModel.Role.CHAT), request.POST.get("model")),
        persona=_chosen(Persona.objects.filter(owner=request.user), request.POST.get("persona")),
        system_prompt=request.POST.get("system_prompt", ""),
        documents_scope=request.POST.get("documents_scope"),
        document_ids=[document_id for document_id in chosen_ids if document_id is not None],
    )
    messages.success(request, "Conversation settings saved.")
    return redirect("conversation", conversation_id=conversation.pk)


def conversation_sampling_view(request: MemberRequest, conversation_id: int) -> HttpResponse:
    """GET: the Sampling panel's state (JSON). POST: save it, or `reset` to the model's defaults."""
    conversation = _conversation(request, conversation_id)
    if request.method == "POST":
        reset = "reset" in request.POST
        try:
            conversation_sampling_update(conversation=conversation, raw=request.POST, reset=reset)
        except (SamplingInvalid, ChatError) as exc:
            if not wants_json(request):
                messages.error(request, str(exc))
                return redirect("conversation", conversation_id=conversation.pk)
            errors = exc.errors if isinstance(exc, SamplingInvalid) else {}
            return JsonResponse({"error": str(exc), "errors": errors}, status=400)
        note = "Sampling is back to the model's defaults." if reset else "Sampling saved for this chat."
        if not wants_json(request):
            messages.success(request, note)
            return redirect("conversation", conversation_id=conversation.pk)
        return JsonResponse({"note": note, "sampling": sampling_panel(conversation=conversation)})
    try:
        return JsonResponse({"sampling": sampling_panel(conversation=conversation)})
    except ChatError as exc:
        return JsonResponse({"error": str(exc)}, status=400)


def chat_search(request: MemberRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    results = conversations_search(owner=request.user, query=query) if query else []
    return render(request, "chat/search.html", {"query": query, "results": results})


@require_POST
def image_upload(request: MemberRequest) -> JsonResponse:
    try:
        uploads = uploads_of(request, field="image")
    except UploadRefused as exc:
        return upload_refused_response(exc)
    if not uploads:
        return JsonResponse({"error": "Choose a photo to attach."}, status=400)
    upload = uploads[0]
    try:
        image = image_ingest(owner=request.user, upload=upload)
    except ImageRejected as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse(
        {"id": image.pk, "url": reverse("image_view", args=[image.pk]), "width": image.width, "height": image.height}
    )


def image_view(request: MemberRequest, image_id: int) -> FileResponse:
    from django.conf import settings

    image = get_object_or_404(ImageAttachment, pk=image_id, owner=request.user)
    return FileResponse((settings.DATA_DIR / image.file).open("rb"), content_type="image/jpeg")


def message_api(request: MemberRequest, message_id: int) -> JsonResponse:
    try:
        return JsonResponse({"message": message_payload(message_get(owner=request.user, message_id=message_id))})
    except ChatError:
        raise Http404("No such message") from None


def personas_page(request: MemberRequest) -> HttpResponse:
    if request.method == "POST":
        name = request.POST.get("name", "").strip()[:80]
        prompt = request.POST.get("system_prompt", "").strip()[:8000]
        if name and prompt:
            persona_save(owner=request.user, name=name, system_prompt=prompt)
            messages.success(request, f"Persona “{name}” saved.")
        else:
            messages.error(request, "A persona needs a name and a system prompt.")
        return redirect("personas")
    return render(request, "chat/personas.html", {"personas": Persona.objects.filter(owner=request.user)})


@require_POST
def persona_delete_view(request: MemberRequest, persona_id: int) -> HttpResponse:
    persona_delete(persona=get_object_or_404(Persona, pk=persona_id, owner=request.user))
    messages.success(request, "Persona deleted.")
    return redirect("personas")
