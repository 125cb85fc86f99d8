"""Each member's files live in their own folder under the data directory: users/<id>/<kind>/."""

from __future__ import annotations

import hashlib
import os
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


@contextmanager
def upload_received(
    *, chunks: Iterable[bytes], folder: Path, limit: int, too_big: Callable[[], Exception]
) -> Iterator[ReceivedFile]:
    """Stream an upload into `folder` under a random name while hashing it; `too_big()` is raised as soon
    as it passes `limit` bytes. Whatever is not renamed away by the caller is removed on the way out."""
    partial = folder / f"{uuid.uuid4().hex}.part"
    try:
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
