"""Creating, claiming, reporting on and finishing jobs.

Every write that a worker makes is fenced by the claim token it got from job_claim, so a worker
that was presumed dead and replaced cannot overwrite the work of the one that replaced it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from assistant.core.events import JobPayload, event_publish
from assistant.jobs.models import ACTIVE_STATUSES, Job, JobEvent, JobStatus
from assistant.jobs.registry import KINDS, kind_spec

log = logging.getLogger(__name__)

# The one Celery task every job runs through (assistant.jobs.tasks.run_job).
RUN_JOB_TASK = "hearth.run_job"


class JobLost(Exception):
    """This worker's claim on the job is gone: it was cancelled, finished or taken over."""


def job_payload(job: Job) -> JobPayload:
    return {
        "id": job.pk,
        "kind": job.kind,
        "title": job.title,
        "status": job.status,
        "status_label": job.get_status_display(),
        "progress": round(job.progress, 4),
        "message": job.message,
        "error": job.error,
        "seq": job.event_seq,
        "can_cancel": job.is_active,
        "can_retry": job.can_retry,
    }


def _record_event(job_id: int, *, fence: Q, hold: bool = False, **changes: Any) -> Job | None:
    """Apply changes to the job if the fence holds, number the event, and push it (`hold`: EventPump.publish)."""
    with transaction.atomic():
        updated = Job.objects.filter(Q(pk=job_id) & fence).update(event_seq=F("event_seq") + 1, **changes)
        if not updated:
            return None
        job = Job.objects.get(pk=job_id)
        JobEvent.objects.create(
            job=job, seq=job.event_seq, status=job.status, progress=job.progress, message=job.message
        )
    try:
        event_publish(user_id=job.owner_id, event={"type": "job", "job": job_payload(job)}, hold=hold)
    except Exception:  # a push that fails must never fail the work; the page re-reads the row
        log.warning("could not push job %s event", job_id, exc_info=True)
    return job


def job_create(*, owner: Any, kind: str, title: str, payload: dict[str, Any] | None = None) -> Job:
    kind_spec(kind)  # an unknown kind fails here, in the caller, not later in a worker
    job = Job.objects.create(owner=owner, kind=kind, title=title, payload=payload or {}, dispatched_at=timezone.now())
    JobEvent.objects.create(job=job, seq=0, status=job.status, progress=0.0, message="")
    # Sent as soon as the row is committed, without reading it back: a chat answer's worker starts sooner.
    transaction.on_commit(lambda: job_send(job_id=job.pk, kind=kind))
    return job


def job_dispatch(*, job_id: int) -> None:
    """Hand a queued job to the broker again. Safe to repeat: a duplicate message finds it claimed."""
    job = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).first()
    if job is None:
        return
    Job.objects.filter(pk=job_id).update(dispatched_at=timezone.now())
    job_send(job_id=job.pk, kind=job.kind)


def job_send(*, job_id: int, kind: str) -> None:
    """The one place a job reaches the broker (tests and benches replace it to run jobs in-process)."""
    # By name: the service does not import the task module (which imports the runner, which imports us).
    current_app.send_task(RUN_JOB_TASK, args=(job_id,), queue=kind_spec(kind).queue)


def job_claim(*, job_id: int, worker: str) -> tuple[Job, str] | None:
    """Take a queued job, or one whose worker went silent. None when there is nothing to do."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.HEARTH_JOB_STALE_SECONDS)
    token = uuid.uuid4().hex
    claimable = Q(status=JobStatus.QUEUED, cancel_requested=False) | Q(
        status=JobStatus.RUNNING, heartbeat_at__lt=stale, cancel_requested=False
    )
    job = _record_event(
        job_id,
        fence=claimable,
        hold=True,  # "Starting" goes out with the job's next event (an answer's first words, say)
        status=JobStatus.RUNNING,
        claim_token=token,
        claimed_by=worker,
        heartbeat_at=now,
        started_at=Coalesce(F("started_at"), now),
        attempts=F("attempts") + 1,
        message="Starting",
        error="",
    )
    return (job, token) if job else None


def job_progress(*, job_id: int, token: str, progress: float, message: str) -> Job:
    job = _record_event(
        job_id,
        fence=Q(claim_token=token, status=JobStatus.RUNNING),
        progress=max(0.0, min(1.0, progress)),
        message=message[:300],
        heartbeat_at=timezone.now(),
    )
    if job is None:
        raise JobLost(job_id)
    return job


def job_heartbeat(*, job_id: int, token: str) -> bool:
    """Keep the claim alive. False when the claim is lost or a cancel was asked for."""
    alive = Job.objects.filter(pk=job_id, claim_token=token, status=JobStatus.RUNNING).update(
        heartbeat_at=timezone.now()
    )
    return bool(alive) and not Job.objects.filter(pk=job_id, cancel_requested=True).exists()


def job_finish(*, job_id: int, token: str, status: str, message: str = "", error: str = "") -> Job | None:
    done = status == JobStatus.SUCCEEDED
    return _record_event(
        job_id,
        fence=Q(claim_token=token, status=JobStatus.RUNNING),
        status=status,
        progress=1.0 if done else F("progress"),
        message=message[:300],
        error=error,
        finished_at=timezone.now(),
        claim_token="",
    )


def job_release(*, job_id: int, token: str, message: str) -> Job | None:
    """Give a job back to the queue after a passing fault; Celery retries it with backoff."""
    return _record_event(
        job_id,
        fence=Q(claim_token=token, status=JobStatus.RUNNING),
        status=JobStatus.QUEUED,
        message=message[:300],
        claim_token="",
        dispatched_at=timezone.now(),
    )


def job_active(*, job_id: int | None) -> Job | None:
    """The job if it is still waiting or running; None for no job, or one that has ended."""
    job = Job.objects.filter(pk=job_id).first() if job_id else None
    return job if job is not None and job.is_active else None


def job_cancel_active(*, job_id: int | None) -> Job | None:
    """Cancel the job if it is still active (a row's indexing or transcription, say). Returns it when it
    stopped at once, because it was only waiting; a running one stops at its next check, by itself."""
    job = job_active(job_id=job_id)
    if job is None:
        return None
    job = job_cancel(job=job)
    return job if job.status == JobStatus.CANCELLED else None


def job_cancel(*, job: Job) -> Job:
    """A queued job stops at once; a running one stops at its next check."""
    if job.status == JobStatus.QUEUED:
        cancelled = _record_event(
            job.pk,
            fence=Q(status=JobStatus.QUEUED),
            status=JobStatus.CANCELLED,
            message="Cancelled",
            finished_at=timezone.now(),
        )
        if cancelled:
            return cancelled
    _record_event(job.pk, fence=Q(status__in=ACTIVE_STATUSES), cancel_requested=True, message="Cancelling…")
    job.refresh_from_db()
    return job


def job_retry(*, job: Job) -> Job:
    """Run a failed or cancelled job again from the start."""
    retried = _record_event(
        job.pk,
        fence=Q(status__in=(JobStatus.FAILED, JobStatus.CANCELLED)),
        status=JobStatus.QUEUED,
        progress=0.0,
        message="Queued again",
        error="",
        cancel_requested=False,
        finished_at=None,
        claim_token="",
    )
    if retried is None:
        job.refresh_from_db()
        return job
    transaction.on_commit(lambda: job_dispatch(job_id=job.pk))
    return retried


def job_abandon(*, job_id: int, reason: str) -> None:
    """After the last retry: fail a job that is waiting for another try."""
    _record_event(
        job_id,
        fence=Q(status=JobStatus.QUEUED),
        status=JobStatus.FAILED,
        message="Failed",
        error=f"Gave up after several attempts: {reason}",
        finished_at=timezone.now(),
    )


def jobs_requeue_stale() -> list[int]:
    """Put back jobs whose worker died, and re-send queued jobs whose message may have been lost.

    Every worker runs this now and then. Re-sending is safe: job_claim lets one delivery win.
    """
    stale = timezone.now() - timedelta(seconds=settings.HEARTH_JOB_STALE_SECONDS)
    abandoned = Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=stale)
    # A job its owner cancelled has nobody left to hear the cancel: it ends here.
    for job_id in abandoned.filter(cancel_requested=True).values_list("pk", flat=True):
        _record_event(
            job_id,
            fence=Q(status=JobStatus.RUNNING, heartbeat_at__lt=stale),
            status=JobStatus.CANCELLED,
            message="Cancelled",
            claim_token="",
            finished_at=timezone.now(),
        )
    revived: list[int] = []
    for job_id in abandoned.filter(cancel_requested=False).values_list("pk", flat=True):
        if _record_event(
            job_id,
            fence=Q(status=JobStatus.RUNNING, heartbeat_at__lt=stale),
            status=JobStatus.QUEUED,
            claim_token="",
            message="Worker stopped; queued again",
        ):
            revived.append(job_id)
    lost = Job.objects.filter(status=JobStatus.QUEUED, dispatched_at__lt=stale).values_list("pk", flat=True)
    for job_id in [*revived, *lost]:
        job_dispatch(job_id=job_id)
    return revived


# The Jobs page's filter: "" hides chat answers and push-to-talk (one per message, they would flood
# the page), "all" shows every job.
QUIET_KINDS = ("chat", "voice_dictate")


def jobs_filter_choices() -> list[tuple[str, str]]:
    return [("", "All but chat answers"), ("all", "Everything"), *((spec.kind, spec.label) for spec in KINDS)]


def jobs_listed(*, owner: Any, kind: str) -> QuerySet[Job]:
    """The member's jobs the Jobs page shows for `kind` (a filter value; unknown ones count as "")."""
    jobs = Job.objects.owned_by(owner)
    if kind == "all":
        return jobs
    if kind in {spec.kind for spec in KINDS}:
        return jobs.filter(kind=kind)
    return jobs.exclude(kind__in=QUIET_KINDS)
