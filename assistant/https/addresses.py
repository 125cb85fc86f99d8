"""The names and addresses other devices on the home network reach this machine by.

The server certificate names every one of them, so a phone may open Hearth by any of them.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class MachineNames:
    """What the server certificate must cover: DNS names and IP addresses, each sorted."""

    dns_names: tuple[str, ...]
    addresses: tuple[IPAddress, ...]


def machine_names_read() -> MachineNames:
    """localhost, this machine's host names and .local name, and every address it has.

    IPv6 link-local addresses (fe80::/10) are left out: they only mean something with an interface
    (`%eth0`) that a browser's address bar does not take, so no phone opens Hearth by one.
    """
    return MachineNames(dns_names=host_names(), addresses=machine_addresses())


def host_names() -> tuple[str, ...]:
    """localhost, the host name (and its first label when it is fully qualified), and its .local name.

    No DNS lookup (socket.getfqdn can stall for seconds on a box without a resolver).
    """
    full = socket.gethostname().strip().rstrip(".").lower()
    names = {"localhost"}
    if full:
        first_label = full.split(".")[0]
        names.update({full, first_label, f"{first_label}.local"})
    return tuple(sorted(name for name in names if dns_name_valid(name)))


def dns_name_valid(name: str) -> bool:
    """A host name a certificate may carry (letters, digits, hyphens; labels of 1 to 63)."""
    if not name or len(name) > 253:
        return False
    labels = name.split(".")
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-")
    return all(
        0 < len(label) <= 63 and set(label) <= allowed and not label.startswith("-") and not label.endswith("-")
        for label in labels
    )


def machine_addresses() -> tuple[IPAddress, ...]:
    """Every IPv4 and IPv6 address of every interface (loopback included), without link-local IPv6."""
    import psutil  # light; imported here so the module costs nothing until it is used

    found: set[IPAddress] = {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    for entries in psutil.net_if_addrs().values():
        for entry in entries:
            if entry.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            try:
                address = ipaddress.ip_address(entry.address.split("%")[0])
            except ValueError:
                continue
            if address.version == 6 and address.is_link_local:
                continue
            found.add(address)
    return tuple(sorted(found, key=lambda a: (a.version, int(a))))


def lan_address() -> str | None:
    """The address other devices on the home network most likely reach this machine at, if any.

    The IPv4 address of the interface the default route leaves by (Linux: /proc/net/route), else the
    first private IPv4 address, else the first non-loopback one. No packet is sent, no socket opened.
    """
    import psutil

    interfaces = psutil.net_if_addrs()

    def usable(names: list[str]) -> list[ipaddress.IPv4Address]:
        found = []
        for name in names:
            for entry in interfaces.get(name, []):
                if entry.family == socket.AF_INET:
                    address = ipaddress.IPv4Address(entry.address)
                    if not address.is_loopback and not address.is_link_local:
                        found.append(address)
        return found

    routed = usable(_default_route_interfaces())
    others = usable(sorted(interfaces))
    best = routed or [a for a in others if a.is_private] or others
    return str(best[0]) if best else None


def _default_route_interfaces() -> list[str]:
    """Interfaces with a default route, best (lowest metric) first; empty where /proc/net/route is absent."""
    try:
        lines = Path("/proc/net/route").read_text().splitlines()[1:]
    except OSError:
        return []
    routes = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 8 and fields[1] == "00000000" and fields[7] == "00000000":
            routes.append((int(fields[6]), fields[0]))
    return [name for _, name in sorted(routes)]


def url_host(host: str) -> str:
    """A host as it goes into a URL: IPv6 addresses in brackets."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host
    return f"[{address}]" if address.version == 6 else str(address)
