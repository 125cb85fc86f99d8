"""Egress guard: refuses, and records, any connection to an address that is not loopback.

Test fixtures put this folder on PYTHONPATH of the processes they start, so Python imports it at
start-up (as sitecustomize); the test process installs it itself. Blocked attempts raise before
any packet is sent and are appended to the file named by HEARTH_EGRESS_LOG.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address: Any) -> bool:
    if isinstance(address, str | bytes):  # a unix socket path
        return True
    host = str(address[0]).split("%")[0]
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        resolved = socket.getaddrinfo(host, None)
        return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in resolved)


def _refuse(address: Any) -> None:
    log = os.environ.get("HEARTH_EGRESS_LOG")
    if log:
        with open(log, "a") as handle:
            handle.write(f"{os.getpid()} {address!r}\n")
    raise ConnectionRefusedError(f"egress guard: connection to {address!r} refused")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
        _refuse(address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_local(address):
        _refuse(address)
    return _real_connect_ex(self, address)


def install() -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


if os.environ.get("HEARTH_EGRESS_LOG"):
    install()
