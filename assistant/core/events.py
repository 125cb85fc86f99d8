"""What the workers push to a member's open pages, through the channel layer.

The consumer only relays these; the database row stays the record.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import queue
import threading
from typing import Any, TypedDict

from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


class JobPayload(TypedDict):
    id: int
    kind: str
    title: str
    status: str
    status_label: str
    progress: float
    message: str
    error: str
    seq: int
    can_cancel: bool
    can_retry: bool


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def event_publish(*, user_id: int, event: dict[str, Any]) -> None:
    """Send one event to every open page of one member. Best effort: the row is the truth.

    It goes out from the pump's thread, in order with every other event of this process, so the
    caller (a worker about to start generating, say) never waits the ~2 ms of a channel-layer send.
    """
    event_pump.publish(user_id=user_id, event=event)


# How often a streaming answer's tokens are sent on, merged; the first token goes out at once.
TOKEN_INTERVAL_SECONDS = 0.05


class EventPump:
    """Publishes events from a background thread, so a token never waits on Redis.

    One thread with its own event loop owns the channel layer's connections; events keep their
    order, and runs of tokens for the same message are merged when the thread falls behind.
    """

    def __init__(self) -> None:
        self._reset()
        # A forked process (a Celery pool child) starts afresh: the parent's thread is not in it, and
        # the parent's lock or queue may have been copied mid-use.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._queue: queue.SimpleQueue[tuple[int, dict[str, Any]]] = queue.SimpleQueue()
        self._idle = threading.Event()
        self._idle.set()
        self._hurry = threading.Event()  # cuts short the wait between token sends (flush, an answer's end)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def publish(self, *, user_id: int, event: dict[str, Any]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="event-pump", daemon=True)
                self._thread.start()
            self._idle.clear()
            self._queue.put((user_id, event))

    def hurry(self) -> None:
        """Send what is waiting now, without the pause that gathers tokens (an answer just ended)."""
        self._hurry.set()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything published so far has been handed to the channel layer."""
        self.hurry()
        return self._idle.wait(timeout)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        layer = get_channel_layer()
        while layer is None:  # no channel layer configured: nothing to send to, ever
            self._queue.get()
            with self._lock:
                if self._queue.empty():
                    self._idle.set()
        while True:
            batch = [self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get())
            for user_id, event in _merge_tokens(batch):
                try:
                    loop.run_until_complete(layer.group_send(user_group(user_id), {"type": "relay", "event": event}))
                except Exception:  # Redis away: the page catches up from the database when it reconnects
                    log.warning("could not publish %s", event.get("type"), exc_info=True)
            with self._lock:
                if self._queue.empty():
                    self._idle.set()
                    self._hurry.clear()  # what was waiting when hurry() was called has gone out
            if any(event["type"] == "chat.token" for _, event in batch):
                # Let the next tokens gather: one send per interval instead of one per token keeps
                # this thread (and Redis, daphne and the page) from interrupting llama.cpp's threads.
                # The end of an answer cuts the pause short, so its last words are not held back.
                self._hurry.wait(TOKEN_INTERVAL_SECONDS)


def _merge_tokens(batch: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
    merged: list[tuple[int, dict[str, Any]]] = []
    for user_id, event in batch:
        if merged and event["type"] == "chat.token":
            last_user, last = merged[-1]
            if last["type"] == "chat.token" and last["message"] == event["message"] and last_user == user_id:
                merged[-1] = (user_id, {**last, "text": last["text"] + event["text"]})
                continue
        merged.append((user_id, event))
    return merged


event_pump = EventPump()
# A command or script that publishes and exits still delivers what it published.
atexit.register(event_pump.flush, 5.0)
