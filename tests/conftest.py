"""Shared fixtures: the household's personas, and the real services the tests run against.

Expensive parts (the Chroma server, the Celery worker) are started once per session.
Alice and Bob are ordinary members; Olivia owns the household.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from django.conf import settings

from assistant.core.processes import chroma_command, process_group_stop
from tests.egress import sitecustomize as egress_guard
from tests.environment import TEST_DATA_DIR
from tests.support.services import PASSWORD, WorkerProcess, service_env, services_database_url, wait_for

EGRESS_LOG = TEST_DATA_DIR / "egress.log"


@pytest.fixture(scope="session", autouse=True)
def _egress_guard() -> None:
    """Every connection this test process makes must stay on this machine."""
    os.environ["HEARTH_EGRESS_LOG"] = str(EGRESS_LOG)
    egress_guard.install()


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> None:
    """Each test gets its own channel layer: a layer keeps locks bound to the event loop of the
    test that first used it, and a later test's loop must not inherit one left held."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()


@pytest.fixture(scope="session", autouse=True)
def _static_files() -> None:
    """Pages name their assets by content hash, as `make run` serves them after collectstatic."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(scope="session", autouse=True)
def _clean_redis() -> Iterator[None]:
    """Remove this run's keys afterwards; other runs sharing the Redis keep theirs."""
    yield
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match=f"*{settings.REDIS_PREFIX}*", count=1000):
        client.delete(key)


@pytest.fixture
def alice(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="alice", password=PASSWORD)


@pytest.fixture
def bob(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="bob", password=PASSWORD)


@pytest.fixture
def olivia(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser(username="olivia", password=PASSWORD)


@pytest.fixture(scope="session")
def chroma_server() -> Iterator[str]:
    url = settings.CHROMA_URL
    port = int(url.rsplit(":", 1)[1])
    log = (TEST_DATA_DIR / "chroma.log").open("w")
    process = subprocess.Popen(
        chroma_command(path=TEST_DATA_DIR / "chroma", port=port),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=service_env(),
        start_new_session=True,
    )

    def answers() -> bool:
        try:
            return httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200
        except httpx.HTTPError:
            return process.poll() is not None and pytest.fail(f"chroma exited: {log.name}")

    wait_for(answers, timeout=60, what="the Chroma server", interval=0.2)
    yield url
    process_group_stop(process, timeout=30)


@pytest.fixture(scope="session")
def embedding_model() -> Any:
    """The real MiniLM model, loaded once for the whole session (it takes a few seconds)."""
    from assistant.documents.pipeline.embed import embedder

    model = embedder()
    model.embed_batch(["warm up"])
    return model


@pytest.fixture
def inline_jobs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Jobs are not sent to the broker; tests run them here with job_execute, as a worker would."""
    sent: list[int] = []
    monkeypatch.setattr("assistant.jobs.services.job_send", lambda *, job_id, kind: sent.append(job_id))
    return sent


@pytest.fixture
def vectors(chroma_server: str) -> None:
    """No member has documents vectors yet: owner and document ids repeat between tests, vectors must not."""
    from tests.support.documents import document_collections_drop

    document_collections_drop()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: None, chroma_server: str) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(service_env(DATABASE_URL=services_database_url()))
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def worker(celery_worker: WorkerProcess) -> Iterator[WorkerProcess]:
    """The session's worker, restarted first if an earlier test killed it.

    Afterwards it is left idle: a job still writing while the test database is flushed can
    deadlock PostgreSQL's TRUNCATE.
    """
    if not celery_worker.running:
        celery_worker.start()
    yield celery_worker
    _stop_all_jobs()


def _stop_all_jobs() -> None:
    from assistant.jobs.services import job_cancel
    from assistant.models import Job

    for job in Job.objects.active():
        job_cancel(job=job)
    wait_for(lambda: not Job.objects.active().exists(), timeout=60, what="the worker to go idle", interval=0.2)


@pytest.fixture
def egress_log() -> Path:
    return EGRESS_LOG


@pytest.fixture(scope="session")
def tiny_models() -> dict[str, Path]:
    """Tiny real GGUF files, written once per session: one per chat family, a MoE, and a projector."""
    from tests.support.tiny_gguf import CHAT_TEMPLATES, tiny_chat_model_write, tiny_mmproj_write

    folder = TEST_DATA_DIR / "tiny-models"
    folder.mkdir(exist_ok=True)
    paths = {
        family: tiny_chat_model_write(path=folder / f"tiny-{family}.gguf", template=template, name=f"Tiny {family}")
        for family, template in CHAT_TEMPLATES.items()
    }
    paths["moe"] = tiny_chat_model_write(
        path=folder / "tiny-moe.gguf", template=CHAT_TEMPLATES["chatml"], experts=4, name="Tiny MoE"
    )
    paths["projector"] = tiny_mmproj_write(path=folder / "tiny-mmproj.gguf")
    return paths


