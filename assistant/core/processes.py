"""The processes Hearth runs, as argument lists, with their readiness probes and a clean stop.

The `*_command` functions only build argument lists, so test fixtures and benchmarks start the same
services the same way the supervisor does. Standard library only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# Set in every child: no model-hub downloads (none is reachable), no telemetry, unbuffered logs.
CHILD_ENV_DEFAULTS: dict[str, str] = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "PYTHONUNBUFFERED": "1",
}

# A unix socket's path must fit in sun_path (108 bytes including the final NUL).
_MAX_SOCKET_PATH = 107


class SupervisorError(RuntimeError):
    """A service could not be started; the message says which and why."""


def bin_path(name: str) -> str:
    """A console script installed beside the running Python (the venv's bin folder)."""
    for folder in (sysconfig.get_path("scripts"), str(Path(sys.executable).parent)):
        candidate = Path(folder) / name
        if candidate.exists():
            return str(candidate)
    return name  # let PATH decide; the error names the program if it is missing


# --- argv builders ------------------------------------------------------------------------------


def redis_command(*, socket_path: Path, data_dir: Path) -> list[str]:
    """A private redis-server: unix socket only (owner-only), no TCP, append-only file in data_dir.

    The append-only file keeps queued jobs across a restart; RDB snapshots are off because the AOF
    already covers them.
    """
    if len(str(socket_path)) > _MAX_SOCKET_PATH:
        raise SupervisorError(
            f"the Redis socket path {socket_path} is longer than {_MAX_SOCKET_PATH} characters; "
            "use a shorter HEARTH_DATA_DIR"
        )
    return [
        "redis-server",
        "--port", "0",
        "--unixsocket", str(socket_path),
        "--unixsocketperm", "700",
        "--dir", str(data_dir),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--daemonize", "no",
        "--logfile", "",
        "--loglevel", "notice",
    ]  # fmt: skip


def chroma_command(*, path: Path, port: int) -> list[str]:
    """The Chroma server shipped in the chromadb wheel, on loopback. Run it with ANONYMIZED_TELEMETRY=False."""
    return [bin_path("chroma"), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]


def worker_command(*, queues: Sequence[str] | str, concurrency: int, name: str) -> list[str]:
    """A Celery worker consuming `queues`, named `name@<host>`."""
    queue_list = queues if isinstance(queues, str) else ",".join(queues)
    # One task at a time: it runs in the worker process itself, without the hand-over to a pool child
    # (and that second process on the cores while a chat answer starts). The supervisor, or docker's
    # restart policy, brings back a worker that dies, as the pool would bring back its child.
    pool = ["-P", "solo"] if concurrency == 1 else ["-c", str(concurrency)]
    return [
        bin_path("celery"), "-A", "config", "worker",
        "-Q", queue_list,
        *pool,
        "-n", f"{name}@%h",
        "--without-gossip", "--without-mingle",
        "--loglevel", "INFO",
    ]  # fmt: skip


def web_command(*, host: str, port: int, tls_endpoint: str | None = None) -> list[str]:
    """Daphne serving HTTP and websockets, with body limits at the headers (assistant/core/web.py);
    with `tls_endpoint` (a Twisted `ssl:` endpoint) HTTPS beside them."""
    tls = ["-e", tls_endpoint] if tls_endpoint else []
    return [sys.executable, "-m", "assistant.core.web", *tls, "-b", host, "-p", str(port), "config.asgi:application"]


def child_env(*, redis_url: str, chroma_url: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment every child gets: ours, plus the offline flags and the resolved service URLs."""
    env = dict(os.environ if base is None else base)
    env.update(CHILD_ENV_DEFAULTS)
    env["REDIS_URL"] = redis_url
    env["CHROMA_URL"] = chroma_url
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    return env


# --- readiness probes ---------------------------------------------------------------------------


def redis_ping(socket_path: Path, *, timeout: float = 0.5) -> bool:
    """True when a Redis answers PING on this unix socket."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(socket_path))
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def http_ok(url: str, *, timeout: float = 0.5) -> bool:
    """True when GET url answers 200."""
    import urllib.error  # lazily: urllib.request pulls in http.client and email
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (our own loopback URL)
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError, ValueError):
        return False


def chroma_heartbeat_url(port: int) -> str:
    return f"http://127.0.0.1:{port}/api/v2/heartbeat"


def tcp_open(host: str, port: int, *, timeout: float = 0.5) -> bool:
    """True when something accepts a TCP connection on host:port (0.0.0.0 and :: mean this machine)."""
    if host in {"", "0.0.0.0", "::", "[::]"}:  # noqa: S104 (not binding: probing)
        host = "127.0.0.1"
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=timeout):
            return True
    except OSError:
        return False


# --- stopping ------------------------------------------------------------------------------------


def signal_pid(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def process_group_stop(process: subprocess.Popen[Any], *, timeout: float) -> None:
    """SIGTERM a child's whole process group; SIGKILL it if the child has not exited within `timeout`."""
    if process.poll() is not None:
        return
    signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        signal_group(process.pid, signal.SIGKILL)
        process.wait()


def signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
