"""Each member's files live in their own folder under the data directory: users/<id>/<kind>/."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings


def member_folder(*, owner_id: int, kind: str) -> Path:
    """The member's folder for one kind of file (documents, images, …), created owner-only."""
    folder = settings.DATA_DIR / "users" / str(owner_id) / kind
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def member_file(*, owner_id: int, kind: str, stored: str) -> Path | None:
    """The file a row stores (relative to the data directory), or None when that path would lead
    anywhere but straight into the owner's folder for that kind (a tampered or stale row)."""
    folder = (settings.DATA_DIR / "users" / str(owner_id) / kind).resolve()
    path = (settings.DATA_DIR / stored).resolve()
    return path if path.parent == folder else None


@dataclass(frozen=True)
class ReceivedFile:
    path: Path  # a private `.part` file in the member's folder: rename it to keep it
    size: int
    sha256: str


# Pieces hashed at once when a staged upload is taken: hashlib releases the GIL on large pieces.
HASH_PIECE_BYTES = 4 * 1024 * 1024


@contextmanager
def upload_received(
    *,
    chunks: Iterable[bytes],
    folder: Path,
    limit: int,
    too_big: Callable[[], Exception],
    staged: Path | None = None,
) -> Iterator[ReceivedFile]:
    """Stream an upload into `folder` under a random name while hashing it; `too_big()` is raised as soon
    as it passes `limit` bytes. Whatever is not renamed away by the caller is removed on the way out.

    `staged` is the upload already on the data disk (assistant.core.uploads.staged_path): it is moved
    into `folder` and hashed there instead of being copied."""
    partial = folder / f"{uuid.uuid4().hex}.part"
    try:
        if staged is not None and _moved(staged, partial):
            yield _hashed(partial, limit=limit, too_big=too_big)
            return
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            for piece in chunks:
                size += len(piece)
                if size > limit:
                    raise too_big()
                digest.update(piece)
                out.write(piece)
        yield ReceivedFile(path=partial, size=size, sha256=digest.hexdigest())
    finally:
        partial.unlink(missing_ok=True)


def _moved(staged: Path, partial: Path) -> bool:
    """Rename a staged upload into the member's folder; False when it lives on another disk."""
    try:
        os.replace(staged, partial)
    except OSError:
        return False
    partial.chmod(0o600)
    return True


def _hashed(path: Path, *, limit: int, too_big: Callable[[], Exception]) -> ReceivedFile:
    size = path.stat().st_size
    if size > limit:
        raise too_big()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(HASH_PIECE_BYTES):
            digest.update(piece)
    return ReceivedFile(path=path, size=size, sha256=digest.hexdigest())


def path_remove(path: Path) -> None:
    """Remove a file, or a folder with all it holds (a link is removed, never what it points to).
    Already gone: nothing to do."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
