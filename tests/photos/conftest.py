"""The photo tests' fixtures: the tiny OpenCLIP checkpoint, clean photo collections, the household's CLIP model."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.photos.models import ClipModel
from tests.support.photo_library import clip_model_ready, photo_vectors
from tests.support.tiny_clip import tiny_clip

__all__ = ["photo_vectors", "tiny_clip"]


@pytest.fixture
def clip(tiny_clip: Path, photo_vectors: None, inline_jobs: list[int]) -> ClipModel:
    """The household's CLIP model (the tiny one), ready; photo collections empty; jobs run inline."""
    return clip_model_ready(tiny_clip)
