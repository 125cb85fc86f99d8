"""Celery tasks: thin wrappers that take ids and call services."""

from __future__ import annotations

import random
from typing import Any

from celery import Task, shared_task
from django.conf import settings

from assistant.jobs.remote import REMOTE_TASK, remote_answer
from assistant.jobs.runner import TransientJobError, job_execute
from assistant.jobs.services import RUN_JOB_TASK, job_abandon, jobs_requeue_stale


def _backoff_seconds(retries: int) -> float:
    """Exponential backoff with full jitter, capped at five minutes."""
    return float(random.uniform(0, min(300, 2 ** (retries + 1))))  # noqa: S311 (timing jitter, not a secret)


@shared_task(bind=True, name=RUN_JOB_TASK, acks_late=True, max_retries=None)
def run_job(self: Task[Any, None], job_id: int) -> None:
    try:
        job_execute(job_id=job_id, worker=self.request.hostname or "worker")
    except TransientJobError as exc:
        if self.request.retries + 1 >= settings.HEARTH_JOB_MAX_ATTEMPTS:
            job_abandon(job_id=job_id, reason=str(exc))
            return
        raise self.retry(countdown=_backoff_seconds(self.request.retries)) from exc


@shared_task(name="hearth.requeue_stale_jobs")
def requeue_stale_jobs() -> list[int]:
    return jobs_requeue_stale()


@shared_task(name=REMOTE_TASK, acks_late=False, ignore_result=True)
def remote_run(*, name: str, arguments: dict[str, Any], reply: str) -> None:
    remote_answer(name=name, arguments=arguments, reply=reply)
