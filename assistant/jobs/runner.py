"""Runs one claimed job: keeps its heartbeat, hears cancels, and records the outcome."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections
from redis.exceptions import ConnectionError as RedisConnectionError

from assistant.jobs.models import Job, JobStatus
from assistant.jobs.registry import kind_spec
from assistant.jobs.services import JobLost, job_claim, job_finish, job_heartbeat, job_progress, job_release

log = logging.getLogger(__name__)

# Faults of a service that is restarting, not of the job: the job goes back in the queue.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    RedisConnectionError,
    OperationalError,
    InterfaceError,
)


class JobCancelled(Exception):
    """The owner asked for the job to stop."""


class JobFailed(Exception):
    """The job cannot succeed; the message is shown to the owner as it is."""


class TransientJobError(Exception):
    """The job hit a passing fault and was put back in the queue."""


@dataclass
class JobContext:
    """What a handler gets: its job, and a way to report progress that also hears cancels."""

    job: Job
    token: str
    stop: threading.Event = field(default_factory=threading.Event)

    def progress(self, fraction: float, message: str) -> None:
        self.check()
        self.job = job_progress(job_id=self.job.pk, token=self.token, progress=fraction, message=message)
        if self.job.cancel_requested:
            raise JobCancelled

    def check(self) -> None:
        if self.stop.is_set():
            raise JobCancelled


def _handler(kind: str) -> Callable[[JobContext], str | None]:
    module_name, func_name = kind_spec(kind).handler.split(":")
    return getattr(importlib.import_module(module_name), func_name)  # type: ignore[no-any-return]


@contextmanager
def _heartbeat(context: JobContext) -> Iterator[None]:
    """Touch the job's heartbeat from a side thread, so long steps are not taken for death."""
    done = threading.Event()

    def beat() -> None:
        try:
            while not done.wait(settings.HEARTH_JOB_HEARTBEAT_SECONDS):
                if not job_heartbeat(job_id=context.job.pk, token=context.token):
                    context.stop.set()
        finally:
            close_old_connections()

    thread = threading.Thread(target=beat, name=f"job-{context.job.pk}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def job_execute(*, job_id: int, worker: str) -> None:
    """Claim and run one job. A no-op when the job is gone, finished, or alive elsewhere."""
    claimed = job_claim(job_id=job_id, worker=worker)
    if claimed is None:
        return
    job, token = claimed
    context = JobContext(job=job, token=token)
    try:
        with _heartbeat(context):
            summary = _handler(job.kind)(context)
    except JobLost:
        log.info("job %s was taken over or stopped elsewhere", job_id)
    except JobCancelled:
        job_finish(job_id=job_id, token=token, status=JobStatus.CANCELLED, message="Cancelled")
    except JobFailed as exc:
        job_finish(job_id=job_id, token=token, status=JobStatus.FAILED, message="Failed", error=str(exc))
    except TRANSIENT_ERRORS as exc:
        log.warning("job %s hit a passing fault: %s", job_id, exc)
        close_old_connections()
        job_release(job_id=job_id, token=token, message=f"Waiting to retry: {exc}")
        raise TransientJobError(str(exc)) from exc
    except Exception as exc:
        log.exception("job %s failed", job_id)
        error = f"Unexpected error ({type(exc).__name__}): {exc}. The log of the worker has details."
        job_finish(job_id=job_id, token=token, status=JobStatus.FAILED, message="Failed", error=error)
    else:
        job_finish(job_id=job_id, token=token, status=JobStatus.SUCCEEDED, message=summary or "Done")
