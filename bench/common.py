"""What every benchmark script shares: progress on stderr, a free port, the results table, main()."""

from __future__ import annotations

import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class BenchError(RuntimeError):
    """The benchmark could not run; the message says why."""


def say(message: str) -> None:
    """Progress goes to stderr, so --json output on stdout stays clean."""
    print(f"bench | {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Row:
    measure: str
    hearth: str
    plain: str
    result: str
    goal: str
    passed: bool | None  # None: for reference, no goal


def table(report_rows: list[Row], *, plain: str, result: str) -> str:
    """The rows as aligned text columns, headed measure / Hearth / `plain` / `result` / goal / pass."""
    head = ["measure", "Hearth", plain, result, "goal", "pass"]
    cells = [
        [r.measure, r.hearth, r.plain, r.result, r.goal, "" if r.passed is None else ("PASS" if r.passed else "FAIL")]
        for r in report_rows
    ]
    widths = [max(len(row[i]) for row in [head, *cells]) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [head, *cells]]  # fmt: skip
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def bench_main(options: Any, run: Callable[[Any], str]) -> int:
    """Run one benchmark and print its report; SIGTERM stops it as Ctrl-C does (its services too)."""
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
