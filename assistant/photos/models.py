"""Photos a member keeps in their library, and the household's CLIP model that makes them searchable.

A photo is shown in the gallery once its thumbnail exists (`ready`), and is searchable once its vector
is in the member's Chroma collection for the active CLIP model (`embedded_with` names that model):
both are written last by the indexing job, after the files and the vector exist.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class PhotoQuerySet(models.QuerySet["Photo"]):
    def owned_by(self, user: Any) -> PhotoQuerySet:
        return self.filter(owner=user)

    def newest_first(self) -> PhotoQuerySet:
        return self.order_by("-sort_at", "-id")


class Photo(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="photos")
    # The uploaded file's base name, cleaned; only ever shown.
    name = models.CharField(max_length=255)
    # The original bytes, relative to DATA_DIR, under a name Hearth chose.
    file = models.CharField(max_length=500)
    format = models.CharField(max_length=8)
    size_bytes = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    # Upright size in pixels (after the EXIF orientation).
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    # EXIF DateTimeOriginal, else null; sort_at is that, or the upload time: the gallery's order.
    taken_at = models.DateTimeField(null=True, blank=True)
    sort_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    # The thumbnail and preview exist.
    ready = models.BooleanField(default=False)
    # What went wrong making them, for a photo that passed the upload's checks but not the worker's.
    error = models.TextField(blank=True)
    # The ClipModel whose vector of this photo is in Chroma; null when it has none.
    embedded_with = models.ForeignKey("ClipModel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = PhotoQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "sha256"], name="photo_unique_bytes_per_owner")]
        indexes = [
            models.Index(fields=["owner", "-sort_at", "-id"], name="photo_gallery_order"),
            models.Index(fields=["owner", "ready", "embedded_with"], name="photo_index_todo"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def month(self) -> date:
        """The first day of the month it was taken (or uploaded), in the household's time zone."""
        return timezone.localtime(self.sort_at).date().replace(day=1)

    @property
    def has_preview(self) -> bool:
        """Whether the viewer shows a JPEG copy rather than the original (HEIC, which browsers cannot show)."""
        return self.format == "HEIF"


class ClipStatus(models.TextChoices):
    CHECKING = "checking", "Checking"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ClipModel(models.Model):
    """An OpenCLIP checkpoint the household imported; the newest READY one is the one in use."""

    architecture = models.CharField(max_length=100)
    checkpoint = models.CharField(max_length=1000)
    status = models.CharField(max_length=16, choices=ClipStatus.choices, default=ClipStatus.CHECKING)
    error = models.TextField(blank=True)
    dimensions = models.PositiveIntegerField(default=0)
    parameters = models.BigIntegerField(default=0)
    ram_bytes = models.BigIntegerField(default=0)
    image_size = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.architecture} ({self.checkpoint})"
