"""Connect a phone, the CA downloads, the per-device HTTPS choice, the banner and the service worker."""

from __future__ import annotations

import plistlib
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.test import Client

from assistant.https.addresses import machine_names_read
from assistant.https.certificates import certificate_fingerprint, certificates_ensure

LAN = "192.168.1.20"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def household_ca() -> x509.Certificate:
    tls = Path(settings.DATA_DIR) / "tls"
    certificates_ensure(folder=tls, names=machine_names_read())
    return x509.load_pem_x509_certificate((tls / "ca.crt").read_bytes())


@pytest.fixture(autouse=True)
def lan_host(settings: Any) -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, LAN]


def test_it_needs_a_signed_in_member(client: Client, olivia: Any) -> None:
    response = client.get("/connect/", HTTP_HOST=f"{LAN}:8000")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert client.get("/connect/hearth-ca.crt").status_code == 302
    assert client.get("/connect/hearth.mobileconfig").status_code == 302


def test_a_member_sees_both_codes_the_fingerprint_and_the_downloads(
    client: Client, alice: Any, household_ca: x509.Certificate
) -> None:
    client.force_login(alice)
    page = client.get("/connect/", HTTP_HOST=f"{LAN}:8000").content.decode()

    assert page.count('class="qr__code"') == 2
    assert f"https://{LAN}:8443/" in page
    assert f"http://{LAN}:8000/connect/" in page
    assert certificate_fingerprint(household_ca) in page
    assert 'href="/connect/hearth.mobileconfig"' in page
    assert 'href="/connect/hearth-ca.crt"' in page
    assert "Certificate Trust Settings" in page
    assert "Install a certificate" in page


def test_on_localhost_the_codes_point_at_the_lan_address(client: Client, olivia: Any) -> None:
    from assistant.https.addresses import lan_address

    client.force_login(olivia)
    page = client.get("/connect/", HTTP_HOST="localhost:8000").content.decode()

    shown = lan_address() or "localhost"
    assert f"https://{shown}:8443/" in page
    assert "https://localhost:8443/</code>" not in page


def test_the_downloads_are_the_household_ca(client: Client, alice: Any, household_ca: x509.Certificate) -> None:
    client.force_login(alice)

    crt = client.get("/connect/hearth-ca.crt")
    assert crt["Content-Type"] == "application/x-x509-ca-cert"
    assert 'filename="hearth-ca.crt"' in crt["Content-Disposition"]
    assert x509.load_der_x509_certificate(crt.content) == household_ca

    profile = client.get("/connect/hearth.mobileconfig")
    assert profile["Content-Type"] == "application/x-apple-aspen-config"
    payload = plistlib.loads(profile.content)["PayloadContent"][0]["PayloadContent"]
    assert payload == household_ca.public_bytes(serialization.Encoding.DER)


def test_with_https_off_the_page_says_so_and_offers_no_certificate(client: Client, alice: Any, settings: Any) -> None:
    settings.HEARTH_HTTPS_MODE = "off"
    client.force_login(alice)

    page = client.get("/connect/", HTTP_HOST=f"{LAN}:8000").content.decode()

    assert "HTTPS is off" in page
    assert "qr__code" not in page
    assert client.get("/connect/hearth-ca.crt").status_code == 404


def test_plain_pages_from_another_device_show_the_banner(client: Client, alice: Any) -> None:
    client.force_login(alice)

    from_phone = client.get("/settings/", HTTP_HOST=f"{LAN}:8000").content.decode()
    assert "https-banner" in from_phone
    assert f'href="https://{LAN}:8443/settings/"' in from_phone
    assert "https-banner" not in client.get("/settings/", HTTP_HOST="localhost:8000").content.decode()
    assert "https-banner" not in client.get("/settings/", HTTP_HOST=f"{LAN}:8443", secure=True).content.decode()


def test_plain_pages_never_redirect_before_the_device_opted_in(client: Client, alice: Any) -> None:
    client.force_login(alice)
    assert client.get("/settings/", HTTP_HOST=f"{LAN}:8000").status_code == 200


def test_opting_in_needs_the_secure_address(client: Client, alice: Any) -> None:
    client.force_login(alice)

    refused = client.post("/connect/https/", {"prefer": "on"}, HTTP_HOST=f"{LAN}:8000")

    assert refused.status_code == 302
    assert "hearth_https" not in refused.cookies
    assert client.get("/settings/", HTTP_HOST=f"{LAN}:8000").status_code == 200


def test_after_opting_in_plain_pages_redirect_and_connect_stays_reachable(client: Client, alice: Any) -> None:
    client.force_login(alice)
    chosen = client.post("/connect/https/", {"prefer": "on"}, HTTP_HOST=f"{LAN}:8443", secure=True)
    cookie = chosen.cookies["hearth_https"]
    assert cookie.value == "1"
    assert cookie["httponly"]
    assert not cookie["secure"]

    redirected = client.get("/chat/?q=1", HTTP_HOST=f"{LAN}:8000")
    assert redirected.status_code == 302
    assert redirected["Location"] == f"https://{LAN}:8443/chat/?q=1"
    assert client.get("/connect/", HTTP_HOST=f"{LAN}:8000").status_code == 200  # the way back
    assert client.get("/settings/", HTTP_HOST=f"{LAN}:8443", secure=True).status_code == 200

    undone = client.post("/connect/https/", {"prefer": "off"}, HTTP_HOST=f"{LAN}:8000")
    assert undone.cookies["hearth_https"].value == ""
    assert client.get("/settings/", HTTP_HOST=f"{LAN}:8000").status_code == 200


def test_the_service_worker_is_public_and_caches_only_the_shell(client: Client, olivia: Any) -> None:
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    body = response.content.decode()
    shell_line = next(line for line in body.splitlines() if line.startswith("const SHELL ="))
    import json

    shell = json.loads(shell_line.removeprefix("const SHELL =").strip().rstrip(";"))
    assert "/offline/" in shell
    assert all(url == "/offline/" or url.startswith("/static/") for url in shell)
    assert "/api/" not in body.replace("/api/ answers", "")


def test_the_offline_page_is_public_and_the_same_for_everyone(client: Client, alice: Any) -> None:
    anonymous = client.get("/offline/").content.decode()
    client.force_login(alice)
    signed_in = client.get("/offline/").content.decode()

    assert "Hearth is unreachable" in anonymous
    assert "{#" not in anonymous
    assert "alice" not in signed_in
    assert anonymous.replace(" ", "") == signed_in.replace(" ", "")
