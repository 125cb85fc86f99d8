"""A web request that needs a model runs it in the query worker and waits for the answer.

The web process never loads torch, open_clip or onnxruntime: a search (photos by words or by an
example, documents, voice notes) sends its query to the `query` worker, which keeps the encoders warm,
and waits for the vector on a Redis list of its own. Only the functions named in registry.REMOTE_CALLS
can be run this way; arguments and results are JSON.

Only the web server (`python -m assistant.core.web`, which sets HEARTH_WEB_PROCESS) sends calls away.
Elsewhere the call runs right there: a worker may load models (and a worker waiting on another queue's
worker could wait on itself), and so may a management command, a benchmark or a test's own process.
"""

from __future__ import annotations

import importlib
import json
import os
import uuid
from collections.abc import Callable
from typing import Any

import redis
from celery import current_app
from django.conf import settings

from assistant.jobs.registry import REMOTE_CALLS

REMOTE_TASK = "hearth.remote_call"
WEB_PROCESS_ENV = "HEARTH_WEB_PROCESS"
QUEUE = "query"
# A reply nobody waits for any more is dropped after this long.
REPLY_KEEP_SECONDS = 60


class RemoteUnavailable(RuntimeError):
    """No worker answered in time; the message says what to do."""


class RemoteFailed(RuntimeError):
    """The worker ran the call and it raised; the message is the exception's."""


def remote_target(name: str) -> Callable[..., Any]:
    module_name, function_name = REMOTE_CALLS[name].split(":")
    return getattr(importlib.import_module(module_name), function_name)  # type: ignore[no-any-return]


def remote_call(*, name: str, arguments: dict[str, Any], timeout: float | None = None) -> Any:
    """Run REMOTE_CALLS[name](**arguments) in the query worker and return its result."""
    if name not in REMOTE_CALLS:
        raise KeyError(name)
    if os.environ.get(WEB_PROCESS_ENV) != "1":
        return remote_target(name)(**arguments)
    seconds = timeout or settings.HEARTH_QUERY_TIMEOUT_SECONDS
    reply = f"{settings.REDIS_PREFIX}:reply:{uuid.uuid4().hex}"
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        # `expires`: a query still queued when its asker gave up is thrown away, not run.
        current_app.send_task(
            REMOTE_TASK, kwargs={"name": name, "arguments": arguments, "reply": reply}, queue=QUEUE, expires=seconds
        )
        answered = client.blpop([reply], timeout=seconds)
    if answered is None:
        raise RemoteUnavailable(
            f"The search worker did not answer within {seconds:.0f} s. It may still be loading its model: "
            "try again in a moment. If this persists, restart Hearth (its `query` worker is not running)."
        )
    payload = json.loads(answered[1])
    if "error" in payload:
        raise RemoteFailed(payload["error"])
    return payload["result"]


def remote_answer(*, name: str, arguments: dict[str, Any], reply: str) -> None:
    """In the worker: run the call and push its result, or its error, to the waiting request."""
    try:
        payload = {"result": remote_target(name)(**arguments)}
    except Exception as exc:  # the asker gets every failure as words, never a timeout
        payload = {"error": str(exc) or type(exc).__name__}
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        client.pipeline().rpush(reply, json.dumps(payload)).expire(reply, REPLY_KEEP_SECONDS).execute()
