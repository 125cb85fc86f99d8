from __future__ import annotations

from typing import Any

from django.http import HttpRequest

# (url name, label) in the order the navigation shows them.
NAVIGATION = [
    ("chat", "Chat"),
    ("documents", "Documents"),
    ("photos", "Photos"),
    ("voice", "Voice notes"),
    ("models", "Models"),
    ("jobs", "Jobs"),
    ("settings", "Settings"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    return {"navigation": [{"name": n, "label": label, "current": n == current} for n, label in NAVIGATION]}
