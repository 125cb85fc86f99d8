from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render

from assistant.core.http import wants_json


def home(request: HttpRequest) -> HttpResponse:
    return redirect("chat")


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request Django could not read (a malformed form or upload): JSON for scripts, a short page otherwise."""
    error = "Hearth could not read this request. Reload the page and try again."
    if wants_json(request):
        return JsonResponse({"error": error}, status=400)
    return HttpResponseBadRequest(error, content_type="text/plain; charset=utf-8")


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)
