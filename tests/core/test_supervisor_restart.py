"""service_restart: the supervisor stops one running service and its run loop starts it again."""

from __future__ import annotations

import io
import sys
import threading

from assistant.core.supervisor import Service, Supervisor
from tests.support.services import wait_for


def test_a_restarted_service_comes_back_with_a_new_process() -> None:
    sleeper = Service("web", [sys.executable, "-c", "import time; time.sleep(60)"])
    supervisor = Supervisor([sleeper], out=io.StringIO(), stop_timeout=5)
    supervisor.start()
    first = supervisor._children["web"].process
    assert first is not None
    loop = threading.Thread(target=supervisor.run, daemon=True)
    loop.start()
    try:
        supervisor.service_restart("web")

        def replaced() -> bool:
            process = supervisor._children["web"].process
            return process is not None and process.pid != first.pid and process.poll() is None

        wait_for(replaced, timeout=15, what="the web service to be started again")
        assert first.poll() is not None
    finally:
        supervisor.request_stop()
        loop.join(timeout=5)
        supervisor.stop()
