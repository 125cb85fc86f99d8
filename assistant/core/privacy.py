"""Private responses stay private: no shared cache, proxy or back-forward cache keeps a copy.

Every response Django makes is a member's own (pages, JSON, downloads, photos) or the login page,
so each gets `Cache-Control: private, no-store` unless its view set its own. Static files never
reach this middleware: WhiteNoise answers them earlier, with their own long-lived headers.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control


class PrivateResponsesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
