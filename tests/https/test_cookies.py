"""On HTTPS, the session and CSRF cookies have names and a Secure flag of their own."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.https.cookies import SecureCookieNames, cookie_header_rewrite, scope_is_secure, set_cookie_rewrite

NAMES = ("sessionid", "csrftoken")


def test_https_requests_see_only_their_own_cookies() -> None:
    header = "sessionid=plain; theme=dark; __Secure-sessionid=secret; csrftoken=p; __Secure-csrftoken=s; hearth_https=1"
    expected = "theme=dark; sessionid=secret; csrftoken=s; hearth_https=1"
    assert cookie_header_rewrite(header=header, names=NAMES) == expected


def test_https_responses_set_prefixed_secure_cookies() -> None:
    sent = "sessionid=abc; expires=Wed, 30 Dec 2026 00:00:00 GMT; HttpOnly; Max-Age=2592000; Path=/; SameSite=Lax"
    assert set_cookie_rewrite(header=sent, names=NAMES) == f"__Secure-{sent}; Secure"
    already = "csrftoken=x; Path=/; Secure"
    assert set_cookie_rewrite(header=already, names=NAMES) == f"__Secure-{already}"
    assert set_cookie_rewrite(header="hearth_https=1; Path=/", names=NAMES) == "hearth_https=1; Path=/"


async def _run(scheme: str, cookie: bytes) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    seen: dict[str, Any] = {}
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)
        headers = [(b"set-cookie", b"sessionid=new; Path=/")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request"}

    async def send(message: Any) -> None:
        sent.append(message)

    middleware = SecureCookieNames(app, names=lambda: NAMES, secure_port=lambda: 8443)
    await middleware({"type": "http", "scheme": scheme, "headers": [(b"cookie", cookie)]}, receive, send)
    return seen, sent


@pytest.mark.asyncio
async def test_the_middleware_rewrites_https_only() -> None:
    seen, sent = await _run("https", b"sessionid=plain; __Secure-sessionid=secret")
    assert seen["headers"] == [(b"cookie", b"sessionid=secret")]
    assert sent[0]["headers"] == [(b"set-cookie", b"__Secure-sessionid=new; Path=/; Secure")]

    seen, sent = await _run("http", b"sessionid=plain")
    assert seen["headers"] == [(b"cookie", b"sessionid=plain")]
    assert sent[0]["headers"] == [(b"set-cookie", b"sessionid=new; Path=/")]


def test_a_websocket_on_the_https_port_counts_as_secure() -> None:
    websocket = {"type": "websocket", "server": ["192.168.1.20", 8443], "headers": []}
    assert scope_is_secure(websocket, secure_port=8443)
    assert not scope_is_secure({**websocket, "server": ["192.168.1.20", 8000]}, secure_port=8443)
    assert not scope_is_secure(websocket, secure_port=None)
    assert scope_is_secure({"type": "http", "scheme": "https"}, secure_port=None)
