"""What tests share beyond fixtures: the real services' helpers, sessions, sockets and model rows.

Test modules import these from here; tests/conftest.py holds only fixtures.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from assistant.core.processes import process_group_stop, worker_command
from assistant.jobs.registry import QUEUES
from tests.environment import TEST_DATA_DIR

ROOT = Path(__file__).resolve().parents[2]


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


def session_cookie(user: Any) -> str:
    """A logged-in session for `user`, as the Cookie header a browser would send."""
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def service_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'tests' / 'egress'}{os.pathsep}{ROOT}", **extra}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


class WorkerProcess:
    """A real `celery worker` on the test database. Tests may kill it and start another."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.log_path = TEST_DATA_DIR / f"worker-{self.starts}.log"
        argv = worker_command(queues=[queue.name for queue in QUEUES], concurrency=1, name=f"test{self.starts}")
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


def services_database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


# A page served by Hearth at http://localhost opens its socket there: same scheme, host and port.
ORIGIN = (b"origin", b"http://localhost")
HOST = (b"host", b"localhost")


async def ws_open(cookie: str | None, path: str = "/ws/events/") -> Any:
    """A websocket to the real ASGI application, as a browser on the LAN would open it."""
    from channels.testing import WebsocketCommunicator

    from config.asgi import application

    headers = [ORIGIN, HOST] + ([(b"cookie", cookie.encode())] if cookie else [])
    return WebsocketCommunicator(application, path, headers=headers)


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
            sampling_recommended=info.sampling,
            **extra,
        )

    paired = row(projector, role=LocalModel.Role.PROJECTOR) if projector else None
    return row(path, is_default=default, projector=paired)

