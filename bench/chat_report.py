"""What bench.chat_stream measured, as the table, the notes and the JSON it prints."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bench.common import Row, table

if TYPE_CHECKING:
    from bench.chat_stream import Measurements, Options
    from bench.chat_turn import Turn

GOAL_RATE = 0.97  # Hearth tokens/s over plain tokens/s (chat API and generate loop), at least (issue 12)
GOAL_TTFT_MS = 30.0  # Hearth time to first token minus plain, at most (issue 12)
GOAL_TURN_RATIO = 1.3  # Hearth turn-N time to first token over turn 1, at most
BUSY_SHARE = 0.1  # other processes using more than this share of the CPU make the figures noisy


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def paired(hearth: list[Turn], plain: list[Turn], compare: Callable[[Turn, Turn], float]) -> float:
    """The median over repeats of one Hearth run against the plain run just before it."""
    return median([compare(h, p) for h, p in zip(hearth, plain, strict=True)])


def turn_ratio(conversation: list[Turn]) -> float:
    return conversation[-1].ttft / conversation[0].ttft


def figures(results: Measurements) -> dict[str, float]:
    """The figures each goal is judged on, by name (bench.chat_runs takes their medians over runs)."""
    hearth, chat, generate = results.hearth, results.plain_chat, results.plain_generate
    return {
        "rate_vs_chat": paired(hearth, chat, lambda h, p: h.rate / p.rate),
        "rate_vs_generate": paired(hearth, generate, lambda h, p: h.rate / p.rate),
        "ttft_ms_vs_chat": 1000 * paired(hearth, chat, lambda h, p: h.ttft - p.ttft),
        "ttft_ms_vs_generate": 1000 * paired(hearth, generate, lambda h, p: h.ttft - p.ttft),
        "turn_ratio": median([turn_ratio(c) for c in results.hearth_conversations]),
        "plain_turn_ratio": median([turn_ratio(c) for c in results.plain_conversations]),
        "hearth_rate": median([t.rate for t in hearth]),
        "plain_chat_rate": median([t.rate for t in chat]),
        "plain_generate_rate": median([t.rate for t in generate]),
    }


def rows(results: Measurements, turns: int) -> list[Row]:
    hearth, chat, generate = results.hearth, results.plain_chat, results.plain_generate
    judged = figures(results)
    rate, rate_vs_generate = judged["rate_vs_chat"], judged["rate_vs_generate"]
    ttft_ms, ttft_vs_generate_ms = judged["ttft_ms_vs_chat"], judged["ttft_ms_vs_generate"]
    hearth_turns, plain_turns = judged["turn_ratio"], judged["plain_turn_ratio"]
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
        Row(
            "tokens/s, websocket vs generate loop",
            "",
            rate_of(generate),
            f"{rate_vs_generate:.3f}",
            f"≥ {GOAL_RATE}",
            rate_vs_generate >= GOAL_RATE,
        ),
        Row(
            "TTFT warm, websocket vs chat API",
            ttft_of(hearth),
            ttft_of(chat),
            f"{ttft_ms:+.0f} ms",
            f"≤ +{GOAL_TTFT_MS:.0f} ms",
            ttft_ms <= GOAL_TTFT_MS,
        ),
        Row(
            "TTFT warm, websocket vs generate loop",
            "",
            ttft_of(generate),
            f"{ttft_vs_generate_ms:+.0f} ms",
            f"≤ +{GOAL_TTFT_MS:.0f} ms",
            ttft_vs_generate_ms <= GOAL_TTFT_MS,
        ),
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
            "figures": figures(results),
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
    return "\n".join(
        [
            header,
            *warning,
            "",
            table(plain="plain", result="Hearth vs plain", report_rows=rows(results, options.turns)),
            "",
            *notes(results),
        ]
    )
