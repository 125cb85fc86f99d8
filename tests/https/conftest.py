"""A real daphne serving plain HTTP and HTTPS (household CA) on the test database, as `make run` does.

Browsers count `localhost` and 127.0.0.0/8 as secure even over plain HTTP, so the tests open Hearth by
a LAN-like name, `hearth.test`, that Chromium resolves to 127.0.0.1 (--host-resolver-rules); the server
certificate names it too.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509

from assistant.core.processes import process_group_stop, web_command
from assistant.https.addresses import MachineNames, machine_names_read
from assistant.https.certificates import certificates_ensure, spki_sha256_base64
from assistant.https.config import HttpsConfig, endpoint_string
from tests.environment import TEST_DATA_DIR, free_port
from tests.support.services import ROOT, service_env, services_database_url, wait_for

TEST_HOST = "hearth.test"


@dataclass(frozen=True)
class HttpsServer:
    plain_port: int
    tls_port: int
    ca_file: Path
    ca_spki: str  # base64 SHA-256 of the CA's public key, for --ignore-certificate-errors-spki-list

    def plain(self, path: str = "/", host: str = TEST_HOST) -> str:
        return f"http://{host}:{self.plain_port}{path}"

    def secure(self, path: str = "/", host: str = TEST_HOST) -> str:
        return f"https://{host}:{self.tls_port}{path}"


def _listening(process: subprocess.Popen[bytes], port: int, log: Path) -> bool:
    if process.poll() is not None:
        pytest.fail(f"daphne exited early:\n{log.read_text()[-3000:]}")
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def https_server(django_db_setup: None, _static_files: None) -> Iterator[HttpsServer]:
    plain_port, tls_port = free_port(), free_port()
    machine = machine_names_read()
    names = MachineNames((*machine.dns_names, TEST_HOST), machine.addresses)
    report = certificates_ensure(folder=TEST_DATA_DIR / "tls", names=names)
    config = HttpsConfig(mode="auto", port=tls_port, tls_dir=report.files.folder, plain_port=plain_port)
    endpoint = endpoint_string(config=config, host="127.0.0.1", chain=report.files.ca_cert)
    hosts = ",".join(["localhost", "127.0.0.1", TEST_HOST, *machine.dns_names, *(str(a) for a in machine.addresses)])
    env = service_env(
        DATABASE_URL=services_database_url(),
        ALLOWED_HOSTS=hosts,
        HEARTH_HTTPS="auto",
        HEARTH_PORT=str(plain_port),
        HEARTH_HTTPS_PORT=str(tls_port),
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = TEST_DATA_DIR / "daphne-https.log"
    process = subprocess.Popen(
        web_command(host="127.0.0.1", port=plain_port, tls_endpoint=endpoint),
        cwd=ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    try:
        for port in (plain_port, tls_port):
            wait_for(lambda p=port: _listening(process, p, log), timeout=60, what=f"daphne on {port} ({log})")
        ca = x509.load_pem_x509_certificate(report.files.ca_cert.read_bytes())
        yield HttpsServer(plain_port, tls_port, report.files.ca_cert, spki_sha256_base64(ca))
    finally:
        process_group_stop(process, timeout=15)
