"""A real TLS connection to the running server, trusting nothing but the household CA (Python's ssl)."""

from __future__ import annotations

import re
import socket
import ssl
from typing import Any

import httpx
import pytest

from tests.https.conftest import TEST_HOST, HttpsServer
from tests.support.services import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("olivia")]  # set up: no /setup/


def household_only(server: HttpsServer) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(server.ca_file))  # no system roots: the CA alone
    assert len(context.get_ca_certs()) == 1
    return context


def tls_get(server: HttpsServer, *, server_hostname: str, context: ssl.SSLContext, path: str = "/sw.js") -> bytes:
    with (
        socket.create_connection(("127.0.0.1", server.tls_port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=server_hostname) as tls,
    ):
        assert tls.version() in {"TLSv1.2", "TLSv1.3"}
        request = f"GET {path} HTTP/1.1\r\nHost: {server_hostname}:{server.tls_port}\r\nConnection: close\r\n\r\n"
        tls.sendall(request.encode())
        chunks = []
        while chunk := tls.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("name", ["localhost", TEST_HOST, "127.0.0.1"])
def test_the_server_is_trusted_through_the_household_ca_alone(https_server: HttpsServer, name: str) -> None:
    answer = tls_get(https_server, server_hostname=name, context=household_only(https_server))
    assert answer.startswith(b"HTTP/1.1 200")
    assert b"hearth-shell-" in answer


def test_every_address_of_this_machine_is_covered(https_server: HttpsServer) -> None:
    from assistant.https.addresses import machine_addresses

    for address in machine_addresses():
        if address.version == 4 and not address.is_loopback:
            answer = tls_get(https_server, server_hostname=str(address), context=household_only(https_server))
            assert answer.startswith(b"HTTP/1.1 200"), address


def test_without_the_household_ca_the_connection_is_refused(https_server: HttpsServer) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_get(https_server, server_hostname="localhost", context=ssl.create_default_context())


def test_a_name_the_certificate_lacks_is_refused(https_server: HttpsServer) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match=r"mismatch|match"):
        tls_get(https_server, server_hostname="elsewhere.example", context=household_only(https_server))


def test_signing_in_over_https_sets_secure_cookies_of_their_own(https_server: HttpsServer, alice: Any) -> None:
    base = https_server.secure("", host="localhost")
    with httpx.Client(base_url=base, verify=household_only(https_server)) as client:
        page = client.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token is not None
        assert "__Secure-csrftoken" in page.headers["set-cookie"]
        assert "Secure" in page.headers["set-cookie"]

        signed_in = client.post(
            "/login/",
            data={"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": f"{base}/login/"},
        )

        assert signed_in.status_code == 302, signed_in.text[:500]
        session = next(c for c in signed_in.headers.get_list("set-cookie") if "sessionid" in c)
        assert session.startswith("__Secure-sessionid=")
        assert "; Secure" in session
        assert "HttpOnly" in session
        assert client.get("/settings/").status_code == 200


def test_the_plain_port_still_works_beside_it(https_server: HttpsServer) -> None:
    response = httpx.get(https_server.plain("/login/", host="localhost"))
    assert response.status_code == 200
    assert "__Secure-" not in response.headers.get("set-cookie", "")
