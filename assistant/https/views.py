"""Connect a phone (QR code, CA downloads, per-platform steps), the service worker and the offline page."""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from assistant.https.qr import qr_svg
from assistant.https.services import (
    PREFER_COOKIE,
    CertificateMissing,
    ca_certificate_der_read,
    ca_profile_read,
    connect_facts_read,
    https_preference_apply,
)

# What the service worker keeps for opening the app offline: styles, scripts and images only.
SHELL_STATIC = (
    "css/hearth.css",
    "js/theme.js",
    "js/hearth.js",
    "js/pwa.js",
    "img/hearth.svg",
    "img/icons.svg",
    "img/icons/icon-192.png",
    "manifest.webmanifest",
)


@require_GET
def connect_page(request: HttpRequest) -> HttpResponse:
    facts = connect_facts_read(host=request.get_host(), secure=request.is_secure(), path=reverse("connect"))
    secure_origin = _origin(facts.here_secure_url) if facts.here_secure_url and not request.is_secure() else ""
    context = {
        "facts": facts,
        "secure": request.is_secure(),
        "qr_secure": qr_svg(text=facts.secure_url, title="QR code of the secure address") if facts.secure_url else "",
        "qr_setup": qr_svg(text=facts.setup_url, title="QR code of this page's plain address"),
        # A small static file on the HTTPS port: fetching it succeeds only when the CA is trusted.
        "probe_url": f"{secure_origin}{static('img/icons/favicon-32.png')}" if secure_origin else "",
        "prefer_https": request.COOKIES.get(PREFER_COOKIE) == "1",
    }
    response = render(request, "https/connect.html", context)
    if secure_origin:
        # Hearth's own HTTPS port, same host: the one origin besides 'self' this page may fetch from.
        response._csp_update = {"connect-src": [secure_origin]}  # type: ignore[attr-defined]
    return response


def _origin(url: str) -> str:
    scheme, _, host = url.split("/", 3)[:3]
    return f"{scheme}//{host}"


@require_GET
def ca_certificate_download(request: HttpRequest) -> HttpResponse:
    try:
        data = ca_certificate_der_read()
    except CertificateMissing:
        raise Http404("Hearth has no household certificate: HTTPS is off or uses your own certificate") from None
    response = HttpResponse(data, content_type="application/x-x509-ca-cert")
    response["Content-Disposition"] = 'attachment; filename="hearth-ca.crt"'
    return response


@require_GET
def ca_profile_download(request: HttpRequest) -> HttpResponse:
    try:
        data = ca_profile_read()
    except CertificateMissing:
        raise Http404("Hearth has no household certificate: HTTPS is off or uses your own certificate") from None
    response = HttpResponse(data, content_type="application/x-apple-aspen-config")
    response["Content-Disposition"] = 'attachment; filename="hearth.mobileconfig"'
    return response


@require_POST
def https_choice(request: HttpRequest) -> HttpResponse:
    """"Always open the secure address on this device", or stop doing so."""
    prefer = request.POST.get("prefer") == "on"
    if prefer and not request.is_secure():
        messages.error(request, "Open the secure address first: this device must show it without a warning.")
        return redirect("connect")
    if prefer:
        messages.success(request, "This device now always opens Hearth's secure address.")
    else:
        messages.success(request, "This device no longer switches to the secure address by itself.")
    return https_preference_apply(response=redirect("connect"), prefer=prefer)


@login_not_required
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, from the site root so that it may control every page (scope "/")."""
    shell = [reverse("offline"), *(static(name) for name in SHELL_STATIC)]
    version = hashlib.sha256(json.dumps(shell).encode()).hexdigest()[:16]
    response = render(
        request,
        "https/sw.js",
        {
            "shell": json.dumps(shell),
            "version": version,
            "offline_url": json.dumps(reverse("offline")),
            "static_prefix": json.dumps("/" + settings.STATIC_URL.lstrip("/")),
        },
        content_type="text/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@login_not_required
@require_GET
def offline_page(request: HttpRequest) -> HttpResponse:
    """What the installed app shows when Hearth cannot be reached. The same for everyone: no member data."""
    response = render(request, "https/offline.html")
    response["Cache-Control"] = "no-cache"
    return response
