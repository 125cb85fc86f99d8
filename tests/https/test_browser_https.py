"""Real Chromium on the HTTPS and the plain port, by a LAN-like name (hearth.test -> 127.0.0.1).

"A phone that trusts the household CA" is a Chromium started with
--ignore-certificate-errors-spki-list=<the CA's SPKI hash>; "a phone that does not" is one without it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.environment import TEST_DATA_DIR
from tests.https.conftest import TEST_HOST, HttpsServer
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.services import session_cookie

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 850}
PHONE = {"width": 390, "height": 844}
SHOTS = TEST_DATA_DIR / "screenshots"
FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


def _launch(playwright: Any, extra: list[str]) -> Any:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    resolver = f"--host-resolver-rules=MAP {TEST_HOST} 127.0.0.1"
    return playwright.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, resolver, *FAKE_MEDIA, *extra])


@pytest.fixture(scope="module")
def browsers(https_server: HttpsServer) -> Iterator[dict[str, Any]]:
    """Two Chromiums: one trusting the household CA, one that never saw it."""
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            trusting = _launch(playwright, [f"--ignore-certificate-errors-spki-list={https_server.ca_spki}"])
            stranger = _launch(playwright, [])
            try:
                yield {"trusting": trusting, "stranger": stranger, "playwright": playwright}
            finally:
                trusting.close()
                stranger.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def open_as(browsers: dict[str, Any], https_server: HttpsServer) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def opener(which: str, user: Any, url: str, *, viewport: dict[str, int] | None = None) -> Any:
        context = browsers[which].new_context(viewport=viewport or LAPTOP, locale="en-US", color_scheme="light")
        contexts.append(context)
        name, _, value = session_cookie(user).partition("=")
        # Each port has its own session cookie: HTTPS's is __Secure- prefixed and Secure.
        context.add_cookies(
            [
                {"name": name, "value": value, "url": https_server.plain()},
                {"name": f"__Secure-{name}", "value": value, "url": https_server.secure(), "secure": True},
            ]
        )
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda error: page.problems.append(f"pageerror: {error}"))
        page.set_default_timeout(15_000)
        page.goto(url)
        return page

    yield opener
    for context in contexts:
        context.close()


def shoot(page: Any, name: str, *, full_page: bool = False) -> Path:
    SHOTS.mkdir(exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def check_value(page: Any, name: str) -> Any:
    return page.locator(f'[data-check="{name}"] [data-value]')


def test_over_https_with_the_ca_trusted_everything_works(open_as: Any, https_server: HttpsServer, alice: Any) -> None:
    from playwright.sync_api import expect

    page = open_as("trusting", alice, https_server.secure("/connect/"))

    assert page.evaluate("window.isSecureContext") is True
    assert page.evaluate("Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)") is True
    tracks = page.evaluate("navigator.mediaDevices.getUserMedia({audio: true}).then(s => s.getAudioTracks().length)")
    assert tracks == 1  # the microphone is granted (fake device): voice notes can record here
    expect(page.locator("html")).to_have_attribute("data-sw", "registered", timeout=20_000)
    expect(check_value(page, "secure")).to_have_text("Yes")
    expect(check_value(page, "trust")).to_have_text("Yes")
    expect(check_value(page, "media")).to_have_text("Yes")
    expect(check_value(page, "app")).to_have_text("Yes")
    expect(page.locator("[data-verdict]")).to_contain_text("This device is ready")
    expect(page.locator(".https-banner")).to_have_count(0)
    expect(page.get_by_role("button", name="Always open the secure address on this device")).to_be_visible()
    # The live-updates websocket (wss, on the HTTPS port) signs in with the __Secure- session cookie.
    page.wait_for_function("window.Hearth && window.Hearth.connected()", timeout=15_000)
    shoot(page, "connect-https-laptop")
    page.locator("details.steps").evaluate_all("nodes => nodes.forEach(node => { node.open = true; })")
    shoot(page, "connect-https-laptop-full", full_page=True)
    assert page.problems == []


def test_the_app_is_installable_and_opens_offline(
    browsers: dict[str, Any], https_server: HttpsServer, alice: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    # A profile on disk, as on a phone: Chromium never offers to install from an incognito context.
    context = browsers["playwright"].chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        args=[
            *CHROMIUM_ARGS,
            f"--host-resolver-rules=MAP {TEST_HOST} 127.0.0.1",
            f"--ignore-certificate-errors-spki-list={https_server.ca_spki}",
        ],
        viewport=PHONE,
    )
    try:
        name, _, value = session_cookie(alice).partition("=")
        cookie = {"name": f"__Secure-{name}", "value": value, "url": https_server.secure(), "secure": True}
        context.add_cookies([cookie])
        page = context.new_page()
        page.goto(https_server.secure("/settings/"))
        expect(page.locator("html")).to_have_attribute("data-sw", "registered", timeout=20_000)
        manifest = page.evaluate("fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())")
        assert manifest["display"] == "standalone"
        errors = context.new_cdp_session(page).send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == [], errors

        context.set_offline(True)
        page.goto(https_server.secure("/chat/"))
        expect(page.get_by_role("heading", name="Hearth is unreachable")).to_be_visible()
        shoot(page, "offline-phone")
    finally:
        context.close()


def test_a_phone_sized_screen_opts_in_and_plain_pages_then_redirect(
    open_as: Any, https_server: HttpsServer, alice: Any
) -> None:
    from playwright.sync_api import expect

    page = open_as("trusting", alice, https_server.secure("/connect/"), viewport=PHONE)
    expect(check_value(page, "trust")).to_have_text("Yes", timeout=20_000)
    shoot(page, "connect-https-phone")
    button = page.get_by_role("button", name="Always open the secure address on this device")
    box = button.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    button.click()
    expect(page.get_by_text("This device now always opens Hearth's secure address.")).to_be_visible()

    page.goto(https_server.plain("/settings/"))
    assert page.url == https_server.secure("/settings/")
    page.goto(https_server.plain("/connect/"))  # the way back never redirects
    assert page.url == https_server.plain("/connect/")


def test_over_plain_http_the_page_says_what_is_missing(open_as: Any, https_server: HttpsServer, alice: Any) -> None:
    from playwright.sync_api import expect

    for which, viewport, verdict in (
        ("stranger", LAPTOP, "does not trust the household certificate yet"),
        ("stranger", PHONE, "does not trust the household certificate yet"),
        ("trusting", LAPTOP, "but this page came over plain HTTP"),
    ):
        page = open_as(which, alice, https_server.plain("/connect/"), viewport=viewport)
        assert page.evaluate("window.isSecureContext") is False
        assert page.evaluate("navigator.mediaDevices === undefined") is True
        expect(check_value(page, "secure")).to_have_text("No: plain HTTP")
        expect(check_value(page, "media")).to_have_text("No: needs the secure address")
        expect(check_value(page, "app")).to_have_text("No: needs the secure address")
        expect(page.locator("[data-verdict]")).to_contain_text(verdict, timeout=20_000)
        expect(page.locator(".https-banner")).to_have_count(0)  # the page itself says it in full
        expect(page.get_by_role("link", name="Open the secure address")).to_have_attribute(
            "href", https_server.secure("/connect/")
        )
        shoot(page, f"connect-plain-{which}-{viewport['width']}")
        assert page.problems == []


def test_the_plain_banner_fits_a_phone_and_links_to_the_secure_address(
    open_as: Any, https_server: HttpsServer, alice: Any
) -> None:
    from playwright.sync_api import expect

    page = open_as("stranger", alice, https_server.plain("/settings/"), viewport=PHONE)
    banner = page.locator(".https-banner")
    expect(banner).to_be_visible()
    box = banner.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= PHONE["width"]
    switch = banner.get_by_role("link", name="Switch to HTTPS")
    expect(switch).to_have_attribute("href", https_server.secure("/settings/"))
    shoot(page, "settings-plain-banner-phone")
