"""What `manage.py serve` does for HTTPS before it starts the web server, and what it prints after.

Standard library and `cryptography` only: the supervisor's side of HTTPS.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from assistant.https.addresses import lan_address, machine_names_read, url_host
from assistant.https.certificates import (
    TLSFiles,
    ca_certificate_read,
    certificate_fingerprint,
    certificates_ensure,
    server_reissue_reason,
)
from assistant.https.config import HttpsConfig, endpoint_string


class HttpsServeError(RuntimeError):
    """HTTPS cannot be served as configured; the message says why and what to do."""


@dataclass(frozen=True)
class HttpsServing:
    endpoint: str | None  # daphne's `-e` argument; None when HTTPS is off
    events: tuple[str, ...]  # what was created or repaired, for the console
    ca_fingerprint: str | None


def https_serving_prepare(*, config: HttpsConfig, host: str) -> HttpsServing:
    """Create or repair the certificates (auto), or check the household's own files; build the endpoint."""
    if not config.enabled:
        return HttpsServing(endpoint=None, events=(), ca_fingerprint=None)
    if config.household_ca:
        report = certificates_ensure(folder=config.tls_dir, names=machine_names_read())
        ca_cert = x509.load_pem_x509_certificate(report.files.ca_cert.read_bytes())
        return HttpsServing(
            endpoint=endpoint_string(config=config, host=host, chain=report.files.ca_cert),
            events=report.events,
            ca_fingerprint=certificate_fingerprint(ca_cert),
        )
    chain = _own_certificate_check(config)
    return HttpsServing(endpoint=endpoint_string(config=config, host=host, chain=chain), events=(), ca_fingerprint=None)


def https_reissue_needed(*, config: HttpsConfig) -> str | None:
    """Why the running server's certificate no longer fits this machine (an address appeared), or None."""
    if not config.household_ca:
        return None
    ca_cert = ca_certificate_read(folder=config.tls_dir)
    if ca_cert is None:
        return "the household CA certificate is gone"
    return server_reissue_reason(
        files=TLSFiles(config.tls_dir), ca_cert=ca_cert, names=machine_names_read(), now=dt.datetime.now(dt.UTC)
    )


def https_watch(
    *,
    config: HttpsConfig,
    host: str,
    say: Callable[[str], None],
    restart_web: Callable[[], None],
    stop: threading.Event,
    interval: float = 60.0,
) -> None:
    """While Hearth runs: when this machine gains an address (DHCP, a new network) or the certificate
    nears its end, issue a new one and restart the web server so that it serves it. Runs until `stop`."""
    while not stop.wait(interval):
        try:
            reason = https_reissue_needed(config=config)
            if reason is None:
                continue
            https_serving_prepare(config=config, host=host)
        except (OSError, ValueError) as exc:  # a passing fault (disk, interfaces): try again next time
            say(f"HTTPS: could not check the certificate ({exc}); trying again in {interval:.0f} s")
            continue
        say(f"HTTPS: issued a new server certificate ({reason}); restarting the web server to serve it")
        restart_web()


def _own_certificate_check(config: HttpsConfig) -> Path | None:
    """HEARTH_HTTPS=<cert>,<key>: both readable, the key matches; returns a file of the rest of the chain."""
    assert config.cert_file is not None
    assert config.key_file is not None
    try:
        certificates = x509.load_pem_x509_certificates(config.cert_file.read_bytes())
    except (OSError, ValueError) as exc:
        raise HttpsServeError(f"HEARTH_HTTPS: {config.cert_file} is not a PEM certificate ({exc})") from None
    try:
        key = serialization.load_pem_private_key(config.key_file.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise HttpsServeError(
            f"HEARTH_HTTPS: {config.key_file} is not an unencrypted PEM private key ({exc})"
        ) from None
    if certificates[0].public_key() != key.public_key():
        raise HttpsServeError(f"HEARTH_HTTPS: the key {config.key_file} does not belong to {config.cert_file}")
    if len(certificates) == 1:
        return None
    config.tls_dir.mkdir(parents=True, exist_ok=True)
    chain = config.tls_dir / "own-chain.pem"
    chain.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates[1:]))
    return chain


def https_addresses(*, config: HttpsConfig, host: str, plain_port: int) -> list[str]:
    """The lines `make run` prints: the secure and the plain address, for the LAN and for this computer."""
    every_interface = host in {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 (choosing URLs, not binding)
    lan = lan_address() if every_interface else None
    lines: list[str] = []
    for shown, where in ((lan, "phones and computers on your network"), ("localhost", "this computer")):
        if not every_interface:
            break
        if shown is None:
            continue
        if config.enabled:
            lines.append(f"https://{url_host(shown)}:{config.port}/   ({where}, secure)")
        lines.append(f"http://{url_host(shown)}:{plain_port}/   ({where}{', plain' if config.enabled else ''})")
    if not every_interface:
        if config.enabled:
            lines.append(f"https://{url_host(host)}:{config.port}/")
        lines.append(f"http://{url_host(host)}:{plain_port}/")
    return lines
