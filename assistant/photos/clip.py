"""Turning photos and words into the same kind of vector: OpenCLIP, one small class per capability.

No registry ships CLIP weights, so the household brings its own: an OpenCLIP architecture name
(e.g. "ViT-B-32") and a local checkpoint file (a state dict, .pt/.bin/.pth or .safetensors). An
architecture open_clip does not know may come with its config, `<architecture>.json`, beside the
checkpoint. The model is loaded on first use, once per process, on the CPU and offline, and shared by
`ImageEmbedder` and `TextEmbedder`; torch and open_clip are imported only then, never on the web path.
Every vector is unit-normalised, so cosine similarity is a dot product.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin", ".safetensors")


class ClipUnavailable(RuntimeError):
    """The CLIP model could not be loaded; the message says why, in words for the household."""


@dataclass(frozen=True)
class ClipSpec:
    """Which CLIP model: what the household chose on the Models page."""

    architecture: str
    checkpoint: Path


@dataclass(frozen=True)
class ClipInfo:
    """What loading a checkpoint found out about it."""

    architecture: str
    dimensions: int
    parameters: int
    image_size: int
    ram_bytes: int


@dataclass
class LoadedClip:
    spec: ClipSpec
    model: Any
    preprocess: Any
    tokenizer: Any
    info: ClipInfo


def _architecture_register(spec: ClipSpec, open_clip: Any) -> None:
    config = spec.checkpoint.parent / f"{spec.architecture}.json"
    if spec.architecture not in open_clip.list_models() and config.is_file():
        open_clip.add_model_config(config)
    if spec.architecture not in open_clip.list_models():
        raise ClipUnavailable(
            f"OpenCLIP has no architecture called {spec.architecture!r}. Use a name such as ViT-B-32, "
            f"or put its config beside the checkpoint as {spec.architecture}.json."
        )


def _checkpoint_check(spec: ClipSpec) -> None:
    if not spec.checkpoint.is_absolute():
        raise ClipUnavailable(f"{spec.checkpoint} is not a full path. Give the checkpoint's whole path.")
    if not spec.checkpoint.is_file():
        raise ClipUnavailable(f"There is no file at {spec.checkpoint}.")
    if spec.checkpoint.suffix.lower() not in CHECKPOINT_SUFFIXES:
        raise ClipUnavailable(
            f"{spec.checkpoint.name} is not an OpenCLIP checkpoint: expected a {', '.join(CHECKPOINT_SUFFIXES)} file."
        )


def _create(spec: ClipSpec, threads: int) -> tuple[Any, Any, Any]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import open_clip
    import torch

    if threads:
        torch.set_num_threads(threads)
    _architecture_register(spec, open_clip)
    try:
        model, _, preprocess = open_clip.create_model_and_transforms(
            spec.architecture, pretrained=str(spec.checkpoint), device="cpu", weights_only=True
        )
        tokenizer = open_clip.get_tokenizer(spec.architecture)
    except Exception as exc:  # a file of any content: whatever it raises, it does not load
        message = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise ClipUnavailable(
            f"{spec.checkpoint.name} does not load as a {spec.architecture} checkpoint ({message})."
        ) from exc
    model.eval()
    return model, preprocess, tokenizer


def _probe(model: Any, preprocess: Any, tokenizer: Any, spec: ClipSpec) -> ClipInfo:
    """Run one image and one text through the model: a checkpoint that loads but cannot embed is refused."""
    import torch
    from PIL import Image

    with torch.inference_mode():
        image = model.encode_image(preprocess(Image.new("RGB", (64, 64), (128, 128, 128))).unsqueeze(0))
        text = model.encode_text(tokenizer(["a photo"]))
    if image.shape[-1] != text.shape[-1] or not (torch.isfinite(image).all() and torch.isfinite(text).all()):
        raise ClipUnavailable(f"{spec.checkpoint.name} loads, but its image and text vectors do not match.")
    tensors = [*model.parameters(), *model.buffers()]
    size = getattr(getattr(model, "visual", None), "image_size", (224, 224))
    return ClipInfo(
        architecture=spec.architecture,
        dimensions=int(image.shape[-1]),
        parameters=sum(int(p.numel()) for p in model.parameters()),
        image_size=int(size[0] if isinstance(size, tuple | list) else size),
        # The weights, plus about a third again for activations of a batch and the interpreter's own.
        ram_bytes=int(sum(t.numel() * t.element_size() for t in tensors) * 4 / 3),
    )


def clip_load(*, spec: ClipSpec, threads: int = 0) -> LoadedClip:
    """Load and check a checkpoint (seconds for ViT-B-32). Raises ClipUnavailable with the reason."""
    _checkpoint_check(spec)
    model, preprocess, tokenizer = _create(spec, threads)
    info = _probe(model, preprocess, tokenizer, spec)
    return LoadedClip(spec=spec, model=model, preprocess=preprocess, tokenizer=tokenizer, info=info)


_lock = threading.Lock()
_loaded: dict[tuple[ClipSpec, float, int], LoadedClip] = {}


def clip_loaded(*, spec: ClipSpec, threads: int = 0) -> LoadedClip:
    """The process's model for `spec`: loaded on first use and kept; a replaced file is loaded again."""
    try:
        stat = spec.checkpoint.stat()
    except OSError as exc:
        raise ClipUnavailable(f"There is no file at {spec.checkpoint}.") from exc
    key = (spec, stat.st_mtime, stat.st_size)
    with _lock:
        if key not in _loaded:
            _loaded.clear()  # one CLIP model in memory at a time
            _loaded[key] = clip_load(spec=spec, threads=threads)
        return _loaded[key]


class ImageEmbedder:
    """Photos in, unit vectors out, a batch at a time on the CPU."""

    def __init__(self, *, spec: ClipSpec, threads: int = 0) -> None:
        self.clip = clip_loaded(spec=spec, threads=threads)
        self.dimensions = self.clip.info.dimensions

    def embed_batch(self, images: Sequence[Image.Image]) -> list[list[float]]:
        if not images:
            return []
        import torch

        batch = torch.stack([self.clip.preprocess(image) for image in images])
        with torch.inference_mode():
            vectors = torch.nn.functional.normalize(self.clip.model.encode_image(batch), dim=-1)
        result: list[list[float]] = vectors.tolist()
        return result


class TextEmbedder:
    """Words in, unit vectors out, comparable with ImageEmbedder's."""

    def __init__(self, *, spec: ClipSpec, threads: int = 0) -> None:
        self.clip = clip_loaded(spec=spec, threads=threads)
        self.dimensions = self.clip.info.dimensions

    def embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        import torch

        with torch.inference_mode():
            tokens = self.clip.tokenizer(list(texts))
            vectors = torch.nn.functional.normalize(self.clip.model.encode_text(tokens), dim=-1)
        result: list[list[float]] = vectors.tolist()
        return result
