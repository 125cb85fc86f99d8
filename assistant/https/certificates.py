"""The household certificate authority and the server certificate it signs.

Files, in a private folder (`<data>/tls/`, mode 0700):

    ca.key       the CA's private key (0600). Losing it means every phone installs a new CA.
    ca.crt       the CA certificate phones install (valid ~10 years).
    server.key   the web server's private key (0600).
    server.crt   the server certificate followed by the CA certificate (the chain daphne serves).

`certificates_ensure` is called by `manage.py serve` before the web server starts. It creates what is
missing, re-issues the server certificate when this machine has a name or address it does not cover,
when it expires within RENEW_BEFORE, or when it was not signed by the current CA, and replaces an
unreadable key with a new one. A damaged file is renamed aside (`*.corrupt-<time>`), never deleted, and
the log says what happened and what the household has to do.

The server certificate follows Apple's rules for TLS server certificates (iOS 13 and later): names in
subjectAltName (the common name is ignored), extendedKeyUsage serverAuth, validity at most 825 days,
a SHA-256 signature and an ECDSA P-256 key.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import ipaddress
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from assistant.https.addresses import IPAddress, MachineNames

logger = logging.getLogger("hearth.https")

CA_VALIDITY = dt.timedelta(days=3650)
# Apple's limit for TLS server certificates is 825 days; stay under it with room for clock skew.
SERVER_VALIDITY = dt.timedelta(days=800)
RENEW_BEFORE = dt.timedelta(days=30)
# Issued slightly in the past, so a phone whose clock runs a little behind still accepts it.
BACKDATE = dt.timedelta(hours=1)

SigningKey = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class TLSFiles:
    folder: Path

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def server_key(self) -> Path:
        return self.folder / "server.key"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server.crt"


@dataclass(frozen=True)
class CertificateReport:
    """What `certificates_ensure` did; `events` are sentences for the person starting Hearth."""

    files: TLSFiles
    ca_created: bool
    server_issued: bool
    events: tuple[str, ...]


def certificates_ensure(*, folder: Path, names: MachineNames, now: dt.datetime | None = None) -> CertificateReport:
    """Make sure a valid CA and a server certificate covering `names` exist in `folder`."""
    moment = now or dt.datetime.now(dt.UTC)
    files = TLSFiles(folder)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    events: list[str] = []
    ca_key, ca_cert, ca_created = _ca_ready(files, moment, events)
    reason = server_reissue_reason(files=files, ca_cert=ca_cert, names=names, now=moment)
    if reason is not None:
        server_key = _server_key_ready(files, events)
        cert = server_certificate_build(ca_key=ca_key, ca_cert=ca_cert, key=server_key, names=names, now=moment)
        _write_atomic(
            files.server_cert,
            cert.public_bytes(serialization.Encoding.PEM) + ca_cert.public_bytes(serialization.Encoding.PEM),
            mode=0o644,
        )
        events.append(f"Issued a new server certificate ({reason}); valid until {cert.not_valid_after_utc:%Y-%m-%d}")
    for event in events:
        logger.log(logging.WARNING if "corrupt" in event or "missing" in event else logging.INFO, event)
    return CertificateReport(files=files, ca_created=ca_created, server_issued=reason is not None, events=tuple(events))


# --- the certificate authority --------------------------------------------------------------------


def _ca_ready(files: TLSFiles, now: dt.datetime, events: list[str]) -> tuple[SigningKey, x509.Certificate, bool]:
    """The CA key and certificate, created or repaired as needed; True when the CA is new."""
    key = _key_read(files.ca_key, events, what="household CA key")
    cert = _certificate_read(files.ca_cert, events, what="household CA certificate")
    if key is None:
        if cert is not None:
            _set_aside(files.ca_cert, "replaced")
            events.append(
                "The household CA key was missing or corrupt: created a new household CA. Every phone "
                "must install the new certificate from the Connect a phone page."
            )
        key = _key_write(files.ca_key)
        cert = ca_certificate_build(key=key, now=now)
        _write_atomic(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
        events.append(f"Created the household CA (SHA-256 {certificate_fingerprint(cert)})")
        return key, cert, True
    if cert is None or not _same_key(cert, key) or cert.not_valid_after_utc - now < RENEW_BEFORE:
        if cert is not None:
            _set_aside(files.ca_cert, "replaced")
        # Same key and same name: phones that trust the old CA certificate also trust what it signs now.
        cert = ca_certificate_build(key=key, now=now, subject=cert.subject if cert is not None else None)
        _write_atomic(files.ca_cert, cert.public_bytes(serialization.Encoding.PEM), mode=0o644)
        events.append("Re-created the household CA certificate from its existing key (phones keep trusting it)")
    return key, cert, False


def ca_certificate_build(*, key: SigningKey, now: dt.datetime, subject: x509.Name | None = None) -> x509.Certificate:
    """A self-signed CA certificate for `key`: may sign server certificates only (path length 0)."""
    name = subject or x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hearth"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Hearth household CA {now:%Y-%m-%d %H%M%S}"),
        ]
    )
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    return builder.sign(key, hashes.SHA256())


# --- the server certificate -----------------------------------------------------------------------


def server_certificate_build(
    *, ca_key: SigningKey, ca_cert: x509.Certificate, key: SigningKey, names: MachineNames, now: dt.datetime
) -> x509.Certificate:
    """A TLS server certificate for `names`, signed by the CA."""
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in names.dns_names]
    alt_names += [x509.IPAddress(address) for address in names.addresses]
    common = next((n for n in names.dns_names if n.endswith(".local")), "localhost")
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Hearth"),
                    x509.NameAttribute(NameOID.COMMON_NAME, common[:64]),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + SERVER_VALIDITY - BACKDATE)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
    )
    return builder.sign(ca_key, hashes.SHA256())


def server_reissue_reason(
    *, files: TLSFiles, ca_cert: x509.Certificate, names: MachineNames, now: dt.datetime
) -> str | None:
    """Why the server certificate must be issued again, or None when it is fine."""
    if not files.server_key.exists():
        return "no server key yet"
    try:
        chain = x509.load_pem_x509_certificates(files.server_cert.read_bytes())
    except FileNotFoundError:
        return "no server certificate yet"
    except ValueError:
        return "the server certificate was unreadable"
    cert = chain[0]
    if not _signed_by(cert, ca_cert):
        return "it was not signed by the current household CA"
    if cert.not_valid_after_utc - now < RENEW_BEFORE:
        return f"the old one expires on {cert.not_valid_after_utc:%Y-%m-%d}"
    dns_names, addresses = certificate_names(cert)
    missing = sorted(set(names.dns_names) - set(dns_names))
    missing += sorted(str(address) for address in set(names.addresses) - set(addresses))
    if missing:
        return "new names or addresses: " + ", ".join(missing)
    try:
        key = serialization.load_pem_private_key(files.server_key.read_bytes(), password=None)
    except ValueError:
        return "the server key was unreadable"
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not _same_key(cert, key):
        return "the server key does not match the certificate"
    return None


def _server_key_ready(files: TLSFiles, events: list[str]) -> SigningKey:
    key = _key_read(files.server_key, events, what="server key")
    return key if key is not None else _key_write(files.server_key)


# --- facts shown to the household ------------------------------------------------------------------


def certificate_names(cert: x509.Certificate) -> tuple[list[str], list[IPAddress]]:
    """The DNS names and IP addresses in a certificate's subjectAltName."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return [], []
    addresses = [
        value
        for value in san.get_values_for_type(x509.IPAddress)
        if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address)  # not the networks of name constraints
    ]
    return list(san.get_values_for_type(x509.DNSName)), addresses


def certificate_file_names(*, path: Path) -> list[str]:
    """The DNS names of the first certificate in a PEM file (empty when it cannot be read)."""
    try:
        cert = x509.load_pem_x509_certificates(path.read_bytes())[0]
    except (OSError, ValueError, IndexError):
        return []
    return [name for name in certificate_names(cert)[0] if not name.startswith("*.")]


def certificate_fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate, as phones show it: "AB:CD:...", 32 pairs."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def spki_sha256_base64(cert: x509.Certificate) -> str:
    """base64(SHA-256(SubjectPublicKeyInfo)): what Chromium's --ignore-certificate-errors-spki-list takes."""
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def ca_certificate_read(*, folder: Path) -> x509.Certificate | None:
    """The household CA certificate, or None when there is none (yet) or it is unreadable."""
    try:
        return x509.load_pem_x509_certificate((folder / "ca.crt").read_bytes())
    except (OSError, ValueError):
        return None


# --- files ----------------------------------------------------------------------------------------

def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _key_read(path: Path, events: list[str], *, what: str) -> SigningKey | None:
    """The EC private key in `path`; None when missing, or when damaged (then set aside, with a log line)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key
    aside = _set_aside(path, "corrupt")
    events.append(f"The {what} in {path} was corrupt (kept as {aside.name}): generating a new one")
    return None


def _certificate_read(path: Path, events: list[str], *, what: str) -> x509.Certificate | None:
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        return None
    except ValueError:
        aside = _set_aside(path, "corrupt")
        events.append(f"The {what} in {path} was corrupt (kept as {aside.name})")
        return None


def _key_write(path: Path) -> SigningKey:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_atomic(path, pem, mode=0o600)
    return key


def _write_atomic(path: Path, data: bytes, *, mode: int) -> None:
    """Write to a temporary file with its final mode from the start, then rename over `path`."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _set_aside(path: Path, label: str) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.{label}-{stamp}")
    os.replace(path, aside)
    return aside


def _same_key(cert: x509.Certificate, key: SigningKey) -> bool:
    return cert.public_key() == key.public_key()


def _signed_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> bool:
    if cert.issuer != ca_cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
