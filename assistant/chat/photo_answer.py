"""Answers about the member's own photos, in the llm worker (the CLIP text encoder never runs on the web).

"Show me photos of the beach" is answered without the model: the Photos page's word search (with its
per-query cutoff, on the owner's photos only) finds them, and the answer lists them as sources of
kind "photo", which the chat page shows as thumbnails linked to the photo viewer. "What is in my photo
of the beach" hands the best match to a vision model as an image; without one, the photo is shown and
the answer says which model could describe it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.conf import settings

from assistant.chat.photo_intent import PhotoRequest, photo_request
from assistant.chat.services import answer_finish_without_model, vision_model_names
from assistant.models import LocalModel, Message

SHOWN = 12  # thumbnails in one answer; the Photos page shows the rest


@dataclass
class PhotoAnswer:
    """What a photo request leaves for the model to do: nothing (`finished`), or describe `images`."""

    finished: bool
    summary: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)
    images: list[Any] = field(default_factory=list)  # objects with .file, as the prompt takes attachments


def photo_sources(found: list[Any]) -> list[dict[str, Any]]:
    """The answer's sources for the photos found: numbers and names only (the page builds the addresses)."""
    return [
        {
            "n": n,
            "kind": "photo",
            "photo_id": item.photo.pk,
            "name": item.photo.name,
            "score": round(item.similarity, 3),
        }
        for n, item in enumerate(found, start=1)
    ]


def _search(answer: Message, request: PhotoRequest) -> tuple[list[Any], str]:
    """The owner's photos matching the request, best first, or [] and why not."""
    from assistant.photos.search import SearchUnavailable, photos_search_words

    try:
        result = photos_search_words(owner=answer.conversation.owner, text=request.subject)
    except SearchUnavailable as exc:
        return [], str(exc)
    if not result.found:
        return [], f"I found no photos of {request.subject} in your library."
    return result.found, ""


def _shown_text(request: PhotoRequest, found: list[Any]) -> str:
    count = len(found)
    if count == 1:
        return f"Here is the one photo of {request.subject} I found in your library."
    more = f" (the best {SHOWN} of {count}; search the Photos page for the rest)" if count > SHOWN else ""
    return f"Here are the photos of {request.subject} I found in your library{more}."


def _unseen_text(request: PhotoRequest, model: LocalModel) -> str:
    names = vision_model_names()
    switch = f": switch this conversation to {', '.join(names)} and ask again." if names else "."
    unseen = f"{model.name} cannot see photos, so it cannot say what is in it"
    return f"Here is your photo of {request.subject}. {unseen}{switch}"


def _image_for_model(photo: Any) -> Any:
    """A JPEG of the photo no larger than HEARTH_IMAGE_MAX_SIDE, as chat attachments are, kept in the
    owner's images folder (one per photo, made once); an object with .file, relative to DATA_DIR."""
    from assistant.photos.intake import photo_open, upright
    from assistant.photos.services import photo_files, photo_model_copy

    side = int(settings.HEARTH_IMAGE_MAX_SIDE)
    path = photo_model_copy(owner_id=photo.owner_id, photo_id=photo.pk, side=side)
    files = photo_files(photo=photo)
    if not path.is_file() and files is not None:
        source = files.preview if photo.has_preview else files.original
        with source.open("rb") as stream:
            image, _ = photo_open(stream, name=photo.name, max_pixels=settings.HEARTH_PHOTO_MAX_PIXELS, draft_side=side)
        image = upright(image).convert("RGB")
        image.thumbnail((side, side))
        image.save(path, "JPEG", quality=90)
        path.chmod(0o600)
    return SimpleNamespace(file=str(path.relative_to(settings.DATA_DIR)), original_name=photo.name)


def photo_answer_prepare(*, answer: Message, question: str, model: LocalModel) -> PhotoAnswer | None:
    """None when the question is not about the member's photos; else what is left to write."""
    request = photo_request(question)
    if request is None:
        return None
    found, why_not = _search(answer, request)
    if not found:
        answer_finish_without_model(answer=answer, text=why_not, sources=[])
        return PhotoAnswer(finished=True, summary="No photo found")
    if request.kind == "show" or not model.has_vision:
        sources = photo_sources(found[:SHOWN] if request.kind == "show" else found[:1])
        text = _shown_text(request, found) if request.kind == "show" else _unseen_text(request, model)
        answer_finish_without_model(answer=answer, text=text, sources=sources)
        return PhotoAnswer(finished=True, summary=f"Showed {len(sources)} photos")
    best = found[0]
    return PhotoAnswer(finished=False, sources=photo_sources([best]), images=[_image_for_model(best.photo)])
