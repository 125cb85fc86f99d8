"""Everything Hearth shows about a GGUF model, read from the file's own metadata.

Uses the gguf package's reader, which maps the file without loading the weights, and proves
the file whole: a truncated download fails here instead of crashing llama.cpp later.
"""

from __future__ import annotations

import functools
import re
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.llm.gguf_header import GgufInvalid, gguf_file_check
from assistant.llm.sampling import gguf_sampling_read


@dataclass(frozen=True)
class GgufInfo:
    name: str
    architecture: str
    parameters: int
    quantization: str
    size_bytes: int
    context_length: int
    chat_template: str
    projector_type: str  # set for a vision projector (mmproj), empty for a language model
    block_count: int
    embedding_length: int
    kv_heads: int
    head_count: int
    # Vision projectors only: the square image side and patch side, in pixels.
    image_size: int = 0
    patch_size: int = 0
    grid_pinpoints: bool = False  # LLaVA-1.6 style tiling of large images
    # Set (non-zero) for embedding models, which pool their output instead of generating text.
    pooling_type: int = 0
    # The sampling the model's makers recommend (general.sampling.*), by Hearth's names; often empty.
    sampling: dict[str, float] = field(default_factory=dict)

    @property
    def is_projector(self) -> bool:
        return self.architecture == "clip"

    @property
    def image_tokens(self) -> int:
        """Embeddings one image becomes (one per patch), or 0 when the file does not say."""
        return (self.image_size // self.patch_size) ** 2 if self.image_size and self.patch_size else 0

    @property
    def kv_bytes_per_token(self) -> int:
        """Size of the f16 key and value cache for one token of context."""
        head_dim = self.embedding_length // self.head_count if self.head_count else 0
        return 2 * self.block_count * self.kv_heads * head_dim * 2


def _field(reader: Any, key: str, default: Any = None) -> Any:
    found = reader.fields.get(key)
    if found is None:
        return default
    try:
        return found.contents()
    except (ValueError, IndexError):
        return default


def _quantization(reader: Any) -> str:
    from gguf import LlamaFileType

    file_type = _field(reader, "general.file_type")
    if file_type is not None:
        try:
            return str(LlamaFileType(int(file_type)).name).removeprefix("MOSTLY_")
        except ValueError:
            pass
    # No file type recorded: name the type that most of the weights are stored in.
    counts = Counter(tensor.tensor_type.name for tensor in reader.tensors if len(tensor.shape) > 1)
    return counts.most_common(1)[0][0] if counts else "unknown"


def gguf_info_read(*, path: Path) -> GgufInfo:
    """Read a GGUF's metadata; an unchanged file (same size and mtime) is read once per process."""
    stat = path.stat()
    return _info_read_once(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _info_read_once(path: Path, size: int, mtime_ns: int) -> GgufInfo:
    gguf_file_check(path=path)
    from gguf import GGUFReader

    try:
        reader = GGUFReader(path)
    except (ValueError, IndexError, KeyError, OverflowError, struct.error, OSError) as exc:
        # The reader parses untrusted bytes: garbage after a valid header surfaces as any of these
        # (KeyError for a "duplicate" key read from zeros, struct.error for a short read).
        raise GgufInvalid(
            f"The GGUF file is damaged or incomplete (perhaps a download that stopped early): {exc}"
        ) from exc
    arch = str(_field(reader, "general.architecture", ""))
    if not arch:
        raise GgufInvalid("The GGUF file does not say what architecture it is (general.architecture is missing).")
    prefix = "clip.vision" if arch == "clip" else arch
    return GgufInfo(
        name=str(_field(reader, "general.name", "") or path.stem),
        architecture=arch,
        parameters=sum(int(tensor.n_elements) for tensor in reader.tensors),
        quantization=_quantization(reader),
        size_bytes=path.stat().st_size,
        context_length=int(_field(reader, f"{arch}.context_length", 0) or 0),
        chat_template=str(_field(reader, "tokenizer.chat_template", "") or ""),
        projector_type=str(_field(reader, "clip.projector_type", "") or ("unknown" if arch == "clip" else "")),
        block_count=int(_field(reader, f"{prefix}.block_count", 0) or 0),
        embedding_length=int(_field(reader, f"{prefix}.embedding_length", 0) or 0),
        kv_heads=int(
            _field(reader, f"{arch}.attention.head_count_kv", 0)
            or _field(reader, f"{arch}.attention.head_count", 0)
            or 0
        ),
        head_count=int(_field(reader, f"{arch}.attention.head_count", 0) or 0),
        image_size=int(_field(reader, "clip.vision.image_size", 0) or 0),
        patch_size=int(_field(reader, "clip.vision.patch_size", 0) or 0),
        grid_pinpoints="clip.vision.image_grid_pinpoints" in reader.fields,
        pooling_type=int(_field(reader, f"{arch}.pooling_type", 0) or 0),
        sampling=gguf_sampling_read(lambda key: _field(reader, key)),
    )


def ram_needed_bytes(*, info: GgufInfo, context: int) -> int:
    """Weights plus an f16 KV cache for `context` tokens, plus a tenth for buffers."""
    return ram_estimate_bytes(size_bytes=info.size_bytes, kv_bytes_per_token=info.kv_bytes_per_token, context=context)


def ram_estimate_bytes(*, size_bytes: int, kv_bytes_per_token: int, context: int) -> int:
    """ram_needed_bytes from stored numbers, for pages that must not open the file."""
    return int((size_bytes + kv_bytes_per_token * context) * 1.1)


_QUANT_SUFFIX = re.compile(r"[._-](?:I?Q\d\w*|F16|F32|BF16)$", re.IGNORECASE)


def readable_name(*, name: str, stem: str) -> str:
    """The name a person reads for a model: general.name, unless the file names the same model with
    more care ("SmolLM2-135M-Instruct.Q4_1" beside the machine-made "Smollm2 135M 8k Lc100K Mix1 Ep2"),
    or the file's name when there is no general.name; never the quantization suffix."""
    base = _QUANT_SUFFIX.sub("", stem) or stem
    curated = any(c.isupper() for c in base) and any(c.islower() for c in base)
    first = name.split()[0] if name.split() else ""
    # The file spells the same model with more care than general.name ("SmolLM2-…" and "Smollm2 …").
    respelled = curated and bool(first) and base.lower().startswith(first.lower()) and not base.startswith(first)
    if respelled or not name or name == stem:
        return " ".join(re.split(r"[\s_-]+", base)).strip() or stem
    return name
