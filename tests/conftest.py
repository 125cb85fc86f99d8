"""Shared fixtures: the household's personas, and the real services the tests run against.

Expensive parts (the Chroma server, the Celery worker) are started once per session.
Alice and Bob are ordinary members; Olivia owns the household.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from assistant.supervisor import chroma_command, process_group_stop, worker_command
from tests.egress import sitecustomize as egress_guard
from tests.environment import TEST_DATA_DIR

ROOT = Path(__file__).resolve().parent.parent
EGRESS_LOG = TEST_DATA_DIR / "egress.log"
PASSWORD = "correct horse battery staple"


def wait_for(predicate: Any, *, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll until predicate() is truthy; fail the test with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


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


def session_cookie(user: Any) -> str:
    """A logged-in session for `user`, as the Cookie header a browser would send."""
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _service_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'tests' / 'egress'}{os.pathsep}{ROOT}", **extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


@pytest.fixture(scope="session")
def chroma_server() -> Iterator[str]:
    url = settings.CHROMA_URL
    port = int(url.rsplit(":", 1)[1])
    log = (TEST_DATA_DIR / "chroma.log").open("w")
    process = subprocess.Popen(
        chroma_command(path=TEST_DATA_DIR / "chroma", port=port),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=_service_env(),
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
    from assistant.documents.embed import embedder

    model = embedder()
    model.embed_batch(["warm up"])
    return model


@pytest.fixture
def inline_jobs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Jobs are not sent to the broker; tests run them here with job_execute, as a worker would."""
    sent: list[int] = []
    monkeypatch.setattr("assistant.services.jobs.job_dispatch", lambda *, job_id: sent.append(job_id))
    return sent


@pytest.fixture
def vectors(chroma_server: str) -> None:
    """No member has documents vectors yet: owner and document ids repeat between tests, vectors must not."""
    from tests.support.documents import document_collections_drop

    document_collections_drop()


class WorkerProcess:
    """A real `celery worker` on the test database. Tests may kill it and start another."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.log_path = TEST_DATA_DIR / f"worker-{self.starts}.log"
        argv = worker_command(queues=["default", "llm", "ingest", "media"], concurrency=1, name=f"test{self.starts}")
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdout=self.log_path.open("w"),
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
        )
        wait_for(self._ready, timeout=90, what=f"the Celery worker ({self.log_path})", interval=0.2)

    def _ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"the worker exited early:\n{self.log_path.read_text()[-3000:]}")
        return " ready." in self.log_path.read_text()

    def kill(self) -> None:
        """SIGKILL the whole worker, pool children included, as a crash or OOM-kill would."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None:
            process_group_stop(self.process, timeout=30)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: None, chroma_server: str) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(_service_env(DATABASE_URL=_test_database_url()))
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
    from assistant.models import Job
    from assistant.services.jobs import job_cancel

    for job in Job.objects.active():
        job_cancel(job=job)
    wait_for(lambda: not Job.objects.active().exists(), timeout=60, what="the worker to go idle", interval=0.2)


@pytest.fixture
def egress_log() -> Path:
    return EGRESS_LOG


ORIGIN = (b"origin", b"http://localhost")


async def ws_open(cookie: str | None, path: str = "/ws/events/") -> Any:
    """A websocket to the real ASGI application, as a browser on the LAN would open it."""
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    headers = [ORIGIN] + ([(b"cookie", cookie.encode())] if cookie else [])
    return WebsocketCommunicator(application, path, headers=headers)


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


def chat_model_add(path: Path, *, default: bool = True, projector: Path | None = None) -> Any:
    """Register a GGUF as the Models page would, reading its own metadata."""
    from assistant.llm.gguf_info import gguf_info_read
    from assistant.models import LocalModel

    def row(file: Path, **extra: Any) -> LocalModel:
        info = gguf_info_read(path=file)
        return LocalModel.objects.create(
            path=str(file),
            name=info.name,
            architecture=info.architecture,
            parameters=info.parameters,
            quantization=info.quantization,
            size_bytes=info.size_bytes,
            context_length=info.context_length,
            has_chat_template=bool(info.chat_template),
            projector_type=info.projector_type,
            image_tokens=info.image_tokens,
            grid_pinpoints=info.grid_pinpoints,
            **extra,
        )

    paired = row(projector, role=LocalModel.Role.PROJECTOR) if projector else None
    return row(path, is_default=default, projector=paired)
