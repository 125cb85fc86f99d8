"""`manage.py serve` (what `make run` calls): prepare the data folder and run every service of Hearth.

Order: system checks, Redis and Chroma started (they boot while we go on), migrations, static files,
default models, then the two Celery workers and the web server. It prints the address to open and
keeps everything running until Ctrl-C. REDIS_URL or CHROMA_URL in the environment mean "use that
server": then no local one is started.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assistant.core.processes import (
    SupervisorError,
    child_env,
    chroma_command,
    chroma_heartbeat_url,
    http_ok,
    redis_command,
    redis_ping,
    tcp_open,
    web_command,
    worker_command,
)
from assistant.core.supervisor import Service, Supervisor
from assistant.jobs.registry import LOCAL_WORKERS


def _process_age() -> float:
    """Seconds since this process started (interpreter start-up and Django set-up included)."""
    import psutil

    return max(0.0, time.time() - float(psutil.Process().create_time()))


def lan_address() -> str | None:
    """The address other devices on the home network reach this machine at, if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: picks the outgoing interface, sends nothing
            address = str(probe.getsockname()[0])
    except OSError:
        address = ""
    if address and not address.startswith("127."):
        return address
    import psutil

    for addresses in psutil.net_if_addrs().values():
        for entry in addresses:
            if entry.family == socket.AF_INET and not entry.address.startswith("127."):
                return str(entry.address)
    return None


@dataclass(frozen=True)
class _Plan:
    backing: list[Service]  # the Redis and Chroma started here (none when REDIS_URL/CHROMA_URL say otherwise)
    workers: list[Service]
    web: Service
    redis_url: str
    chroma_url: str


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


class Command(BaseCommand):
    help = "Run Hearth: Redis, Chroma, the Celery workers and the web server, restarting any that die."
    requires_system_checks: list[str] = []  # run below, with their output

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host",
            default="0.0.0.0",  # noqa: S104 (the point: phones on the home network open Hearth)
            help="address the web server listens on (default 0.0.0.0: every interface)",
        )
        parser.add_argument("--port", type=int, default=8000, help="web server port (default 8000)")
        parser.add_argument(
            "--chroma-port",
            type=int,
            default=None,
            help="port of the Chroma server started here (default: the port in CHROMA_URL, 8766)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"]
        port: int = options["port"]
        lock = self._lock_data_dir()
        try:
            self._serve(host=host, port=port, chroma_port=options["chroma_port"])
        finally:
            lock.close()

    # --- steps ----------------------------------------------------------------------------------

    def _lock_data_dir(self) -> IO[str]:
        """One `serve` per data folder: a second one would fight the first over the socket and ports."""
        lock_path = Path(settings.RUN_DIR) / "serve.lock"
        handle = lock_path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "?"
            handle.close()
            raise CommandError(
                f"Hearth is already running with the data folder {settings.DATA_DIR} (pid {owner}). "
                "Stop it first, or set HEARTH_DATA_DIR to another folder."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        return handle

    def _serve(self, *, host: str, port: int, chroma_port: int | None) -> None:
        call_command("check")
        if tcp_open(host, port):
            raise CommandError(f"port {port} is already in use; pick another one: make run PORT={port + 10}")
        plan = self._plan(host=host, port=port, chroma_port=chroma_port)
        supervisor = Supervisor([*plan.backing, *plan.workers, plan.web], out=sys.stdout)
        supervisor.install_signal_handlers()
        try:
            # Redis and Chroma boot while the database and models are prepared. The web server goes
            # next and alone (on a small box the workers would slow its start-up); the workers want
            # Redis up, and nothing needs Chroma before its first job or request.
            supervisor.start([s.name for s in plan.backing])
            self._prepare()
            supervisor.wait_ready([s.name for s in plan.backing if s.name == "redis"])
            supervisor.start([plan.web.name])
            supervisor.wait_ready([plan.web.name])
            supervisor.start([w.name for w in plan.workers])
            supervisor.wait_ready()
            self._announce(host=host, port=port, redis_url=plan.redis_url, chroma_url=plan.chroma_url)
            supervisor.run()
        except SupervisorError as exc:
            raise CommandError(str(exc)) from None
        except KeyboardInterrupt:
            pass
        finally:
            supervisor.stop()

    def _plan(self, *, host: str, port: int, chroma_port: int | None) -> _Plan:
        """Which processes to run, with which environment; refuses to start over a running one."""
        data_dir, base_dir = Path(settings.DATA_DIR), Path(settings.BASE_DIR)
        redis_url, redis_socket = self._redis_plan(Path(settings.RUN_DIR))
        chroma_url, chroma_port = self._chroma_plan(chroma_port)
        env = child_env(redis_url=redis_url, chroma_url=chroma_url)
        env["HEARTH_DATA_DIR"] = str(data_dir)  # absolute, so every child agrees whatever its cwd
        if "HEARTH_MODELS_DIR" in os.environ:
            env["HEARTH_MODELS_DIR"] = str(settings.MODELS_DIR)

        backing: list[Service] = []
        if redis_socket is not None:
            if redis_ping(redis_socket):
                raise CommandError(f"a Redis already answers on {redis_socket}: is another Hearth running?")
            command = redis_command(socket_path=redis_socket, data_dir=_private_dir(data_dir / "redis"))
            probe = functools.partial(redis_ping, redis_socket)
            backing.append(Service("redis", command, env=env, ready=probe, ready_timeout=30, cwd=base_dir))
        if chroma_port is not None:
            if tcp_open("127.0.0.1", chroma_port):
                raise CommandError(
                    f"port {chroma_port} (Chroma) is already in use: use --chroma-port N (make run "
                    f'SERVE_ARGS="--chroma-port N"), or CHROMA_URL=http://127.0.0.1:{chroma_port} to use that server'
                )
            command = chroma_command(path=_private_dir(data_dir / "chroma"), port=chroma_port)
            probe = functools.partial(http_ok, chroma_heartbeat_url(chroma_port))
            backing.append(Service("chroma", command, env=env, ready=probe, ready_timeout=60, cwd=base_dir))

        workers = [
            Service(f"worker-{name}", worker_command(queues=queues, concurrency=n, name=name), env=env, cwd=base_dir)
            for name, queues, n in LOCAL_WORKERS
        ]
        web_probe = functools.partial(tcp_open, host, port)
        web = Service("web", web_command(host=host, port=port), env=env, ready=web_probe, cwd=base_dir)
        return _Plan(backing=backing, workers=workers, web=web, redis_url=redis_url, chroma_url=chroma_url)

    def _redis_plan(self, run_dir: Path) -> tuple[str, Path | None]:
        """(REDIS_URL for the children, socket of the Redis to start or None to use the configured one)."""
        configured = os.environ.get("REDIS_URL")
        if configured:
            self.stdout.write(f"Redis: using REDIS_URL={_redacted(configured)}")
            return configured, None
        socket_path = run_dir / "redis.sock"
        return f"unix://{socket_path}", socket_path

    def _chroma_plan(self, chroma_port: int | None) -> tuple[str, int | None]:
        configured = os.environ.get("CHROMA_URL")
        if configured:
            if chroma_port is not None:
                raise CommandError("--chroma-port starts a Chroma server here; CHROMA_URL says to use another one")
            self.stdout.write(f"Chroma: using CHROMA_URL={_redacted(configured)}")
            return configured, None
        port = chroma_port or urlsplit(settings.CHROMA_URL).port or 8766
        return f"http://127.0.0.1:{port}", port

    def _prepare(self) -> None:
        from django.db import connections

        self._migrate()
        self._collectstatic()
        call_command("models_prepare")
        # Lists the packaged model and whatever GGUF files were dropped into the models folder.
        call_command("models_scan")
        connections.close_all()  # this process only supervises from here on

    def _migrate(self) -> None:
        from django.db import connection
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            call_command("migrate", interactive=False)
        else:
            self.stdout.write("Database: up to date")

    def _collectstatic(self) -> None:
        """collectstatic, skipped when no source file changed since the last run (it takes seconds)."""
        stamp = Path(settings.DATA_DIR) / "cache" / "static-fingerprint"
        fingerprint = _static_fingerprint()
        manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
        if manifest.exists() and stamp.exists() and stamp.read_text() == fingerprint:
            self.stdout.write("Static files: up to date")
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(fingerprint)
        self.stdout.write("Static files: collected")

    def _announce(self, *, host: str, port: int, redis_url: str, chroma_url: str) -> None:
        from django.contrib.auth import get_user_model
        from django.db import connections

        has_users = get_user_model().objects.exists()
        connections.close_all()
        urls = []
        if host in {"0.0.0.0", "::", ""}:  # noqa: S104 (not binding: choosing which URLs to print)
            lan = lan_address()
            if lan:
                urls.append(f"http://{lan}:{port}/   (phones and computers on your network)")
            urls.append(f"http://localhost:{port}/   (this computer)")
        else:
            urls.append(f"http://{host}:{port}/")
        lines = [
            "",
            f"Hearth is running (started in {_process_age():.1f} s). Open:",
            *(f"    {url}" for url in urls),
            "First visit: create the owner account." if not has_users else "Sign in with your household account.",
            f"Redis: {_redacted(redis_url)}    Chroma: {_redacted(chroma_url)}",
            "Press Ctrl-C to stop.",
            "",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))


def _static_fingerprint() -> str:
    """Name, size and mtime of every file collectstatic would copy."""
    from django.contrib.staticfiles.finders import get_finders

    digest = hashlib.sha256(str(settings.STORAGES["staticfiles"]).encode())
    for finder in get_finders():
        for name, storage in finder.list(["CVS", ".*", "*~"]):
            stat = os.stat(storage.path(name))
            digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _redacted(url: str) -> str:
    """A URL without its password, for the log."""
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url
