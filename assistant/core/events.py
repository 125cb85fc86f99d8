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
import time
from typing import Any, NamedTuple, TypedDict

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


def event_publish(*, user_id: int, event: dict[str, Any], hold: bool = False) -> None:
    """Send one event to every open page of one member. Best effort: the row is the truth.

    It goes out from the pump's thread, in order with every other event of this process, so the
    caller (a worker about to start generating, say) never waits the ~2 ms of a channel-layer send.
    `hold`: as EventPump.publish.
    """
    event_pump.publish(user_id=user_id, event=event, hold=hold)


# How often a streaming answer's tokens are sent on, merged; the first token goes out at once.
TOKEN_INTERVAL_SECONDS = 0.1
# The longest a held event (EventPump.publish) waits to go out with the next one.
HOLD_SECONDS = 0.25


class EventPump:
    """Publishes events from a background thread, so a token never waits on Redis.

    One thread with its own event loop owns the channel layer's connections; events keep their
    order, runs of tokens for the same message are merged when the thread falls behind, and what is
    waiting for one member goes out as one message of the channel layer.
    """

    def __init__(self) -> None:
        self._reset()
        # A forked process (a Celery pool child) starts afresh: the parent's thread is not in it, and
        # the parent's lock or queue may have been copied mid-use.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._queue: queue.SimpleQueue[_Queued] = queue.SimpleQueue()
        self._idle = threading.Event()
        self._idle.set()
        self._hurry = threading.Event()  # cuts short the wait between token sends (flush, an answer's end)
        self._wake = threading.Event()  # something was published, or hurried: ends the wait of a held event
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def publish(self, *, user_id: int, event: dict[str, Any], hold: bool = False) -> None:
        """Queue one event. A held one (work that has just started: a job's "Starting", an answer's
        "writing") waits up to HOLD_SECONDS for the next event and goes out with it, so that daphne, Redis
        and the page do not wake to relay it while the work takes the cores (llama.cpp reading a prompt)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="event-pump", daemon=True)
                self._thread.start()
            self._idle.clear()
            self._queue.put(_Queued(user_id, event, time.monotonic() + (HOLD_SECONDS if hold else 0.0)))
            self._wake.set()

    def hurry(self) -> None:
        """Send what is waiting now, without the pause that gathers tokens (an answer just ended)."""
        self._hurry.set()
        self._wake.set()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything published so far has been handed to the channel layer."""
        self.hurry()
        done = self._idle.wait(timeout)
        with self._lock:
            if self._idle.is_set():  # nothing was waiting: the next pause or hold is not to be cut short
                self._hurry.clear()
        return done

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        layer = get_channel_layer()
        while layer is None:  # no channel layer configured: nothing to send to, ever
            self._queue.get()
            with self._lock:
                if self._queue.empty():
                    self._idle.set()
        while True:
            batch = self._gather([self._queue.get()])
            for user_id, events in _by_member(_merge_tokens(batch)).items():
                try:
                    loop.run_until_complete(layer.group_send(user_group(user_id), {"type": "relay", "events": events}))
                except Exception:  # Redis away: the page catches up from the database when it reconnects
                    log.warning("could not publish %s", [event.get("type") for event in events], exc_info=True)
            with self._lock:
                if self._queue.empty():
                    self._idle.set()
                    self._hurry.clear()  # what was waiting when hurry() was called has gone out
            if any(item.event["type"] == "chat.token" for item in batch):
                # Let the next tokens gather: one send per interval instead of one per token keeps
                # this thread (and Redis, daphne and the page) from interrupting llama.cpp's threads.
                # The end of an answer cuts the pause short, so its last words are not held back.
                self._hurry.wait(TOKEN_INTERVAL_SECONDS)

    def _gather(self, batch: list[_Queued]) -> list[_Queued]:
        """Everything queued now; while the newest event is held, what follows it within its hold too."""
        while True:
            self._wake.clear()
            while not self._queue.empty():
                batch.append(self._queue.get())
            held_for = batch[-1].send_by - time.monotonic()
            if held_for <= 0 or self._hurry.is_set():
                return batch
            self._wake.wait(held_for)


class _Queued(NamedTuple):
    user_id: int
    event: dict[str, Any]
    send_by: float  # time.monotonic(): a held event goes out then, if nothing came after it


def _by_member(batch: list[_Queued]) -> dict[int, list[dict[str, Any]]]:
    events: dict[int, list[dict[str, Any]]] = {}
    for item in batch:
        events.setdefault(item.user_id, []).append(item.event)
    return events


def _merge_tokens(batch: list[_Queued]) -> list[_Queued]:
    merged: list[_Queued] = []
    for item in batch:
        if merged and item.event["type"] == "chat.token":
            last = merged[-1]
            if (
                last.event["type"] == "chat.token"
                and last.event["message"] == item.event["message"]
                and last.user_id == item.user_id
            ):
                merged[-1] = last._replace(event={**last.event, "text": last.event["text"] + item.event["text"]})
                continue
        merged.append(item)
    return merged


event_pump = EventPump()
# A command or script that publishes and exits still delivers what it published.
atexit.register(event_pump.flush, 5.0)
