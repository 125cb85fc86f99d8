"""The models folder the Models tests work in, and the real GGUF files they put there.

`models_dir_fixture` is the autouse fixture `models_dir`: a test module that imports it gets the models folder
emptied before and after each of its tests (named apart so that test arguments called models_dir shadow nothing).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.test import Client
from gguf import GGUFWriter

from assistant.models import Job, JobStatus
from tests.support.services import wait_for
from tests.support.tiny_gguf import CHAT_TEMPLATES, tiny_chat_model_write, tiny_mmproj_write


@pytest.fixture(autouse=True, name="models_dir")
def models_dir_fixture() -> Iterator[Path]:
    """settings.MODELS_DIR (inside the session's temporary data dir), emptied before and after each test."""
    folder = Path(settings.MODELS_DIR)

    def empty() -> None:
        for entry in folder.iterdir():
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()

    empty()
    yield folder
    empty()


def files_under(folder: Path) -> list[Path]:
    """Every file left under a folder, hidden ones (.incoming) included."""
    return sorted(path for path in folder.rglob("*") if path.is_file())


def chat_model(path: Path, *, name: str = "Tiny Random Llama", seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return tiny_chat_model_write(path=path, template=CHAT_TEMPLATES["chatml"], name=name, seed=seed)


def projector(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return tiny_mmproj_write(path=path)


def unknown_architecture_model(path: Path) -> Path:
    """A well-formed GGUF of an architecture llama.cpp has never heard of."""
    writer = GGUFWriter(path, "frobnicator")
    writer.add_name("Frobnicator 1B")
    writer.add_context_length(1024)
    writer.add_tensor("token_embd.weight", np.zeros((16, 8), np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def owner_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def wait_for_job(job_id: int, *, timeout: float = 60) -> Job:
    def finished() -> Job | None:
        job = Job.objects.get(pk=job_id)
        return job if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED) else None

    result: Job = wait_for(finished, timeout=timeout, what=f"job {job_id} to finish")
    return result
