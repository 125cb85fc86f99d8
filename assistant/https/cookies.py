"""Separate, `Secure` session and CSRF cookies on the HTTPS port.

One daphne serves plain HTTP (:8000) and HTTPS (:8443) for the same host names, and browsers share
cookies between the two. If the HTTPS side marked `sessionid` Secure, the plain side could no longer
set a cookie of that name (browsers refuse to let an insecure page overwrite a Secure cookie): signing
in over HTTP would silently fail. So on HTTPS and WSS the session and CSRF cookies travel under their
own names, `__Secure-sessionid` and `__Secure-csrftoken`, always with the Secure attribute, and the
plain-HTTP cookies of the same host are ignored there. Django and Channels still see the usual names.

Signing in on the HTTPS address is therefore separate from signing in on the plain one (once per
device), and a session made over HTTPS never travels unencrypted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

PREFIX = "__Secure-"
SECURE_SCHEMES = frozenset({"https", "wss"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def cookie_header_rewrite(*, header: str, names: Iterable[str]) -> str:
    """A request's Cookie header as the application should see it on HTTPS."""
    bound = set(names)
    kept: list[str] = []
    for part in header.split(";"):
        name, equals, value = part.strip().partition("=")
        if not name:
            continue
        if name.startswith(PREFIX) and name[len(PREFIX) :] in bound:
            kept.append(f"{name[len(PREFIX):]}={value}")
        elif name not in bound:
            kept.append(f"{name}{equals}{value}")
    return "; ".join(kept)


def set_cookie_rewrite(*, header: str, names: Iterable[str]) -> str:
    """A response's Set-Cookie header as it should leave on HTTPS: prefixed name, Secure attribute."""
    name = header.split("=", 1)[0].strip()
    if name not in set(names):
        return header
    attributes = [piece.strip().lower() for piece in header.split(";")[1:]]
    secure = "" if "secure" in attributes else "; Secure"
    return f"{PREFIX}{header.lstrip()}{secure}"


def scope_is_secure(scope: Scope, *, secure_port: int | None) -> bool:
    """HTTPS request or WSS handshake. Daphne puts no "scheme" in a websocket scope: the port tells."""
    if scope.get("scheme") in SECURE_SCHEMES:
        return True
    server = scope.get("server")
    return bool(
        scope.get("type") == "websocket" and secure_port and server and len(server) > 1 and server[1] == secure_port
    )


class SecureCookieNames:
    """ASGI middleware applying the two rewrites above to HTTPS requests and WSS handshakes."""

    def __init__(
        self, app: ASGIApp, *, names: Callable[[], tuple[str, ...]], secure_port: Callable[[], int | None]
    ) -> None:
        self.app = app
        self.names = names  # read per connection, so tests may change the cookie names in settings
        self.secure_port = secure_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") not in {"http", "websocket"} or not scope_is_secure(
            scope, secure_port=self.secure_port()
        ):
            await self.app(scope, receive, send)
            return
        names = self.names()
        headers = [
            (key, cookie_header_rewrite(header=value.decode("latin-1"), names=names).encode("latin-1"))
            if key.lower() == b"cookie"
            else (key, value)
            for key, value in scope.get("headers", [])
        ]
        # Daphne gives a websocket no scheme: name it, so the origin check expects an https page.
        scheme = "wss" if scope.get("type") == "websocket" else scope.get("scheme", "https")
        scope = {**scope, "headers": headers, "scheme": scheme}

        async def secure_send(message: Message) -> None:
            if message.get("type") in {"http.response.start", "websocket.accept"} and message.get("headers"):
                message = {**message, "headers": _response_headers(message["headers"], names)}
            await send(message)

        await self.app(scope, receive, secure_send)


def _response_headers(headers: Iterable[tuple[bytes, bytes]], names: tuple[str, ...]) -> list[tuple[bytes, bytes]]:
    return [
        (key, set_cookie_rewrite(header=value.decode("latin-1"), names=names).encode("latin-1"))
        if key.lower() == b"set-cookie"
        else (key, value)
        for key, value in headers
    ]


def django_cookie_names() -> tuple[str, ...]:
    from django.conf import settings

    return (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)


def django_secure_port() -> int | None:
    """The HTTPS port websockets arrive on, when HTTPS is served."""
    from assistant.https.config import https_config

    config = https_config()
    return config.port if config.enabled else None
