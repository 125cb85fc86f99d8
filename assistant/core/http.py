"""What every domain's views share: the member request type, JSON-or-page answers, the owner check."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

View = Callable[..., HttpResponse]


class MemberRequest(HttpRequest):
    """A request that LoginRequiredMiddleware has let through: it always carries a member."""

    user: User


def wants_json(request: HttpRequest) -> bool:
    """Page scripts ask for JSON; a plain form post (no script) gets a page and a flash message."""
    return request.headers.get("Accept", "").startswith("application/json")


def is_owner(user: object) -> bool:
    return bool(getattr(user, "is_superuser", False))


def owner_required(message: str = "Only the household's owner can do this.") -> Callable[[View], View]:
    """Members who are not the owner get a 403: JSON for scripts, the 403 page otherwise."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not is_owner(request.user):
                if wants_json(request):
                    return JsonResponse({"error": message}, status=403)
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def json_or_redirect(
    request: HttpRequest,
    *,
    payload: dict[str, Any],
    to: str,
    note: str = "",
    error: bool = False,
    status: int = 200,
) -> HttpResponse:
    """Scripts get `payload` as JSON; a form post gets `note` as a flash message and the page `to`."""
    if wants_json(request):
        return JsonResponse(payload, status=status)
    if note:
        (messages.error if error else messages.info)(request, note)
    return redirect(to)
