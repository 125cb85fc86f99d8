"""The GGUF files Hearth can run."""

from __future__ import annotations

from django.db import models


class LocalModel(models.Model):
    """A GGUF file Hearth can run: a chat model, or a vision projector (mmproj) paired with one."""

    class Role(models.TextChoices):
        CHAT = "chat", "Chat model"
        PROJECTOR = "projector", "Vision projector"

    path = models.CharField(max_length=1000, unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CHAT)
    name = models.CharField(max_length=200)
    architecture = models.CharField(max_length=64, blank=True)
    parameters = models.BigIntegerField(default=0)
    quantization = models.CharField(max_length=32, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    context_length = models.PositiveIntegerField(default=0)
    has_chat_template = models.BooleanField(default=False)
    projector_type = models.CharField(max_length=64, blank=True)
    projector = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="paired_models"
    )
    is_default = models.BooleanField(default=False)
    from_package = models.BooleanField(default=False)
    added_at = models.DateTimeField(auto_now_add=True)
    # The file's mtime when its metadata was read: a scan re-reads only files whose size or mtime changed.
    mtime_ns = models.BigIntegerField(default=0)
    # f16 KV-cache bytes per token of context, for the memory estimate (chat models).
    kv_bytes_per_token = models.BigIntegerField(default=0)
    # Vision projectors: context tokens one image takes, and whether large images are tiled (LLaVA-1.6).
    image_tokens = models.PositiveIntegerField(default=0)
    grid_pinpoints = models.BooleanField(default=False)
    # Sampling: what the GGUF recommends (general.sampling.*; null until the file is read with this field),
    # and the household's own defaults, set by the owner. Keys as in assistant/llm/sampling.py.
    sampling_recommended = models.JSONField(null=True, blank=True)
    sampling_defaults = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="localmodel_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_vision(self) -> bool:
        return self.projector_id is not None
