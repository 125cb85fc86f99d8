"""What the Connect a phone page shows and serves, and the per-device "always use HTTPS" choice."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.http import HttpResponse

from assistant.https.addresses import lan_address, url_host
from assistant.https.certificates import ca_certificate_read, certificate_fingerprint
from assistant.https.config import HttpsConfig, https_config
from assistant.https.profile import mobileconfig_build

# Set on a device once its member chose "always open the secure address" on a page that proved the
# household CA trusted. Not Secure and not scheme-bound on purpose: the plain-HTTP port reads it to
# redirect. It holds no secret, only the choice.
PREFER_COOKIE = "hearth_https"
PREFER_MAX_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie


class CertificateMissing(LookupError):
    """The household CA has not been created (HTTPS is off, or uses the household's own certificate)."""


@dataclass(frozen=True)
class ConnectFacts:
    config: HttpsConfig
    secure_url: str | None  # the HTTPS address to open on a phone (this machine's LAN address)
    setup_url: str  # the plain address of the Connect page, for a phone without the CA yet
    here_secure_url: str | None  # this page over HTTPS, on the host name this browser used
    fingerprint: str | None  # SHA-256 of the household CA
    ca_name: str | None


def host_split(*, host: str) -> tuple[str, int | None]:
    """("192.168.1.5", 8000) from "192.168.1.5:8000"; IPv6 in brackets; port None when absent."""
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        name, _, port = host.partition(":")
    return name, int(port) if port.isdigit() else None


def host_is_loopback(*, name: str) -> bool:
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def connect_facts_read(*, host: str, secure: bool, path: str = "/") -> ConnectFacts:
    """Addresses, QR targets and the CA fingerprint for a browser that reached Hearth at `host`."""
    config = https_config()
    name, port = host_split(host=host)
    # A phone cannot open "localhost": show it this machine's LAN address instead.
    shown = (lan_address() or name) if host_is_loopback(name=name) else name
    plain = config.plain_port if secure or port is None else port
    ca_cert = ca_certificate_read(folder=config.tls_dir) if config.household_ca else None
    return ConnectFacts(
        config=config,
        secure_url=f"https://{url_host(shown)}:{config.port}/" if config.enabled else None,
        setup_url=f"http://{url_host(shown)}:{plain}/connect/",
        here_secure_url=f"https://{url_host(name)}:{config.port}{path}" if config.enabled else None,
        fingerprint=certificate_fingerprint(ca_cert) if ca_cert is not None else None,
        ca_name=ca_cert.subject.rfc4514_string() if ca_cert is not None else None,
    )


def ca_certificate_der_read() -> bytes:
    """The household CA certificate, DER-encoded (what Android's "CA certificate" installer takes)."""
    return _household_ca().public_bytes(serialization.Encoding.DER)


def ca_profile_read() -> bytes:
    """The household CA as an iOS configuration profile."""
    return mobileconfig_build(ca_cert=_household_ca())


def _household_ca() -> x509.Certificate:
    config = https_config()
    cert = ca_certificate_read(folder=config.tls_dir) if config.household_ca else None
    if cert is None:
        raise CertificateMissing("there is no household certificate authority")
    return cert


def https_preference_apply(*, response: HttpResponse, prefer: bool) -> HttpResponse:
    """Remember on this device (or forget) that plain-HTTP pages should redirect to HTTPS."""
    if prefer:
        response.set_cookie(PREFER_COOKIE, "1", max_age=PREFER_MAX_AGE, httponly=True, samesite="Lax")
    else:
        response.delete_cookie(PREFER_COOKIE, samesite="Lax")
    return response
