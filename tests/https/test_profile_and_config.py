"""The iOS profile, HEARTH_HTTPS parsing and daphne's TLS endpoint string."""

from __future__ import annotations

import plistlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from assistant.https.addresses import MachineNames, dns_name_valid, url_host
from assistant.https.certificates import certificate_fingerprint, certificates_ensure
from assistant.https.config import HttpsConfig, endpoint_string
from assistant.https.profile import mobileconfig_build
from config.env import ConfigError, env_https


def test_the_mobileconfig_carries_the_ca_as_a_root_payload(tmp_path: Path) -> None:
    certificates_ensure(folder=tmp_path, names=MachineNames(("localhost",), ()))
    ca = x509.load_pem_x509_certificate((tmp_path / "ca.crt").read_bytes())

    profile = plistlib.loads(mobileconfig_build(ca_cert=ca))

    assert profile["PayloadType"] == "Configuration"
    assert profile["PayloadVersion"] == 1
    (payload,) = profile["PayloadContent"]
    assert payload["PayloadType"] == "com.apple.security.root"
    assert payload["PayloadContent"] == ca.public_bytes(serialization.Encoding.DER)
    assert certificate_fingerprint(ca) in profile["PayloadDescription"]
    # The same CA gives the same identifiers: installing again replaces, never duplicates.
    again = plistlib.loads(mobileconfig_build(ca_cert=ca))
    assert again["PayloadUUID"] == profile["PayloadUUID"]
    assert again["PayloadContent"][0]["PayloadUUID"] == payload["PayloadUUID"]


def https(monkeypatch: pytest.MonkeyPatch, raw: str) -> tuple[str, Path | None, Path | None]:
    monkeypatch.setenv("HEARTH_HTTPS", raw)
    return env_https("HEARTH_HTTPS")


@pytest.mark.parametrize("raw", ["", "auto", "AUTO", " on "])
def test_auto_is_the_default(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert https(monkeypatch, raw) == ("auto", None, None)


def test_unset_means_auto(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HEARTH_HTTPS", raising=False)
    assert env_https("HEARTH_HTTPS") == ("auto", None, None)
    config = HttpsConfig(mode="auto", port=8443, tls_dir=tmp_path)
    assert config.enabled
    assert config.household_ca
    assert config.served_cert == tmp_path / "server.crt"
    assert config.served_key == tmp_path / "server.key"


def test_off_serves_no_https(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert https(monkeypatch, "off") == ("off", None, None)
    assert not HttpsConfig(mode="off", port=8443, tls_dir=tmp_path).enabled


def test_your_own_certificate_and_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("cert")
    (tmp_path / "key.pem").write_text("key")

    mode, cert, key = https(monkeypatch, f"{tmp_path}/cert.pem, {tmp_path}/key.pem")

    assert (mode, cert, key) == ("files", tmp_path / "cert.pem", tmp_path / "key.pem")
    config = HttpsConfig(mode="files", port=9443, tls_dir=tmp_path, cert_file=cert, key_file=key)
    assert not config.household_ca
    assert config.served_cert == tmp_path / "cert.pem"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("maybe", "use auto, off, or the certificate and key files"),
        ("/only/a/cert.pem,", "use auto, off"),
        ("/nowhere/cert.pem,/nowhere/key.pem", "the certificate file /nowhere/cert.pem does not exist"),
    ],
)
def test_a_bad_value_names_the_variable(raw: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="HEARTH_HTTPS") as caught:
        https(monkeypatch, raw)
    assert message in str(caught.value)


def test_the_endpoint_string_escapes_what_twisted_would_split_on(tmp_path: Path) -> None:
    folder = tmp_path / "odd:name=dir"
    config = HttpsConfig(mode="auto", port=8443, tls_dir=folder)

    endpoint = endpoint_string(config=config, host="0.0.0.0", chain=folder / "ca.crt")  # noqa: S104

    assert endpoint.startswith("ssl:8443:privateKey=")
    assert "odd\\:name\\=dir/server.key" in endpoint
    assert "certKey=" in endpoint
    escaped_chain = str(folder / "ca.crt").replace(":", "\\:").replace("=", "\\=")
    assert endpoint.endswith(f":interface=0.0.0.0:extraCertChain={escaped_chain}")
    assert endpoint_string(config=config, host="::").endswith("interface=\\:\\:")


def test_names_and_url_hosts() -> None:
    assert dns_name_valid("hearth-box.local")
    assert not dns_name_valid("under_score")
    assert not dns_name_valid("-x")
    assert url_host("fd00::5") == "[fd00::5]"
    assert url_host("192.168.1.2") == "192.168.1.2"
    assert url_host("hearth.local") == "hearth.local"
