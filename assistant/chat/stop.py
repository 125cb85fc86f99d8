"""Stopping an answer, in one place: the page's request publishes it, the writing worker hears it.

The request is kept twice: a short-lived cache key (for a worker that starts listening late) and a
Redis pub/sub message (so a listening worker hears it at once, without polling Redis at every token).
"""

from __future__ import annotations

import logging
import threading

import redis
from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)


def _stop_key(message_id: int) -> str:
    return f"chat:stop:{message_id}"


def stop_channel(message_id: int) -> str:
    """The Redis channel a writing worker listens on, so it hears a stop without polling."""
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


class StopSignal:
    """Hears a member's stop the moment it is published, without asking Redis at every token.

    A listener thread waits on the answer's stop channel; the generation loop only reads an Event.
    """

    LISTEN_SECONDS = 0.25

    def __init__(self, message_id: int) -> None:
        self.message_id = message_id
        self._heard = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._listen, name=f"stop-{message_id}", daemon=True)

    def __enter__(self) -> threading.Event:
        try:
            if stop_requested(self.message_id):  # asked for before this worker listened
                self._heard.set()
        except redis.RedisError:  # Redis away: the job's cancel still arrives with the heartbeat
            log.warning("cannot check for a stop of message %s", self.message_id, exc_info=True)
        # Connecting and subscribing happen on the listener's thread: the answer starts without waiting.
        self._thread.start()
        return self._heard

    def __exit__(self, *_: object) -> None:
        # Not joined: the listener notices within LISTEN_SECONDS and closes its connection itself,
        # while the answer is already being finished.
        self._done.set()

    def _listen(self) -> None:
        client = redis.Redis.from_url(settings.REDIS_URL)
        pubsub = client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        try:
            pubsub.subscribe(stop_channel(self.message_id))
            if stop_requested(self.message_id):  # published while this thread was subscribing
                self._heard.set()
                return
            while not self._done.is_set():
                if pubsub.get_message(timeout=self.LISTEN_SECONDS) is not None:
                    self._heard.set()
                    return
        except redis.RedisError:  # Redis away: the job's cancel still arrives with the heartbeat
            log.warning("cannot listen for a stop of message %s", self.message_id, exc_info=True)
        finally:
            pubsub.close()
            client.close()
