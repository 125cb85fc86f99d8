"""Uploads: how every domain takes a large file from a member without stalling the other members.

The file is the request body itself, never a multipart form: the page sends

    POST <route>   Content-Type: application/octet-stream   X-Upload-Name: <percent-encoded name>

and the body is written to DATA_DIR/tmp/uploads as it arrives, by the web server (assistant.core.web)
or, under another ASGI server, by the request gate (assistant.core.bodygate). Nothing parses it on the
shared web process. The route's size limit is checked from Content-Length, at the headers, before a
byte of the body is read; only signed-in members may send more than HEARTH_REQUEST_MAX_KB.

A domain adopts it in two steps:

1. one line in UPLOAD_ROUTES below (its path, and the setting that holds its limit in bytes);
2. in its view, `upload = upload_file(request)`: a Django UploadedFile over the staged body (name
   cleaned, size known), which its service streams, hashes and keeps as it does any upload.
   UploadRefused carries the message and the HTTP status for the member; `upload_refused_response`
   turns it into JSON. The staged file is removed once the response is sent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, JsonResponse

# Where a request's scope carries the staged body for the view.
SCOPE_KEY = "hearth.upload"
# The ASGI extension under which the web server hands over a body it has already written to disk.
STAGED_BODY_EXTENSION = "hearth.staged_body"
NAME_HEADER = "x-upload-name"
NAME_MAX_CHARS = 255
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


@dataclass(frozen=True)
class UploadRoute:
    """A URL that takes large raw bodies from signed-in members, up to the setting `limit_setting`."""

    path: str
    limit_setting: str
    owner_only: bool = False

    def limit(self) -> int:
        return int(getattr(settings, self.limit_setting))


# One line per upload URL. Photos, voice notes and others add theirs here.
UPLOAD_ROUTES: tuple[UploadRoute, ...] = (
    UploadRoute("/documents/upload/", "HEARTH_DOCUMENT_MAX_BYTES"),
    UploadRoute("/chat/images/", "HEARTH_IMAGE_UPLOAD_MAX_BYTES"),
    UploadRoute("/models/upload/", "HEARTH_MODEL_UPLOAD_MAX_BYTES", owner_only=True),
    UploadRoute("/photos/upload/", "HEARTH_PHOTO_MAX_BYTES"),
    UploadRoute("/voice/upload/", "HEARTH_VOICE_MAX_BYTES"),
    UploadRoute("/voice/dictate/", "HEARTH_VOICE_MAX_BYTES"),
)


@dataclass(frozen=True)
class StagedBody:
    """A raw upload body, complete on disk, not yet taken by any service."""

    path: Path
    size: int
    name: str


class StagedUploadedFile(UploadedFile):  # type: ignore[type-arg]
    """An UploadedFile over a staged body. Read in large pieces: hashing and writing a 4 MB piece
    release the GIL for most of their work, so the other members' requests keep running."""

    DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024

    def temporary_file_path(self) -> str:
        """Where the body is on disk (Django's TemporaryUploadedFile API): a service may move it."""
        return str(getattr(self.file, "name", ""))


class UploadRefused(Exception):
    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def upload_route_for(path: str) -> UploadRoute | None:
    return next((route for route in UPLOAD_ROUTES if route.path == path), None)


def is_raw_body(*, content_type: str) -> bool:
    """True unless the body is a form: forms go through Django's parser, and only small ones may."""
    return not content_type.split(";", 1)[0].strip().lower().startswith(FORM_TYPES)


def staging_folder() -> Path:
    folder = Path(settings.DATA_DIR) / "tmp" / "uploads"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def upload_name_clean(raw: str) -> str:
    """The plain base name the page sent (percent-encoded UTF-8); UploadRefused when unusable."""
    try:
        name = unquote(raw, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise UploadRefused("The file name is not valid text.") from None
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > NAME_MAX_CHARS:
        raise UploadRefused(f"The file name is too long: at most {NAME_MAX_CHARS} characters.")
    if not name or re.fullmatch(r"\.+", name):
        raise UploadRefused("The upload has no file name.")
    return name


def upload_file(request: HttpRequest) -> UploadedFile[bytes]:
    """The raw body of an upload route as an UploadedFile, or UploadRefused saying what is wrong."""
    staged = staged_body(request)
    if staged is None:
        raise UploadRefused("Send the file itself as the body (Content-Type: application/octet-stream).")
    if staged.size == 0:
        raise UploadRefused(f"“{staged.name}” is empty.")
    return StagedUploadedFile(
        file=staged.path.open("rb"), name=staged.name, content_type="application/octet-stream", size=staged.size
    )


def staged_path(upload: object) -> Path | None:
    """The staged file behind an upload from upload_file(), for core.storage.upload_received to move."""
    return Path(upload.temporary_file_path()) if isinstance(upload, StagedUploadedFile) else None


def staged_body(request: HttpRequest) -> StagedBody | None:
    scope: dict[str, Any] = getattr(request, "scope", {}) or {}
    staged = scope.get(SCOPE_KEY)
    return staged if isinstance(staged, StagedBody) else None


def uploads_of(request: HttpRequest, *, field: str) -> list[UploadedFile[bytes]]:
    """The raw body when there is one, else the small form's files in `field` (pages without scripts).
    UploadRefused when a name is unusable."""
    if staged_body(request) is not None:
        return [upload_file(request)]
    files: list[UploadedFile[bytes]] = request.FILES.getlist(field)
    for upload in files:
        if len(upload.name or "") > NAME_MAX_CHARS:
            raise UploadRefused(f"The file name is too long: at most {NAME_MAX_CHARS} characters.")
    return files


def upload_refused_response(error: UploadRefused) -> JsonResponse:
    return JsonResponse({"error": str(error)}, status=error.status)
