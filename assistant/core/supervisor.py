"""Runs Hearth's processes on one box: a private Redis, Chroma, two Celery workers and the web server.

The services' argument lists and probes are in processes.py. `Supervisor` starts each child in its own
process group, waits until it answers, restarts a child that dies (with backoff), and on Ctrl-C or
SIGTERM stops them all in reverse order.

This module imports only the standard library (and the registry): importing it has no side effects.
Which workers run comes from assistant.jobs.registry.LOCAL_WORKERS.
"""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from assistant.core.processes import SupervisorError, group_alive, signal_group, signal_pid

# --- the supervisor -----------------------------------------------------------------------------


@dataclass
class Service:
    """One child process and how to tell that it is up."""

    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    ready: Callable[[], bool] | None = None  # None: up as soon as it is running
    ready_timeout: float = 60.0
    cwd: Path | None = None


@dataclass
class _Child:
    service: Service
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    was_ready: bool = False
    restarts: int = 0
    backoff: float = 0.0
    restart_at: float | None = None
    output: collections.deque[str] = field(default_factory=lambda: collections.deque(maxlen=30))
    reader: threading.Thread | None = None


class Supervisor:
    """Starts services as process groups, keeps them running, and stops them in reverse order."""

    def __init__(
        self,
        services: Iterable[Service],
        *,
        out: IO[str] | None = None,
        stop_timeout: float = 10.0,
        max_backoff: float = 30.0,
        stable_after: float = 60.0,
    ) -> None:
        self._children: dict[str, _Child] = {}
        for service in services:
            if service.name in self._children:
                raise ValueError(f"two services named {service.name!r}")
            self._children[service.name] = _Child(service)
        self._order: list[str] = []  # start order
        self._batches: list[list[str]] = []  # what each start() call started, so stop can go in reverse
        self._out = out or sys.stdout
        self._write_lock = threading.RLock()  # re-entrant: the signal handler may say() mid-write
        self._width = max([len(name) for name in self._children] + [len("hearth")])
        self._stop_timeout = stop_timeout
        self._max_backoff = max_backoff
        self._stable_after = stable_after
        self._stopping = threading.Event()
        self._signals_seen = 0

    # output -----------------------------------------------------------------------------------

    def say(self, message: str, *, source: str = "hearth") -> None:
        with self._write_lock:
            try:
                self._out.write(f"{source:<{self._width}} | {message}\n")
                self._out.flush()
            except (OSError, ValueError):  # our output is gone (closed terminal): keep going quietly
                pass

    def _pump(self, child: _Child, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            child.output.append(line)
            self.say(line, source=child.service.name)
        stream.close()

    # starting ---------------------------------------------------------------------------------

    def _spawn(self, child: _Child) -> None:
        service = child.service
        try:
            process = subprocess.Popen(
                service.argv,
                env=service.env,
                cwd=service.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: Ctrl-C reaches us, and we stop it in order
                preexec_fn=_prepare_die_with_parent(),  # only calls prctl between fork and exec
            )
        except FileNotFoundError as exc:
            raise SupervisorError(f"{service.name}: {service.argv[0]} is not installed (run `make install`)") from exc
        child.process = process
        child.started_at = time.monotonic()
        child.restart_at = None
        assert process.stdout is not None
        child.reader = threading.Thread(
            target=self._pump, args=(child, process.stdout), name=f"log-{service.name}", daemon=True
        )
        child.reader.start()
        if service.name not in self._order:
            self._order.append(service.name)

    def start(self, names: Iterable[str] | None = None) -> None:
        """Start these services (all by default) without waiting for them."""
        batch: list[str] = []
        self._batches.append(batch)
        for name in names if names is not None else list(self._children):
            child = self._children[name]
            if child.process is None:
                self._spawn(child)
                batch.append(name)
                self.say(f"started {name} (pid {child.process.pid if child.process else '?'})")

    def wait_ready(self, names: Iterable[str] | None = None) -> None:
        """Block until each service answers its readiness probe; raise if one exits or times out."""
        pending = [self._children[n] for n in (names if names is not None else self._order)]
        pending = [child for child in pending if not child.was_ready]
        while pending:
            if self._stopping.is_set():
                raise KeyboardInterrupt
            for child in list(pending):
                service, process = child.service, child.process
                assert process is not None, f"{service.name} was never started"
                code = process.poll()
                if code is not None:
                    if child.reader is not None:
                        child.reader.join(timeout=1)
                    tail = "\n".join(f"    {line}" for line in list(child.output)[-15:])
                    raise SupervisorError(f"{service.name} exited with status {code} while starting:\n{tail}")
                if service.ready is None or service.ready():
                    child.was_ready = True
                    pending.remove(child)
                    if service.ready is not None:
                        self.say(f"{service.name} is ready ({time.monotonic() - child.started_at:.1f} s)")
                elif time.monotonic() - child.started_at > service.ready_timeout:
                    raise SupervisorError(f"{service.name} did not become ready within {service.ready_timeout:.0f} s")
            if pending:
                time.sleep(0.1)

    # running ----------------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        """SIGINT/SIGTERM/SIGHUP stop everything; a second one stops it without waiting."""

        def handler(signum: int, _frame: object) -> None:
            self._signals_seen += 1
            if self._signals_seen > 1:
                self.say(f"{signal.Signals(signum).name} again: killing the services now")
                self._kill_all()
                os._exit(130)
            self._stopping.set()

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, handler)

    def request_stop(self) -> None:
        """Make run() return (for callers that drive the supervisor without signals)."""
        self._stopping.set()

    def run(self) -> None:
        """Keep the children running until asked to stop; restart the ones that die."""
        while not self._stopping.wait(0.25):
            now = time.monotonic()
            for name in self._order:
                child = self._children[name]
                process = child.process
                if process is None:
                    if child.restart_at is not None and now >= child.restart_at:
                        self._restart(child)
                    continue
                code = process.poll()
                if code is None:
                    continue
                self._reap_group(process.pid)
                ran_for = now - child.started_at
                if ran_for >= self._stable_after:
                    child.backoff = 0.0
                child.backoff = min(self._max_backoff, max(1.0, child.backoff * 2))
                child.process = None
                child.restart_at = now + child.backoff
                self.say(
                    f"{name} exited with status {code} after {ran_for:.0f} s; "
                    f"restarting in {child.backoff:.0f} s (restart #{child.restarts + 1})"
                )

    def _restart(self, child: _Child) -> None:
        child.restarts += 1
        try:
            self._spawn(child)
        except SupervisorError as exc:
            child.backoff = min(self._max_backoff, child.backoff * 2)
            child.restart_at = time.monotonic() + child.backoff
            self.say(f"{exc}; trying again in {child.backoff:.0f} s")
            return
        self.say(f"restarted {child.service.name} (pid {child.process.pid if child.process else '?'})")

    # stopping ---------------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop every child, the last started first: SIGTERM, wait, then SIGKILL the whole group.

        Services started by one `start()` call go down together (signalled in reverse order, then
        awaited at once), so stopping takes as long as the slowest of a batch, not their sum.
        """
        self._stopping.set()
        for batch in reversed(self._batches):
            stopping: list[tuple[str, subprocess.Popen[bytes]]] = []
            for name in reversed(batch):
                child = self._children[name]
                child.restart_at = None
                if child.process is not None:
                    if child.process.poll() is None:
                        signal_pid(child.process.pid, signal.SIGTERM)
                    stopping.append((name, child.process))
            started = time.monotonic()
            waiting = [(name, process) for name, process in stopping if process.returncode is None]
            while waiting and time.monotonic() - started < self._stop_timeout:
                time.sleep(0.05)
                for name, process in list(waiting):
                    if process.poll() is not None:
                        waiting.remove((name, process))
                        self.say(f"stopped {name} ({time.monotonic() - started:.1f} s)")
            for name, process in waiting:
                self.say(f"{name} did not stop within {self._stop_timeout:.0f} s; killing it")
                signal_group(process.pid, signal.SIGKILL)
                process.wait()
            for name, process in stopping:
                self._reap_group(process.pid)
                child = self._children[name]
                if child.reader is not None:
                    child.reader.join(timeout=2)
                child.process = None
        self.say("all services stopped")

    def _reap_group(self, pgid: int) -> None:
        """Whatever the leader left behind in its group (pool processes) goes too."""
        if not group_alive(pgid):
            return
        signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + 3
        while group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if group_alive(pgid):
            signal_group(pgid, signal.SIGKILL)

    def _kill_all(self) -> None:
        for child in self._children.values():
            if child.process is not None:
                signal_group(child.process.pid, signal.SIGKILL)


_prctl: Callable[..., int] | None = None


def _prepare_die_with_parent() -> Callable[[], None] | None:
    """Linux: a child gets SIGTERM if the supervisor itself dies, so nothing is left orphaned.

    libc is looked up here, in the parent: the function run between fork and exec only calls it.
    """
    global _prctl
    if not sys.platform.startswith("linux"):
        return None
    if _prctl is None:
        import ctypes

        try:
            _prctl = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            return None
    prctl = _prctl

    def die_with_parent() -> None:
        pr_set_pdeathsig = 1
        prctl(pr_set_pdeathsig, int(signal.SIGTERM))

    return die_with_parent
