"""A job runs once: deliveries of a finished or missing job do nothing, and a replaced worker is fenced off."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from assistant.jobs.runner import job_execute
from assistant.jobs.services import JobLost, job_claim, job_finish, job_progress
from assistant.models import Job, JobEvent, JobStatus

pytestmark = pytest.mark.django_db


def _job(owner: Any, **fields: Any) -> Job:
    return Job.objects.create(owner=owner, kind="selfcheck", title="System check", **fields)


def test_a_delivery_for_a_job_that_is_gone_does_nothing() -> None:
    job_execute(job_id=987654, worker="w1")
    assert not Job.objects.exists()


def test_a_second_delivery_of_a_finished_job_does_nothing(alice: Any) -> None:
    job = _job(alice, status=JobStatus.SUCCEEDED, message="All 4 checks passed")
    job_execute(job_id=job.pk, worker="w1")
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.attempts == 0
    assert not JobEvent.objects.filter(job=job).exists()


def test_a_job_held_by_a_live_worker_is_not_taken(alice: Any) -> None:
    job = _job(alice)
    assert job_claim(job_id=job.pk, worker="w1") is not None
    assert job_claim(job_id=job.pk, worker="w2") is None


def test_a_silent_workers_job_is_taken_over_and_the_old_worker_is_fenced_off(alice: Any) -> None:
    job = _job(alice)
    claimed = job_claim(job_id=job.pk, worker="w1")
    assert claimed is not None
    _, old_token = claimed
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))

    taken = job_claim(job_id=job.pk, worker="w2")
    assert taken is not None
    _, new_token = taken
    with pytest.raises(JobLost):
        job_progress(job_id=job.pk, token=old_token, progress=0.5, message="late")
    assert job_finish(job_id=job.pk, token=old_token, status=JobStatus.SUCCEEDED) is None
    assert job_finish(job_id=job.pk, token=new_token, status=JobStatus.SUCCEEDED) is not None
    job.refresh_from_db()
    assert (job.status, job.claimed_by, job.attempts) == (JobStatus.SUCCEEDED, "w2", 2)
