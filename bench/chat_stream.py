"""Hearth's chat streaming against plain llama-cpp-python, on this machine, with the same model.

    .venv/bin/python -m bench.chat_stream [--model PATH] [--threads N] [--repeats N] [--runs N] [--json]

It starts a private Hearth under a temporary HEARTH_DATA_DIR (redis-server on a unix socket, one
Celery worker on the llm queue, daphne on a free port), drives it over a real websocket as a page
does, and runs the same prompts through llama-cpp-python in this process while Hearth is idle.
What each figure means: bench/README.md.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.chat_hearth import HearthClient, Options, Site, hearth_running, parse_options
from bench.chat_plain import PlainChat, PlainGenerate
from bench.chat_prompts import STORIES, WARM_UP, conversation_texts
from bench.chat_report import machine, report_json, report_text
from bench.chat_turn import Turn
from bench.common import bench_main, say

SETTLE_SECONDS = 0.3  # pause before each measured request, so the previous one has fully finished
CHILD_LABELS = (("redis-server", "redis"), ("assistant.core.web", "web"), ("celery", "worker"))

# One per repeat (cycled): prompts that make a small model write until max_tokens.
# A conversation: its opening question (one per repeat, cycled) then these follow-ups. Each repeat
# opens differently, so its first turn shares no more with the previous conversation than the
# template's system prompt, on either side.


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
    options = parse_options(argv)
    if options.runs > 1:
        from bench.chat_runs import runs_report

        return bench_main(options, runs_report)
    return bench_main(options, run)


if __name__ == "__main__":
    sys.exit(main())
