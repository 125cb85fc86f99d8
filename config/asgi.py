"""ASGI entry point: HTTP through Django, websockets through Channels, both behind the login."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from assistant.chat.consumers import EventsConsumer  # noqa: E402
from assistant.core.bodygate import RequestGate  # noqa: E402
from assistant.core.origin import SameOriginWebsocket  # noqa: E402
from assistant.https.cookies import SecureCookieNames, django_cookie_names, django_secure_port  # noqa: E402

# One socket per open page: job progress, chat streaming and everything live comes through it.
websocket_urlpatterns = [path("ws/events/", EventsConsumer.as_asgi())]

# On the HTTPS port the session and CSRF cookies are __Secure- cookies of their own (see that module).
application = SecureCookieNames(
    ProtocolTypeRouter(
        {
            # Body limits at the headers; upload bodies staged to disk, never parsed (assistant/core/uploads.py).
            "http": RequestGate(django_asgi_app),
            # Only Hearth's own pages (scheme, host and port) may open a socket with a member's cookie.
            "websocket": SameOriginWebsocket(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        }
    ),
    names=django_cookie_names,
    secure_port=django_secure_port,
)
