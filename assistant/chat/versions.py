"""Versions of messages: regenerating an answer or editing a sent message makes a new version beside
the old one, never over it.

Messages form a tree (`Message.parent`); siblings are versions of one message, and `Message.chosen`
marks the one shown. The conversation shows one path through the tree, `conversation_thread`; what
follows a version is its own branch, kept as it was when another version is chosen.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from django.db import transaction

from assistant.chat.models import shown_path
from assistant.chat.services import (
    ACTIVE_STATES,
    ChatError,
    _ensure_idle,
    _queue_answer,
    _require_vision,
    answer_queued_create,
    chat_model_for,
    message_get,
    message_payload,
)
from assistant.core.events import event_pump
from assistant.models import Conversation, Message

# How long a page may take to hear of a new path before the answer's job goes to the worker, so
# the page never sees the new answer's first tokens ahead of the path it belongs to.
THREAD_FLUSH_SECONDS = 5.0


def conversation_thread(*, conversation: Conversation) -> list[Message]:
    """The messages the conversation shows, oldest first: one version of each, along the chosen branch."""
    return shown_path(conversation.messages.prefetch_related("images"))


def thread_payloads(*, conversation: Conversation) -> list[dict[str, Any]]:
    """The shown messages as the page renders them, each with its versions (< 2/3 >)."""
    messages = list(conversation.messages.prefetch_related("images"))
    versions: dict[int | None, list[int]] = {}
    for message in sorted(messages, key=lambda row: row.pk):
        versions.setdefault(message.parent_id, []).append(message.pk)
    return [message_payload(message, version_ids=versions[message.parent_id]) for message in shown_path(messages)]


def thread_publish(conversation: Conversation) -> None:
    """Every open page of the member switches to the conversation's path as it now is."""
    messages = thread_payloads(conversation=conversation)
    event = {"type": "chat.thread", "conversation": conversation.pk, "messages": messages}
    event_pump.publish(user_id=conversation.owner_id, event=event)
    event_pump.flush(THREAD_FLUSH_SECONDS)


def _choose(message: Message) -> None:
    """Show `message`, and every message before it on its branch, instead of their siblings."""
    parents = dict(Message.objects.filter(conversation_id=message.conversation_id).values_list("pk", "parent_id"))
    chain = [message.pk]
    while (parent := parents.get(chain[-1])) is not None and len(chain) <= len(parents):
        chain.append(parent)
    on_path = set(chain)
    branch_points = {parents[pk] for pk in chain}
    others = [pk for pk, parent in parents.items() if parent in branch_points and pk not in on_path]
    Message.objects.filter(pk__in=chain, chosen=False).update(chosen=True)
    Message.objects.filter(pk__in=others, chosen=True).update(chosen=False)


def _start_version(conversation: Conversation, answer: Message) -> Message:
    """Show the new answer's branch, tell the pages, then queue the answer (in that order)."""
    _choose(answer)
    conversation.save(update_fields=["updated_at"])
    transaction.on_commit(lambda: thread_publish(conversation))
    _queue_answer(conversation=conversation, answer=answer)
    return answer


def message_regenerate(*, owner: Any, message_id: int) -> Message:
    """Write an answer again, as a new version of it: the old text stays one arrow away."""
    old = (
        Message.objects.filter(pk=message_id, conversation__owner=owner, role=Message.Role.ASSISTANT)
        .select_related("conversation")
        .first()
    )
    if old is None:
        raise ChatError("That answer does not exist, or is not yours.")
    conversation = old.conversation
    model = chat_model_for(conversation)
    with transaction.atomic():
        _ensure_idle(owner)
        answer = answer_queued_create(conversation=conversation, parent_id=old.parent_id, model=model)
        return _start_version(conversation, answer)


def message_edit(*, owner: Any, message_id: int, text: str) -> Message:
    """Send a changed copy of one of the member's messages as a new version of it, and answer that.

    The old message, and everything that followed it, stay one arrow away. Its photos go with the copy.
    Returns the answer to come."""
    old = (
        Message.objects.filter(pk=message_id, conversation__owner=owner, role=Message.Role.USER)
        .select_related("conversation")
        .first()
    )
    if old is None:
        raise ChatError("That message does not exist, or is not yours.")
    text = text.strip()
    images = list(old.images.all())
    if not text and not images:
        raise ChatError("Type the new text of your message, or cancel the edit to keep it as it was.")
    conversation = old.conversation
    model = chat_model_for(conversation)
    if images:
        _require_vision(model)
    with transaction.atomic():
        _ensure_idle(owner)
        question = Message.objects.create(
            conversation=conversation, parent_id=old.parent_id, role=Message.Role.USER, content=text
        )
        question.images.set(images)
        answer = answer_queued_create(conversation=conversation, parent_id=question.pk, model=model)
        return _start_version(conversation, answer)


def message_version_choose(*, owner: Any, message_id: int) -> Message:
    """Show this version of a message, and the branch that follows it, from now on (on every page)."""
    message = message_get(owner=owner, message_id=message_id)
    conversation = message.conversation
    with transaction.atomic():
        if conversation.messages.filter(state__in=ACTIVE_STATES).exists():
            raise ChatError(
                "An answer is still being written in this chat. Wait for it, or stop it, before switching versions."
            )
        _choose(message)
        transaction.on_commit(lambda: thread_publish(conversation))
    return message


def conversation_show(*, owner: Any, conversation: Conversation, message_id: int | None) -> None:
    """Opening a conversation at a message (a search result) shows the branch that message is on."""
    if message_id is None or not conversation.messages.filter(pk=message_id).exists():
        return
    if message_id in {message.pk for message in conversation_thread(conversation=conversation)}:
        return
    with suppress(ChatError):  # an answer is being written: the page opens on the branch it shows now
        message_version_choose(owner=owner, message_id=message_id)
