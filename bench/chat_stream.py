"""Hearth's chat streaming against plain llama-cpp-python, on this machine, with the same model.

    .venv/bin/python -m bench.chat_stream [--model PATH] [--threads N] [--repeats N] [--json]

It starts a private Hearth under a temporary HEARTH_DATA_DIR (redis-server on a unix socket, one
Celery worker on the llm queue, daphne on a free port), drives it over a real websocket as a page
does, and runs the same prompts through llama-cpp-python in this process while Hearth is idle.
What each figure means: bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from assistant.default_models import CHAT
from assistant.supervisor import Service, Supervisor, child_env, redis_command, redis_ping, tcp_open, web_command
from assistant.supervisor import worker_command as celery_worker_command
from bench.chat_plain import PlainChat, PlainGenerate
from bench.chat_prompts import STORIES, WARM_UP, conversation_texts
from bench.chat_report import machine, report_json, report_text
from bench.chat_turn import Turn
from bench.common import BenchError, bench_main, free_port, say

ROOT = Path(__file__).resolve().parent.parent
TURN_TIMEOUT = 600.0  # seconds one answer may take before the run is abandoned
SETTLE_SECONDS = 0.3  # pause before each measured request, so the previous one has fully finished
FINAL_STATES = ("complete", "incomplete", "failed")
CHILD_LABELS = (("redis-server", "redis"), ("daphne", "web"), ("celery", "worker"))

# One per repeat (cycled): prompts that make a small model write until max_tokens.
# A conversation: its opening question (one per repeat, cycled) then these follow-ups. Each repeat
# opens differently, so its first turn shares no more with the previous conversation than the
# template's system prompt, on either side.


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
    )


# --- one answer, timed -----------------------------------------------------------------------------


def cpu_seconds() -> dict[str, float]:
    """CPU time (user + system) so far of this process ("bench") and of each kind of child it started."""
    import psutil

    me = psutil.Process()
    totals = {"bench": sum(me.cpu_times()[:2])}
    for child in me.children(recursive=True):
        try:
            command = " ".join(child.cmdline())
            used = sum(child.cpu_times()[:2])
        except psutil.Error:  # gone since the listing
            continue
        label = next((name for key, name in CHILD_LABELS if key in command), "other")
        totals[label] = totals.get(label, 0.0) + used
    return totals


def worker_rss_mb() -> float:
    """Resident memory of the largest Celery process this benchmark started (the one holding the model)."""
    import psutil

    sizes = [0]
    for child in psutil.Process().children(recursive=True):
        try:
            if "celery" in " ".join(child.cmdline()):
                sizes.append(child.memory_info().rss)
        except psutil.Error:
            continue
    return max(sizes) / 2**20


def machine_busy_seconds() -> float:
    """CPU seconds all cores of the machine have been busy since boot (time stolen by a hypervisor included)."""
    import psutil

    times = psutil.cpu_times()
    return sum(getattr(times, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))


@contextmanager
def others_metered(results: Measurements) -> Iterator[None]:
    """Record what share of the CPU other processes took while the block ran: the run's noise."""
    started, machine_before, ours_before = time.monotonic(), machine_busy_seconds(), sum(cpu_seconds().values())
    yield
    others = (machine_busy_seconds() - machine_before) - (sum(cpu_seconds().values()) - ours_before)
    results.others_share = max(0.0, others) / ((time.monotonic() - started) * (os.cpu_count() or 1))


def cpu_used(before: dict[str, float]) -> dict[str, float]:
    """CPU seconds each process spent since `before` was taken."""
    after = cpu_seconds()
    return {name: after[name] - before.get(name, 0.0) for name in after}


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
    from assistant.llm.gguf_info import gguf_info_read
    from assistant.models import LocalModel
    from assistant.services.chat import conversation_create

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


# --- the measurements ------------------------------------------------------------------------------


@dataclass
class Measurements:
    plain_chat: list[Turn] = field(default_factory=list)
    plain_generate: list[Turn] = field(default_factory=list)
    hearth: list[Turn] = field(default_factory=list)
    plain_conversations: list[list[Turn]] = field(default_factory=list)
    plain_forgetting_conversations: list[list[Turn]] = field(default_factory=list)  # KV cache reset every turn
    hearth_conversations: list[list[Turn]] = field(default_factory=list)
    worker_rss_mb: float = 0.0  # memory of Hearth's llm worker at the end, its saved conversation states included
    others_share: float = 0.0  # share of the machine's CPU that processes other than the benchmark's used


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


async def plain_conversation(chat: PlainChat, texts: list[str], max_tokens: int, *, forget: bool = False) -> list[Turn]:
    """Each turn re-sends the whole history, as a client of plain llama-cpp-python would.

    llama-cpp-python itself skips the prefix it evaluated last time; `forget` resets it before each turn.
    """
    messages: list[dict[str, Any]] = []
    turns = []
    for text in texts:
        messages.append(user(text))
        await asyncio.sleep(SETTLE_SECONDS)
        turn = await asyncio.to_thread(chat.answer, messages, max_tokens, forget=forget)
        messages.append({"role": "assistant", "content": turn.text})
        turns.append(turn)
    return turns


async def hearth_conversation(client: HearthClient, conversation: int, texts: list[str]) -> list[Turn]:
    turns = []
    for text in texts:
        await asyncio.sleep(SETTLE_SECONDS)
        turns.append(await client.answer(conversation, text))
    return turns


async def single_turns(
    results: Measurements,
    options: Options,
    text: str,
    chat: PlainChat,
    generate: PlainGenerate,
    client: HearthClient,
    conversation: int,
) -> None:
    """One answer to the same prompt from each side, one after the other, with the CPU each process spent."""
    for side, runs in ((chat, results.plain_chat), (generate, results.plain_generate)):
        await asyncio.sleep(SETTLE_SECONDS)
        before = cpu_seconds()
        runs.append(await asyncio.to_thread(side.answer, [user(text)], options.max_tokens))
        runs[-1].cpu = cpu_used(before)
    await asyncio.sleep(SETTLE_SECONDS)
    before = cpu_seconds()
    results.hearth.append(await client.answer(conversation, text))
    results.hearth[-1].cpu = cpu_used(before)


async def measure(
    options: Options, site: Site, conversations: list[int], chat: PlainChat, generate: PlainGenerate
) -> Measurements:
    """Plain and Hearth take turns on the same prompts; only one side works at a time.

    Plain runs go to a thread so this loop still answers daphne's pings, as a browser does.
    """
    results = Measurements()
    fresh = iter(conversations)
    client = await HearthClient.open(site, options.max_tokens)
    try:
        say("warming up both sides (Hearth's worker loads the model now)")
        await asyncio.to_thread(chat.answer, [user(WARM_UP)], options.max_tokens)
        await asyncio.to_thread(generate.answer, [user(WARM_UP)], options.max_tokens)
        await client.answer(next(fresh), WARM_UP)
        with others_metered(results):
            await measure_both(options, results, fresh, chat, generate, client)
        results.worker_rss_mb = worker_rss_mb()
    finally:
        await client.close()
    return results


async def measure_both(
    options: Options,
    results: Measurements,
    fresh: Iterator[int],
    chat: PlainChat,
    generate: PlainGenerate,
    client: HearthClient,
) -> None:
    """The measured part: single turns, then the conversations, each repeat plain first, then Hearth."""
    for repeat in range(options.repeats):
        say(f"single turn {repeat + 1}/{options.repeats}")
        await single_turns(results, options, STORIES[repeat % len(STORIES)], chat, generate, client, next(fresh))
    for repeat in range(options.repeats):
        say(f"{options.turns}-turn conversation {repeat + 1}/{options.repeats}")
        texts = conversation_texts(repeat, options.turns)
        results.plain_conversations.append(await plain_conversation(chat, texts, options.max_tokens))
        forgetting = await plain_conversation(chat, texts, options.max_tokens, forget=True)
        results.plain_forgetting_conversations.append(forgetting)
        results.hearth_conversations.append(await hearth_conversation(client, next(fresh), texts))


# --- main ------------------------------------------------------------------------------------------


def run(options: Options) -> str:
    data_dir = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    say(f"data folder {data_dir}")
    before = machine()
    try:
        with (data_dir / "services.log").open("w") as out, hearth_running(options, data_dir, out) as site:
            say(f"Hearth is up on port {site.port}; loading the model for the plain runs")
            conversations = site.conversations(1 + 2 * options.repeats)  # warm-up, single turns, conversations
            with (
                closing(PlainChat(path=options.model, threads=options.threads, context=site.context)) as chat,
                closing(PlainGenerate(path=options.model, threads=options.threads, context=site.context)) as generate,
            ):
                results = asyncio.run(measure(options, site, conversations, chat, generate))
    except BaseException:
        say(f"stopped early; the data folder and the services' log are kept in {data_dir}")
        raise
    if not options.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    render = report_json if options.as_json else report_text
    return render(options, site.context, results, before)


def main(argv: list[str] | None = None) -> int:
    return bench_main(parse_options(argv), run)


if __name__ == "__main__":
    sys.exit(main())
