from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from assistant.core.context_processors import NAVIGATION

# What each page will do, shown until it is built.
COMING = {
    "chat": "Talk with a model that runs on this machine, and ask about your photos.",
    "documents": "Upload PDFs, Word files and notes, then ask questions with page citations.",
    "photos": "Search your photo library by words or by a similar photo.",
    "voice": "Record or upload voice notes; they are transcribed here and become searchable.",
    "models": "See, import and choose the models Hearth runs.",
}


def home(request: HttpRequest) -> HttpResponse:
    return redirect("chat")


def coming_soon(request: HttpRequest, page: str) -> HttpResponse:
    label = next(label for name, label in NAVIGATION if name == page)
    return render(request, "pages/coming_soon.html", {"title": label, "description": COMING[page]})


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)
