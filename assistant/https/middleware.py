"""Plain-HTTP pages: a banner suggesting the secure address, and a redirect once the device opted in.

The redirect happens only for a device whose member chose "always open the secure address" on a page
that loaded over HTTPS without a warning (the `hearth_https` cookie). Never before: a phone that does
not trust the household CA would be locked out. The Connect page itself never redirects, so a device
that lost the CA can always come back and switch the choice off.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from assistant.https.addresses import url_host
from assistant.https.config import https_config
from assistant.https.services import PREFER_COOKIE, host_split

# Never redirected: the way back (Connect), and what the browser fetches by itself.
EXEMPT_PREFIXES = ("/connect/", "/static/", "/sw.js", "/offline/", "/setup/")


def secure_url_for(request: HttpRequest) -> str | None:
    """This request's URL on the HTTPS port, or None when HTTPS is off or the request is already secure."""
    config = https_config()
    if request.is_secure() or not config.enabled:
        return None
    name, _ = host_split(host=request.get_host())
    return f"https://{url_host(name)}:{config.port}{request.get_full_path()}"


class HttpsPreferenceMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method in {"GET", "HEAD"}
            and request.COOKIES.get(PREFER_COOKIE) == "1"
            and not request.path.startswith(EXEMPT_PREFIXES)
        ):
            target = secure_url_for(request)
            if target is not None:
                return HttpResponseRedirect(target)  # 302: the choice can be undone, so nothing is cached
        return self.get_response(request)
