"""Jobs through the real stack: web → Redis → a Celery worker process → Chroma → websocket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import AsyncClient

from assistant.jobs.services import job_create
from assistant.models import Job, JobEvent, JobStatus
from tests.support.services import WorkerProcess, session_cookie, wait_for, ws_open

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


async def _events_until_final(socket: Any, job_id: int, *, timeout: float = 60) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while not events or events[-1]["status"] not in ("succeeded", "failed", "cancelled"):
        message = await socket.receive_json_from(timeout=timeout)
        if message.get("type") == "job" and message["job"]["id"] == job_id:
            events.append(message["job"])
    return events


@pytest.mark.asyncio
async def test_a_system_check_runs_end_to_end_and_streams_ordered_progress(
    worker: WorkerProcess, alice: Any, egress_log: Path
) -> None:
    socket = await ws_open(await database_sync_to_async(session_cookie)(alice))
    assert (await socket.connect())[0]
    web = AsyncClient()
    await web.aforce_login(alice)

    response = await web.post("/settings/selfcheck/", headers={"accept": "application/json"})
    job_id = response.json()["job"]["id"]
    events = await _events_until_final(socket, job_id)
    await socket.disconnect()

    assert events[-1]["status"] == "succeeded", events[-1]
    assert events[-1]["message"] == "All 4 checks passed"
    seqs = [event["seq"] for event in events]
    assert seqs == sorted(set(seqs))  # in order, none repeated
    progress = [event["progress"] for event in events]
    assert progress == sorted(progress)
    assert "Vector store answers" in [event["message"] for event in events]

    import chromadb

    stored = chromadb.HttpClient(host="127.0.0.1", port=int(_chroma_port())).get_collection(
        "hearth_selfcheck", embedding_function=None
    )
    assert stored.get(ids=[f"selfcheck:{alice.pk}"])["metadatas"][0]["job_id"] == job_id
    assert not egress_log.exists() or egress_log.read_text() == ""


def _chroma_port() -> str:
    from django.conf import settings

    return settings.CHROMA_URL.rsplit(":", 1)[1]


def test_a_job_whose_worker_is_killed_completes_exactly_once_on_a_new_worker(worker: WorkerProcess, alice: Any) -> None:
    job = job_create(owner=alice, kind="selfcheck", title="System check")

    def mid_flight() -> bool:
        job.refresh_from_db()
        return job.status == JobStatus.RUNNING and job.progress > 0

    wait_for(mid_flight, timeout=30, what="the job to be half done")
    worker.kill()
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING

    worker.start()
    wait_for(lambda: Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED, timeout=60, what="the job to finish")

    job.refresh_from_db()
    assert job.attempts == 2
    assert JobEvent.objects.filter(job=job, status=JobStatus.SUCCEEDED).count() == 1
    seqs = list(JobEvent.objects.filter(job=job).values_list("seq", flat=True))
    assert seqs == list(range(len(seqs)))


def test_the_egress_guard_refuses_a_connection_off_this_machine(
    egress_log: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from tests.egress import sitecustomize as guard

    def must_not_be_reached(*_: object) -> None:
        pytest.fail("the guard let a connection through")

    # Even if the guard were broken, nothing would leave: the real connect is replaced too.
    monkeypatch.setattr(guard, "_real_connect", must_not_be_reached)
    with pytest.raises(ConnectionRefusedError, match="egress guard"), socket.socket() as probe:
        probe.connect(("203.0.113.9", 443))
    assert "203.0.113.9" in egress_log.read_text()
    egress_log.write_text("")


def test_a_job_whose_message_was_lost_when_redis_restarted_still_runs(worker: WorkerProcess, alice: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    # As after a Redis restart without persistence: the row says queued, the broker has no message.
    job = Job.objects.create(
        owner=alice,
        kind="selfcheck",
        title="System check",
        dispatched_at=timezone.now() - timedelta(seconds=10),
    )
    wait_for(lambda: Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED, timeout=60, what="the job to run")
    assert Job.objects.get(pk=job.pk).attempts == 1
