"""One answer as bench.chat_stream times it, from either side."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


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
