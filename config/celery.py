"""The Celery app. Each kind of work has its own queue (see assistant.jobs.registry)."""

from __future__ import annotations

import logging
import os
import threading
import time

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("hearth")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["assistant.jobs"])


@worker_ready.connect
def _start_stale_job_sweeper(**_: object) -> None:
    """Every worker looks now and then for jobs whose worker died, and queues them again."""
    from assistant.jobs.services import jobs_requeue_stale

    def sweep_forever() -> None:
        from django.conf import settings
        from django.db import close_old_connections

        while True:
            try:
                jobs_requeue_stale()
            except Exception:  # a database or broker hiccup: try again next round
                logging.getLogger(__name__).warning("stale job sweep failed", exc_info=True)
            finally:
                close_old_connections()
            time.sleep(settings.HEARTH_JOB_SWEEP_SECONDS)

    threading.Thread(target=sweep_forever, name="stale-job-sweeper", daemon=True).start()
