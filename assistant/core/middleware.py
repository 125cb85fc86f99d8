"""Until the owner account exists, every page leads to the setup page."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse


class SetupRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        exempt = request.path.startswith((reverse("setup"), f"/{settings.STATIC_URL}"))
        if not exempt and not get_user_model().objects.exists():
            return redirect("setup")
        return self.get_response(request)
