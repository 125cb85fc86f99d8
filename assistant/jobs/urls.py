from django.urls import path

from assistant.jobs import views

urlpatterns = [
    path("settings/selfcheck/", views.selfcheck_start, name="selfcheck_start"),
    path("jobs/", views.jobs_page, name="jobs"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel_view, name="job_cancel"),
    path("jobs/<int:job_id>/retry/", views.job_retry_view, name="job_retry"),
    path("api/jobs/", views.jobs_api, name="jobs_api"),
    path("api/jobs/<int:job_id>/", views.job_api, name="job_api"),
]
