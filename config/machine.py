"""What the settings learn from this machine and its data folder: private folders, the kept secret key,
and the names and addresses this machine answers to. Read once, by config/settings.py."""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

from config.env import ConfigError, env_secret


def private_dir(path: Path) -> Path:
    """`path`, created if need be, readable by Hearth's user only."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(0o700)
    except OSError as exc:
        raise ConfigError(f"cannot create the private folder {path}: {exc}") from exc
    return path


def secret_key(*, data_dir: Path) -> str:
    """SECRET_KEY from the environment, or one generated on first run and kept in the data dir."""
    configured = env_secret("SECRET_KEY")
    if configured:
        return configured
    key_file = data_dir / "secret_key"
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


def lan_hosts() -> list[str]:
    """This machine's names and addresses, so phones on the home network can open Hearth."""
    import psutil  # light, and only needed at start-up

    hosts = {"localhost", "127.0.0.1", "[::1]", socket.gethostname(), f"{socket.gethostname()}.local"}
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET:
                hosts.add(address.address)
            elif address.family == socket.AF_INET6:
                hosts.add(f"[{address.address.split('%')[0]}]")
    return sorted(hosts)
