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


# Pages that belong under a navigation entry named differently.
SECTION_OF = {
    "conversation": "chat",
    "chat_search": "chat",
    "personas": "chat",
    "document": "documents",
    "documents_search": "documents",
}


def navigation(request: HttpRequest) -> dict[str, Any]:
    match = getattr(request, "resolver_match", None)
    name = match.url_name if match else ""
    current = SECTION_OF.get(name, name)
    if name and name.startswith("model") and name != "models":
        current = "models"
    return {"navigation": [{"name": n, "label": label, "current": n == current} for n, label in NAVIGATION]}
