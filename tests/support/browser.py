"""Browser tests' shared parts: a real daphne on the test database, Debian's chromium, and a
browser context that is already logged in.

Import the fixtures into a test module to use them:

    from tests.support.browser import browser_fixture, open_page_fixture, web_server_fixture  # noqa: F401

(They are registered under the names `browser`, `open_page` and `web_server`.)

Playwright's sync API keeps an asyncio loop running in the test's thread, and Django refuses ORM
calls when it sees one. While a module's browser is open, DJANGO_ALLOW_ASYNC_UNSAFE lets the test
itself use the ORM; the servers never get it.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pytest

from assistant.core.processes import process_group_stop, web_command
from tests.environment import TEST_DATA_DIR, free_port
from tests.support.services import ROOT, service_env, services_database_url, session_cookie, wait_for

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


def _server_env() -> dict[str, str]:
    env = service_env(DATABASE_URL=services_database_url())
    env.pop(ASYNC_UNSAFE, None)
    return env


@pytest.fixture(scope="session", name="web_server")
def web_server_fixture(django_db_setup: None, _static_files: None) -> Iterator[str]:
    """`daphne` serving Hearth on a free loopback port, on the test database; yields its base URL."""
    port = free_port()
    log_path = TEST_DATA_DIR / "daphne.log"
    process = subprocess.Popen(
        web_command(host="127.0.0.1", port=port),
        cwd=ROOT,
        stdout=log_path.open("w"),
        stderr=subprocess.STDOUT,
        env=_server_env(),
        start_new_session=True,
    )

    def listening() -> bool:
        if process.poll() is not None:
            pytest.fail(f"daphne exited early:\n{log_path.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    try:
        wait_for(listening, timeout=60, what=f"daphne on port {port} ({log_path})", interval=0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process_group_stop(process, timeout=15)


# Shared libraries of the model runtimes; the web server must map none of them (jobs.remote).
MODEL_LIBRARIES = ("libtorch", "onnxruntime", "ctranslate2", "libllama", "libggml")


def web_server_models(page: Any) -> list[str]:
    """The model runtimes' shared libraries mapped into the web server that serves `page`."""
    import psutil

    port = int(page.url.split(":")[2].split("/")[0])
    (pid,) = {c.pid for c in psutil.net_connections("tcp") if c.laddr.port == port and c.status == "LISTEN"}
    mapped = {region.path for region in psutil.Process(pid).memory_maps()}
    assert any("libc" in path for path in mapped), mapped  # the maps were read
    return sorted(path for path in mapped if any(name in path.lower() for name in MODEL_LIBRARIES))


@contextmanager
def chromium_launched(*, args: Sequence[str] = ()) -> Iterator[Any]:
    """A headless chromium with CHROMIUM_ARGS and `args`, closed afterwards."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *args])
            try:
                yield instance
            finally:
                instance.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


@pytest.fixture(scope="module", name="browser")
def browser_fixture(web_server: str) -> Iterator[Any]:
    """One headless chromium per test module; each test opens contexts of its own."""
    with chromium_launched() as instance:
        yield instance


def log_in(context: Any, base_url: str, user: Any) -> None:
    """Give a browser context `user`'s session, as if they had signed in."""
    name, _, value = session_cookie(user).partition("=")
    context.add_cookies([{"name": name, "value": value, "url": base_url}])


@pytest.fixture(name="open_page")
def open_page_fixture(browser: Any, web_server: str) -> Iterator[Callable[..., Any]]:
    """open_page(user, path, viewport=LAPTOP, color_scheme="light") -> a Playwright page at `path`.

    Console errors and CSP violations are collected on `page.problems`; contexts close after the test.
    """
    contexts: list[Any] = []

    def opener(user: Any, path: str, *, viewport: dict[str, int] | None = None, color_scheme: str = "light") -> Any:
        context = browser.new_context(
            viewport=viewport or LAPTOP,
            color_scheme=color_scheme,
            base_url=web_server,
            locale="en-US",
            service_workers="block",
        )
        contexts.append(context)
        log_in(context, web_server, user)
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda error: page.problems.append(f"pageerror: {error}"))
        page.on(
            "console",
            lambda message: message.type == "error" and page.problems.append(f"console: {message.text}"),
        )
        page.set_default_timeout(15_000)
        page.goto(path)
        return page

    yield opener
    for context in contexts:
        context.close()
