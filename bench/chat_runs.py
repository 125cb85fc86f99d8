"""bench.chat_stream --runs N: the whole comparison N times, each in fresh processes, and the medians.

Why: on this kind of machine llama.cpp's speed differs by tens of percent with nothing else running,
from one process to the next and over time (the same plain script in 5 fresh processes gave 88 to 106
tok/s, each steady within itself; another series gave 115 or 140, and 103-105 half an hour later; one
run's plain side ran at 60 tok/s while Hearth ran at 119), so one run can flatter either side. Each run
here starts a new benchmark process (plain side) and a new Hearth (worker side); the report gives each
run's figures, their median and their range, and judges the goals on the medians.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.chat_report import GOAL_RATE, GOAL_TTFT_MS, GOAL_TURN_RATIO, median
from bench.common import BenchError, Row, say, table

if TYPE_CHECKING:
    from bench.chat_hearth import Options


@dataclass(frozen=True)
class Judged:
    figure: str  # its name in chat_report.figures
    label: str
    goal: str
    digits: int
    passes: Callable[[float], bool]


JUDGED = (
    Judged("rate_vs_chat", "tokens/s / plain chat API", f">= {GOAL_RATE}", 3, lambda v: v >= GOAL_RATE),
    Judged("rate_vs_generate", "tokens/s / plain generate loop", f">= {GOAL_RATE}", 3, lambda v: v >= GOAL_RATE),
    Judged(
        "ttft_ms_vs_chat", "TTFT minus plain chat API, ms", f"<= +{GOAL_TTFT_MS:.0f}", 0,
        lambda v: v <= GOAL_TTFT_MS,
    ),
    Judged(
        "ttft_ms_vs_generate", "TTFT minus plain generate loop, ms", f"<= +{GOAL_TTFT_MS:.0f}", 0,
        lambda v: v <= GOAL_TTFT_MS,
    ),
    Judged("turn_ratio", "TTFT last turn / turn 1", f"<= {GOAL_TURN_RATIO}", 2, lambda v: v <= GOAL_TURN_RATIO),
)  # fmt: skip
SHOWN = (
    ("hearth_rate", "Hearth tok/s"),
    ("plain_chat_rate", "plain chat tok/s"),
    ("plain_generate_rate", "generate tok/s"),
)


def one_run(options: Options) -> dict[str, Any]:
    command = [
        sys.executable, "-m", "bench.chat_stream", "--json",
        "--model", str(options.model), "--threads", str(options.threads), "--context", str(options.context),
        "--max-tokens", str(options.max_tokens), "--repeats", str(options.repeats), "--turns", str(options.turns),
    ]  # fmt: skip
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False, env=os.environ.copy())
    if done.returncode != 0:
        raise BenchError(f"a run failed (exit {done.returncode}); its progress is above")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _spread(values: list[float], digits: int) -> str:
    return f"{median(values):.{digits}f} ({min(values):.{digits}f} to {max(values):.{digits}f})"


def runs_report(options: Options) -> str:
    reports = []
    for number in range(1, options.runs + 1):
        say(f"run {number}/{options.runs}, in fresh processes")
        reports.append(one_run(options))
    if options.as_json:
        return json.dumps({"runs": reports}, indent=2)
    figures = [report["figures"] for report in reports]
    rows = []
    for judged in JUDGED:
        values = [f[judged.figure] for f in figures]
        each = " ".join(f"{v:.{judged.digits}f}" for v in values)
        rows.append(
            Row(judged.label, _spread(values, judged.digits), each, "", judged.goal, judged.passes(median(values)))
        )
    # Each run's rates too: a run whose plain side drew a slow llama.cpp speed shows here, not only in a ratio.
    shown = [
        f"{label}: {_spread([f[name] for f in figures], 1)}, each run {' '.join(f'{f[name]:.1f}' for f in figures)}"
        for name, label in SHOWN
    ]
    loads = [f"{r['machine_before']['load_average'][0]}→{r['machine_after']['load_average'][0]}" for r in reports]
    others = [f"{r['others_cpu_share']:.0%}" for r in reports]
    header = (
        f"{options.model.name}: {options.runs} runs x {options.repeats} repeats, n_threads {options.threads}, "
        f"max_tokens {options.max_tokens}; each run in fresh processes; medians (range) over the runs"
    )
    return "\n".join([
        header,
        f"load average (1 min) before→after each run: {', '.join(loads)}",
        f"other processes' CPU share in each run: {', '.join(others)}",
        "",
        table(rows, plain="each run", result=""),
        "",
        *shown,
    ])  # fmt: skip
