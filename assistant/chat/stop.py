"""Stopping an answer, in one place: the page's request publishes it, the writing worker hears it.

The request is kept twice: a short-lived cache key (for a worker that starts listening late) and a
Redis pub/sub message (so a listening worker hears it at once, without polling Redis at every token).
"""

from __future__ import annotations

import logging
import os
import threading
import time

import redis
from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)


def _stop_key(message_id: int) -> str:
    return f"chat:stop:{message_id}"


def stop_channel(message_id: int | str) -> str:
    """The Redis channel a writing worker listens on, so it hears a stop without polling ("*": all of them)."""
    return f"{settings.REDIS_PREFIX}:chat:stop:{message_id}"


def stop_publish(*, message_id: int) -> None:
    cache.set(_stop_key(message_id), 1, timeout=3600)
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        client.publish(stop_channel(message_id), "stop")


def stop_clear(*, message_id: int) -> None:
    """Forget an earlier stop, before the answer is written again."""
    cache.delete(_stop_key(message_id))


def stop_requested(message_id: int) -> bool:
    return bool(cache.get(_stop_key(message_id)))


RECONNECT_SECONDS = 1.0  # after Redis went away


class _StopListener:
    """One subscription per process to every answer's stop channel, made on first use.

    An answer being written registers an Event and is told the moment its stop is published; nothing
    is connected per answer, so the work at the start of an answer (and beside its first tokens) stays
    small. A process forked from one that listened starts its own.
    """

    def __init__(self) -> None:
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[int, threading.Event] = {}
        self._thread: threading.Thread | None = None

    def listen(self, message_id: int) -> threading.Event:
        heard = threading.Event()
        with self._lock:
            self._waiting[message_id] = heard
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="stop-listener", daemon=True)
                self._thread.start()
        return heard

    def forget(self, message_id: int) -> None:
        with self._lock:
            self._waiting.pop(message_id, None)

    def _run(self) -> None:
        while True:
            try:
                self._listen()
            except redis.RedisError:  # Redis away: the job's cancel still arrives with the heartbeat
                log.warning("cannot listen for stops; trying again", exc_info=True)
            time.sleep(RECONNECT_SECONDS)

    def _listen(self) -> None:
        with redis.Redis.from_url(settings.REDIS_URL) as client:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(stop_channel("*"))
                self._catch_up()
                for message in pubsub.listen():
                    self._heard(int(message["channel"].rsplit(b":", 1)[-1]))
            finally:
                pubsub.close()

    def _catch_up(self) -> None:
        """Stops published before the subscription took hold (or while Redis was away) left their key."""
        with self._lock:
            waiting = list(self._waiting)
        for message_id in waiting:
            if stop_requested(message_id):
                self._heard(message_id)

    def _heard(self, message_id: int) -> None:
        with self._lock:
            heard = self._waiting.get(message_id)
        if heard is not None:
            heard.set()


_listener = _StopListener()


class StopSignal:
    """Hears a member's stop the moment it is published, without asking Redis at every token.

    The process's listener thread waits on the stop channels; the generation loop only reads an Event.
    """

    def __init__(self, message_id: int) -> None:
        self.message_id = message_id

    def __enter__(self) -> threading.Event:
        heard = _listener.listen(self.message_id)
        try:
            if stop_requested(self.message_id):  # asked for before this worker listened
                heard.set()
        except redis.RedisError:  # Redis away: the job's cancel still arrives with the heartbeat
            log.warning("cannot check for a stop of message %s", self.message_id, exc_info=True)
        return heard

    def __exit__(self, *_: object) -> None:
        _listener.forget(self.message_id)
