"""The household CA and the server certificate: verified with cryptography's own X.509 path validation."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import socket
import stat
from pathlib import Path

import psutil
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store

from assistant.https.addresses import MachineNames, machine_names_read
from assistant.https.certificates import (
    SERVER_VALIDITY,
    certificate_fingerprint,
    certificate_names,
    certificates_ensure,
)

NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
NAMES = MachineNames(
    dns_names=("hearth-box", "hearth-box.local", "localhost"),
    addresses=(ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("192.168.1.20"), ipaddress.ip_address("::1")),
)


def load(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def verify(folder: Path, subject: x509.verification.Subject, *, at: dt.datetime = NOW) -> None:
    """Raises VerificationError unless the served chain leads to the CA for `subject` at time `at`."""
    ca = load(folder / "ca.crt")[0]
    leaf, *rest = load(folder / "server.crt")
    verifier = PolicyBuilder().store(Store([ca])).time(at).build_server_verifier(subject)
    verifier.verify(leaf, rest)


def test_the_chain_verifies_against_the_ca_for_every_name_and_address(tmp_path: Path) -> None:
    report = certificates_ensure(folder=tmp_path, names=NAMES, now=NOW)

    assert report.ca_created
    assert report.server_issued
    for name in NAMES.dns_names:
        verify(tmp_path, x509.DNSName(name))
    for address in NAMES.addresses:
        verify(tmp_path, x509.IPAddress(address))
    with pytest.raises(x509.verification.VerificationError):
        verify(tmp_path, x509.DNSName("elsewhere.example"))


def test_another_ca_does_not_verify_it(tmp_path: Path) -> None:
    certificates_ensure(folder=tmp_path / "one", names=NAMES, now=NOW)
    certificates_ensure(folder=tmp_path / "two", names=NAMES, now=NOW)
    other_ca = load(tmp_path / "two" / "ca.crt")[0]
    leaf = load(tmp_path / "one" / "server.crt")[0]
    verifier = PolicyBuilder().store(Store([other_ca])).time(NOW).build_server_verifier(x509.DNSName("localhost"))

    with pytest.raises(x509.verification.VerificationError):
        verifier.verify(leaf, [])


def test_the_sans_cover_every_address_this_machine_reports(tmp_path: Path) -> None:
    names = machine_names_read()
    certificates_ensure(folder=tmp_path, names=names)
    dns_names, addresses = certificate_names(load(tmp_path / "server.crt")[0])

    reported = {
        ipaddress.ip_address(entry.address.split("%")[0])
        for entries in psutil.net_if_addrs().values()
        for entry in entries
        if entry.family in (socket.AF_INET, socket.AF_INET6)
    }
    expected = {address for address in reported if not (address.version == 6 and address.is_link_local)}
    assert expected <= set(addresses)
    assert {"localhost", f"{socket.gethostname().split('.')[0].lower()}.local"} <= set(dns_names)
    assert socket.gethostname().lower() in dns_names
    for address in expected:
        verify(tmp_path, x509.IPAddress(address), at=dt.datetime.now(dt.UTC))


def test_it_meets_apples_rules_for_tls_server_certificates(tmp_path: Path) -> None:
    certificates_ensure(folder=tmp_path, names=NAMES, now=NOW)
    leaf = load(tmp_path / "server.crt")[0]
    ca = load(tmp_path / "ca.crt")[0]

    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= dt.timedelta(days=825)
    assert dt.timedelta(days=825) >= SERVER_VALIDITY
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)  # iOS ignores the common name
    assert isinstance(leaf.signature_hash_algorithm, hashes.SHA256)
    key = leaf.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    assert key.curve.name == "secp256r1"
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert leaf.version is x509.Version.v3

    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    assert constraints.value.path_length == 0
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert dt.timedelta(days=3640) <= ca.not_valid_after_utc - NOW <= dt.timedelta(days=3660)


def test_keys_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "tls"
    certificates_ensure(folder=folder, names=NAMES, now=NOW)

    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "ca.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / "server.key").stat().st_mode) == 0o600


def test_a_second_start_changes_nothing(tmp_path: Path) -> None:
    certificates_ensure(folder=tmp_path, names=NAMES, now=NOW)
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}

    report = certificates_ensure(folder=tmp_path, names=NAMES, now=NOW + dt.timedelta(days=3))

    assert not report.ca_created
    assert not report.server_issued
    assert report.events == ()
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_a_new_address_gets_a_new_certificate_from_the_same_ca(tmp_path: Path) -> None:
    certificates_ensure(folder=tmp_path, names=NAMES, now=NOW)
    ca_before = (tmp_path / "ca.crt").read_bytes()
    moved = MachineNames(NAMES.dns_names, (*NAMES.addresses, ipaddress.ip_address("10.0.0.7")))

    report = certificates_ensure(folder=tmp_path, names=moved, now=NOW + dt.timedelta(days=1))

    assert report.server_issued
    assert not report.ca_created
    assert "10.0.0.7" in report.events[0]
    assert (tmp_path / "ca.crt").read_bytes() == ca_before
    verify(tmp_path, x509.IPAddress(ipaddress.ip_address("10.0.0.7")), at=NOW + dt.timedelta(days=1))
    verify(tmp_path, x509.IPAddress(ipaddress.ip_address("192.168.1.20")), at=NOW + dt.timedelta(days=1))


def test_it_is_renewed_before_it_expires(tmp_path: Path) -> None:
    certificates_ensure(folder=tmp_path, names=NAMES, now=NOW)
    first = load(tmp_path / "server.crt")[0]
    still_fine = first.not_valid_after_utc - dt.timedelta(days=40)
    almost_expired = first.not_valid_after_utc - dt.timedelta(days=10)

    assert not certificates_ensure(folder=tmp_path, names=NAMES, now=still_fine).server_issued
    assert certificates_ensure(folder=tmp_path, names=NAMES, now=almost_expired).server_issued

    renewed = load(tmp_path / "server.crt")[0]
    assert renewed.not_valid_after_utc > first.not_valid_after_utc + dt.timedelta(days=700)
    verify(tmp_path, x509.DNSName("localhost"), at=first.not_valid_after_utc + dt.timedelta(days=1))


def test_a_corrupt_server_key_is_replaced_and_the_ca_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    certificates_ensure(folder=tmp_path, names=NAMES, now=NOW)
    ca_before = (tmp_path / "ca.crt").read_bytes()
    (tmp_path / "server.key").write_bytes(b"-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")

    with caplog.at_level(logging.INFO, logger="hearth.https"):
        report = certificates_ensure(folder=tmp_path, names=NAMES, now=NOW)

    assert report.server_issued
    assert not report.ca_created
    warnings = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    assert any("server key" in message and "corrupt" in message for message in warnings)
    assert (tmp_path / "ca.crt").read_bytes() == ca_before
    assert [p.name for p in tmp_path.glob("server.key.corrupt-*")]  # kept, not deleted
    verify(tmp_path, x509.DNSName("localhost"))


def test_a_corrupt_ca_key_makes_a_new_ca_and_loses_nothing_else(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tls = tmp_path / "tls"
    certificates_ensure(folder=tls, names=NAMES, now=NOW)
    old_fingerprint = certificate_fingerprint(load(tls / "ca.crt")[0])
    neighbour = tmp_path / "db.sqlite3"
    neighbour.write_bytes(b"household data")
    (tls / "ca.key").write_bytes(b"\x00garbage")

    with caplog.at_level(logging.INFO, logger="hearth.https"):
        report = certificates_ensure(folder=tls, names=NAMES, now=NOW)

    assert report.ca_created
    assert report.server_issued
    warnings = [r.message for r in caplog.records if r.levelno == logging.WARNING]
    assert any("household CA key" in m and "corrupt" in m for m in warnings)
    assert any("must install the new certificate" in m for m in warnings)
    assert certificate_fingerprint(load(tls / "ca.crt")[0]) != old_fingerprint
    assert list(tls.glob("ca.key.corrupt-*"))
    assert list(tls.glob("ca.crt.replaced-*"))
    assert neighbour.read_bytes() == b"household data"
    verify(tls, x509.DNSName("hearth-box.local"))


def test_a_missing_ca_certificate_is_remade_from_its_key(tmp_path: Path) -> None:
    certificates_ensure(folder=tmp_path, names=NAMES, now=NOW)
    old_ca = load(tmp_path / "ca.crt")[0]
    (tmp_path / "ca.crt").unlink()

    report = certificates_ensure(folder=tmp_path, names=NAMES, now=NOW)

    new_ca = load(tmp_path / "ca.crt")[0]
    assert not report.ca_created
    assert new_ca.public_key() == old_ca.public_key()
    assert new_ca.subject == old_ca.subject
    # A phone that installed the old CA certificate still accepts what the remade one signs.
    leaf = load(tmp_path / "server.crt")[0]
    verifier = PolicyBuilder().store(Store([old_ca])).time(NOW).build_server_verifier(x509.DNSName("localhost"))
    verifier.verify(leaf, [])


def test_a_missing_server_key_is_generated(tmp_path: Path) -> None:
    certificates_ensure(folder=tmp_path, names=NAMES, now=NOW)
    (tmp_path / "server.key").unlink()

    report = certificates_ensure(folder=tmp_path, names=NAMES, now=NOW)

    assert report.server_issued
    assert (tmp_path / "server.key").exists()
    verify(tmp_path, x509.DNSName("localhost"))


def test_while_running_a_new_address_gets_a_certificate_and_the_web_server_restarts(tmp_path: Path) -> None:
    import threading

    from assistant.https.config import HttpsConfig
    from assistant.https.serving import https_reissue_needed, https_watch

    machine = machine_names_read()
    # Issued before this machine had its current addresses: only loopback.
    loopback = tuple(a for a in machine.addresses if a.is_loopback)
    certificates_ensure(folder=tmp_path, names=MachineNames(machine.dns_names, loopback))
    config = HttpsConfig(mode="auto", port=8443, tls_dir=tmp_path)
    said: list[str] = []
    restarts: list[bool] = []
    stop = threading.Event()

    def restart_web() -> None:
        restarts.append(True)
        stop.set()

    if set(machine.addresses) == set(loopback):
        pytest.skip("this machine has no address besides loopback")
    assert https_reissue_needed(config=config) is not None
    https_watch(config=config, host="0.0.0.0", say=said.append, restart_web=restart_web, stop=stop, interval=0.01)  # noqa: S104

    assert restarts == [True]
    assert "issued a new server certificate" in said[0]
    assert "restarting the web server" in said[0]
    assert https_reissue_needed(config=config) is None
    _, addresses = certificate_names(load(tmp_path / "server.crt")[0])
    assert set(machine.addresses) <= set(addresses)
