"""Loaded by pytest before Django (see addopts): points Hearth at throwaway data and real services.

Redis is the machine's own (127.0.0.1:6379, a database of its own); the Chroma server and the
Celery workers are started by fixtures in conftest.py on the ports chosen here.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


TEST_DATA_DIR = Path(tempfile.mkdtemp(prefix="hearth-test-"))

os.environ.update(
    {
        "HEARTH_DATA_DIR": str(TEST_DATA_DIR),
        "REDIS_URL": os.environ.get("HEARTH_TEST_REDIS_URL", "redis://127.0.0.1:6379/13"),
        "CHROMA_URL": f"http://127.0.0.1:{free_port()}",
        # Test runs may overlap on one machine's Redis: each keeps to keys of its own.
        "HEARTH_REDIS_PREFIX": f"hearth-test-{os.getpid()}",
        "ALLOWED_HOSTS": "localhost,127.0.0.1,testserver",
        # Short timings, so a killed worker's job is noticed within seconds.
        "HEARTH_JOB_HEARTBEAT_SECONDS": "0.5",
        "HEARTH_JOB_STALE_SECONDS": "3",
        "HEARTH_JOB_SWEEP_SECONDS": "1",
        # Long enough for a test to catch the system check between two steps.
        "HEARTH_SELFCHECK_STEP_SECONDS": "0.3",
        "HEARTH_LOG_LEVEL": "WARNING",
        # One thread: llama.cpp's threads spin-wait on each other, and crawl when the test
        # process and the services take the other core.
        "HEARTH_LLM_THREADS": "1",
        # The Models page's file browser sees only this folder (the tests' "USB stick"), never the machine's.
        "HEARTH_IMPORT_ROOTS": str(TEST_DATA_DIR / "usb"),
    }
)
