"""Conversations and answers: what the chat page and the llm worker call."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from assistant.chat.stop import stop_clear, stop_publish
from assistant.core.events import event_pump
from assistant.jobs.services import job_cancel, job_create
from assistant.models import Conversation, Document, ImageAttachment, Job, JobStatus, LocalModel, Message, Persona

ACTIVE_STATES = (Message.State.QUEUED, Message.State.STREAMING)
DEFAULT_TITLE = "New chat"


class ChatError(Exception):
    """A request the chat cannot carry out; the message is shown to the member as it is."""


def utf16_length(text: str) -> int:
    """Length as the browser counts it, so token offsets line up with a JavaScript string."""
    return len(text.encode("utf-16-le")) // 2


def message_version_ids(message: Message) -> list[int]:
    """The versions of a message (itself and its siblings), oldest first."""
    siblings = Message.objects.filter(conversation_id=message.conversation_id, parent_id=message.parent_id)
    return list(siblings.order_by("pk").values_list("pk", flat=True))


def message_payload(message: Message, *, version_ids: list[int] | None = None) -> dict[str, Any]:
    versions = version_ids if version_ids is not None else message_version_ids(message)
    return {
        "id": message.pk,
        "conversation": message.conversation_id,
        "parent": message.parent_id,
        # Shown under the message as < version/count >; the ids are what the arrows choose.
        "version": versions.index(message.pk) + 1 if message.pk in versions else 1,
        "version_count": len(versions),
        "version_ids": versions,
        "role": message.role,
        "content": message.content,
        "length": utf16_length(message.content),
        "state": message.state,
        "state_label": message.get_state_display(),
        "error": message.error,
        "notice": message.notice,
        # Only a member's message carries photos; an answer's are among its sources.
        "images": [reverse("image_view", args=[image.pk]) for image in message.images.all()]
        if message.role == Message.Role.USER
        else [],
        "model": message.model_name,
        "prompt_tokens": message.prompt_tokens,
        "completion_tokens": message.completion_tokens,
        "context_size": message.context_size,
        "tokens_per_second": round(message.tokens_per_second, 1),
        "queue_position": message_queue_position(message),
        "sources": message.sources,
        "token_limit": message.token_limit,
    }


def message_publish(message: Message, *, hold: bool = False) -> None:
    """Tell the owner's pages; `hold` as EventPump.publish."""
    owner_id = message.conversation.owner_id
    event = {"type": "chat.message", "message": message_payload(message)}
    event_pump.publish(user_id=owner_id, event=event, hold=hold)


def _publish_all(*messages: Message) -> None:
    for message in messages:
        message_publish(message)


def answer_finish_without_model(*, answer: Message, text: str, sources: list[dict[str, Any]]) -> None:
    """Complete an answer that needs no model (nothing found, or the photos asked for), and tell the pages."""
    Message.objects.filter(pk=answer.pk).update(
        content=text,
        state=Message.State.COMPLETE,
        sources=sources,
        notice="",
        error="",
        prompt_tokens=0,
        completion_tokens=0,
        tokens_per_second=0.0,
    )
    answer.refresh_from_db()
    message_publish(answer)
    event_pump.flush()
    Conversation.objects.filter(pk=answer.conversation_id).update(updated_at=timezone.now())


def message_queue_position(message: Message) -> int:
    """How many answers the model will write before this one starts (0 when it is writing)."""
    if message.state != Message.State.QUEUED or message.job_id is None:
        return 0
    return Job.objects.filter(
        kind="chat", status__in=(JobStatus.QUEUED, JobStatus.RUNNING), pk__lt=message.job_id
    ).count()


def chat_queue_publish() -> None:
    """Tell everyone waiting for the model where they now stand."""
    for message in Message.objects.filter(state=Message.State.QUEUED).select_related("conversation"):
        message_publish(message)


# --- conversations --------------------------------------------------------------------------


def conversations_for(*, owner: Any) -> QuerySet[Conversation]:
    return Conversation.objects.filter(owner=owner)


def conversation_get(*, owner: Any, conversation_id: int) -> Conversation:
    # With its model: sending a message reads it (chat_model_for), and a join costs less than a second query.
    conversation = conversations_for(owner=owner).select_related("model").filter(pk=conversation_id).first()
    if conversation is None:
        raise ChatError("That conversation does not exist, or is not yours.")
    return conversation


def conversation_create(*, owner: Any, model: LocalModel | None = None) -> Conversation:
    return Conversation.objects.create(owner=owner, model=model)


def conversation_start(*, owner: Any) -> Conversation:
    """A conversation to write in: the member's newest one that has no message yet, else a new one,
    so "New chat" never piles up empty entries."""
    empty = conversations_for(owner=owner).filter(messages__isnull=True).first()
    return empty or conversation_create(owner=owner)


def conversations_listed(*, owner: Any) -> QuerySet[Conversation]:
    """The chats the list shows: those with at least one message, newest first."""
    return conversations_for(owner=owner).filter(pk__in=Message.objects.values("conversation_id"))


def conversation_rename(*, conversation: Conversation, title: str) -> Conversation:
    conversation.title = title.strip()[:200] or DEFAULT_TITLE
    conversation.save(update_fields=["title", "updated_at"])
    return conversation


def conversation_delete(*, conversation: Conversation) -> None:
    for message in conversation.messages.filter(state__in=ACTIVE_STATES):
        message_stop(message=message)
    conversation.delete()


def conversation_settings_update(
    *,
    conversation: Conversation,
    model: LocalModel | None,
    persona: Persona | None,
    system_prompt: str,
    documents_scope: str | None,
    document_ids: list[int],
) -> Conversation:
    """Save a conversation's model, persona, system prompt and the documents its answers may use."""
    conversation.model = model
    conversation.persona = persona
    conversation.system_prompt = system_prompt.strip()[:8000]
    if documents_scope in Conversation.DocumentsScope.values:
        conversation.documents_scope = documents_scope
        # Only the member's own documents can be chosen; other ids are ignored.
        conversation.documents.set(Document.objects.owned_by(conversation.owner).filter(pk__in=document_ids))
    conversation.save(update_fields=["model", "persona", "system_prompt", "documents_scope", "updated_at"])
    return conversation


def persona_save(*, owner: Any, name: str, system_prompt: str) -> Persona:
    persona, _ = Persona.objects.update_or_create(owner=owner, name=name, defaults={"system_prompt": system_prompt})
    return persona


def persona_delete(*, persona: Persona) -> None:
    persona.delete()


def conversations_search(*, owner: Any, query: str) -> QuerySet[Message]:
    """Messages of this member's conversations that contain every word of the query."""
    words = query.split()[:8]
    if not words:
        return Message.objects.none()
    condition = Q()
    for word in words:
        condition &= Q(content__icontains=word)
    return (
        Message.objects.filter(conversation__owner=owner)
        .filter(condition)
        .select_related("conversation")
        .order_by("-created_at")[:50]
    )


# --- models -----------------------------------------------------------------------------------


def chat_model_for(conversation: Conversation) -> LocalModel:
    model = conversation.model or LocalModel.objects.filter(role=LocalModel.Role.CHAT, is_default=True).first()
    if model is None:
        model = LocalModel.objects.filter(role=LocalModel.Role.CHAT).first()
    if model is None:
        raise ChatError("No chat model is installed yet. The owner can add one on the Models page.")
    return model


def vision_model_names() -> list[str]:
    return list(
        LocalModel.objects.filter(role=LocalModel.Role.CHAT, projector__isnull=False).values_list("name", flat=True)
    )


def _require_vision(model: LocalModel) -> None:
    if model.has_vision:
        return
    names = vision_model_names()
    if names:
        raise ChatError(
            f"{model.name} cannot see photos. Switch this conversation to a model with vision: {', '.join(names)}."
        )
    raise ChatError(
        f"{model.name} cannot see photos, and no vision model is installed. "
        "The owner can import a vision GGUF and its mmproj projector on the Models page."
    )


# --- sending and stopping (new versions: versions.py) --------------------------------------------


def _queue_answer(*, conversation: Conversation, answer: Message, more: bool = False) -> None:
    job = job_create(
        owner=conversation.owner,
        kind="chat",
        title=f"Answer in “{conversation.title}”",
        payload={"message_id": answer.pk, **({"continue": True} if more else {})},
    )
    answer.job = job
    answer.save(update_fields=["job"])


def answer_queued_create(*, conversation: Conversation, parent_id: int | None, model: LocalModel) -> Message:
    """The row of an answer to come, after message `parent_id` (None: another version of a first answer)."""
    return Message.objects.create(
        conversation=conversation,
        parent_id=parent_id,
        role=Message.Role.ASSISTANT,
        state=Message.State.QUEUED,
        model_name=model.name,
    )


def _ensure_idle(owner: Any) -> None:
    if Message.objects.filter(conversation__owner=owner, state__in=ACTIVE_STATES).exists():
        raise ChatError("An answer is still being written. Wait for it, or stop it, before sending another message.")


def message_send(*, owner: Any, conversation_id: int, text: str, image_ids: list[int] | None = None) -> Message:
    """Store the member's message and queue the model's answer; returns the answer to come."""
    conversation = conversation_get(owner=owner, conversation_id=conversation_id)
    text = text.strip()
    images = list(ImageAttachment.objects.filter(owner=owner, pk__in=image_ids or []))
    if len(images) != len(set(image_ids or [])):
        raise ChatError("One of the photos is gone. Attach it again.")
    if not text and not images:
        raise ChatError("Type a message or attach a photo.")
    model = chat_model_for(conversation)
    if images:
        _require_vision(model)
    with transaction.atomic():
        _ensure_idle(owner)
        question = Message.objects.create(conversation=conversation, role=Message.Role.USER, content=text)
        if images:  # set() reads the row's photos first: a query saved on the way to the first token
            question.images.set(images)
        answer = answer_queued_create(conversation=conversation, parent_id=question.pk, model=model)
        if conversation.title == DEFAULT_TITLE and text:
            conversation.title = text.splitlines()[0][:60]
        conversation.save(update_fields=["title", "updated_at"])
        _queue_answer(conversation=conversation, answer=answer)
        transaction.on_commit(lambda: _publish_all(question, answer))
    return answer


def message_stop(*, message: Message) -> Message:
    """Stop an answer: the worker hears it before its next token; the text so far is kept."""
    stop_publish(message_id=message.pk)
    if message.job_id is not None:
        job_cancel(job=message.job)  # type: ignore[arg-type]
    updated = Message.objects.filter(pk=message.pk, state=Message.State.QUEUED).update(state=Message.State.INCOMPLETE)
    message.refresh_from_db()
    if updated:
        message_publish(message)
        chat_queue_publish()
    return message


def message_continue(*, owner: Any, message_id: int) -> Message:
    """Let the latest answer, stopped at its token limit, go on: the new text is appended to it."""
    message = Message.objects.filter(pk=message_id, conversation__owner=owner, role=Message.Role.ASSISTANT).first()
    if message is None:
        raise ChatError("That answer does not exist, or is not yours.")
    if Message.objects.filter(parent=message).exists():
        raise ChatError("Only an answer nothing follows yet can be continued.")
    if not message.token_limit or not message.content:
        raise ChatError("This answer is finished: there is nothing to continue.")
    chat_model_for(message.conversation)
    with transaction.atomic():
        _ensure_idle(owner)
        stop_clear(message_id=message.pk)
        Message.objects.filter(pk=message.pk).update(state=Message.State.QUEUED, error="", token_limit=0)
        message.refresh_from_db()
        _queue_answer(conversation=message.conversation, answer=message, more=True)
        transaction.on_commit(lambda: message_publish(message))
    return message


def message_get(*, owner: Any, message_id: int) -> Message:
    message = Message.objects.filter(pk=message_id, conversation__owner=owner).select_related("conversation").first()
    if message is None:
        raise ChatError("That message does not exist, or is not yours.")
    return message
