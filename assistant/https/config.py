"""How Hearth serves HTTPS, from HEARTH_HTTPS (read by config/settings.py through config/env.py).

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


class HttpsConfigError(ValueError):
    """HEARTH_HTTPS names something unusable; the message says what."""


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


def https_config_parse(
    *, raw: str, port: int, tls_dir: Path, plain_port: int = 8000, name: str = "HEARTH_HTTPS"
) -> HttpsConfig:
    """HEARTH_HTTPS's value as a config; a malformed one raises with a message naming the variable."""
    value = raw.strip()
    if value.lower() in {"", "auto", "on", "1", "true", "yes"}:
        return HttpsConfig(mode="auto", port=port, tls_dir=tls_dir, plain_port=plain_port)
    if value.lower() in {"off", "0", "false", "no"}:
        return HttpsConfig(mode="off", port=port, tls_dir=tls_dir, plain_port=plain_port)
    cert_raw, comma, key_raw = value.partition(",")
    if not comma or not cert_raw.strip() or not key_raw.strip():
        raise HttpsConfigError(
            f"{name}={raw!r}: use auto, off, or the certificate and key files as <cert.pem>,<key.pem>"
        )
    cert_file = Path(cert_raw.strip()).expanduser().resolve()
    key_file = Path(key_raw.strip()).expanduser().resolve()
    for label, path in (("certificate", cert_file), ("key", key_file)):
        if not path.is_file():
            raise HttpsConfigError(f"{name}: the {label} file {path} does not exist")
        try:
            path.read_bytes()
        except OSError as exc:
            raise HttpsConfigError(f"{name}: the {label} file {path} cannot be read: {exc}") from exc
    return HttpsConfig(
        mode="files", port=port, tls_dir=tls_dir, plain_port=plain_port, cert_file=cert_file, key_file=key_file
    )


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
