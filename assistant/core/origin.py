"""Websockets only from Hearth's own pages: the whole origin (scheme, host and port) must match.

Channels' AllowedHostsOriginValidator compares host names only, so a page served from another port
of the same machine (http://127.0.0.1:8399) could open ws://127.0.0.1:8000/ws/events/ with the
member's cookie. Like Django's CSRF check, a socket is accepted only when its Origin is the origin
the socket itself was opened to (its Host header, on an allowed host, with the matching scheme), or
one of CSRF_TRUSTED_ORIGINS (e.g. an HTTPS proxy's public name).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from assistant.core.bodygate import ASGIApp, Receive, Scope, Send

DEFAULT_PORTS = {"http": 80, "https": 443}


def _parts(origin: str) -> tuple[str, str, int] | None:
    try:
        parsed = urlsplit(origin.strip().lower())
        port = parsed.port
    except ValueError:
        return None
    if parsed.scheme not in DEFAULT_PORTS or not parsed.hostname or parsed.path not in ("", "/"):
        return None
    return parsed.scheme, parsed.hostname, port or DEFAULT_PORTS[parsed.scheme]


def _secure_schemes(*, scope_scheme: str, headers: dict[str, str]) -> set[str]:
    """The page schemes a socket on this connection can come from."""
    if scope_scheme in ("wss", "https"):
        return {"https"}
    proxy_header: Any = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        name, value = proxy_header
        forwarded = headers.get(name.removeprefix("HTTP_").replace("_", "-").lower(), "")
        return {"https"} if forwarded.split(",")[0].strip().lower() == value else {"http"}
    return {"http"}


def origin_allowed(*, origin: str, host: str, schemes: Iterable[str], trusted: Iterable[str] = ()) -> bool:
    """True when `origin` is the origin of `host` (an allowed host) under one of `schemes`, or trusted."""
    wanted = _parts(origin)
    if wanted is None:
        return False
    if any(_parts(candidate) == wanted for candidate in trusted):
        return True
    domain, _ = split_domain_port(host.lower())
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return any(_parts(f"{scheme}://{host}") == wanted for scheme in schemes)


class SameOriginWebsocket:
    """ASGI middleware for websockets: refuse the handshake unless the Origin is Hearth's own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin1").lower(): v.decode("latin1") for k, v in scope.get("headers", [])}
        allowed = origin_allowed(
            origin=headers.get("origin", ""),
            host=headers.get("host", ""),
            schemes=_secure_schemes(scope_scheme=str(scope.get("scheme", "ws")), headers=headers),
            trusted=settings.CSRF_TRUSTED_ORIGINS,
        )
        if allowed:
            await self.app(scope, receive, send)
            return
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.close", "code": 4403})
