"""Conversations, messages, personas and the photos members attach."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import models

from assistant.llm.models import LocalModel


class Persona(models.Model):
    """A saved system prompt a member can give any conversation."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="personas")
    name = models.CharField(max_length=80)
    system_prompt = models.TextField()

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="persona_name_unique")]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    class DocumentsScope(models.TextChoices):
        # Documents help when they match; otherwise the model answers as usual, with a quiet note.
        ALL = "all", "All my documents"
        SELECTED = "selected", "Selected documents"
        # Strict: no matching passage, no answer ("I didn't find this in your documents").
        ONLY = "only", "Only from my documents"
        NONE = "none", "No documents"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    title = models.CharField(max_length=200, default="New chat")
    model = models.ForeignKey(LocalModel, null=True, blank=True, on_delete=models.SET_NULL)
    persona = models.ForeignKey(Persona, null=True, blank=True, on_delete=models.SET_NULL)
    system_prompt = models.TextField(blank=True)
    # Which of the owner's documents answers may draw on; "selected" means the `documents` below.
    documents_scope = models.CharField(max_length=16, choices=DocumentsScope.choices, default=DocumentsScope.ALL)
    documents: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        "Document", blank=True, related_name="conversations"
    )
    # Sampling for this conversation only; null follows the model's household default (assistant/llm/sampling.py).
    temperature = models.FloatField(null=True, blank=True)
    top_p = models.FloatField(null=True, blank=True)
    max_tokens = models.PositiveIntegerField(null=True, blank=True)
    repeat_penalty = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["owner", "-updated_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def effective_system_prompt(self) -> str:
        return self.system_prompt or (self.persona.system_prompt if self.persona else "")


def shown_path(messages: Iterable[Message]) -> list[Message]:
    """The thread a conversation shows: from the first message down, the chosen version at each step.

    Messages form a tree (`parent`); siblings are versions of one message (an edit, a regenerated
    answer). Among siblings the one marked `chosen` is shown, else the newest.
    """
    children: dict[int | None, list[Message]] = {}
    for message in messages:
        children.setdefault(message.parent_id, []).append(message)
    path: list[Message] = []
    parent: int | None = None
    while kids := children.get(parent):
        pick = max([kid for kid in kids if kid.chosen] or kids, key=lambda kid: kid.pk)
        path.append(pick)
        parent = pick.pk
    return path


class MessageQuerySet(models.QuerySet["Message"]):
    def create(self, **kwargs: Any) -> Message:
        """A message created without `parent` continues the conversation's shown thread (as a linear
        chat would); `parent=None` given on purpose makes another version of the first message."""
        if "parent" not in kwargs and "parent_id" not in kwargs:
            conversation = kwargs.get("conversation")
            conversation_id = conversation.pk if conversation is not None else kwargs["conversation_id"]
            earlier = self.model.objects.filter(conversation_id=conversation_id).only("id", "parent", "chosen")
            path = shown_path(earlier)
            kwargs["parent"] = path[-1] if path else None
        return super().create(**kwargs)


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "You"
        ASSISTANT = "assistant", "Assistant"

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting for the model"
        STREAMING = "streaming", "Writing"
        COMPLETE = "complete", "Complete"
        INCOMPLETE = "incomplete", "Stopped early"
        FAILED = "failed", "Failed"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    # The message this one answers or follows; None for the first message (and its versions).
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    # Among the versions of a message (siblings: same parent), the one the conversation shows.
    chosen = models.BooleanField(default=True)
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.COMPLETE)
    error = models.TextField(blank=True)
    # Shown under the answer, e.g. that the oldest turns were left out to fit the context.
    notice = models.CharField(max_length=300, blank=True)
    images: models.ManyToManyField[ImageAttachment, Any] = models.ManyToManyField(
        "ImageAttachment", blank=True, related_name="messages"
    )
    model_name = models.CharField(max_length=200, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    context_size = models.PositiveIntegerField(default=0)
    tokens_per_second = models.FloatField(default=0.0)
    # The answer ended because it reached this many tokens (0: it did not); it can be continued.
    token_limit = models.PositiveIntegerField(default=0)
    # The passages an answer was written from: [{n, document_id, document, page, page_label, score, text}].
    sources = models.JSONField(default=list, blank=True)
    job = models.ForeignKey("Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"

    def ancestors(self) -> list[Message]:
        """The messages before this one on its branch, oldest first: what its answer is written from."""
        earlier = Message.objects.filter(conversation_id=self.conversation_id, pk__lt=self.pk)
        rows = {row.pk: row for row in earlier.prefetch_related("images")}
        chain: list[Message] = []
        parent = self.parent_id
        while parent is not None and parent in rows:
            chain.append(rows[parent])
            parent = rows[parent].parent_id
        return chain[::-1]


class ImageAttachment(models.Model):
    """A photo attached to a message: rotated upright, scaled down, stored in the owner's folder."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="images")
    file = models.CharField(max_length=500)  # relative to DATA_DIR
    original_name = models.CharField(max_length=255)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.original_name
