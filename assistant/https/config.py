"""How Hearth serves HTTPS: HEARTH_HTTPS, read by config/settings.py through config/env.py's env_https.

    auto           (default) the household CA in <data>/tls signs a certificate for this machine
    off            plain HTTP only (e.g. behind your own HTTPS proxy)
    <cert>,<key>   your own certificate chain and key, PEM files (the household CA is not used)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Mode = Literal["auto", "off", "files"]
DEFAULT_HTTPS_PORT = 8443


@dataclass(frozen=True)
class HttpsConfig:
    mode: Mode
    port: int
    tls_dir: Path
    plain_port: int = 8000  # the plain-HTTP port beside it, for addresses shown to a phone
    cert_file: Path | None = None  # mode "files": the chain daphne serves
    key_file: Path | None = None

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    @property
    def household_ca(self) -> bool:
        return self.mode == "auto"

    @property
    def served_cert(self) -> Path:
        return self.cert_file if self.cert_file is not None else self.tls_dir / "server.crt"

    @property
    def served_key(self) -> Path:
        return self.key_file if self.key_file is not None else self.tls_dir / "server.key"


def https_config() -> HttpsConfig:
    """The running configuration, from the settings config/settings.py reads out of the environment."""
    from django.conf import settings

    data_dir = Path(settings.DATA_DIR)
    cert_file = getattr(settings, "HEARTH_HTTPS_CERT", None)
    key_file = getattr(settings, "HEARTH_HTTPS_KEY", None)
    return HttpsConfig(
        mode=getattr(settings, "HEARTH_HTTPS_MODE", "auto"),
        port=int(getattr(settings, "HEARTH_HTTPS_PORT", DEFAULT_HTTPS_PORT)),
        tls_dir=Path(getattr(settings, "HEARTH_TLS_DIR", data_dir / "tls")),
        plain_port=int(getattr(settings, "HEARTH_PORT", 8000)),
        cert_file=Path(cert_file) if cert_file else None,
        key_file=Path(key_file) if key_file else None,
    )


def endpoint_string(*, config: HttpsConfig, host: str, chain: Path | None = None) -> str:
    """Twisted's endpoint description of the TLS listener daphne opens (`daphne -e ...`).

    Twisted reads only the first certificate of `certKey`; the certificates in `chain` (the CA, or the
    intermediates of your own certificate) go after it. Colons, equals signs and backslashes in paths
    and IPv6 interfaces are escaped as the endpoint syntax requires.
    """

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace(":", "\\:").replace("=", "\\=")

    interface = host.strip("[]") or "0.0.0.0"  # noqa: S104 (every interface, as for plain HTTP)
    return (
        f"ssl:{config.port}:privateKey={escape(str(config.served_key))}"
        f":certKey={escape(str(config.served_cert))}:interface={escape(interface)}"
        + (f":extraCertChain={escape(str(chain))}" if chain is not None else "")
    )
