"""A member never sees, cancels or retries another member's job, over HTTP or the websocket."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from assistant.jobs.services import job_payload
from assistant.models import Job, JobStatus
from tests.support.services import session_cookie, ws_open


def _job_for(owner: Any, **fields: Any) -> Job:
    return Job.objects.create(owner=owner, kind="selfcheck", title="System check", **fields)


@pytest.mark.django_db
def test_bob_cannot_read_cancel_or_retry_alices_job_over_http(client: Client, alice: Any, bob: Any) -> None:
    running = _job_for(alice, status=JobStatus.RUNNING)
    failed = _job_for(alice, status=JobStatus.FAILED, error="boom")
    client.force_login(bob)
    assert client.get(f"/api/jobs/{running.pk}/").status_code == 404
    assert client.post(f"/jobs/{running.pk}/cancel/").status_code == 404
    assert client.post(f"/jobs/{failed.pk}/retry/").status_code == 404
    assert client.get("/api/jobs/").json() == {"jobs": []}
    page = client.get("/jobs/").content.decode()
    assert f'data-job-id="{running.pk}"' not in page
    assert f'data-job-id="{failed.pk}"' not in page
    running.refresh_from_db()
    assert not running.cancel_requested


@pytest.mark.django_db
def test_alice_sees_her_own_jobs(client: Client, alice: Any) -> None:
    job = _job_for(alice, status=JobStatus.FAILED, error="Vector store did not answer")
    client.force_login(alice)
    assert client.get(f"/api/jobs/{job.pk}/").json()["job"]["error"] == "Vector store did not answer"
    page = client.get("/jobs/").content.decode()
    assert "Vector store did not answer" in page


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_bob_cannot_read_alices_job_over_the_websocket(alice: Any, bob: Any) -> None:
    job = await database_sync_to_async(_job_for)(alice)
    socket = await ws_open(await database_sync_to_async(session_cookie)(bob))
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"action": "job.get", "id": job.pk})
    reply = await socket.receive_json_from(timeout=5)
    assert reply == {"type": "error", "error": "No such job.", "id": job.pk}
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_job_events_reach_only_their_owners_pages(alice: Any, bob: Any) -> None:
    from assistant.jobs.services import job_cancel

    job = await database_sync_to_async(_job_for)(alice)
    alices = await ws_open(await database_sync_to_async(session_cookie)(alice))
    bobs = await ws_open(await database_sync_to_async(session_cookie)(bob))
    assert (await alices.connect())[0]
    assert (await bobs.connect())[0]

    await database_sync_to_async(job_cancel)(job=job)

    event = await alices.receive_json_from(timeout=5)
    assert event["type"] == "job"
    assert event["job"]["id"] == job.pk
    assert event["job"]["status"] == JobStatus.CANCELLED
    assert await bobs.receive_nothing(timeout=0.5)
    await alices.disconnect()
    await bobs.disconnect()


@pytest.mark.django_db
def test_cancelling_a_queued_job_stops_it_at_once_and_retry_queues_it_again(client: Client, alice: Any) -> None:
    job = _job_for(alice)
    client.force_login(alice)
    reply = client.post(f"/jobs/{job.pk}/cancel/", headers={"accept": "application/json"}).json()
    assert reply["job"]["status"] == JobStatus.CANCELLED
    assert reply["job"]["can_retry"]
    reply = client.post(f"/jobs/{job.pk}/retry/", headers={"accept": "application/json"}).json()
    assert reply["job"]["status"] == JobStatus.QUEUED
    assert job_payload(Job.objects.get(pk=job.pk))["seq"] == reply["job"]["seq"]
