"""The Jobs page and its JSON twin. Every lookup is filtered to the member who asks."""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from assistant.core.http import MemberRequest, json_or_redirect
from assistant.jobs.services import (
    job_cancel,
    job_create,
    job_payload,
    job_retry,
    jobs_filter_choices,
    jobs_listed,
)
from assistant.models import Job

PAGE_SIZE = 100


def _own_job(request: MemberRequest, job_id: int) -> Job:
    return get_object_or_404(Job.objects.owned_by(request.user), pk=job_id)


def jobs_page(request: MemberRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    jobs = jobs_listed(owner=request.user, kind=kind)[:PAGE_SIZE]
    context = {"jobs": jobs, "payloads": [job_payload(job) for job in jobs], "kind": kind}
    return render(request, "jobs/list.html", {**context, "kinds": jobs_filter_choices()})


def jobs_api(request: MemberRequest) -> JsonResponse:
    jobs = Job.objects.owned_by(request.user)[:PAGE_SIZE]
    return JsonResponse({"jobs": [job_payload(job) for job in jobs]})


def job_api(request: MemberRequest, job_id: int) -> JsonResponse:
    return JsonResponse({"job": job_payload(_own_job(request, job_id))})


@require_POST
def job_cancel_view(request: MemberRequest, job_id: int) -> HttpResponse:
    job = job_cancel(job=_own_job(request, job_id))
    return _job_response(request, job, "Cancelling." if job.is_active else "Cancelled.")


@require_POST
def job_retry_view(request: MemberRequest, job_id: int) -> HttpResponse:
    job = job_retry(job=_own_job(request, job_id))
    return _job_response(request, job, "Queued again.")


@require_POST
def selfcheck_start(request: MemberRequest) -> HttpResponse:
    job = job_create(owner=request.user, kind="selfcheck", title="System check")
    return _job_response(request, job, "System check started. Follow it on the Jobs page.")


def _job_response(request: MemberRequest, job: Job, note: str) -> HttpResponse:
    return json_or_redirect(request, payload={"job": job_payload(job)}, to="jobs", note=note)
