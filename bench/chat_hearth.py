"""The Hearth side of the chat benchmark: its options, a private Hearth's services, and a websocket client."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from assistant.core.default_models import CHAT
from assistant.core.processes import child_env, redis_command, redis_ping, tcp_open, web_command
from assistant.core.processes import worker_command as celery_worker_command
from assistant.core.supervisor import Service, Supervisor
from bench.chat_turn import Turn
from bench.common import BenchError, free_port, say

ROOT = Path(__file__).resolve().parent.parent
TURN_TIMEOUT = 600.0  # seconds one answer may take before the run is abandoned
FINAL_STATES = ("complete", "incomplete", "failed")


# --- options ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    model: Path
    threads: int
    context: int
    max_tokens: int
    repeats: int
    turns: int
    as_json: bool
    keep: bool
    runs: int = 1  # > 1: the whole comparison again in fresh processes (bench.chat_runs)


def parse_options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench.chat_stream", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="GGUF chat model (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="n_threads for both sides")
    parser.add_argument("--context", type=int, default=4096, help="n_ctx (capped at the model's own), both sides")
    parser.add_argument("--max-tokens", type=int, default=128, help="longest answer, both sides")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each measurement; medians are reported")
    parser.add_argument("--turns", type=int, default=10, help="turns of the cache-reuse conversation")
    parser.add_argument("--json", dest="as_json", action="store_true", help="print JSON instead of the table")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder (logs, database)")
    parser.add_argument("--runs", type=int, default=1, help="whole comparisons, each in fresh processes; medians")
    args = parser.parse_args(argv)
    model = args.model or CHAT.path()
    if model is None or not Path(model).is_file():
        parser.error(f"no model at {model}: pass --model PATH, or install {CHAT.requirement}")
    if args.repeats < 1 or args.threads < 1 or args.turns < 2 or args.max_tokens < 16 or args.context < 256:
        parser.error(
            "at least: --repeats 1, --threads 1, --turns 2, --max-tokens 16 and --context 256 (Hearth's minimums)"
        )
    return Options(
        model=Path(model).resolve(),
        threads=args.threads,
        context=args.context,
        max_tokens=args.max_tokens,
        repeats=args.repeats,
        turns=args.turns,
        as_json=args.as_json,
        keep=args.keep,
        runs=max(1, args.runs),
    )


# --- Hearth, for real ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A running private Hearth and what the benchmark needs to talk to it."""

    port: int
    cookie: str
    context: int  # the n_ctx Hearth's engine gives this model
    conversations: Callable[[int], list[int]]  # makes N new conversations for the bench user (not async-safe)
    log: Path


def configure_environment(options: Options, data_dir: Path) -> tuple[str, Path]:
    """Point this process (and so every child) at a private data folder and Redis: (its URL, its socket)."""
    run_dir = data_dir / "run"
    run_dir.mkdir(mode=0o700, parents=True)
    redis_socket = run_dir / "redis.sock"
    redis_url = f"unix://{redis_socket}"
    os.environ.pop("DATABASE_URL", None)  # SQLite in the data folder
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "HEARTH_DATA_DIR": str(data_dir),
            "REDIS_URL": redis_url,
            "HEARTH_REDIS_PREFIX": f"hearth-bench-{os.getpid()}",
            "CHROMA_URL": "http://127.0.0.1:9",  # chat never talks to Chroma; settings want a URL
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "HEARTH_LLM_THREADS": str(options.threads),
            "HEARTH_LLM_CONTEXT": str(options.context),
            "HEARTH_LLM_MAX_TOKENS": str(options.max_tokens),
            "HEARTH_LOG_LEVEL": "WARNING",
        }
    )
    return redis_url, redis_socket


def services(*, redis_url: str, redis_socket: Path, data_dir: Path, port: int, log: Path) -> list[Service]:
    env = child_env(redis_url=redis_url, chroma_url=os.environ["CHROMA_URL"])
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(mode=0o700)

    def worker_ready() -> bool:
        lines = log.read_text(errors="replace").splitlines()
        return any(line.startswith("worker") and line.endswith(" ready.") for line in lines)

    return [
        Service(
            "redis",
            redis_command(socket_path=redis_socket, data_dir=redis_dir),
            env=env,
            ready=lambda: redis_ping(redis_socket),
            ready_timeout=30,
            cwd=ROOT,
        ),
        Service(
            "web",
            web_command(host="127.0.0.1", port=port),
            env=env,
            ready=lambda: tcp_open("127.0.0.1", port),
            cwd=ROOT,
        ),
        Service(
            "worker",
            celery_worker_command(queues=["llm"], concurrency=1, name="bench-llm"),
            env=env,
            ready=worker_ready,
            ready_timeout=120,
            cwd=ROOT,
        ),
    ]


def prepare_database(model_path: Path) -> tuple[str, int, Callable[[int], list[int]]]:
    """Migrate, then add a member, the model and a session. Returns (cookie, model context, new conversations)."""
    import django
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from assistant.chat.services import conversation_create
    from assistant.llm.gguf_info import gguf_info_read
    from assistant.models import LocalModel

    user = get_user_model().objects.create_user(username="bench", password=None)
    info = gguf_info_read(path=model_path)
    model = LocalModel.objects.create(
        path=str(model_path),
        name=info.name,
        architecture=info.architecture,
        parameters=info.parameters,
        quantization=info.quantization,
        size_bytes=info.size_bytes,
        context_length=info.context_length,
        has_chat_template=bool(info.chat_template),
        is_default=True,
    )
    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    session.save()
    context = min(settings.HEARTH_LLM_CONTEXT, info.context_length or settings.HEARTH_LLM_CONTEXT)
    cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}"
    return cookie, context, lambda count: [conversation_create(owner=user, model=model).pk for _ in range(count)]


@contextmanager
def hearth_running(options: Options, data_dir: Path, out: IO[str]) -> Iterator[Site]:
    """Redis, then the database, then daphne and one llm worker; all stopped on the way out."""
    redis_url, redis_socket = configure_environment(options, data_dir)
    port = free_port()
    log = Path(out.name)
    supervisor = Supervisor(
        services(redis_url=redis_url, redis_socket=redis_socket, data_dir=data_dir, port=port, log=log), out=out
    )
    try:
        supervisor.start(["redis"])
        supervisor.wait_ready(["redis"])
        cookie, context, conversations = prepare_database(options.model)
        supervisor.start(["web", "worker"])
        supervisor.wait_ready()
        yield Site(port=port, cookie=cookie, context=context, conversations=conversations, log=log)
    finally:
        say("stopping Hearth's services")
        supervisor.stop()


class HearthClient:
    """A page's websocket: sends chat.send and reads the answer's events as they arrive."""

    def __init__(self, connection: Any, max_tokens: int) -> None:
        self.connection = connection
        self.max_tokens = max_tokens

    @classmethod
    async def open(cls, site: Site, max_tokens: int) -> HearthClient:
        from websockets.asyncio.client import connect
        from websockets.typing import Origin

        connection = await connect(
            f"ws://127.0.0.1:{site.port}/ws/events/",
            origin=Origin(f"http://127.0.0.1:{site.port}"),
            additional_headers={"Cookie": site.cookie},
            proxy=None,
            max_queue=None,
        )
        return cls(connection, max_tokens)

    async def answer(self, conversation: int, text: str) -> Turn:
        turn = Turn(started=time.perf_counter())
        await self.connection.send(json.dumps({"action": "chat.send", "conversation": conversation, "text": text}))
        answer_id = None
        while True:
            event = json.loads(await asyncio.wait_for(self.connection.recv(), TURN_TIMEOUT))
            kind = event.get("type")
            if kind == "error":
                raise BenchError(f"Hearth refused the message: {event.get('error')}")
            if kind == "chat.token" and event.get("message") == answer_id:
                turn.arrived(event["text"])
            elif kind == "chat.message" and event["message"]["conversation"] == conversation:
                message = event["message"]
                if message["role"] == "assistant" and answer_id is None:
                    answer_id = message["id"]
                if message["id"] != answer_id:
                    continue
                turn.states.setdefault(message["state"], time.perf_counter())
                if message["state"] in FINAL_STATES:
                    return self._finished(turn, message)

    def _finished(self, turn: Turn, message: dict[str, Any]) -> Turn:
        if message["state"] != "complete":
            raise BenchError(f"the answer ended {message['state']}: {message['error'] or message['notice']}")
        turn.done = time.perf_counter()
        turn.tokens = message["completion_tokens"]
        turn.finish = "length" if turn.tokens >= self.max_tokens else "stop"
        turn.worker_rate = message["tokens_per_second"]
        return turn

    async def close(self) -> None:
        await self.connection.close()
