"""The plain-HTTP banner's context, for every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from assistant.https.middleware import secure_url_for
from assistant.https.services import host_is_loopback, host_split


def https_banner(request: HttpRequest) -> dict[str, Any]:
    """Template context: `https_banner` with the secure address, on plain pages not opened on this machine."""
    if request.is_secure() or request.path.startswith("/connect/"):  # Connect says it in full
        return {"https_banner": None}
    name, _ = host_split(host=request.get_host())
    target = secure_url_for(request)
    if target is None or host_is_loopback(name=name):  # localhost is already a secure context
        return {"https_banner": None}
    return {"https_banner": {"url": target}}
