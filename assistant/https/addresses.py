"""The names and addresses other devices on the home network reach this machine by.

The server certificate names every one of them, so a phone may open Hearth by any of them.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

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
    """localhost, the host name, its .local (mDNS) name, and the fully qualified name if it has one."""
    short = socket.gethostname().strip().rstrip(".")
    names = {"localhost"}
    if short:
        names.add(short.lower())
        first_label = short.split(".")[0].lower()
        names.add(f"{first_label}.local")
    try:
        qualified = socket.getfqdn().strip().rstrip(".").lower()
    except OSError:
        qualified = ""
    if qualified and "." in qualified and not qualified.endswith((".localdomain", ".arpa")):
        names.add(qualified)
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

    The interface the default route leaves by (no packet is sent), else the first non-loopback IPv4.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: picks the outgoing interface, sends nothing
            address = str(probe.getsockname()[0])
    except OSError:
        address = ""
    if address and not address.startswith("127."):
        return address
    for candidate in machine_addresses():
        if candidate.version == 4 and not candidate.is_loopback:
            return str(candidate)
    return None


def url_host(host: str) -> str:
    """A host as it goes into a URL: IPv6 addresses in brackets."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host
    return f"[{address}]" if address.version == 6 else str(address)
