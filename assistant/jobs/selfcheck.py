"""The system check: proves that the database, Redis, a worker and Chroma all answer."""

from __future__ import annotations

import shutil
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from assistant.core.vectors import collection_get
from assistant.jobs.runner import JobContext, JobFailed
from assistant.models import Job

SELFCHECK_COLLECTION = "hearth_selfcheck"


def _check_database(context: JobContext) -> str:
    return f"Database answers ({Job.objects.owned_by(context.job.owner).count()} jobs on record)"


def _check_redis(context: JobContext) -> str:
    key = f"selfcheck:{context.job.pk}"
    cache.set(key, context.token, timeout=60)
    if cache.get(key) != context.token:
        raise JobFailed("Redis did not return what was written to it. Check REDIS_URL and that Redis is running.")
    return "Redis answers"


def _check_chroma(context: JobContext) -> str:
    owner_id = context.job.owner_id
    try:
        collection = collection_get(name=SELFCHECK_COLLECTION)
        # One record per member under a fixed id: running the check again overwrites, never adds.
        collection.upsert(
            ids=[f"selfcheck:{owner_id}"],
            embeddings=[[1.0, 0.0, 0.0]],
            metadatas=[{"owner_id": owner_id, "job_id": context.job.pk}],
            documents=["Hearth system check"],
        )
        found = collection.query(query_embeddings=[[1.0, 0.0, 0.0]], n_results=1, where={"owner_id": owner_id})
    except ConnectionError:
        raise
    except Exception as exc:
        raise JobFailed(
            f"The vector store at {settings.CHROMA_URL} did not answer ({exc}). "
            "Check CHROMA_URL and that Chroma is running."
        ) from exc
    if found["ids"] != [[f"selfcheck:{owner_id}"]]:
        raise JobFailed("The vector store returned the wrong record for this member.")
    return "Vector store answers"


def _check_disk(context: JobContext) -> str:
    free_gb = shutil.disk_usage(settings.DATA_DIR).free / 1e9
    if free_gb < 1:
        raise JobFailed(f"Only {free_gb:.1f} GB is free under {settings.DATA_DIR}. Free some space.")
    return f"{free_gb:.0f} GB free for your data"


STEPS: list[Callable[[JobContext], str]] = [_check_database, _check_redis, _check_chroma, _check_disk]


def selfcheck_run(context: JobContext) -> str:
    for number, step in enumerate(STEPS, start=1):
        result = step(context)
        context.progress(number / len(STEPS), result)
        if settings.HEARTH_SELFCHECK_STEP_SECONDS:
            context.stop.wait(settings.HEARTH_SELFCHECK_STEP_SECONDS)
            context.check()
    return f"All {len(STEPS)} checks passed"
