"""Bringing a GGUF into the models folder: by a path on this machine, or by browser upload.

The web process checks only the 24-byte header; the copy, the full check and the placing run as a
job, so a bad file is refused with its reason and nothing of it is left behind.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.core.storage import path_remove
from assistant.llm.cards import human_bytes
from assistant.llm.gguf_header import GgufInvalid, gguf_file_check
from assistant.llm.gguf_info import gguf_info_read
from assistant.llm.library import (
    COPY_CHUNK_BYTES,
    DISK_MARGIN_BYTES,
    _inside_models_dir,
    _register,
    incoming_dir,
    model_role_check,
    models_dir,
)
from assistant.llm.pairing import ModelRefused, local_models_ensure_default, models_auto_pair
from assistant.models import Job, LocalModel

if TYPE_CHECKING:
    from assistant.jobs.runner import JobContext

log = logging.getLogger(__name__)


# --- importing ------------------------------------------------------------------------------------

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._+()\- ]+")


def safe_model_filename(name: str) -> str:
    """A plain file name ending in .gguf: no folders, no leading dots, no control characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name[:-5] if name.lower().endswith(".gguf") else name
    stem = _UNSAFE_NAME.sub("-", stem).strip(" .-")[:150] or "model"
    return f"{stem}.gguf"


def model_import_path_check(*, source: str) -> Path:
    """The web's quick look at a path the owner typed; ModelRefused says what is wrong with it."""
    text = source.strip()
    if not text:
        raise ModelRefused("Enter the full path of a .gguf file on this machine.")
    path = Path(text)
    if not path.is_absolute():
        raise ModelRefused(f"“{text}” is not a full path. Enter it from the root, like /home/me/models/model.gguf.")
    if path.is_dir():
        raise ModelRefused(f"{path} is a folder. Enter the path of the .gguf file inside it.")
    if not path.exists():
        raise ModelRefused(f"There is no file at {path} on this machine (or Hearth is not allowed to see it).")
    if not path.is_file():
        raise ModelRefused(f"{path} is not a regular file.")
    if _inside_models_dir(path):
        raise ModelRefused(f"{path.name} is already in Hearth's models folder. Use “Rescan folder” to list it.")
    try:
        gguf_file_check(path=path)
    except PermissionError as exc:
        raise ModelRefused(f"Hearth is not allowed to read {path}. Check the file's permissions.") from exc
    except OSError as exc:
        raise ModelRefused(f"Hearth could not read {path}: {exc.strerror or exc}.") from exc
    except GgufInvalid as exc:
        raise ModelRefused(str(exc)) from exc
    return path


def disk_space_check(*, needed: int) -> None:
    free = shutil.disk_usage(models_dir()).free
    if needed + DISK_MARGIN_BYTES > free:
        raise ModelRefused(
            f"Not enough free disk space for this model: it needs {human_bytes(needed)}, "
            f"and the models folder's disk has {human_bytes(free)} free."
        )


def model_import_start(*, owner: Any, source: Path) -> Job:
    from assistant.jobs.services import job_create

    return job_create(
        owner=owner, kind="model_import", title=f"Import {source.name}"[:200], payload={"source": str(source)}
    )


def model_upload_start(*, owner: Any, staged: Path, filename: str) -> Job:
    """Hand an upload waiting in MODELS_DIR/.incoming to a worker for the full check."""
    from assistant.jobs.services import job_create

    return job_create(
        owner=owner,
        kind="model_import",
        title=f"Import {filename}"[:200],
        payload={"upload": staged.name, "filename": filename},
    )


def model_upload_take(*, owner: Any, staged: Path, name: str) -> Job:
    """Take a raw upload the web server staged (assistant/core/uploads.py): check its GGUF header,
    move it to MODELS_DIR/.incoming (a rename on one disk) and queue the full check."""
    try:
        gguf_file_check(path=staged)
    except GgufInvalid as exc:
        raise ModelRefused(str(exc)) from None
    target = upload_staging_path()
    shutil.move(staged, target)
    try:
        return model_upload_start(owner=owner, staged=target, filename=safe_model_filename(name))
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def upload_staging_path() -> Path:
    """A new, unguessable file name in MODELS_DIR/.incoming for an upload to write to."""
    return incoming_dir() / f"upload-{uuid.uuid4().hex}.part"


def _place(staged: Path, filename: str) -> tuple[Path, bool]:
    """Put the staged file at MODELS_DIR/filename without replacing anything (name-2.gguf…).

    Returns (path, linked): linked means the staged file is still there and must be removed after.
    """
    folder = models_dir()
    stem = filename[:-5]
    for number in range(1, 1000):
        target = folder / (filename if number == 1 else f"{stem}-{number}.gguf")
        try:
            os.link(staged, target)  # atomic, and fails when the name is taken
            return target, True
        except FileExistsError:
            continue
        except OSError:
            # No hard links on this file system: claim the name, then move the file over our own claim.
            try:
                os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            except FileExistsError:
                continue
            os.replace(staged, target)
            return target, False
    raise ModelRefused(f"There are already too many files named like {filename} in the models folder.")


def _copy_with_progress(source: Path, target: Path, context: JobContext) -> None:
    total = source.stat().st_size
    disk_space_check(needed=total)
    done, reported = 0, 0.0
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with source.open("rb") as reader, os.fdopen(fd, "wb") as writer:
        while chunk := reader.read(COPY_CHUNK_BYTES):
            writer.write(chunk)
            done += len(chunk)
            if time.monotonic() - reported >= 0.5 or done == total:
                context.progress(0.8 * done / max(1, total), f"Copying: {human_bytes(done)} of {human_bytes(total)}")
                reported = time.monotonic()
            else:
                context.check()
        writer.flush()
        os.fsync(writer.fileno())
    if done != total:
        raise ModelRefused(f"{source.name} changed while it was being copied. Try again once it is complete.")


def _import_source(context: JobContext) -> tuple[Path, str, Path | None]:
    """(where the file is staged, its name, the server path to copy from, or None for an upload)."""
    from assistant.jobs.runner import JobFailed

    payload = context.job.payload
    if "upload" in payload:
        staged = incoming_dir() / Path(str(payload["upload"])).name
        if not staged.is_file():
            raise JobFailed("The uploaded file is no longer on the server. Please upload it again.")
        return staged, str(payload.get("filename") or "model.gguf"), None
    try:
        source = model_import_path_check(source=str(payload.get("source", "")))
    except ModelRefused as exc:
        raise JobFailed(str(exc)) from exc
    return incoming_dir() / f"job-{context.job.pk}.part", source.name, source


def model_import_run(context: JobContext) -> str:
    """The MODEL_IMPORT job: copy (for a server path), check fully, put in place, register.

    Whatever fails, nothing is left behind: no partial file, no row.
    """
    from assistant.jobs.runner import TRANSIENT_ERRORS, JobFailed

    payload = context.job.payload
    staged, filename, source = _import_source(context)
    placed: Path | None = None
    try:
        if source is not None:
            context.progress(0.0, "Copying")
            _copy_with_progress(source, staged, context)
        context.progress(0.85, "Checking the file")
        final_name = safe_model_filename(filename)
        info = gguf_info_read(path=staged)
        if info.name == staged.stem:  # the file has no general.name: name it after the file, not the staging copy
            info = dataclasses.replace(info, name=final_name[:-5])
        role = model_role_check(info=info, path=staged)
        context.progress(0.95, "Adding it to the models folder")
        placed, linked = _place(staged, final_name)
        row, _ = _register(path=placed, info=info, role=role, mtime_ns=placed.stat().st_mtime_ns)
        if linked:
            staged.unlink(missing_ok=True)
        models_auto_pair([row])
        local_models_ensure_default()
    except (GgufInvalid, ModelRefused) as exc:
        _discard(staged, placed)
        raise JobFailed(str(exc)) from exc
    except TRANSIENT_ERRORS:
        # The job is retried: keep an upload (it can't be sent again by the worker), drop anything placed.
        _discard(None if "upload" in payload else staged, placed)
        raise
    except OSError as exc:
        _discard(staged, placed)
        raise JobFailed(f"Hearth could not write the model to {models_dir()}: {exc.strerror or exc}.") from exc
    except BaseException:
        _discard(staged, placed)
        raise
    if row.role == LocalModel.Role.PROJECTOR:
        users = ", ".join(LocalModel.objects.filter(projector=row).values_list("name", flat=True))
        return f"Added the vision projector {row.name} as {placed.name}" + (f", paired with {users}" if users else "")
    row.refresh_from_db()
    paired = f", paired with {row.projector.name}" if row.projector is not None else ""
    return f"Added the model {row.name} as {placed.name}{paired}"


def _discard(*paths: Path | None) -> None:
    for path in paths:
        if path is not None:
            try:
                path_remove(path)
            except OSError:
                log.warning("could not remove %s", path, exc_info=True)
