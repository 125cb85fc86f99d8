"""What `manage.py serve` prepares for HTTPS: certificates, daphne's endpoint, the addresses it prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.https.addresses import MachineNames, lan_address
from assistant.https.certificates import certificates_ensure
from assistant.https.config import HttpsConfig
from assistant.https.serving import HttpsServeError, https_addresses, https_serving_prepare


def own_files(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate chain and key "from elsewhere": made by a CA of their own in another folder."""
    elsewhere = tmp_path / "elsewhere"
    report = certificates_ensure(folder=elsewhere, names=MachineNames(("hearth.example",), ()))
    return report.files.server_cert, report.files.server_key


def test_off_serves_no_https(tmp_path: Path) -> None:
    serving = https_serving_prepare(config=HttpsConfig(mode="off", port=8443, tls_dir=tmp_path), host="0.0.0.0")  # noqa: S104
    assert serving.endpoint is None
    assert not (tmp_path / "ca.key").exists()


def test_auto_makes_the_certificates_once_and_serves_the_ca_as_chain(tmp_path: Path) -> None:
    config = HttpsConfig(mode="auto", port=8443, tls_dir=tmp_path / "tls")

    first = https_serving_prepare(config=config, host="0.0.0.0")  # noqa: S104
    again = https_serving_prepare(config=config, host="0.0.0.0")  # noqa: S104

    assert first.endpoint is not None
    assert first.endpoint.startswith("ssl:8443:privateKey=")
    assert first.endpoint.endswith(f"extraCertChain={tmp_path}/tls/ca.crt")
    assert any("Created the household CA" in event for event in first.events)
    assert again.events == ()
    assert again.ca_fingerprint == first.ca_fingerprint


def test_your_own_certificate_is_checked_and_its_chain_served(tmp_path: Path) -> None:
    cert, key = own_files(tmp_path)
    config = HttpsConfig(mode="files", port=9443, tls_dir=tmp_path / "tls", cert_file=cert, key_file=key)

    serving = https_serving_prepare(config=config, host="0.0.0.0")  # noqa: S104

    assert serving.endpoint is not None
    assert f"certKey={cert}" in serving.endpoint
    assert serving.endpoint.endswith(f"extraCertChain={tmp_path}/tls/own-chain.pem")
    assert (tmp_path / "tls" / "own-chain.pem").read_text().count("BEGIN CERTIFICATE") == 1
    assert serving.ca_fingerprint is None
    assert not (tmp_path / "tls" / "ca.key").exists()  # no household CA in this mode


def test_a_key_of_another_certificate_is_refused_with_both_names(tmp_path: Path) -> None:
    cert, _ = own_files(tmp_path)
    other_key = certificates_ensure(folder=tmp_path / "other", names=MachineNames(("x.example",), ())).files.ca_key
    config = HttpsConfig(mode="files", port=9443, tls_dir=tmp_path / "tls", cert_file=cert, key_file=other_key)

    with pytest.raises(HttpsServeError, match="does not belong to") as caught:
        https_serving_prepare(config=config, host="0.0.0.0")  # noqa: S104
    assert str(other_key) in str(caught.value)
    assert str(cert) in str(caught.value)


@pytest.mark.parametrize("broken", ["cert", "key"])
def test_files_that_are_not_pem_are_refused(tmp_path: Path, broken: str) -> None:
    cert, key = own_files(tmp_path)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a PEM file")
    files = {"cert_file": garbage if broken == "cert" else cert, "key_file": garbage if broken == "key" else key}
    config = HttpsConfig(mode="files", port=9443, tls_dir=tmp_path / "tls", **files)

    with pytest.raises(HttpsServeError, match=r"HEARTH_HTTPS: .*garbage\.pem is not"):
        https_serving_prepare(config=config, host="0.0.0.0")  # noqa: S104


def test_it_prints_the_secure_and_the_plain_address(tmp_path: Path) -> None:
    config = HttpsConfig(mode="auto", port=8443, tls_dir=tmp_path)
    lines = https_addresses(config=config, host="0.0.0.0", plain_port=8000)  # noqa: S104

    assert "https://localhost:8443/   (this computer, secure)" in lines
    assert "http://localhost:8000/   (this computer, plain)" in lines
    lan = lan_address()
    if lan:
        assert lines[0] == f"https://{lan}:8443/   (phones and computers on your network, secure)"
        assert lines[1] == f"http://{lan}:8000/   (phones and computers on your network, plain)"

    off = HttpsConfig(mode="off", port=8443, tls_dir=tmp_path)
    assert https_addresses(config=off, host="127.0.0.1", plain_port=8000) == ["http://127.0.0.1:8000/"]
