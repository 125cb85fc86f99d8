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
import codecs
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from assistant.default_models import CHAT
from assistant.supervisor import Service, Supervisor, child_env, redis_command, redis_ping, tcp_open, web_command
from assistant.supervisor import worker_command as celery_worker_command

ROOT = Path(__file__).resolve().parent.parent
GOAL_RATE = 0.95  # Hearth tokens/s over plain tokens/s, at least
GOAL_TTFT_MS = 50.0  # Hearth time to first token minus plain, at most
GOAL_TURN_RATIO = 1.5  # Hearth turn-N time to first token over turn 1, at most
TURN_TIMEOUT = 600.0  # seconds one answer may take before the run is abandoned
BUSY_SHARE = 0.1  # other processes using more than this share of the CPU make the figures noisy
SETTLE_SECONDS = 0.3  # pause before each measured request, so the previous one has fully finished
FINAL_STATES = ("complete", "incomplete", "failed")
CHILD_LABELS = (("redis-server", "redis"), ("daphne", "web"), ("celery", "worker"))

WARM_UP = "Write a short poem about bread."
# One per repeat (cycled): prompts that make a small model write until max_tokens.
STORIES = (
    "Write a long story about a lighthouse keeper who finds a message in a bottle.",
    "Write a long story about a baker who opens a shop on the moon.",
    "Write a long story about two friends who build a boat together.",
    "Write a long story about a cat who learns to play the piano.",
    "Write a long story about a gardener who grows a giant pumpkin.",
)
# A conversation: its opening question (one per repeat, cycled) then these follow-ups. Each repeat
# opens differently, so its first turn shares no more with the previous conversation than the
# template's system prompt, on either side.
OPENERS = (
    "What could I cook tonight with rice, eggs and spinach?",
    "What could I cook tonight with pasta, tomatoes and basil?",
    "What could I cook tonight with potatoes, leeks and cheese?",
    "What could I cook tonight with lentils, carrots and onions?",
    "What could I cook tonight with bread, mushrooms and cream?",
)
FOLLOW_UPS = (
    "How long does it take to make?",
    "Can I make it for a vegetarian guest?",
    "Write a shopping list for it.",
    "How do I store the leftovers?",
    "Suggest a dessert to go with it.",
    "What drink goes well with this meal?",
    "How would I explain the recipe to a child?",
    "Summarise the whole plan in three steps.",
    "Thank you! Any last tips?",
)


def conversation_texts(repeat: int, turns: int) -> list[str]:
    return [OPENERS[repeat % len(OPENERS)]] + [FOLLOW_UPS[i % len(FOLLOW_UPS)] for i in range(turns - 1)]


class BenchError(RuntimeError):
    """The benchmark could not run; the message says why."""


def say(message: str) -> None:
    """Progress goes to stderr, so --json output on stdout stays clean."""
    print(f"bench | {message}", file=sys.stderr, flush=True)


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


@dataclass
class Turn:
    """One answer as its reader saw it: when text first and last arrived, and how many tokens it had."""

    started: float
    first: float = 0.0
    last: float = 0.0
    tokens: int = 0
    finish: str = ""
    text: str = ""
    done: float = 0.0  # Hearth: when the final chat.message said "complete"
    worker_rate: float = 0.0  # Hearth: tokens/s as the worker measured it (StreamStats)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds each process spent on this answer
    states: dict[str, float] = field(default_factory=dict)  # Hearth: when the answer's row reached each state

    def split(self) -> tuple[float, float, float]:
        """Hearth's TTFT in three, as the client sees the row's events: send → "queued" (consumer, database,
        dispatch), "queued" → "streaming" (broker, worker, job claim, prompt fitting), "streaming" → first
        token (template, prefill, first sample, relay)."""
        queued, streaming = self.states.get("queued", 0.0), self.states.get("streaming", 0.0)
        if not (queued and streaming):
            return (0.0, 0.0, 0.0)
        return (queued - self.started, streaming - queued, self.first - streaming)

    def arrived(self, piece: str) -> None:
        now = time.perf_counter()
        self.first = self.first or now
        self.last = now
        self.text += piece

    @property
    def ttft(self) -> float:
        return self.first - self.started

    @property
    def rate(self) -> float:
        """Tokens per second from the first piece of text to the last, as StreamStats counts them."""
        span = self.last - self.first
        return (self.tokens - 1) / span if self.tokens > 1 and span > 0 else 0.0


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


def chat_sampling() -> dict[str, Any]:
    """Hearth's sampling settings, spelled as create_chat_completion takes them."""
    from assistant.llm.engine import SAMPLING

    return {("temperature" if key == "temp" else key): value for key, value in SAMPLING.items()}


# --- plain llama-cpp-python ----------------------------------------------------------------------


class PlainChat:
    """llama-cpp-python as its README uses it: one Llama, create_chat_completion(stream=True)."""

    def __init__(self, *, path: Path, threads: int, context: int) -> None:
        from llama_cpp import Llama

        self.llama = Llama(model_path=str(path), n_ctx=context, n_threads=threads, verbose=False)
        self.sampling = chat_sampling()

    def answer(self, messages: list[dict[str, Any]], max_tokens: int, *, forget: bool = False) -> Turn:
        """One streamed answer; `forget` first drops the KV cache, so the whole prompt is evaluated again."""
        turn = Turn(started=time.perf_counter())
        if forget:
            self.llama.reset()
        chunks = self.llama.create_chat_completion(
            messages=messages, max_tokens=max_tokens, stream=True, **self.sampling
        )
        pieces = 0
        for chunk in chunks:
            choice = chunk["choices"][0]
            turn.finish = choice.get("finish_reason") or turn.finish
            content = choice["delta"].get("content")
            if content:
                turn.arrived(content)
                pieces += 1
        # A streamed chunk is one token unless a multi-byte character spans tokens; at the length
        # limit the count is exact.
        turn.tokens = max_tokens if turn.finish == "length" else pieces
        return turn

    def close(self) -> None:
        self.llama.close()


class PlainGenerate:
    """The reference loop: the GGUF's template rendered once, then `Llama.generate` token by token."""

    def __init__(self, *, path: Path, threads: int, context: int) -> None:
        from llama_cpp import Llama
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        from assistant.llm.engine import SAMPLING

        self.llama = Llama(model_path=str(path), n_ctx=context, n_threads=threads, verbose=False)
        template = self.llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise BenchError(f"{path.name} has no chat template; Hearth streams such files another way")
        eos, bos = self.llama.token_eos(), self.llama.token_bos()
        self.formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=self.llama._model.token_get_text(eos) if eos != -1 else "",
            bos_token=self.llama._model.token_get_text(bos) if bos != -1 else "",
            stop_token_ids=[eos],
        )
        self.sampling = SAMPLING

    def answer(self, messages: list[dict[str, Any]], max_tokens: int) -> Turn:
        import llama_cpp

        turn = Turn(started=time.perf_counter(), finish="length")
        rendered = self.formatter(messages=messages)
        prompt = self.llama.tokenize(rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        for token in self.llama.generate(prompt, **self.sampling):
            if llama_cpp.llama_vocab_is_eog(self.llama._model.vocab, token):
                turn.finish = "stop"
                break
            turn.tokens += 1
            piece = decoder.decode(self.llama.detokenize([token]))
            if piece:
                turn.arrived(piece)
            if turn.tokens >= max_tokens:
                break
        return turn

    def close(self) -> None:
        self.llama.close()


# --- Hearth, for real ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A running private Hearth and what the benchmark needs to talk to it."""

    port: int
    cookie: str
    context: int  # the n_ctx Hearth's engine gives this model
    conversations: Callable[[int], list[int]]  # makes N new conversations for the bench user (not async-safe)
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


# --- the report ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    measure: str
    hearth: str
    plain: str
    result: str
    goal: str
    passed: bool | None  # None: for reference, no goal


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def paired(hearth: list[Turn], plain: list[Turn], compare: Callable[[Turn, Turn], float]) -> float:
    """The median over repeats of one Hearth run against the plain run just before it."""
    return median([compare(h, p) for h, p in zip(hearth, plain, strict=True)])


def turn_ratio(conversation: list[Turn]) -> float:
    return conversation[-1].ttft / conversation[0].ttft


def rows(results: Measurements, turns: int) -> list[Row]:
    hearth, chat, generate = results.hearth, results.plain_chat, results.plain_generate
    rate = paired(hearth, chat, lambda h, p: h.rate / p.rate)
    rate_vs_generate = paired(hearth, generate, lambda h, p: h.rate / p.rate)
    ttft_ms = 1000 * paired(hearth, chat, lambda h, p: h.ttft - p.ttft)
    ttft_vs_generate_ms = 1000 * paired(hearth, generate, lambda h, p: h.ttft - p.ttft)
    hearth_turns = median([turn_ratio(c) for c in results.hearth_conversations])
    plain_turns = median([turn_ratio(c) for c in results.plain_conversations])
    forgetting_turns = median([turn_ratio(c) for c in results.plain_forgetting_conversations])

    def rate_of(runs: list[Turn]) -> str:
        return f"{median([t.rate for t in runs]):.1f} tok/s"

    def ttft_of(runs: list[Turn]) -> str:
        return f"{1000 * median([t.ttft for t in runs]):.0f} ms"

    def turns_of(conversations: list[list[Turn]]) -> str:
        first = 1000 * median([c[0].ttft for c in conversations])
        last = 1000 * median([c[-1].ttft for c in conversations])
        return f"{median([turn_ratio(c) for c in conversations]):.2f} ({first:.0f}→{last:.0f} ms)"

    turn_goal = f"≤ {GOAL_TURN_RATIO}"
    return [
        Row(
            "tokens/s, websocket vs chat API",
            rate_of(hearth),
            rate_of(chat),
            f"{rate:.3f}",
            f"≥ {GOAL_RATE}",
            rate >= GOAL_RATE,
        ),
        Row("  reference: generate loop", "", rate_of(generate), f"{rate_vs_generate:.3f}", "", None),
        Row(
            "TTFT warm, websocket vs chat API",
            ttft_of(hearth),
            ttft_of(chat),
            f"{ttft_ms:+.0f} ms",
            f"≤ +{GOAL_TTFT_MS:.0f} ms",
            ttft_ms <= GOAL_TTFT_MS,
        ),
        Row("  reference: generate loop", "", ttft_of(generate), f"{ttft_vs_generate_ms:+.0f} ms", "", None),
        Row(
            f"TTFT turn {turns} / turn 1",
            turns_of(results.hearth_conversations),
            turns_of(results.plain_conversations),
            f"{hearth_turns:.2f} vs {plain_turns:.2f}",
            turn_goal,
            hearth_turns <= GOAL_TURN_RATIO,
        ),
        Row(
            "  reference: plain, KV cache reset each turn",
            "",
            turns_of(results.plain_forgetting_conversations),
            f"{hearth_turns:.2f} vs {forgetting_turns:.2f}",
            "",
            None,
        ),
    ]


def cpu_per_token(runs: list[Turn], side: str) -> str:
    """Median CPU milliseconds per token that each process spent on these answers."""
    labels = sorted({label for run in runs for label, used in run.cpu.items() if used > 0})
    parts = [
        f"{label} {1000 * median([r.cpu.get(label, 0.0) / max(r.tokens, 1) for r in runs]):.1f}" for label in labels
    ]
    return f"{side}: " + ", ".join(parts)


def split_text(runs: list[Turn]) -> str:
    parts = zip(*(run.split() for run in runs), strict=True) if runs else ()
    return " / ".join(f"{1000 * median(list(part)):.0f}" for part in parts)


def notes(results: Measurements) -> list[str]:
    """What the table leaves out but explains it: token counts, the worker's own rate, finishing time."""
    single_conversation = results.hearth_conversations[0] if results.hearth_conversations else []
    finishing = [t.done - t.last for t in results.hearth + [t for c in results.hearth_conversations for t in c]]
    return [
        "tokens per answer (single turn): Hearth "
        + ", ".join(f"{t.tokens} ({t.finish})" for t in results.hearth)
        + "; plain chat "
        + ", ".join(f"{t.tokens} ({t.finish})" for t in results.plain_chat),
        "tokens/s per repeat: Hearth "
        + " ".join(f"{t.rate:.0f}" for t in results.hearth)
        + "; plain chat "
        + " ".join(f"{t.rate:.0f}" for t in results.plain_chat)
        + "; generate loop "
        + " ".join(f"{t.rate:.0f}" for t in results.plain_generate),
        f"Hearth worker-side rate (StreamStats): {median([t.worker_rate for t in results.hearth]):.1f} tok/s; "
        f"last token → 'complete' message: median {1000 * median(finishing):.0f} ms, "
        f"max {1000 * max(finishing, default=0):.0f} ms; worker RSS at the end {results.worker_rss_mb:.0f} MB",
        "CPU ms per token, single turn: "
        + cpu_per_token(results.hearth, "Hearth")
        + "; "
        + cpu_per_token(results.plain_chat, "plain chat")
        + "; "
        + cpu_per_token(results.plain_generate, "generate loop"),
        "Hearth TTFT split, median ms (send→queued, queued→streaming, streaming→first token): single turn "
        + split_text(results.hearth)
        + "; conversation turn 1 "
        + split_text([c[0] for c in results.hearth_conversations])
        + f"; turn {len(single_conversation)} "
        + split_text([c[-1] for c in results.hearth_conversations]),
        "Hearth TTFT by turn (first conversation, ms): "
        + " ".join(f"{1000 * t.ttft:.0f}" for t in single_conversation),
        "plain TTFT by turn (first conversation, ms): "
        + " ".join(f"{1000 * t.ttft:.0f}" for t in (results.plain_conversations or [[]])[0]),
    ]


def table(report_rows: list[Row]) -> str:
    header = Row("measure", "Hearth", "plain", "Hearth vs plain", "goal", None)
    cells = [
        [r.measure, r.hearth, r.plain, r.result, r.goal, "" if r.passed is None else ("PASS" if r.passed else "FAIL")]
        for r in report_rows
    ]
    head = [header.measure, header.hearth, header.plain, header.result, header.goal, "pass"]
    widths = [max(len(row[i]) for row in [head, *cells]) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [head, *cells]]  # fmt: skip
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    import llama_cpp

    return {
        "cores": os.cpu_count(),
        "arch": platform.machine(),
        "gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "llama_cpp_python": llama_cpp.__version__,
    }


def turn_record(turn: Turn) -> dict[str, Any]:
    return {
        **{k: v for k, v in asdict(turn).items() if k not in ("text", "started", "first", "last", "done", "states")},
        "ttft_split_ms": [round(1000 * part, 2) for part in turn.split()] if turn.states else None,
        "ttft_ms": round(1000 * turn.ttft, 2),
        "tokens_per_second": round(turn.rate, 2),
        "finish_ms": round(1000 * (turn.done - turn.last), 2) if turn.done else None,
    }


def report_json(options: Options, site_context: int, results: Measurements, before: dict[str, Any]) -> str:
    return json.dumps(
        {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine_before": before,
            "machine_after": machine(),
            "others_cpu_share": round(results.others_share, 3),
            "options": {**asdict(options), "model": str(options.model), "context": site_context},
            "rows": [asdict(r) for r in rows(results, options.turns)],
            "notes": notes(results),
            "runs": {
                name: [turn_record(t) for t in getattr(results, name)]
                for name in ("plain_chat", "plain_generate", "hearth")
            }
            | {
                name: [[turn_record(t) for t in c] for c in getattr(results, name)]
                for name in ("plain_conversations", "plain_forgetting_conversations", "hearth_conversations")
            },
        },
        indent=2,
    )


def report_text(options: Options, site_context: int, results: Measurements, before: dict[str, Any]) -> str:
    after = machine()
    header = (
        f"{options.model.name}: n_threads {options.threads}, n_ctx {site_context}, max_tokens {options.max_tokens}, "
        f"{options.repeats} repeats (medians), {after['cores']} cores {after['arch']}, "
        f"GPU offload {'yes' if after['gpu_offload'] else 'no'}, load average {before['load_average']} → "
        f"{after['load_average']}, other processes' CPU share {results.others_share:.0%}"
    )
    warning = (
        [f"WARNING: other processes used {results.others_share:.0%} of the CPU during the run; they preempt "
         "llama.cpp's threads and these figures swing widely. Re-run when the machine is idle."]
        if results.others_share > BUSY_SHARE
        else []
    )  # fmt: skip
    return "\n".join([header, *warning, "", table(rows(results, options.turns)), "", *notes(results)])


# --- main ------------------------------------------------------------------------------------------


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


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
    options = parse_options(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        print(run(options))
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    except BenchError as exc:
        say(str(exc))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
