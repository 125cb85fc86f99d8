"""The Models page. Every member sees the household's models; only the owner imports and changes them.

Nothing here opens more than a file's first 24 bytes: reading a model's metadata is a worker's job.
Scripts get JSON (Accept: application/json); plain form posts get a message and the page again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from assistant.core.http import id_param, json_or_redirect, owner_required, wants_json
from assistant.core.uploads import StagedBody, staged_body
from assistant.jobs.services import job_payload
from assistant.llm.browse import import_roots
from assistant.llm.cards import human_bytes, machine_ram_bytes, model_cards, model_context_tokens
from assistant.llm.gguf_header import GgufInvalid, gguf_header_check
from assistant.llm.importing import (
    disk_space_check,
    model_import_path_check,
    model_import_start,
    model_upload_start,
    model_upload_take,
    safe_model_filename,
    upload_staging_path,
)
from assistant.llm.library import local_model_delete, models_dir, models_scan_start
from assistant.llm.pairing import (
    ModelRefused,
    local_model_pair,
    local_model_rename,
    local_model_sampling_set,
    local_model_set_default,
)
from assistant.llm.sampling import SamplingInvalid
from assistant.models import Job, LocalModel
from assistant.photos.services import clip_section
from assistant.voice.speech_models import speech_cards

# Room for the multipart boundaries and the CSRF field around the file itself.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
OWNER_ONLY = "Only the household's owner can add, change or remove models."


def upload_limit_label() -> str:
    """The upload limit as the owner set it: HEARTH_MODEL_UPLOAD_MAX_GB counts binary gigabytes."""
    limit = int(settings.HEARTH_MODEL_UPLOAD_MAX_BYTES)
    return f"{limit // 1024**3} GB" if limit % 1024**3 == 0 else human_bytes(limit)


def _too_big() -> str:
    return (
        f"The file is larger than the {upload_limit_label()} upload limit (HEARTH_MODEL_UPLOAD_MAX_GB). "
        "If it is already on the computer Hearth runs on, import it by its path instead."
    )


_owner_only = owner_required(OWNER_ONLY)


def _refused(request: HttpRequest, error: str, *, status: int = 400) -> HttpResponse:
    return json_or_redirect(request, payload={"error": error}, to="models", note=error, error=True, status=status)


def _started(request: HttpRequest, job: Job, note: str) -> HttpResponse:
    return json_or_redirect(request, payload={"job": job_payload(job)}, to="models", note=note, status=202)


def models_page(request: HttpRequest) -> HttpResponse:
    rows = list(LocalModel.objects.select_related("projector"))
    cards = list(model_cards(models=rows))
    is_owner = bool(getattr(request.user, "is_superuser", False))
    active = (
        Job.objects.owned_by(request.user)
        .active()
        .filter(kind__in=("model_import", "models_scan", "speech_import"))
        .order_by("created_at")
    )
    return render(
        request,
        "models/page.html",
        {
            "chat_cards": [card for card in cards if card.model.role == LocalModel.Role.CHAT],
            "projector_cards": [card for card in cards if card.model.role == LocalModel.Role.PROJECTOR],
            "projectors": [row for row in rows if row.role == LocalModel.Role.PROJECTOR],
            "is_owner": is_owner,
            "ram_total": human_bytes(machine_ram_bytes()),
            "context_tokens": settings.HEARTH_LLM_CONTEXT,
            "models_dir": models_dir() if is_owner else "",
            "upload_max_bytes": settings.HEARTH_MODEL_UPLOAD_MAX_BYTES,
            "upload_max": upload_limit_label(),
            "active_jobs": [job_payload(job) for job in active] if is_owner else [],
            "speech_cards": speech_cards(),
            "import_roots": import_roots() if is_owner else [],
            **clip_section(),
        },
    )


@require_POST
@_owner_only
def model_import_path(request: HttpRequest) -> HttpResponse:
    try:
        source = model_import_path_check(source=request.POST.get("path", ""))
    except ModelRefused as exc:
        return _refused(request, str(exc))
    job = model_import_start(owner=request.user, source=source)
    return _started(request, job, f"Importing {source.name}. It appears in the list once it has been checked.")


@require_POST
@_owner_only
def models_scan(request: HttpRequest) -> HttpResponse:
    job = models_scan_start(owner=request.user)
    return _started(request, job, "Scanning the models folder.")


@require_POST
@_owner_only
def model_set_default(request: HttpRequest, model_id: int) -> HttpResponse:
    model = get_object_or_404(LocalModel, pk=model_id)
    try:
        local_model_set_default(model=model)
    except ModelRefused as exc:
        return _refused(request, str(exc))
    messages.success(request, f"{model.name} is now the household's default model.")
    return redirect("models")


@require_POST
@_owner_only
def model_rename(request: HttpRequest, model_id: int) -> HttpResponse:
    model = get_object_or_404(LocalModel, pk=model_id)
    try:
        local_model_rename(model=model, name=request.POST.get("name", ""))
    except ModelRefused as exc:
        return _refused(request, str(exc))
    messages.success(request, f"The model is now called {model.name}.")
    return redirect("models")


@require_POST
@_owner_only
def model_sampling(request: HttpRequest, model_id: int) -> HttpResponse:
    model = get_object_or_404(LocalModel, pk=model_id)
    reset = "reset" in request.POST
    try:
        local_model_sampling_set(model=model, raw=request.POST, context_size=model_context_tokens(model), reset=reset)
    except (ModelRefused, SamplingInvalid) as exc:
        return _refused(request, f"{model.name}: {exc}")
    if reset:
        source = "the sampling its file recommends" if model.sampling_recommended else "Hearth's default sampling"
        messages.success(request, f"{model.name} is back to {source}.")
    else:
        messages.success(request, f"Saved the household's sampling defaults for {model.name}.")
    return redirect(f"{reverse('models')}#model-{model.pk}")


@require_POST
@_owner_only
def model_pair(request: HttpRequest, model_id: int) -> HttpResponse:
    model = get_object_or_404(LocalModel, pk=model_id)
    projector_id = request.POST.get("projector", "")
    projector = None
    if projector_id:
        projector_pk = id_param(projector_id)
        if projector_pk is None:
            return _refused(request, "Choose a vision projector from the list.")
        projector = get_object_or_404(LocalModel, pk=projector_pk)
    try:
        local_model_pair(model=model, projector=projector)
    except ModelRefused as exc:
        return _refused(request, str(exc))
    if projector is None:
        messages.success(request, f"{model.name} no longer has a vision projector.")
    else:
        messages.success(request, f"{model.name} can now look at photos, with {projector.name}.")
    return redirect("models")


@require_POST
@_owner_only
def model_delete(request: HttpRequest, model_id: int) -> HttpResponse:
    model = get_object_or_404(LocalModel, pk=model_id)
    name = model.name
    try:
        local_model_delete(model=model)
    except ModelRefused as exc:
        return _refused(request, str(exc))
    messages.success(request, f"Deleted {name}.")
    return redirect("models")


# --- browser uploads --------------------------------------------------------------------------------


class GgufUploadHandler(FileUploadHandler):
    """Writes the `file` field of a model upload straight to MODELS_DIR/.incoming.

    The first 24 bytes are checked as soon as they arrive, and the upload stops (its file removed)
    when they are not a GGUF header, or when the file grows past HEARTH_MODEL_UPLOAD_MAX_BYTES.
    Nothing is kept in memory and no copy goes through Django's temporary folder.
    """

    chunk_size = 1024 * 1024

    def __init__(self, request: HttpRequest) -> None:
        super().__init__(request)
        self.max_bytes = int(settings.HEARTH_MODEL_UPLOAD_MAX_BYTES)
        self.error = ""
        self.status = 400
        self.staged: Path | None = None
        self.filename = ""
        self.claimed = False
        self._file: Any = None
        self._head = b""
        self._received = 0

    def new_file(self, field_name: str, file_name: str, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        if field_name != "file" or self.staged is not None:
            raise SkipFile  # one model per upload, in the field the form names
        length = str(self.request.META.get("CONTENT_LENGTH") or "0") if self.request is not None else "0"
        try:
            disk_space_check(needed=int(length) if length.isdigit() else 0)
        except ModelRefused as exc:
            self._stop(str(exc), status=507)
        self.filename = safe_model_filename(file_name)
        self.staged = upload_staging_path()
        fd = os.open(self.staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._file = os.fdopen(fd, "wb")

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if self._file is None:
            return raw_data
        self._received += len(raw_data)
        if self._received > self.max_bytes:
            self._stop(_too_big(), status=413)
        if len(self._head) < 24:
            self._head += raw_data[: 24 - len(self._head)]
            if len(self._head) == 24:
                self._check_head()
        self._file.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> UploadedFile[Any] | None:
        if self._file is None:
            return None
        if len(self._head) < 24:
            self._check_head()  # shorter than a header: refused with the header check's own words
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        return UploadedFile(file=self._file, name=self.filename, size=file_size)

    def upload_interrupted(self) -> None:
        self.discard()

    def _check_head(self) -> None:
        try:
            gguf_header_check(head=self._head)
        except GgufInvalid as exc:
            self._stop(str(exc))

    def _stop(self, error: str, *, status: int = 400) -> None:
        self.error, self.status = error, status
        self.discard()
        raise StopUpload(connection_reset=True)

    def discard(self) -> None:
        """Remove the staged file unless a job has taken it over."""
        if self._file is not None:
            self._file.close()
        if self.staged is not None and not self.claimed:
            self.staged.unlink(missing_ok=True)


@csrf_exempt  # the token is checked below, once the upload handler is in place
def model_upload(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _refused(request, "Upload a model with the form on the Models page.", status=405)
    if not getattr(request.user, "is_superuser", False):
        # Before the body is read: a member's upload never touches the disk.
        return _owner_refused(request)
    staged = staged_body(request)
    if staged is not None:
        return _model_upload_raw(request, staged)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = int(settings.HEARTH_MODEL_UPLOAD_MAX_BYTES)
    if length > limit + MULTIPART_OVERHEAD_BYTES:
        return _refused(request, _too_big(), status=413)
    handler = GgufUploadHandler(request)
    request.upload_handlers = [handler]
    try:
        return _model_upload_checked(request, handler)
    finally:
        handler.discard()  # a refused, forged or failed upload leaves nothing behind


def _owner_refused(request: HttpRequest) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"error": OWNER_ONLY}, status=403)
    raise PermissionDenied(OWNER_ONLY)


@csrf_protect
def _model_upload_raw(request: HttpRequest, staged: StagedBody) -> HttpResponse:
    """The file sent as the body, already on disk: no multipart parsing on the web process."""
    try:
        job = model_upload_take(owner=request.user, staged=staged.path, name=staged.name)
    except ModelRefused as exc:
        return _refused(request, str(exc))
    return _started(request, job, f"Uploaded {staged.name}. It appears in the list once it has been checked.")


@csrf_protect
def _model_upload_checked(request: HttpRequest, handler: GgufUploadHandler) -> HttpResponse:
    upload = request.FILES.get("file")
    if handler.error:
        return _refused(request, handler.error, status=handler.status)
    if upload is None or handler.staged is None:
        return _refused(request, "Choose a .gguf model file to upload.")
    job = model_upload_start(owner=request.user, staged=handler.staged, filename=handler.filename)
    handler.claimed = True
    return _started(request, job, f"Uploaded {handler.filename}. It appears in the list once it has been checked.")
